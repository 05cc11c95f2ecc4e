"""Every header format WhatsApp writes, generated and parsed back to the exact UTC time.

Date orders day/month/year, month/day/year and year/month/day, with two- and four-digit
years, padded or not, separated by ``/``, ``.`` or ``-``; 24-hour and 12-hour clocks
(``AM``/``PM`` after a narrow no-break space), with and without seconds, dotted times;
Android (``date, time - ``) and iOS (``[date, time] ``) headers, with and without the
comma; Vietnamese iOS (``[time, date] ``) and old iOS without brackets (``date, time: ``);
12-hour clocks that write the hour after midnight as ``00 AM``; Arabic iOS with
Arabic-Indic, Eastern Arabic-Indic or Western digits, RLMs and the Arabic comma. Nothing
tells the parser the order: it must find it from the whole file.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cyberstalk.errors import DateOrderError
from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.whatsapp import WhatsAppParser
from cyberstalk.records import Record
from cyberstalk.records.times import choose_zone, localise

NNBSP = "\u202f"
ZONE = "Europe/London"
RECEIVED = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)

ORDERS = ("dmy", "mdy", "ymd")
YEARS = (2, 4)
SEPARATORS = ("/", ".", "-")
PADDED = (True, False)
CLOCKS = ("24h", "24h-seconds", "12h", "12h-seconds", "dotted")
HEADERS = ("android", "android-no-comma", "ios", "ios-no-comma")
NEW_HEADERS = ("ios-time-first", "ios-time-first-no-comma", "ios-bare", "ios-bare-no-comma")
ZERO_HOUR = "12h-zero-hour"
"""A 12-hour clock with seconds that writes 00:xx AM for the hour after midnight."""


def date_text(t: datetime, order: str, year_digits: int, sep: str, padded: bool) -> str:
    year = f"{t.year % 100:02d}" if year_digits == 2 else str(t.year)
    month = f"{t.month:02d}" if padded else str(t.month)
    day = f"{t.day:02d}" if padded else str(t.day)
    fields = {"dmy": (day, month, year), "mdy": (month, day, year), "ymd": (year, month, day)}
    return sep.join(fields[order])


def time_text(t: datetime, clock: str) -> str:
    if clock == ZERO_HOUR:
        hour_text = "00" if t.hour == 0 else str(t.hour % 12 or 12)
        mer = "PM" if t.hour >= 12 else "AM"
        return f"{hour_text}:{t.minute:02d}:{t.second:02d}{NNBSP}{mer}"
    if clock.startswith("12h"):
        hour = t.hour % 12 or 12
        secs = f":{t.second:02d}" if clock.endswith("seconds") else ""
        return f"{hour}:{t.minute:02d}{secs}{NNBSP}{'PM' if t.hour >= 12 else 'AM'}"
    if clock == "dotted":
        return f"{t.hour:02d}.{t.minute:02d}"
    secs = f":{t.second:02d}" if clock.endswith("seconds") else ""
    return f"{t.hour:02d}:{t.minute:02d}{secs}"


def header(t: datetime, fmt: tuple[str, int, str, bool, str, str]) -> str:
    order, year_digits, sep, padded, clock, style = fmt
    day = date_text(t, order, year_digits, sep, padded)
    comma = " " if style.endswith("no-comma") else ", "
    if style.startswith("ios-time-first"):
        return f"[{time_text(t, clock)}{comma}{day}] "
    stamp = day + comma + time_text(t, clock)
    if style.startswith("ios-bare"):
        return f"{stamp}: "
    return f"[{stamp}] " if style.startswith("ios") else f"{stamp} - "


def walls() -> list[datetime]:
    """About 50 messages from 28 January to early March 2024 (a leap year): the dates
    cross month ends, so each wrong order meets a date that does not exist, is out of
    range or runs backwards. Includes the spring clock change."""
    start = datetime(2024, 1, 28, 0, 7, 9)  # wall clocks, localised below
    out = [start + timedelta(hours=17 * i, minutes=13 * i, seconds=7 * i) for i in range(50)]
    out.append(datetime(2024, 3, 31, 0, 59, 59))
    out.append(datetime(2024, 3, 31, 2, 30, 0))  # 01:00-02:00 does not exist
    return out


FORMATS = [
    *itertools.product(ORDERS, YEARS, SEPARATORS, PADDED, CLOCKS, HEADERS),
    *itertools.product(ORDERS, YEARS, SEPARATORS, (False,), (ZERO_HOUR,), HEADERS),
    *itertools.product(ORDERS, YEARS, ("/", "."), PADDED, (*CLOCKS, ZERO_HOUR), NEW_HEADERS),
]


def _id(fmt: tuple[str, int, str, bool, str, str]) -> str:
    order, year_digits, sep, padded, clock, style = fmt
    return f"{order}-{year_digits}y-{sep}-{'pad' if padded else 'nopad'}-{clock}-{style}"


def _parse(path: Path, date_order: str | None = None) -> tuple[list[Record], ParseReport]:
    report = ParseReport()
    ctx = ParseContext(zone=choose_zone(ZONE, None), latest=RECEIVED, date_order=date_order)
    records = list(WhatsAppParser().parse(Source.loose(path), ctx, report))
    return records, report


@pytest.mark.parametrize("fmt", FORMATS, ids=[_id(f) for f in FORMATS])
def test_every_header_format_parses_to_the_right_utc(
    tmp_path: Path, fmt: tuple[str, int, str, bool, str, str]
) -> None:
    order, _, _, _, clock, style = fmt
    seconds = clock.endswith("seconds") or clock == ZERO_HOUR
    wall = [w if seconds else w.replace(second=0) for w in walls()]
    newline = "\r\n" if style.startswith("ios") else "\n"
    text = "".join(f"{header(w, fmt)}Dylan: message {i}{newline}" for i, w in enumerate(wall))
    path = tmp_path / ("_chat.txt" if style.startswith("ios") else "WhatsApp Chat with C.txt")
    path.write_text(text, encoding="utf-8")
    assert WhatsAppParser().sniff(Source.loose(path)) >= 0.5
    records, report = _parse(path)
    assert report.date_order is not None
    assert (report.date_order.order, report.date_order.basis) == (order, "file")
    zone = ZoneInfo(ZONE)
    assert [r.time_utc for r in records] == [localise(w, zone)[0] for w in wall]
    assert [r.text for r in records] == [f"message {i}" for i in range(len(wall))]
    assert all("date_order_chosen" not in r.flags for r in records)


def test_two_digit_year_first_that_fits_two_orders_is_refused(tmp_path: Path) -> None:
    # 24-03-10 .. 24-03-12 is 10-12 March 2024, or 24 March 2010, 2011 and 2012: both run
    # forwards and both are after WhatsApp's launch. Nothing in the file tells them apart.
    path = tmp_path / "chat.txt"
    path.write_text(
        "24-03-10, 11:20 - Dylan: a\n24-03-11, 11:20 - Dylan: b\n24-03-12, 11:20 - Dylan: c\n",
        encoding="utf-8",
    )
    with pytest.raises(DateOrderError) as caught:
        _parse(path)
    assert caught.value.orders == ("dmy", "ymd")
    assert "--date-order dmy|ymd" in str(caught.value)
    records, report = _parse(path, date_order="ymd")
    assert [r.time_utc for r in records] == [
        datetime(2024, 3, day, 11, 20, tzinfo=UTC) for day in (10, 11, 12)
    ]
    assert report.date_order is not None and report.date_order.basis == "user"
    assert all("date_order_chosen" in r.flags for r in records)


def test_an_order_that_puts_messages_after_receipt_is_ruled_out(tmp_path: Path) -> None:
    # Read day first, 26-11-28 and 26-11-29 would be 26 November 2028 and 2029: after
    # the exhibit was received. Without that bound both orders fit.
    path = tmp_path / "chat.txt"
    path.write_text("26-11-28, 09:00 - Dylan: a\n26-11-29, 09:00 - Dylan: b\n", encoding="utf-8")
    with pytest.raises(DateOrderError):
        list(WhatsAppParser().parse(Source.loose(path), ParseContext(), ParseReport()))
    records, report = _parse(path)
    assert report.date_order is not None and report.date_order.order == "ymd"
    assert "after 2026-12-02 (the exhibit's receipt)" in report.date_order.why
    assert records[0].time_utc == datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
