"""WhatsApp export parser: one test per export variant, with the expected records."""

from __future__ import annotations

import hashlib
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.registry import detect, get_parser
from cyberstalk.records import Flag, Record, RecordKind, TzBasis
from cyberstalk.records.times import choose_zone

SAMPLES = Path(__file__).parent / "samples" / "whatsapp"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
LRM = "\u200e"


def parse(
    source: Source | Path, ctx: ParseContext | None = None
) -> tuple[list[Record], ParseReport]:
    if isinstance(source, Path):
        source = Source.loose(source)
    report = ParseReport(parser="whatsapp")
    records = list(get_parser("whatsapp").parse(source, ctx or ParseContext(), report))
    return records, report


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def summary(records: list[Record]) -> list[tuple[object, ...]]:
    return [
        (r.kind.value, r.subtype, r.sender, r.time_utc, r.text, sorted(r.flags)) for r in records
    ]


def check_spans(path: Path, records: list[Record], member: bytes | None = None) -> None:
    """Every record's byte span holds its header and ends with its byte-exact text."""
    data = member if member is not None else path.read_bytes()
    lines = data.split(b"\n")
    for r in records:
        loc = r.locator
        assert loc.byte_start is not None and loc.byte_end is not None
        span = data[loc.byte_start : loc.byte_end]
        assert span.endswith(r.text.encode("utf-8")), (span, r.text)
        assert r.time_raw.encode("utf-8") in span.split(b"\n", 1)[0]
        assert loc.line_start is not None and loc.line_end is not None
        assert span.count(b"\n") == loc.line_end - loc.line_start
        first_line = lines[loc.line_start - 1]
        assert first_line.endswith(span.split(b"\n", 1)[0].rstrip(b"\r") + b"\r") or (
            first_line.rstrip(b"\r").endswith(span.split(b"\n", 1)[0].rstrip(b"\r"))
        )


def test_android_en_gb_every_event_type() -> None:
    path = SAMPLES / "android-en-gb.txt"
    records, report = parse(path)
    assert summary(records) == [
        (
            "system",
            "encryption_notice",
            None,
            utc(2026, 1, 5, 18, 2),
            "Messages and calls are end-to-end encrypted. No one outside of this chat, not "
            "even WhatsApp, can read or listen to them. Tap to learn more.",
            [],
        ),
        ("message", None, "Dylan", utc(2026, 1, 5, 18, 2), "Hi Carys", []),
        (
            "message",
            None,
            "Dylan",
            utc(2026, 1, 12, 23, 58),
            "I saw you at the station today\nYou looked tired\n\n  indented third line  ",
            [],
        ),
        ("media", "omitted", "Dylan", utc(2026, 1, 12, 23, 59), "<Media omitted>", []),
        (
            "system",
            "deleted",
            "Dylan",
            utc(2026, 1, 13, 0, 10),
            "This message was deleted",
            ["deleted"],
        ),
        (
            "message",
            None,
            "Carys",
            utc(2026, 1, 20, 9, 15),
            "Please stop contacting me. Paid â chysylltu â fi eto.",
            [],
        ),
        (
            "message",
            None,
            "Dylan",
            utc(2026, 1, 24, 23, 10),
            "You owe me an explanation <This message was edited>",
            ["edited"],
        ),
        (
            "system",
            "block",
            None,
            utc(2026, 1, 25, 21, 5),
            "You blocked this contact. Tap to unblock.",
            [],
        ),
        (
            "system",
            "number_change",
            "Dylan",
            utc(2026, 1, 26, 8, 0),
            "Dylan changed their phone number to a new number. Tap to message or add the new "
            "number.",
            [],
        ),
        ("system", "unblock", None, utc(2026, 1, 27, 10, 0), "You unblocked this contact.", []),
    ]
    assert records[3].attachments[0].omitted
    assert records[2].locator.line_start == 3 and records[2].locator.line_end == 6
    assert all(r.tz_basis is TzBasis.DEFAULT_TIMEZONE for r in records)
    assert records[0].time_raw == "05/01/2026, 18:02"
    assert all(r.platform == "whatsapp" and r.parser == "whatsapp" for r in records)
    assert report.skipped == []
    assert any("date order dmy" in w for w in report.warnings)
    check_spans(path, records)


