"""Helpers for text exports: bounded line reading, invisible characters, date order.

Shared by the line-oriented parsers (WhatsApp, generic CSV) and free for others to use.
Bodies are never normalised: :func:`clean_header` is only for the *header* parts of a
line (names, dates), where invisible marks get in the way of matching.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from cyberstalk.errors import ParseError

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

DATE_ORDERS = ("dmy", "mdy", "ymd")


@dataclass
class DateOrderEvidence:
    """Collects numeric dates ``(a, b, c)`` as written, in file order, and decides
    whether they are day/month/year, month/day/year or year/month/day.

    Evidence, strongest first: a 4-digit (or > 31) first field means ymd; a first field
    above 12 means dmy, a second field above 12 means mdy; otherwise the order under which
    the dates run forwards (dates in an export are chronological). Constant memory.
    """

    count: int = 0
    first_is_year: int = 0
    a_over_12: int = 0
    b_over_12: int = 0
    first_a_over_12: str | None = None
    first_b_over_12: str | None = None
    regress_dmy: int = 0
    regress_mdy: int = 0
    _prev_dmy: tuple[int, int, int] | None = None
    _prev_mdy: tuple[int, int, int] | None = None

    def add(self, a: str, b: str, c: str, line: int) -> None:
        """One date as written (three digit strings) found on ``line``."""
        self.count += 1
        ia = int(a)
        if len(a) == 4 or ia > 31:
            self.first_is_year += 1
            return
        ib = int(b)
        if ia > 12:
            self.a_over_12 += 1
            if self.first_a_over_12 is None:
                self.first_a_over_12 = f"line {line}"
        if ib > 12:
            self.b_over_12 += 1
            if self.first_b_over_12 is None:
                self.first_b_over_12 = f"line {line}"
        if self.a_over_12 or self.b_over_12:
            return  # decided by field size; chronology is no longer needed
        ic = int(c)
        dmy = (ic, ib, ia)
        mdy = (ic, ia, ib)
        if self._prev_dmy is not None and dmy < self._prev_dmy:
            self.regress_dmy += 1
        if self._prev_mdy is not None and mdy < self._prev_mdy:
            self.regress_mdy += 1
        self._prev_dmy, self._prev_mdy = dmy, mdy

    def decide(self, name: str, user_order: str | None) -> tuple[str, str]:
        """Return (order, how it was decided). Raise ParseError when undecidable or when
        the user's order contradicts the file."""
        if self.first_is_year and self.first_is_year != self.count:
            raise ParseError(
                "dates mix year-first and year-last forms",
                path=name,
                advice="check that the file is one unedited export",
            )
        if self.first_is_year:
            if user_order not in (None, "ymd"):
                raise ParseError(
                    f"--date-order {user_order} contradicts the file: its dates start with a year",
                    path=name,
                    advice="use --date-order ymd or leave it out",
                )
            return "ymd", "year first"
        if user_order == "ymd":
            raise ParseError(
                "--date-order ymd contradicts the file: its dates end with the year",
                path=name,
                advice="use --date-order dmy or mdy, or leave it out",
            )
        if self.a_over_12 and self.b_over_12:
            raise ParseError(
                "dates fit neither day/month nor month/day order: a first field above 12 at "
                f"{self.first_a_over_12} and a second field above 12 at {self.first_b_over_12}",
                path=name,
                advice="check that the file is one unedited export from one phone",
            )
        if self.a_over_12:
            if user_order == "mdy":
                raise ParseError(
                    f"--date-order mdy contradicts the file: {self.first_a_over_12} has a month "
                    "above 12",
                    path=name,
                    advice="use --date-order dmy or leave it out",
                )
            return "dmy", f"a day above 12 ({self.first_a_over_12})"
        if self.b_over_12:
            if user_order == "dmy":
                raise ParseError(
                    f"--date-order dmy contradicts the file: {self.first_b_over_12} has a month "
                    "above 12",
                    path=name,
                    advice="use --date-order mdy or leave it out",
                )
            return "mdy", f"a day above 12 ({self.first_b_over_12})"
        if user_order is not None:
            return user_order, "--date-order"
        # No field above 12: chronology is the only evidence. Dates in an export run
        # forwards; demand that one order never runs backwards while the other does at
        # least twice, so that a single inserted line cannot decide it.
        if self.regress_dmy == 0 and self.regress_mdy >= 2:
            return "dmy", f"dates run forwards only as day/month ({self.regress_mdy} reversals)"
        if self.regress_mdy == 0 and self.regress_dmy >= 2:
            return "mdy", f"dates run forwards only as month/day ({self.regress_dmy} reversals)"
        raise ParseError(
            "cannot tell day/month from month/day order: no date has a field above 12 and the "
            f"order of the {self.count} dates does not settle it",
            path=name,
            advice=(
                "look at the phone's date settings (or a date you know) and re-run with "
                "--date-order dmy|mdy|ymd"
            ),
        )
