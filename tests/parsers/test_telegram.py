"""Telegram Desktop result.json parser: fixtures, variants, malformed files, round trip."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyberstalk.errors import ParseError
from cyberstalk.parsers import telegram
from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.registry import detect, get_parser
from cyberstalk.parsers.telegram import TelegramParser
from cyberstalk.records import Flag, Record, RecordKind, TzBasis, record_bytes
from cyberstalk.records.times import choose_zone
from helpers.fixture_scripts import load_fixture

ROOT = Path(__file__).resolve().parents[2]


tg_fixture = load_fixture("telegram")


def parse(
    path: Path, ctx: ParseContext | None = None, **kw: Any
) -> tuple[list[Record], ParseReport]:
    report = ParseReport(parser="telegram")
    source = Source(path=path, name=path.name, **kw)
    return list(TelegramParser().parse(source, ctx or ParseContext(), report)), report


def write_json(tmp_path: Path, doc: Any, name: str = "result.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def msg(n: int, **fields: Any) -> dict[str, Any]:
    base = {
        "id": n,
        "type": "message",
        "date": "2026-03-02T22:10:00",
        "date_unixtime": "1772489400",
        "from": "Dylan P",
        "from_id": "user1",
        "text": "hi",
        "text_entities": [{"type": "plain", "text": "hi"}],
    }
    base.update(fields)
    return base


def chat(messages: list[Any], name: str = "Dylan P") -> dict[str, Any]:
    return {"name": name, "type": "personal_chat", "id": 42, "messages": messages}


# ----------------------------------------------------------------- demo fixture


def test_demo_result_json(tmp_path: Path) -> None:
    (path,) = tg_fixture.generate(tmp_path)
    records, report = parse(path, exhibit="RE/5")
    got = [(r.kind, r.subtype, r.time_utc, r.sender, r.text, sorted(r.flags)) for r in records]
    assert got == [
        (
            RecordKind.MESSAGE,
            None,
            datetime(2026, 3, 2, 22, 10, tzinfo=UTC),
            "Dylan P",
            "You can't hide on every app",
            [],
        ),
        (
            RecordKind.MESSAGE,
            None,
            datetime(2026, 3, 10, 0, 30, tzinfo=UTC),
            "Dylan P",
            "I'm not going anywhere",
            ["edited"],
        ),
        (RecordKind.CALL, "missed", datetime(2026, 3, 12, 23, 20, tzinfo=UTC), "Dylan P", "", []),
        (RecordKind.MEDIA, None, datetime(2026, 3, 15, 22, 0, tzinfo=UTC), "Dylan P", "", []),
        (
            RecordKind.MESSAGE,
            None,
            datetime(2026, 3, 20, 23, 55, tzinfo=UTC),
            "Dylan P",
            "See you soon",
            [],
        ),
    ]
    assert [r.locator.json_path for r in records] == [f"$.messages[{i}]" for i in range(5)]
    assert all(r.locator.exhibit == "RE/5" and r.locator.path == "result.json" for r in records)
    assert all(r.tz_basis is TzBasis.EPOCH for r in records)
    assert records[0].time_raw == "1772489400"
    assert records[0].extra["entities"] == [{"type": "bold", "text": "hide"}]
    assert records[1].extra["edited_utc"] == "2026-03-10T00:50:00+00:00"
    assert records[1].extra["edited"] == "2026-03-10T00:50:00"
    assert records[2].extra["discard_reason"] == "missed"
    assert records[3].attachments[0].omitted and records[3].attachments[0].mime == "image/jpeg"
    assert all(r.conversation == "Dylan P" and r.extra["chat_id"] == 5550142 for r in records)
    assert report.warnings == [] and report.skipped == []
    assert any("Secret chats" in gap for gap in TelegramParser.known_gaps)
    assert detect(Source.loose(path)).parser is get_parser("telegram")


# ----------------------------------------------------------------- variants


def test_full_export_with_chat_list(tmp_path: Path) -> None:
    doc = {
        "about": "Here is the data you requested.",
        "personal_information": {"user_id": 1, "first_name": "Carys", "about": ""},
        "contacts": {"about": "x", "list": [{"first_name": "D", "messages": ["not a chat"]}]},
        "chats": {
            "about": "chats",
            "list": [
                chat([msg(1, text="first")], name="Dylan P"),
                {"name": "Group", "type": "private_group", "id": 7, "messages": []},
                chat([msg(2, text="third"), msg(3, text="fourth")], name="Other"),
            ],
        },
        "left_chats": {"about": "left", "list": [chat([msg(9, text="left")], name="Gone")]},
    }
    path = write_json(tmp_path, doc)
    records, _ = parse(path)
    assert [(r.locator.json_path, r.conversation, r.text) for r in records] == [
        ("$.chats.list[0].messages[0]", "Dylan P", "first"),
        ("$.chats.list[2].messages[0]", "Other", "third"),
        ("$.chats.list[2].messages[1]", "Other", "fourth"),
        ("$.left_chats.list[0].messages[0]", "Gone", "left"),
    ]
    assert TelegramParser().sniff(Source.loose(path)) >= 0.5


def test_entity_array_text_is_concatenated_exactly(tmp_path: Path) -> None:
    text = [
        "Look ",
        {"type": "link", "text": "https://example.org"},
        "\n\n  ",
        {"type": "mention", "text": "@carys_example"},
        " caf\u0065\u0301\u200e ",
    ]
    records, _ = parse(write_json(tmp_path, chat([msg(1, text=text)])))
    assert records[0].text == "Look https://example.org\n\n  @carys_example cafe\u0301\u200e "
    assert records[0].extra["entities"] == [text[1], text[3]]


@pytest.mark.parametrize(
    ("reason", "subtype"),
    [
        ("missed", "missed"),
        ("busy", "busy"),
        ("hangup", "ended"),
        ("disconnect", "disconnected"),
        (None, "answered"),
    ],
)
def test_call_discard_reasons(tmp_path: Path, reason: str | None, subtype: str) -> None:
    service = {
        "id": 1,
        "type": "service",
        "date": "2026-03-12T23:20:00",
        "date_unixtime": "1773357600",
        "actor": "Dylan P",
        "actor_id": "user1",
        "action": "phone_call",
        "duration_seconds": 12,
        "text": "",
        "text_entities": [],
    }
    if reason:
        service["discard_reason"] = reason
    (r,), _ = parse(write_json(tmp_path, chat([service])))
    assert (r.kind, r.subtype, r.sender) == (RecordKind.CALL, subtype, "Dylan P")
    assert r.extra["duration_seconds"] == 12


def test_other_service_actions_are_system(tmp_path: Path) -> None:
    service = {
        "id": 5,
        "type": "service",
        "date": "2026-03-12T23:20:00",
        "date_unixtime": "1773357600",
        "actor": "Dylan P",
        "action": "pin_message",
        "message_id": 3,
        "text": "",
    }
    unsupported = {"id": 6, "type": "unsupported", "date_unixtime": "1773357601", "text": ""}
    records, _ = parse(write_json(tmp_path, chat([service, unsupported])))
    assert [(r.kind, r.subtype) for r in records] == [
        (RecordKind.SYSTEM, "pin_message"),
        (RecordKind.SYSTEM, "unsupported"),
    ]
    assert records[0].extra["message_id"] == 5 and records[0].extra["action"] == "pin_message"


def test_forward_reply_and_media_beside_export(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "note.pdf").write_bytes(b"%PDF-1.4 synthetic")
    (tmp_path / "secret.txt").write_bytes(b"outside")
    messages = [
        msg(
            1,
            forwarded_from="Someone",
            reply_to_message_id=0,
            file="files/note.pdf",
            mime_type="application/pdf",
            text="",
        ),
        msg(2, photo="../secret.txt", text="escape?"),
        msg(3, file="files/missing.ogg", mime_type="audio/ogg", media_type="voice_message"),
    ]
    export = tmp_path / "export"
    export.mkdir()
    (export / "files").mkdir()
    (export / "files" / "note.pdf").write_bytes(b"%PDF-1.4 synthetic")
    records, _ = parse(write_json(export, chat(messages)))
    a0 = records[0].attachments[0]
    assert records[0].kind is RecordKind.MEDIA
    assert (a0.name, a0.mime, a0.size) == ("files/note.pdf", "application/pdf", 18)
    assert a0.sha256 == hashlib.sha256(b"%PDF-1.4 synthetic").hexdigest()
    assert records[0].extra["forwarded_from"] == "Someone"
    assert records[0].extra["reply_to_message_id"] == 0
    # A path leading out of the export's folder is never followed.
    assert records[1].attachments[0].sha256 is None
    assert records[2].attachments[0].sha256 is None and not records[2].attachments[0].omitted
    assert records[2].extra["media_type"] == "voice_message"


def test_sibling_exhibit_link(tmp_path: Path) -> None:
    path = write_json(tmp_path, chat([msg(1, photo="photos/photo_1.jpg", text="")]))
    records, _ = parse(path, exhibit="RE/5/1", siblings={"photos/photo_1.jpg": "RE/5/2"})
    assert records[0].attachments[0].exhibit == "RE/5/2"
    # Members of a zip are named from the zip's root.
    siblings = {"ChatExport_2026-03-21/photos/photo_1.jpg": "RE/6/3", "other/x.jpg": "RE/6/4"}
    records, _ = parse(path, exhibit="RE/6/2", siblings=siblings)
    assert records[0].attachments[0].exhibit == "RE/6/3"
    # Two candidates: ambiguous, so no link rather than a guess.
    siblings = {"a/photos/photo_1.jpg": "RE/7/1", "b/photos/photo_1.jpg": "RE/7/2"}
    records, _ = parse(path, siblings=siblings)
    assert records[0].attachments[0].exhibit is None


def test_no_unixtime_uses_zone_with_dst_flags(tmp_path: Path) -> None:
    messages = [
        {"id": 1, "type": "message", "date": "2026-03-29T01:30:00", "from": "A", "text": "gap"},
        {"id": 2, "type": "message", "date": "2026-10-25T01:30:00", "from": "A", "text": "twice"},
        {"id": 3, "type": "message", "date": "2026-07-01T12:00:00", "from": "A", "text": "summer"},
    ]
    ctx = ParseContext(zone=choose_zone("Europe/London", None))
    records, _ = parse(write_json(tmp_path, chat(messages)), ctx)
    assert [sorted(r.flags) for r in records] == [["dst_nonexistent"], ["dst_ambiguous"], []]
    assert all(r.tz_basis is TzBasis.USER_SUPPLIED for r in records)
    assert records[2].time_utc == datetime(2026, 7, 1, 11, 0, tzinfo=UTC)
    assert records[2].time_raw == "2026-07-01T12:00:00"


def test_deleted_account_sender_falls_back_to_id(tmp_path: Path) -> None:
    (r,), _ = parse(write_json(tmp_path, chat([msg(1, **{"from": None, "from_id": "user99"})])))
    assert r.sender == "user99"


def test_non_object_message_is_skipped_and_reported(tmp_path: Path) -> None:
    records, report = parse(write_json(tmp_path, chat([msg(1), "junk", msg(2)])))
    assert len(records) == 2
    assert report.skipped == [("$.messages[1]", "message is a JSON str, not an object")]


def test_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(chat([msg(1)])).encode())
    records, _ = parse(path)
    assert records[0].text == "hi"


# ----------------------------------------------------------------- malformed


def fault(path: Path) -> tuple[ParseError, int]:
    count = 0
    with pytest.raises(ParseError) as info:
        for _ in TelegramParser().parse(Source.loose(path), ParseContext(), ParseReport()):
            count += 1
    return info.value, count


def test_truncated_reports_records_before_fault(tmp_path: Path) -> None:
    text = json.dumps(chat([msg(1), msg(2), msg(3, text="the last one")]), indent=1)
    path = tmp_path / "result.json"
    path.write_text(text[: text.index("the last one")], encoding="utf-8")
    err, count = fault(path)
    assert "ends early" in err.message and "truncated" in err.message
    assert count == 2 and err.records_before_fault == 2
    lines = text[: text.index("the last one")].split("\n")
    assert err.position is not None and err.position.startswith(f"line {len(lines)}, column")


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    data = (
        json.dumps(chat([msg(1, text="bad X")]), indent=1).encode().replace(b"bad X", b"bad \xc3(")
    )
    path.write_bytes(data)
    err, count = fault(path)
    assert "invalid UTF-8 byte 0xc3" in err.message
    at = data.index(b"\xc3")
    line = data[:at].count(b"\n") + 1
    assert err.position == f"line {line}, byte {at}"
    assert count == 0 and err.records_before_fault == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"name": "x", "messages": [{"id": 1} {"id": 2}]}', "expected ',' or ']', found '{'"),
        ('{"name": "x" "messages": []}', "expected ',' or '}', found '\"'"),
        ('{"messages": []} trailing', "unexpected data after the end of the JSON document"),
        ('{"messages": [' + "[" * 100_000 + "]}", "JSON nested too deeply to decode"),
        ('{"messages": [' + "9" * 5000 + "]}", "unusable JSON value"),
        ("[1, 2]", "expected '{', found '['"),
    ],
)
def test_malformed_json(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "result.json"
    path.write_text(text, encoding="utf-8")
    err, _ = fault(path)
    assert message in err.message
    assert err.position is not None and err.position.startswith("line 1, column")


def test_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_json(tmp_path, chat([msg(i) for i in range(50)]))
    monkeypatch.setattr(telegram, "MAX_BYTES", 1000)
    err, _ = fault(path)
    assert f"file is {path.stat().st_size} bytes, over the 1000 byte limit" in err.message
    assert err.advice is not None and "date range" in err.advice


# ----------------------------------------------------------------- round trip

_plain = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
_part = st.one_of(
    _plain,
    st.builds(
        lambda t, k: {"type": k, "text": t},
        _plain,
        st.sampled_from(["bold", "italic", "link", "mention", "code"]),
    ),
)
_message = st.tuples(
    st.integers(min_value=int(telegram.TELEGRAM_LAUNCH.timestamp()), max_value=4_102_444_800),
    st.sampled_from(["Dylan P", "Carys H", "Zoë 🙂"]),
    st.one_of(_plain, st.lists(_part, max_size=5)),
    st.booleans(),
    # the exporting PC's UTC offset, in quarter hours (-12:00 to +14:00)
    st.integers(min_value=-48, max_value=56),
)


def _wall_at(unix: int, quarters: int) -> str:
    when = datetime.fromtimestamp(unix, UTC) + timedelta(minutes=15 * quarters)
    return when.strftime("%Y-%m-%dT%H:%M:%S")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    messages=st.lists(_message, max_size=10), indent=st.sampled_from([None, 1]), full=st.booleans()
)
def test_round_trip(tmp_path: Path, messages: list[Any], indent: int | None, full: bool) -> None:
    rendered = []
    for n, (unix, sender, text, edited, quarters) in enumerate(messages):
        m = {
            "id": n,
            "type": "message",
            "date": _wall_at(unix, quarters),
            "date_unixtime": str(unix),
            "from": sender,
            "text": text,
        }
        if edited:
            m["edited"] = _wall_at(unix + 60, quarters)
            m["edited_unixtime"] = str(unix + 60)
        rendered.append(m)
    doc: dict[str, Any] = chat(rendered)
    if full:
        doc = {"personal_information": {"about": "x"}, "chats": {"about": "", "list": [doc]}}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(doc, ensure_ascii=indent is None, indent=indent), encoding="utf-8")
    records, report = parse(path)
    assert len(records) == len(messages)
    assert report.warnings == []
    prefix = "$.chats.list[0].messages" if full else "$.messages"
    for n, ((unix, sender, text, edited, _q), r) in enumerate(zip(messages, records, strict=True)):
        expected = (
            text
            if isinstance(text, str)
            else "".join(p if isinstance(p, str) else p["text"] for p in text)
        )
        assert r.text == expected
        assert r.sender == sender
        assert r.time_utc == datetime.fromtimestamp(unix, UTC)
        assert r.tz_basis is TzBasis.EPOCH
        assert sorted(r.flags) == (["edited"] if edited else [])
        assert "time_conflict" not in r.extra and "edited_time_conflict" not in r.extra
        assert r.locator.json_path == f"{prefix}[{n}]"


# ----------------------------------------------------------------- date_unixtime vs date

LONDON = ParseContext(zone=choose_zone(None, "Europe/London"))


def test_epoch_zero_falls_back_to_date_with_flag_and_note(tmp_path: Path) -> None:
    messages = [
        msg(1, date="2022-03-01T10:00:00", date_unixtime="0", text="winter"),
        msg(2, date="2022-07-01T10:00:00", date_unixtime="0", text="summer"),
    ]
    records, report = parse(write_json(tmp_path, chat(messages)), LONDON)
    assert [r.time_utc for r in records] == [
        datetime(2022, 3, 1, 10, 0, tzinfo=UTC),
        datetime(2022, 7, 1, 9, 0, tzinfo=UTC),  # BST
    ]
    assert all(r.tz_basis is TzBasis.CASE_TIMEZONE for r in records)
    assert [r.time_raw for r in records] == ["2022-03-01T10:00:00", "2022-07-01T10:00:00"]
    assert all(r.flags == {Flag.TIME_CONFLICT.value} for r in records)
    assert records[0].extra["time_conflict"] == (
        "date_unixtime 0 (1970-01-01T00:00:00Z) disagrees with date 2022-03-01T10:00:00: the "
        "epoch is before Telegram existed (2013-08-01), so the time is read from date in "
        "Europe/London (case_timezone)"
    )
    assert records[0].extra["date_unixtime"] == "0"  # kept: the raw value is evidence
    assert "date_local" not in records[0].extra
    assert report.warnings == [
        "2 record(s) with a time conflict (flag time_conflict): their epoch field "
        "(date_unixtime / edited_unixtime) and wall clock (date / edited) disagree; each "
        "record's time_conflict note gives both values and the one used: $.messages[0], "
        "$.messages[1]"
    ]


@pytest.mark.parametrize(
    ("unix", "why"),
    [
        ("1262304000", "before Telegram existed (2013-08-01)"),  # 2010
        ("-86400", "before Telegram existed (2013-08-01)"),
        ("99999999999999999999", "beyond any date"),  # was a traceback (year > 9999)
        ("9" * 5000, "beyond any date"),  # more digits than int() reads: was a traceback
        (2_000_000_000_000, "beyond any date"),  # a JSON number, too large
        ("1900000000", "after the exhibit was received (2026-03-21T00:00:00Z)"),  # 2030
    ],
)
def test_never_real_epochs_fall_back_to_date(tmp_path: Path, unix: Any, why: str) -> None:
    ctx = ParseContext(
        zone=choose_zone(None, "Europe/London"), latest=datetime(2026, 3, 21, tzinfo=UTC)
    )
    (r,), report = parse(write_json(tmp_path, chat([msg(1, date_unixtime=unix)])), ctx)
    assert r.time_utc == datetime(2026, 3, 2, 22, 10, tzinfo=UTC)
    assert r.time_raw == "2026-03-02T22:10:00" and r.tz_basis is TzBasis.CASE_TIMEZONE
    assert Flag.TIME_CONFLICT.value in r.flags
    assert why in str(r.extra["time_conflict"])
    assert str(r.extra["time_conflict"]).startswith(f"date_unixtime {unix} (")
    assert r.extra["date_unixtime"] == unix
    assert "1 record(s) with a time conflict" in report.warnings[0]


def test_future_epoch_is_judged_against_receipt_only(tmp_path: Path) -> None:
    # one day's grace after the receipt time: a plausible epoch that matches is kept
    ctx = ParseContext(latest=datetime(2026, 3, 2, 0, 0, tzinfo=UTC))
    (r,), report = parse(write_json(tmp_path, chat([msg(1)])), ctx)
    assert r.time_utc == datetime(2026, 3, 2, 22, 10, tzinfo=UTC) and not r.flags
    assert report.warnings == []


def test_epoch_zero_without_date_is_undated_and_flagged(tmp_path: Path) -> None:
    messages = [msg(1, date_unixtime="0"), msg(2, date_unixtime="0", date="yesterday")]
    del messages[0]["date"]
    records, _ = parse(write_json(tmp_path, chat(messages)))
    assert [r.time_utc for r in records] == [None, None]
    assert all(r.tz_basis is TzBasis.UNKNOWN and r.time_raw == "0" for r in records)
    assert all(Flag.TIME_CONFLICT.value in r.flags for r in records)
    assert records[0].extra["time_conflict"] == (
        "date_unixtime 0 (1970-01-01T00:00:00Z) is not a real time: it is before Telegram "
        "existed (2013-08-01); there is no date, so there is no time"
    )
    assert "date 'yesterday' is not a date either" in str(records[1].extra["time_conflict"])


def test_plausible_epoch_that_disagrees_is_kept_and_flagged(tmp_path: Path) -> None:
    # 1646128800 is 2022-03-01T10:00:00Z; the wall clock says four days later
    messages = [msg(1, date="2022-03-05T10:00:00", date_unixtime="1646128800")]
    (r,), report = parse(write_json(tmp_path, chat(messages)), LONDON)
    assert r.time_utc == datetime(2022, 3, 1, 10, 0, tzinfo=UTC)
    assert r.tz_basis is TzBasis.EPOCH and r.time_raw == "1646128800"
    assert r.flags == {Flag.TIME_CONFLICT.value}
    assert r.extra["time_conflict"] == (
        "date_unixtime 1646128800 (2022-03-01T10:00:00Z) disagrees with date "
        "2022-03-05T10:00:00: no time zone offset turns one into the other; the time is "
        "taken from date_unixtime (exact); check the exhibit"
    )
    assert r.extra["date_local"] == "2022-03-05T10:00:00"
    assert "date_unixtime" not in r.extra
    assert "1 record(s) with a time conflict" in report.warnings[0]


@pytest.mark.parametrize(
    ("date", "conflict"),
    [
        ("2022-03-01T10:00:00", False),  # UTC / London in winter
        ("2022-03-01T15:30:00", False),  # +05:30 India
        ("2022-03-01T15:45:00", False),  # +05:45 Nepal
        ("2022-03-01T00:30:00", False),  # -09:30 Marquesas
        ("2022-03-02T00:00:00", False),  # +14:00 Kiritimati
        ("2022-02-28T22:00:00", False),  # -12:00
        ("2022-03-02T00:15:00", True),  # +14:15: no zone
        ("2022-02-28T19:45:00", True),  # -14:15: no zone
        ("2022-03-01T10:07:00", True),  # seven minutes: no zone
        ("2022-03-01T10:00:05", True),  # seconds differ
        ("2022-03-01T11:00:00+01:00", False),  # an offset written: the same instant
        ("2022-03-01T10:00:00+01:00", True),  # an offset written: an hour apart
        ("not a date", False),  # nothing to compare with: the epoch, as before
    ],
)
def test_zone_offsets_explain_agreeing_fields(tmp_path: Path, date: str, conflict: bool) -> None:
    messages = [msg(1, date=date, date_unixtime="1646128800")]
    (r,), _ = parse(write_json(tmp_path, chat(messages)), LONDON)
    assert r.time_utc == datetime(2022, 3, 1, 10, 0, tzinfo=UTC)
    assert (Flag.TIME_CONFLICT.value in r.flags) == conflict
    assert ("time_conflict" in r.extra) == conflict


def test_edited_unixtime_checked_against_edited(tmp_path: Path) -> None:
    messages = [
        msg(1, edited="2026-03-02T22:30:00", edited_unixtime="0"),
        msg(2, edited="2026-03-09T22:30:00", edited_unixtime="1772490600"),
        msg(3, edited="2026-03-02T22:30:00", edited_unixtime="1772490600"),
    ]
    records, report = parse(write_json(tmp_path, chat(messages)), LONDON)
    never, plausible, fine = records
    # the message's own time is fine in every case
    assert {r.time_utc for r in records} == {datetime(2026, 3, 2, 22, 10, tzinfo=UTC)}
    assert never.flags == {"edited", "time_conflict"}
    assert never.extra["edited_utc"] == "2026-03-02T22:30:00+00:00"  # from `edited`
    assert never.extra["edited_unixtime"] == "0"
    assert never.extra["edited_time_conflict"] == (
        "edited_unixtime 0 (1970-01-01T00:00:00Z) disagrees with edited 2026-03-02T22:30:00: "
        "the epoch is before Telegram existed (2013-08-01), so the time is read from edited "
        "in Europe/London (case_timezone)"
    )
    assert "time_conflict" not in never.extra
    assert plausible.flags == {"edited", "time_conflict"}
    assert plausible.extra["edited_utc"] == "2026-03-02T22:30:00+00:00"  # the epoch, kept
    assert str(plausible.extra["edited_time_conflict"]).startswith(
        "edited_unixtime 1772490600 (2026-03-02T22:30:00Z) disagrees with edited "
        "2026-03-09T22:30:00: no time zone offset"
    )
    assert fine.flags == {"edited"} and "edited_time_conflict" not in fine.extra
    assert "2 record(s) with a time conflict" in report.warnings[0]
    assert report.warnings[0].endswith(": $.messages[0], $.messages[1]")


@pytest.mark.parametrize("unix", ["--5", "\u00b2", "\u0661\u0662", "-", ""])
def test_odd_epoch_text_never_crashes(tmp_path: Path, unix: str) -> None:
    # "--5" and "²" pass str.isdigit() after lstrip("-") but int() refuses them: these
    # were tracebacks. Text that is not a whole number is ignored, as before.
    (r,), _ = parse(write_json(tmp_path, chat([msg(1, date_unixtime=unix)])), LONDON)
    if unix == "\u0661\u0662":  # Arabic-Indic digits: int() reads them (12 s after 1970)
        assert Flag.TIME_CONFLICT.value in r.flags
    else:
        assert r.tz_basis is TzBasis.CASE_TIMEZONE and not r.flags
    assert r.time_utc == datetime(2026, 3, 2, 22, 10, tzinfo=UTC)


@pytest.mark.parametrize("date", ["0001-01-01T00:00:00", "0001-01-01T00:00:00+01:00"])
def test_wall_clock_at_the_end_of_time_is_undated_not_a_crash(tmp_path: Path, date: str) -> None:
    # 0001-01-01T00:00 east of UTC is before year 1 in UTC: was a traceback (localising, or
    # writing the record's UTC time)
    messages = [{"id": 1, "type": "message", "date": date, "text": "x"}]
    messages[0].update(edited=date, edited_unixtime="0")
    ctx = ParseContext(zone=choose_zone("Asia/Tokyo", None))
    (r,), _ = parse(write_json(tmp_path, chat(messages)), ctx)
    assert r.time_utc is None and r.tz_basis is TzBasis.UNKNOWN
    assert "edited_utc" not in r.extra and "edited_time_conflict" in r.extra
    r.as_dict()


def test_date_with_an_offset_is_kept_as_that_instant(tmp_path: Path) -> None:
    messages = [{"id": 1, "type": "message", "date": "2026-03-02T23:10:00+01:00", "text": "x"}]
    messages[0].update(edited="2026-03-02T23:20:00+01:00", edited_unixtime="0")
    (r,), _ = parse(write_json(tmp_path, chat(messages)))
    assert r.time_utc == datetime(2026, 3, 2, 22, 10, tzinfo=UTC)
    assert r.tz_basis is TzBasis.EXPLICIT_OFFSET
    assert r.extra["edited_utc"] == "2026-03-02T22:20:00+00:00"
    assert "its own offset" in str(r.extra["edited_time_conflict"])


def _normal_export() -> dict[str, Any]:
    """A normal export from a PC in London: winter, summer, an edit, a call, a service
    message, an unsupported one and one with only the wall clock."""
    return chat(
        [
            msg(1, date="2026-01-05T18:00:00", date_unixtime="1767636000", text="winter"),
            msg(
                2,
                date="2026-07-05T18:00:00",
                date_unixtime="1783270800",
                edited="2026-07-05T18:20:00",
                edited_unixtime="1783272000",
                text=["summer ", {"type": "bold", "text": "bold"}],
            ),
            {
                "id": 3,
                "type": "service",
                "date": "2026-03-29T00:30:00",
                "date_unixtime": "1774744200",
                "actor": "Dylan P",
                "action": "phone_call",
                "discard_reason": "missed",
                "text": "",
            },
            {"id": 4, "type": "unsupported", "date_unixtime": "1774744300", "text": ""},
            {"id": 5, "type": "message", "date": "2026-10-25T01:30:00", "from": "A", "text": "x"},
            msg(6, date="2026-03-02T22:10:00", photo="(File not included. Change data)"),
        ]
    )


# sha256 of the JSON Lines the parser wrote for _normal_export() before the time checks
# (telegram 1.0.0), with only the parser version changed to 1.1.0.
NORMAL_EXPORT_SHA256 = "44fb41620ddcd9b49c1dd95f649cf54c0b6d2280a674a75dfb380c45eb49299a"


def test_agreeing_fields_give_unchanged_output(tmp_path: Path) -> None:
    path = write_json(tmp_path, _normal_export())
    records, report = parse(path, LONDON, exhibit="RE/1")
    assert not any(Flag.TIME_CONFLICT.value in r.flags for r in records)
    assert report.warnings == []
    data = b"".join(record_bytes(r) for r in records)
    assert hashlib.sha256(data).hexdigest() == NORMAL_EXPORT_SHA256


def test_parse_command_prints_the_conflict_count(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cyberstalk.cli import app

    messages = [msg(1, date_unixtime="0"), msg(2), msg(3, date_unixtime="0")]
    path = write_json(tmp_path, chat(messages))
    result = CliRunner().invoke(app, ["parse", str(path), "--tz", "Europe/London"])
    assert result.exit_code == 0, result.stderr
    assert "parser version 1.1.0" in result.stderr
    assert "notes:\n  - 2 record(s) with a time conflict (flag time_conflict)" in result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["flags"] for r in rows] == [["time_conflict"], [], ["time_conflict"]]
    assert rows[0]["extra"]["time_conflict"].startswith("date_unixtime 0 (1970-01-01T00:00:00Z)")