def test_android_en_us_12h_narrow_nbsp_and_two_digit_year() -> None:
    path = SAMPLES / "android-en-us-12h.txt"
    records, report = parse(path)
    assert [(r.sender, r.time_utc, r.time_raw) for r in records] == [
        ("Dylan", utc(2026, 1, 5, 18, 2), "1/5/26, 6:02\u202fPM"),
        ("Dylan", utc(2026, 1, 13, 0, 5), "1/13/26, 12:05\u202fAM"),
        ("Carys", utc(2026, 1, 13, 12, 30), "1/13/26, 12:30\u202fPM"),
        ("Dylan", utc(2026, 1, 13, 23, 59), "1/13/26, 11:59\u202fPM"),
    ]
    call = records[3]
    assert (call.kind, call.subtype, call.extra["call_type"]) == (
        RecordKind.CALL,
        "missed",
        "voice",
    )
    assert any("date order mdy" in w for w in report.warnings)
    check_spans(path, records)


def test_spanish_meridiem_with_nbsp() -> None:
    records, _ = parse(SAMPLES / "android-es-pm.txt")
    assert [(r.time_utc, r.text) for r in records] == [
        (utc(2026, 1, 13, 13, 55), "Hola"),
        (utc(2026, 1, 14, 9, 5), "Déjame en paz"),
        # as year/month/day this line would be 2002, before WhatsApp: that settles it
        (utc(2026, 2, 2, 20, 15), "Sigo aquí"),
    ]
    assert records[0].time_raw == "13/1/26, 1:55\u00a0p.\u00a0m."


def test_ios_crlf_media_calls_and_notices() -> None:
    path = SAMPLES / "ios-en-gb-crlf.txt"
    records, report = parse(path)
    assert [(r.kind.value, r.subtype, r.sender, sorted(r.flags)) for r in records] == [
        ("system", "encryption_notice", None, []),
        ("message", None, "Dylan", []),
        ("message", None, "Dylan", []),
        ("media", "attachment", "Dylan", []),
        ("media", "omitted", "Dylan", []),
        ("system", "deleted", "Dylan", ["deleted"]),
        ("call", "missed", "Dylan", []),
        ("message", None, "Dylan", ["edited"]),
        ("system", "block", None, []),
    ]
    assert records[0].extra == {"attributed_to": "Dylan"}
    assert records[2].text == "I saw you at the station today\nYou looked tired"
    assert records[3].text == f"{LRM}<attached: 00000009-PHOTO-2026-01-12-23-59-10.jpg>"
    assert records[3].attachments[0].name == "00000009-PHOTO-2026-01-12-23-59-10.jpg"
    assert records[3].attachments[0].mime == "image/jpeg"
    assert records[6].extra == {"call_type": "video"}
    assert records[7].text == f"I saw your car\nat the station {LRM}<This message was edited>"
    assert records[8].time_utc == utc(2026, 1, 25, 21, 5, 0)
    assert records[8].time_raw == "25/01/2026, 21:05:00"
    assert report.warnings == [
        "date order dmy (mdy ruled out: line 6 ('13/01/2026, 00:01:00') is no date as "
        "month/day/year (and 3 more); ymd ruled out: line 1 ('05/01/2026, 18:02:11') is no "
        "date as year/month/day (and 5 more)); header style ios"
    ]
    check_spans(path, records)


@pytest.mark.parametrize(
    ("name", "zone", "expected"),
    [
        (
            "ios-ko.txt",
            "Asia/Seoul",
            [utc(2026, 1, 13, 12, 6, 15), utc(2026, 1, 13, 15, 1, 0)],
        ),
        (
            "ios-zh.txt",
            "Asia/Shanghai",
            [utc(2026, 1, 13, 13, 6, 15), utc(2026, 1, 14, 0, 0, 0)],
        ),
        ("android-ymd.txt", "Europe/London", [utc(2026, 1, 13, 21, 6), utc(2026, 1, 14, 7, 0)]),
        (
            "android-id-dotted.txt",
            "Asia/Jakarta",
            [utc(2026, 1, 13, 11, 0), utc(2026, 1, 14, 0, 30), utc(2026, 2, 2, 13, 15)],
        ),
        (
            "ios-fi-klo.txt",
            "Europe/Helsinki",
            [utc(2026, 1, 13, 19, 25, 15), utc(2026, 1, 14, 5, 5, 0)],
        ),
    ],
)
def test_locales(name: str, zone: str, expected: list[datetime]) -> None:
    ctx = ParseContext(zone=choose_zone(zone, None))
    records, _ = parse(SAMPLES / name, ctx)
    assert [r.time_utc for r in records] == expected
    assert [r.sender for r in records] == ["Dylan", "Carys", "Dylan"][: len(expected)]
    assert all(r.tz_basis is TzBasis.USER_SUPPLIED for r in records)
    check_spans(SAMPLES / name, records)


