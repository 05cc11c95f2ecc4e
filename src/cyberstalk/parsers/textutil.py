"""Helpers for text exports: bounded line reading, invisible characters, date order.

Shared by the line-oriented parsers (WhatsApp, generic CSV) and free for others to use.
Bodies are never normalised: :func:`clean_header` is only for the *header* parts of a
line (names, dates), where invisible marks get in the way of matching.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import IO

from cyberstalk.errors import DateOrderError, ParseError

MAX_LINE_BYTES = 4 * 1024 * 1024
"""Longest line a text parser accepts. A WhatsApp message is at most 65,536 characters
(256 KiB of UTF-8), so anything this long is not a chat line: refuse it rather than read
an unbounded line into memory."""

BOM = "\ufeff"

# Direction marks, embeddings and the BOM: exporters sprinkle these around headers.
_INVISIBLE = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\ufeff\u2060"))
# Space-like characters some locales put inside times (`p. m.`, `9:06 PM`).
_SPACES = dict.fromkeys(map(ord, "\u00a0\u202f\u2009\u2007"), " ")
_HYPHENS = {0x2011: "-", 0x2010: "-"}
_HEADER_TABLE = {**_INVISIBLE, **_SPACES, **_HYPHENS}


def clean_header(value: str) -> str:
    """Drop direction marks and BOMs, turn NBSP/NNBSP/thin spaces into spaces and
    non-breaking hyphens into hyphens, and strip. For header parts only, never bodies."""
    return value.translate(_HEADER_TABLE).strip()


def strip_invisible(value: str) -> str:
    """Remove direction marks and BOMs only (for matching a body against known phrases)."""
    return value.translate(_INVISIBLE)


@dataclass(frozen=True, slots=True)
class RawLine:
    """One physical line of a text file, with where it sits."""

    number: int
    """1-based line number."""
    start: int
    """Byte offset of the line's first byte."""
    data: bytes
    """The line's bytes including its terminator (``\\n``, ``\\r\\n``), if any."""

    @property
    def end(self) -> int:
        """Offset just past the terminator."""
        return self.start + len(self.data)

    @property
    def terminator(self) -> bytes:
        if self.data.endswith(b"\r\n"):
            return b"\r\n"
        if self.data.endswith(b"\n"):
            return b"\n"
        return b""

    @property
    def content_end(self) -> int:
        """Offset just past the last byte before the terminator."""
        return self.end - len(self.terminator)


def iter_lines(
    fh: IO[bytes], name: str, *, max_line: int = MAX_LINE_BYTES, limit_line: int | None = None
) -> Iterator[RawLine]:
    """Yield the physical lines of ``fh`` with numbers and offsets, never holding more
    than ``max_line`` bytes of one line. A longer line raises ParseError naming its
    number and offset. ``limit_line`` stops before that line number (exclusive)."""
    number = 0
    offset = 0
    readline = fh.readline
    while True:
        data = readline(max_line + 1)
        if not data:
            return
        number += 1
        if limit_line is not None and number >= limit_line:
            return
        if len(data) > max_line:
            raise ParseError(
                f"line longer than {max_line:,} bytes",
                path=name,
                position=f"line {number}, byte {offset}",
                advice="this is not a text export (or it is damaged); check the file type",
            )
        yield RawLine(number, offset, data)
        offset += len(data)


def decode_line(line: RawLine, name: str) -> str:
    """Strict UTF-8 decoding; invalid bytes raise ParseError with the exact offset."""
    try:
        return line.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"invalid UTF-8 (byte 0x{line.data[exc.start]:02x})",
            path=name,
            position=f"line {line.number}, byte {line.start + exc.start}",
            advice=(
                "the file is damaged or was re-saved in another encoding; parse the original export"
            ),
        ) from None


# --------------------------------------------------------------------- date order


class DateOrder(StrEnum):
    """The order of a numeric date's day, month and year (``--date-order``)."""

    dmy = "dmy"
    mdy = "mdy"
    ymd = "ymd"


DATE_ORDERS = tuple(order.value for order in DateOrder)
ORDER_NAMES = {"dmy": "day/month/year", "mdy": "month/day/year", "ymd": "year/month/day"}
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

