"""Layouts and readings of WhatsApp exports beyond the common ones (issue 24): 12-hour
clocks that write midnight's hour as 00, files whose dates read the same in every order,
header lines of another layout typed into a chat, Arabic, Vietnamese and old iOS headers,
non-Gregorian calendars, and the iOS ``~`` marker of a sender not in the contacts.

Chats are generated (seeded) from known wall clocks; every record's time must be the
generated one, and every text byte-exact."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_whatsapp_property import STYLES

from cyberstalk.errors import DateOrderError, ParseError
from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.whatsapp import WhatsAppParser
from cyberstalk.records import Record
from cyberstalk.records.times import choose_zone, localise

ZONE = "Europe/London"
RECEIVED = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
NNBSP = "\u202f"
INSERTED = "possible_inserted_line"


def _parse(
    path: Path, date_order: str | None = None, latest: datetime | None = RECEIVED
) -> tuple[list[Record], ParseReport]:
    report = ParseReport()
    ctx = ParseContext(zone=choose_zone(ZONE, None), latest=latest, date_order=date_order)
    return list(WhatsAppParser().parse(Source.loose(path), ctx, report)), report


def _write(tmp_path: Path, text: str, name: str = "WhatsApp Chat with Dylan.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def _walls(rng: random.Random, count: int) -> list[datetime]:
    """Wall clocks from 29 January 2024 forwards (dates with days over 12 and across a
    month end, so each layout's order is plain), several in the hour after midnight."""
    when = datetime(2024, 1, 29, 23, 50, 7)  # a wall clock, localised by the parser
    out = []
    for i in range(count):
        when += timedelta(seconds=rng.choice([13, 61, 600, 3599, 7200, 86400 + 17]))
        if i % 7 == 3:  # into the hour after midnight
            when = (when + timedelta(days=1)).replace(hour=0, minute=rng.randrange(60))
        out.append(when)
    return out


# ------------------------------------------------------------- generated, every layout


@pytest.mark.parametrize("style", sorted(STYLES))
def test_a_generated_chat_in_each_layout_reads_back_exactly(tmp_path: Path, style: str) -> None:
    render, seconds, ios, order = STYLES[style]
    rng = random.Random(style)
    walls = [w if seconds else w.replace(second=0) for w in _walls(rng, 60)]
    assert any(w.hour == 0 for w in walls)
    senders = ("Dylan", "Carys", "Siân", "+44 7700 900789")
    texts = [
        rng.choice(["hello", "caf\u00e9 \U0001f600", "line one\nline two", "a: b", ""]) + f" {i}"
        for i in range(len(walls))
    ]
    sep = "\r\n" if ios else "\n"
    who = [rng.choice(senders) for _ in walls]
    chat = sep.join(f"{render(w)}{s}: {t}" for w, s, t in zip(walls, who, texts, strict=True))
    path = _write(tmp_path, chat + sep, "_chat.txt" if ios else "WhatsApp Chat with Dylan.txt")
    assert WhatsAppParser().sniff(Source.loose(path)) >= 0.5
    records, report = _parse(path)
    assert report.date_order is not None
    assert (report.date_order.order, report.date_order.basis) == (order, "file")
    zone = ZoneInfo(ZONE)
    assert [r.time_utc for r in records] == [localise(w, zone)[0] for w in walls]
    assert [r.text for r in records] == texts
    assert [r.sender for r in records] == who
    data = path.read_bytes()
    for r in records:
        assert not r.flags
        assert r.locator.byte_start is not None and r.locator.byte_end is not None
        assert data[r.locator.byte_start : r.locator.byte_end].endswith(r.text.encode())


# ------------------------------------------------------------- 00 with AM and PM


def test_hour_00_with_am_is_midnight_hour(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f"1/13/24, 00:04{NNBSP}AM - Dylan: a\n"
        "1/13/2024, 00:08\u00a0a.\u00a0m. - Dylan: b\n"
        f"1/13/24, 12:09{NNBSP}AM - Dylan: c\n"
        f"1/13/24, 12:10{NNBSP}PM - Dylan: d\n",
    )
    records, report = _parse(path)
    assert [r.time_utc for r in records] == [
        datetime(2024, 1, 13, 0, 4, tzinfo=UTC),
        datetime(2024, 1, 13, 0, 8, tzinfo=UTC),
        datetime(2024, 1, 13, 0, 9, tzinfo=UTC),
        datetime(2024, 1, 13, 12, 10, tzinfo=UTC),
    ]
    assert not any("not a valid" in w for w in report.warnings)


def test_hour_00_with_pm_is_refused_not_guessed(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f"1/13/24, 11:04{NNBSP}AM - Dylan: a\n1/13/24, 00:08{NNBSP}PM - Dylan: b\n"
        f"1/14/24, 1:00{NNBSP}PM - Dylan: c\n",
    )
    records, report = _parse(path)
    assert [r.text for r in records] == ["a", "b", "c"]
    assert records[1].time_utc is None
    assert records[1].time_raw == f"1/13/24, 00:08{NNBSP}PM"
    assert records[1].tz_basis.value == "unknown"
    assert records[2].time_utc == datetime(2024, 1, 14, 13, 0, tzinfo=UTC)
    (warning,) = [w for w in report.warnings if w.startswith("line 2:")]
    assert "hour 00 with a PM mark" in warning and "not guessed" in warning


# ------------------------------------------------------------- orders that agree


@pytest.mark.parametrize(
    ("dates", "day"),
    [
        (("1/1/21", "1/1/21", "01/01/21"), (2021, 1, 1)),  # dmy = mdy
        (("12/12/12", "12/12/12"), (2012, 12, 12)),  # dmy = mdy = ymd
        (("21/01/21", "21/01/21"), (2021, 1, 21)),  # dmy = ymd (two-digit fields)
        (("3.3.2024", "3.3.2024"), (2024, 3, 3)),
    ],
)
def test_dates_that_read_the_same_in_every_order_are_dated(
    tmp_path: Path, dates: tuple[str, ...], day: tuple[int, int, int]
) -> None:
    text = "".join(f"{d}, 10:{i:02d} - Dylan: m{i}\n" for i, d in enumerate(dates))
    path = _write(tmp_path, text)
    records, report = _parse(path)
    assert [r.time_utc for r in records] == [
        datetime(*day, 10, i, tzinfo=UTC) for i in range(len(dates))
    ]
    assert report.date_order is not None and report.date_order.basis == "file"
    assert "the order does not matter" in report.date_order.why
    assert all("date_order_chosen" not in r.flags for r in records)
    # an officer's --date-order among the equal ones changes nothing, and flags nothing
    chosen, report = _parse(path, date_order="mdy" if day != (2021, 1, 21) else "ymd")
    assert [r.time_utc for r in chosen] == [r.time_utc for r in records]
    assert report.date_order is not None and report.date_order.basis == "file"
    assert all("date_order_chosen" not in r.flags for r in chosen)


def test_orders_that_agree_on_some_dates_only_are_still_refused(tmp_path: Path) -> None:
    # 1/1/21 reads the same as dmy and mdy; 2/1/21 does not (2 January or 1 February)
    path = _write(tmp_path, "1/1/21, 10:00 - Dylan: a\n2/1/21, 10:00 - Dylan: b\n")
    with pytest.raises(DateOrderError) as caught:
        _parse(path)
    assert caught.value.orders == ("dmy", "mdy")


# ------------------------------------------------------------- another layout typed in


def test_an_ios_header_line_inside_an_android_chat_is_flagged(tmp_path: Path) -> None:
    typed = "[15/12/2025, 10:32:03 AM] Alice: hi"
    path = _write(
        tmp_path,
        "15/12/2025, 10:31 - Bob: first\n"
        f"15/12/2025, 10:32 - Alice: hello\n{typed}\n"
        "15/12/2025, 10:33 - Bob: multi\nline\n"
        "16/12/2025, 10:32 - Alice: x\n",
    )
    records, _ = _parse(path)
    assert [r.text for r in records] == ["first", f"hello\n{typed}", "multi\nline", "x"]
    assert [INSERTED in r.flags for r in records] == [False, True, False, False]
    data = path.read_bytes()
    r = records[1]
    assert r.locator.byte_start is not None and r.locator.byte_end is not None
    assert data[r.locator.byte_start : r.locator.byte_end].endswith(r.text.encode())
    assert (r.locator.line_start, r.locator.line_end) == (2, 3)


def test_an_android_header_line_inside_an_ios_chat_is_flagged(tmp_path: Path) -> None:
    typed = "15/12/2025, 10:32 - Alice: hi"
    path = _write(
        tmp_path,
        "[15/12/2025, 10:31:00] Bob: first\r\n"
        f"[15/12/2025, 10:32:03] Alice: hello\n{typed}\r\n"
        "[16/12/2025, 10:32:03] Alice: x\r\n",
        "_chat.txt",
    )
    records, _ = _parse(path)
    assert [r.text for r in records] == ["first", f"hello\n{typed}", "x"]
    assert [sorted(r.flags) for r in records] == [[], [INSERTED], []]


def test_a_bare_old_ios_line_inside_an_android_chat_is_flagged(tmp_path: Path) -> None:
    # the old-iOS layout is counted when the file's start has one
    path = _write(
        tmp_path,
        "15/12/2025, 10:31 - Bob: first\n15/12/2025 10:31:09: Bob: typed\n"
        "16/12/2025, 10:32 - Alice: x\n",
    )
    records, _ = _parse(path)
    assert [r.text for r in records] == ["first\n15/12/2025 10:31:09: Bob: typed", "x"]
    assert [INSERTED in r.flags for r in records] == [True, False]


# ------------------------------------------------------------- the ~ marker


def test_the_not_in_contacts_marker_is_kept_apart_from_the_name(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "[15/12/2025, 10:32:03] ~\u202fAlice Roe: hi\r\n"
        "[15/12/2025, 10:33:03] ~ +44 7700 900123: who\r\n"
        "[15/12/2025, 10:34:03] Bob: x~y\r\n"
        "[15/12/2025, 10:35:03] ~\u00a0Alice Roe: \u200eMissed voice call\r\n",
        "_chat.txt",
    )
    records, _ = _parse(path)
    assert [r.sender for r in records] == ["Alice Roe", "+44 7700 900123", "Bob", "Alice Roe"]
    assert [r.extra.get("not_in_contacts") for r in records] == [True, True, None, True]
    assert records[3].kind.value == "call"
    assert records[3].extra["call_type"] == "voice"
    assert [r.text for r in records][:3] == ["hi", "who", "x~y"]


# ------------------------------------------------------------- new layouts, by hand


@pytest.mark.parametrize(
    ("line", "utc"),
    [
        (
            "[\u0661\u0668\u200f/\u0663\u200f/\u0662\u0660\u0662\u0662\u060c "
            "\u0662:\u0665\u0666:\u0660\u0660 \u0645] Name: text",
            datetime(2022, 3, 18, 14, 56, tzinfo=UTC),
        ),
        ("[18\u200f/3\u200f/2022\u060c 2:56:00 \u0645] Name: text", datetime(2022, 3, 18, 14, 56)),
        ("[18\u200f/3\u200f/2022\u060c 2:56:00 \u0635] Name: text", datetime(2022, 3, 18, 2, 56)),
        ("[14:56:01, 3/18/22] Name: text", datetime(2022, 3, 18, 14, 56, 1)),
        ("7/13/16, 4:56:55 PM: Name: text", datetime(2016, 7, 13, 15, 56, 55)),
        ("13/06/2015 10:59:59: Name: text", datetime(2015, 6, 13, 9, 59, 59)),
    ],
)
def test_layouts_real_phones_write(tmp_path: Path, line: str, utc: datetime) -> None:
    path = _write(tmp_path, line + "\r\n", "_chat.txt")
    assert WhatsAppParser().sniff(Source.loose(path)) >= 0.5
    (record,), _ = _parse(path)
    assert record.time_utc == utc.replace(tzinfo=UTC)
    assert (record.sender, record.text) == ("Name", "text")
    assert line.startswith((f"[{record.time_raw}] ", f"{record.time_raw}: "))


# ------------------------------------------------------------- other calendars


@pytest.mark.parametrize(
    ("dates", "year"),
    [
        (("1401/01/15", "1401/01/16"), "1401"),  # Solar Hijri
        (("15/3/1443", "16/3/1443"), "1443"),  # Hijri
        (("15/3/2565", "16/3/2565"), "2565"),  # Buddhist era
    ],
)
@pytest.mark.parametrize("latest", [RECEIVED, None])
@pytest.mark.parametrize("date_order", [None, "dmy"])
def test_a_non_gregorian_calendar_is_refused_with_that_reason(
    tmp_path: Path,
    dates: tuple[str, ...],
    year: str,
    latest: datetime | None,
    date_order: str | None,
) -> None:
    text = "".join(f"[{d}, 10:00:0{i}] Dylan: m{i}\r\n" for i, d in enumerate(dates))
    path = _write(tmp_path, text, "_chat.txt")
    with pytest.raises(ParseError) as caught:
        _parse(path, date_order=date_order, latest=latest)
    message = str(caught.value)
    assert not isinstance(caught.value, DateOrderError)
    assert "non-Gregorian calendar" in message and f"the year {year}" in message
    assert "does not convert" in message
    assert "calendar set to Gregorian" in (caught.value.advice or "")


def test_one_odd_year_in_a_gregorian_chat_does_not_refuse_the_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "15/12/2025, 10:31 - Bob: a\n16/3/2565, 10:31 - Bob: typed\n17/12/2025, 10:32 - Bob: b\n",
    )
    records, report = _parse(path)
    assert report.date_order is not None and report.date_order.order == "dmy"
    assert [r.text for r in records] == ["a", "typed", "b"]
    assert records[0].time_utc == datetime(2025, 12, 15, 10, 31, tzinfo=UTC)