def test_bom_and_file_attached_with_caption() -> None:
    path = SAMPLES / "android-bom-file-attached.txt"
    records, _ = parse(path)
    first, second = records
    assert first.locator.byte_start == 3  # after the BOM
    assert (first.kind, first.subtype) == (RecordKind.MESSAGE, "attachment")
    assert first.text == "IMG-20260112-WA0003.jpg (file attached)\nLook familiar?"
    assert first.attachments[0].name == "IMG-20260112-WA0003.jpg"
    assert first.attachments[0].caption == "Look familiar?"
    assert (second.kind, second.attachments[0].mime) == (RecordKind.MEDIA, "video/mp4")
    check_spans(path, records)


def test_case_timezone_basis_and_dst_flags(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    # 29 March 2026 01:30 does not exist in London; 25 October 01:30 happens twice.
    path.write_text(
        "28/03/2026, 23:00 - A: before\n"
        "29/03/2026, 01:30 - A: in the gap\n"
        "25/10/2026, 01:30 - A: twice\n",
        encoding="utf-8",
    )
    ctx = ParseContext(zone=choose_zone(None, "Europe/London"))
    records, _ = parse(path, ctx)
    assert [sorted(r.flags) for r in records] == [[], ["dst_nonexistent"], ["dst_ambiguous"]]
    assert records[1].time_utc == utc(2026, 3, 29, 1, 30)
    assert records[2].time_utc == utc(2026, 10, 25, 0, 30)  # first occurrence (BST)
    assert all(r.tz_basis is TzBasis.CASE_TIMEZONE for r in records)


def test_forged_header_inside_ios_message_is_flagged(tmp_path: Path) -> None:
    path = tmp_path / "_chat.txt"
    path.write_bytes(
        b"[12/01/2026, 23:58:45] Dylan: I saw you at the station\r\n"
        # typed inside Carys's message: preceded by a bare \n, not the \r\n separator
        b"[13/01/2026, 08:00:00] Carys: fine\n"
        b"[13/01/2026, 08:00:30] Carys: see you there\r\n"
        b"[13/01/2026, 09:00:00] Dylan: ok\r\n"
    )
    records, _ = parse(path)
    assert [sorted(r.flags) for r in records] == [[], [], ["possible_inserted_line"], []]
    assert records[2].locator.line_start == 3


def test_time_running_backwards_is_flagged(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(
        "14/01/2026, 10:00 - Dylan: one\n"
        "13/01/2026, 09:00 - Carys: I agreed to meet\n"
        "14/01/2026, 10:05 - Dylan: two\n",
        encoding="utf-8",
    )
    records, _ = parse(path)
    assert [sorted(r.flags) for r in records] == [
        [],
        [Flag.ORDER_REGRESSION.value, Flag.POSSIBLE_INSERTED_LINE.value],
        [],
    ]


def test_ios_file_without_crlf_gets_a_note(tmp_path: Path) -> None:
    path = tmp_path / "_chat.txt"
    path.write_bytes(b"[13/01/2026, 08:00:00] A: x\n[13/01/2026, 08:01:00] B: y\n")
    records, report = parse(path)
    assert [r.flags for r in records] == [frozenset(), frozenset()]
    assert any("line-ending convention" in w for w in report.warnings)


def test_text_before_first_header_is_reported_not_dropped(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(
        "...end of an older message\nmore\n13/01/2026, 08:00 - A: x\n", encoding="utf-8"
    )
    records, report = parse(path)
    assert len(records) == 1
    assert report.skipped == [("lines 1-2", "text before the first message header")]


def test_invalid_date_keeps_record_without_time(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text("13/01/2026, 08:00 - A: x\n31/02/2026, 08:00 - A: y\n", encoding="utf-8")
    records, report = parse(path)
    assert records[1].time_utc is None and records[1].tz_basis is TzBasis.UNKNOWN
    assert records[1].text == "y"
    assert any("line 2: '31/02/2026, 08:00' is not a valid date" in w for w in report.warnings)


def test_date_order_from_chronology_when_no_day_above_12(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    # As d/m: 5 Jan, 1 Feb, 6 Feb, 2 Mar (forwards). As m/d: 1 May, 2 Jan (back), 2 Jun,
    # 3 Feb (back): two reversals.
    path.write_text(
        "05/01/2026, 08:00 - A: a\n01/02/2026, 08:00 - A: b\n"
        "06/02/2026, 08:00 - A: c\n02/03/2026, 08:00 - A: d\n",
        encoding="utf-8",
    )
    records, report = parse(path)
    assert [r.time_utc for r in records][1] == utc(2026, 2, 1, 8, 0)
    assert any(
        "mdy ruled out: as mdy the dates run backwards 2 times (first at line 2)" in w
        for w in report.warnings
    )
    assert report.date_order is not None and report.date_order.basis == "file"


def test_user_date_order_settles_ambiguity(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text("01/02/2026, 08:00 - A: a\n", encoding="utf-8")
    records, _ = parse(path, ParseContext(date_order="mdy"))
    assert records[0].time_utc == utc(2026, 1, 2, 8, 0)
    records, _ = parse(path, ParseContext(date_order="dmy"))
    assert records[0].time_utc == utc(2026, 2, 1, 8, 0)


def test_group_chat_names_and_unknown_system_lines(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(
        "13/01/2026, 08:00 - ~\u202fDylan: hi all\n"
        "13/01/2026, 08:01 - +44\u00a07700\u2011900789: who is this\n"
        "13/01/2026, 08:02 - Dylan added Sam\n",
        encoding="utf-8",
    )
    records, _ = parse(path)
    assert [r.sender for r in records] == ["Dylan", "+44 7700-900789", None]
    assert (records[2].kind, records[2].subtype) == (RecordKind.SYSTEM, "other")
    assert records[2].text == "Dylan added Sam"


def test_user_typed_phrases_stay_messages(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(
        "13/01/2026, 08:00 - Dylan: You blocked this contact?\n"
        "13/01/2026, 08:01 - Dylan: Video call tonight?\n",
        encoding="utf-8",
    )
    records, _ = parse(path)
    assert [(r.kind, r.subtype) for r in records] == [(RecordKind.MESSAGE, None)] * 2


# ------------------------------------------------------------------ zips and fixtures


def _fixture_files(tmp_path: Path) -> list[Path]:
    sys.path.insert(0, str(FIXTURES))
    try:
        import whatsapp as wa_fixture
    finally:
        sys.path.remove(str(FIXTURES))
    return list(wa_fixture.generate(tmp_path))


def test_demo_zip_links_and_hashes_the_photo(tmp_path: Path) -> None:
    zip_path, android = _fixture_files(tmp_path)
    assert zip_path.name == "WhatsApp Chat - Dylan.zip"
    source = Source.loose(zip_path)
    assert detect(source).parser is get_parser("whatsapp")
    records, report = parse(source)
    assert report.skipped == []
    assert len(records) == 18
    assert {r.locator.member for r in records} == {"_chat.txt"}
    assert {r.conversation for r in records} == {"Dylan"}
    photo = next(r for r in records if r.attachments and not r.attachments[0].omitted)
    with zipfile.ZipFile(zip_path) as zf:
        data = zf.read(photo.attachments[0].name)
        chat = zf.read("_chat.txt")
    assert photo.attachments[0].sha256 == hashlib.sha256(data).hexdigest()
    assert photo.attachments[0].size == len(data)
    assert data.startswith(b"\xff\xd8")  # a real JPEG
    block = next(r for r in records if r.subtype == "block")
    assert block.time_utc == utc(2026, 1, 25, 21, 5)
    edited = [r for r in records if "edited" in r.flags]
    assert [r.text for r in edited] == ["You owe me an explanation \u200e<This message was edited>"]
    assert [r.subtype for r in records if r.kind is RecordKind.CALL] == ["missed"]
    check_spans(zip_path, records, member=chat)

    android_records, _ = parse(android)
    assert len(android_records) == 18
    assert [r.text for r in android_records if r.kind is RecordKind.MESSAGE][:2] == [
        "Hi Carys, good to see you at work today",
        "Thanks Dylan, you too",
    ]


def test_fixture_generation_is_deterministic(tmp_path: Path) -> None:
    first = [p.read_bytes() for p in _fixture_files(tmp_path / "a")]
    second = [p.read_bytes() for p in _fixture_files(tmp_path / "b")]
    assert first == second


def test_exhibit_siblings_link_attachments(tmp_path: Path) -> None:
    chat = tmp_path / "RE-1-1.txt"
    chat.write_bytes(
        b"[12/01/2026, 23:59:10] Dylan: \xe2\x80\x8e<attached: 00000009-PHOTO.jpg>\r\n"
        b"[12/01/2026, 23:59:20] Dylan: \xe2\x80\x8e<attached: 00000010-PHOTO.jpg>\r\n"
    )
    source = Source(
        path=chat,
        name="_chat.txt",
        exhibit="RE/1/1",
        siblings={"WhatsApp Chat - Dylan/00000009-PHOTO.jpg": "RE/1/2"},
    )
    records, report = parse(source, ParseContext(date_order="dmy"))
    assert [r.attachments[0].exhibit for r in records] == ["RE/1/2", None]
    assert {r.locator.exhibit for r in records} == {"RE/1/1"}
    assert {r.locator.path for r in records} == {"_chat.txt"}
    assert any("'00000010-PHOTO.jpg' is not in the export" in w for w in report.warnings)


def test_output_is_deterministic() -> None:
    path = SAMPLES / "ios-en-gb-crlf.txt"
    first = [r.as_dict() for r in parse(path)[0]]
    second = [r.as_dict() for r in parse(path)[0]]
    assert first == second
    assert len({d["id"] for d in first}) == len(first)


@pytest.mark.parametrize(
    ("zone", "days"),
    [
        ("Europe/London", [(2026, 3, 29), (2026, 10, 25)]),
        ("Australia/Lord_Howe", [(2026, 4, 5), (2026, 10, 4)]),  # 30-minute clock changes
        ("America/St_Johns", [(2026, 3, 8), (2026, 11, 1)]),  # -03:30 / -02:30
    ],
)
def test_times_match_localise_minute_by_minute_across_clock_changes(
    tmp_path: Path, zone: str, days: list[tuple[int, int, int]]
) -> None:
    """The parser looks offsets up once per wall-clock hour; it must agree with
    timeutil.localise for every minute of a day with a clock change."""
    from cyberstalk.records.times import localise

    walls = [
        datetime(y, m, d, 0, 0) + timedelta(minutes=step, seconds=step % 60)
        for y, m, d in days
        for step in range(0, 24 * 60, 3)
    ]
    path = tmp_path / "_chat.txt"
    path.write_text("".join(f"[{w:%d/%m/%Y, %H:%M:%S}] A: x\r\n" for w in walls), encoding="utf-8")
    records, report = parse(path, ParseContext(zone=choose_zone(zone, None), date_order="dmy"))
    info = ZoneInfo(zone)
    expected = [localise(w, info) for w in walls]
    # 5/4 and 4/10 exist both ways round: there the order is the user's, and says so
    chosen = report.date_order is not None and report.date_order.basis == "user"
    assert chosen == (zone != "Europe/London")
    assert all(("date_order_chosen" in r.flags) == chosen for r in records)
    ignore = {"order_regression", "possible_inserted_line", "date_order_chosen"}
    assert [(r.time_utc, r.flags - ignore) for r in records] == expected
    assert any(flags for _, flags in expected)


def test_android_zip_with_media_links_file_attached(tmp_path: Path) -> None:
    path = tmp_path / "WhatsApp Chat with Dylan.zip"
    photo = b"\xff\xd8\xff\xe0 not really a jpeg"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "WhatsApp Chat with Dylan.txt",
            "13/01/2026, 08:00 - Dylan: IMG-20260113-WA0001.jpg (file attached)\n"
            "outside your door\n"
            "13/01/2026, 08:01 - Dylan: IMG-20260113-WA0002.jpg (file attached)\n",
        )
        zf.writestr("IMG-20260113-WA0001.jpg", photo)
    records, report = parse(path)
    first, second = (r.attachments[0] for r in records)
    assert first.sha256 == hashlib.sha256(photo).hexdigest() and first.size == len(photo)
    assert first.caption == "outside your door"
    assert second.sha256 is None
    assert {r.locator.member for r in records} == {"WhatsApp Chat with Dylan.txt"}
    assert any("'IMG-20260113-WA0002.jpg' is not in the export" in w for w in report.warnings)