YMD = tuple[int, int, int]


def _year(field: str) -> int:
    # Two-digit years are this century: every messaging export postdates 2000.
    value = int(field)
    return value + 2000 if len(field) <= 2 else value


def calendar_of(year: int) -> str | None:
    """The calendar a four-digit year written in a recent export most likely belongs to
    when it is no Gregorian year of the messaging era, or None: phones set to the Solar
    Hijri (Persian) or Hijri (Islamic) calendar write years around 1400 and 1445, and
    phones set to the Thai Buddhist calendar years around 2565 (Gregorian + 543)."""
    if 1300 <= year <= 1499:
        return "the Solar Hijri (Persian) or Hijri (Islamic) calendar"
    if 2500 <= year <= 2699:
        return "the Buddhist calendar (Buddhist era = Gregorian + 543)"
    return None


def read_date(a: str, b: str, c: str, order: str) -> YMD | None:
    """(year, month, day) of a date written as three digit fields in ``order``, or None
    when no such day exists (month 13, 30 February, a four-digit day...)."""
    if order == "ymd":
        year, month, day = _year(a), int(b), int(c)
        if len(c) > 2:
            return None
    else:
        if len(a) > 2 or len(b) > 2:
            return None
        year = _year(c)
        day, month = (int(a), int(b)) if order == "dmy" else (int(b), int(a))
    if not 1 <= month <= 12 or not 1 <= day <= _MONTH_DAYS[month - 1]:
        return None
    if month == 2 and day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        return None
    return (year, month, day)


@dataclass
class _OrderTrack:
    """What the file says about one candidate order."""

    violations: int = 0
    """Distinct dates that do not exist, or fall out of range, when read in this order."""
    first_violation: str | None = None
    regressions: int = 0
    """Times the dates, read in this order, run backwards from one date to the next."""
    first_regression: int | None = None
    prev: YMD | None = None

    def violate(self, why: str) -> None:
        self.violations += 1
        if self.first_violation is None:
            self.first_violation = why


@dataclass(frozen=True, slots=True)
class DateOrderDecision:
    """The order a file's dates are read in, and on what basis."""

    order: str
    """``dmy``, ``mdy`` or ``ymd``."""
    basis: str
    """``file`` (the dates allow only this order) or ``user`` (the file allows more than
    one order and the user's ``--date-order`` chose among them)."""
    why: str
    """One sentence for the report: the evidence, or the user's choice."""


@dataclass
class DateOrderEvidence:
    """Collects numeric dates ``(a, b, c)`` as written, in file order, and decides whether
    they are day/month/year, month/day/year or year/month/day.

    Every order is weighed against the whole file. A date *violates* an order when, read
    that way, it does not exist (month 13, 31 April, a four-digit day) or falls outside
    ``[earliest, latest]`` (before the platform existed, after the exhibit was received).
    Only the orders with the fewest violations stay in (normally none; a damaged line can
    give the true order one, and that line keeps no time). Dates in an export are
    chronological, so among those, an order whose dates run backwards at least twice more
    often than the best one's is ruled out too: one typed-in line cannot decide it. When
    more than one order survives the file does not say, and :meth:`decide` refuses rather
    than guess, unless the orders left read every date of the file as the same day (all
    dates ``1/1/21``, or ``12/12/24``, or ``21/01/21`` as dmy and ymd): then the order does
    not matter, and the first of them is used, decided by the file.

    A four-digit year of another calendar (a Solar Hijri ``1401``, a Hijri ``1443``, a
    Buddhist-era ``2565``: :func:`calendar_of`) is no date under any order. When such
    years make up half the file's dates or more and no order fits every date,
    :meth:`decide` refuses with that reason: calendars are not converted. Constant
    memory.
    """

    earliest: date | None = None
    """No date can be before this (e.g. the platform's launch)."""
    earliest_why: str = ""
    """What ``earliest`` is, for messages: ``"WhatsApp existed (2009)"``."""
    latest: date | None = None
    """No date can be after this (e.g. the day after the exhibit was received)."""
    latest_why: str = ""
    count: int = 0
    distinct: int = 0
    """Dates weighed (a date written as the one before it is only counted)."""
    calendar_dates: int = 0
    """Dates weighed with a four-digit year of another calendar (:func:`calendar_of`)."""
    first_calendar: str | None = None
    """Where the first of those is, and what it looks like, for messages."""
    _tracks: dict[str, _OrderTrack] = field(
        default_factory=lambda: {order: _OrderTrack() for order in DATE_ORDERS}
    )
    _differ: set[tuple[str, str]] = field(default_factory=set)
    """Pairs of orders that read some date of the file differently."""
    _last: tuple[str, str, str] | None = None

    def add(self, a: str, b: str, c: str, line: int, raw: str | None = None) -> None:
        """One date as written (three digit strings) found on ``line``; ``raw`` is the
        text it was read from, quoted in messages."""
        self.count += 1
        key = (a, b, c)
        if key == self._last:
            return  # most messages share the previous one's date
        self._last = key
        self.distinct += 1
        shown = repr(raw) if raw is not None else f"{a}/{b}/{c}"
        low = _tuple(self.earliest) if self.earliest is not None else None
        high = _tuple(self.latest) if self.latest is not None else None
        calendar = None
        for four in (a, c):
            if len(four) == 4 and (calendar := calendar_of(int(four))) is not None:
                self.calendar_dates += 1
                if self.first_calendar is None:
                    self.first_calendar = (
                        f"line {line} ({shown}) has the year {int(four)}, a year of {calendar}"
                    )
                break
        read: list[YMD | None] = []
        for order, track in self._tracks.items():
            ymd = read_date(a, b, c, order)
            read.append(ymd)
            if ymd is None:
                track.violate(f"line {line} ({shown}) is no date as {ORDER_NAMES[order]}")
            elif calendar is not None and calendar_of(ymd[0]) is not None:
                track.violate(
                    f"line {line} ({shown}) would be {_iso(ymd)}, but {ymd[0]} is a year of "
                    f"{calendar_of(ymd[0])}, not a Gregorian one"
                )
            elif low is not None and ymd < low:
                track.violate(
                    f"line {line} ({shown}) would be {_iso(ymd)}, before {self.earliest_why}"
                )
            elif high is not None and ymd > high:
                track.violate(
                    f"line {line} ({shown}) would be {_iso(ymd)}, after {self.latest_why}"
                )
            else:
                if track.prev is not None and ymd < track.prev:
                    track.regressions += 1
                    if track.first_regression is None:
                        track.first_regression = line
                track.prev = ymd
        if len(self._differ) < 3:
            for i, j in ((0, 1), (0, 2), (1, 2)):
                if read[i] != read[j]:
                    self._differ.add((DATE_ORDERS[i], DATE_ORDERS[j]))

    def add_repeat(self, times: int = 1) -> None:
        """The date last added, found ``times`` more times (on later lines): counted, as
        :meth:`add` would, and nothing else."""
        self.count += times

    def _survivors(self) -> list[str]:
        fewest = min(t.violations for t in self._tracks.values())
        live = [o for o in DATE_ORDERS if self._tracks[o].violations == fewest]
        best = min(self._tracks[o].regressions for o in live)
        return [o for o in live if self._tracks[o].regressions < best + 2]

    def _same_days(self, orders: list[str]) -> bool:
        """Whether ``orders`` read every date weighed as the same day (and some date as
        a day at all): then the order does not matter."""
        if self._tracks[orders[0]].violations >= self.distinct:
            return False
        return not any(
            (x, y) in self._differ for i, x in enumerate(orders) for y in orders[i + 1 :]
        )

    def _calendar_error(self, name: str) -> ParseError:
        return ParseError(
            "the years look like a non-Gregorian calendar: "
            f"{self.first_calendar}; {self.calendar_dates} of the {self.distinct} dates read "
            "have such years, and no day/month/year order makes them Gregorian dates. This "
            "parser reads Gregorian dates only and does not convert other calendars",
            path=name,
            advice=(
                "export the chat again with the phone's calendar set to Gregorian (the "
                "times stay the same), or have the dates converted and checked by hand"
            ),
        )

    def _backwards(self, order: str) -> str:
        track = self._tracks[order]
        return (
            f"as {order} the dates run backwards {track.regressions} time"
            f"{'' if track.regressions == 1 else 's'} (first at line {track.first_regression})"
        )

    def _against(self, order: str) -> str:
        track = self._tracks[order]
        if track.first_violation is not None:
            more = track.violations - 1
            return track.first_violation + (f" (and {more} more)" if more else "")
        return self._backwards(order)

    def _evidence(self, chosen: str) -> str:
        parts = [f"{o} ruled out: {self._against(o)}" for o in DATE_ORDERS if o != chosen]
        track = self._tracks[chosen]
        if track.violations:
            parts.append(
                f"even as {chosen}, {self._against(chosen)}: such lines are kept without a time"
            )
        if track.regressions:
            parts.append(f"{self._backwards(chosen)}: flagged order_regression")
        return "; ".join(parts)

    def _same_why(self, survivors: list[str]) -> str:
        ruled = [f"{o} ruled out: {self._against(o)}" for o in DATE_ORDERS if o not in survivors]
        why = (
            f"every date reads as the same day as {' and as '.join(survivors)}, so the "
            "order does not matter"
        )
        if self._tracks[survivors[0]].violations:
            why += f"; even so, {self._against(survivors[0])}: such lines are kept without a time"
        return "; ".join([why, *ruled])

    def decide(self, name: str, user_order: str | None) -> DateOrderDecision:
        """The order to read the file in. Raise ParseError when the user's order
        contradicts the file or no single order fits; DateOrderError when more than one
        does and the user has not chosen."""
        if self.count == 0:
            raise ParseError("no dates to read", path=name)
        survivors = self._survivors()
        fewest = self._tracks[survivors[0]].violations
        if fewest and self.calendar_dates * 2 >= self.distinct:
            raise self._calendar_error(name)
        same = len(survivors) > 1 and self._same_days(survivors)
        if user_order is not None:
            track = self._tracks[user_order]
            if track.violations > fewest:
                others = [o for o in survivors if o != user_order]
                raise ParseError(
                    f"--date-order {user_order} contradicts the file: {track.first_violation}",
                    path=name,
                    advice=(
                        f"use --date-order {'|'.join(others)} or leave it out"
                        if others
                        else "check that the file is one unedited export from one phone"
                    ),
                )
            if survivors == [user_order]:
                return DateOrderDecision(user_order, "file", self._evidence(user_order))
            if same and user_order in survivors:
                return DateOrderDecision(user_order, "file", self._same_why(survivors))
            why = f"--date-order {user_order}, where the file allows {'|'.join(survivors)}"
            if track.violations:
                why += f"; {self._against(user_order)}: such lines are kept without a time"
            if track.regressions:
                why += f"; {self._backwards(user_order)}"
            return DateOrderDecision(user_order, "user", why)
        if len(survivors) == 1:
            return DateOrderDecision(survivors[0], "file", self._evidence(survivors[0]))
        if same:
            return DateOrderDecision(survivors[0], "file", self._same_why(survivors))
        if fewest:
            reasons = "; ".join(f"as {o}, {self._against(o)}" for o in survivors)
            if self.first_calendar is not None:
                reasons += (
                    f"; {self.first_calendar}, which this parser does not convert to Gregorian"
                )
            raise DateOrderError(
                f"the dates fit no single day/month/year order ({reasons})",
                orders=survivors,
                path=name,
                advice=(
                    "check that the file is one unedited export from one phone; if it is, "
                    f"choose with --date-order {'|'.join(survivors)}"
                ),
            )
        names = " and ".join(ORDER_NAMES[o] for o in survivors)
        raise DateOrderError(
            f"cannot tell the date order: all {self.count} dates exist as {names}, and they "
            "run forwards under each",
            orders=survivors,
            path=name,
            advice=(
                "look at the phone's date settings (or a date you know) and re-run with "
                f"--date-order {'|'.join(survivors)}"
            ),
        )


def _tuple(day: date) -> YMD:
    return (day.year, day.month, day.day)


def _iso(ymd: YMD) -> str:
    return f"{ymd[0]:04d}-{ymd[1]:02d}-{ymd[2]:02d}"
