"""Facebook Messenger / Instagram DYI thread parser: layouts, variants, faults, properties."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyberstalk.errors import ParseError
from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.meta import (
    find_thread_files,
    parse_thread_folder,
    repair_mojibake,
)
from cyberstalk.parsers.registry import detect, get_parser
from cyberstalk.records import Record

DATA = Path(__file__).parent / "data" / "meta"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

T0 = 1_770_000_000_000  # 2026-02-02T02:40:00Z


def meta_escape(value: Any) -> Any:
    """Strings as Meta writes them: UTF-8 bytes, each read as one Latin-1 character."""
    if isinstance(value, str):
        return value.encode("utf-8").decode("latin-1")
    if isinstance(value, list):
        return [meta_escape(v) for v in value]
    if isinstance(value, dict):
        return {k: meta_escape(v) for k, v in value.items()}
    return value


def thread(messages: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "participants": [{"name": "Dylan Price"}, {"name": "Carys Hughes"}],
        "messages": messages,
        "title": "Dylan Price",
        "is_still_participant": True,
        "thread_path": "inbox/dylanprice_10",
    }
    doc.update(top)
    return doc


def write(root: Path, rel: str, doc: Any, *, escape: bool = True) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    body = meta_escape(doc) if escape else doc
    path.write_text(json.dumps(body, indent=2, ensure_ascii=True), encoding="ascii")
    return path


def run(
    path: Path, *, name: str | None = None, fmt: str | None = None, **source_kw: Any
) -> tuple[str, ParseReport, list[Record]]:
    source = Source(path=path, name=name or path.name, **source_kw)
    parser = get_parser(fmt) if fmt else detect(source).parser
    assert parser is not None, detect(source).scores
    report = ParseReport(parser=parser.name)
    records = list(parser.parse(source, ParseContext(), report))
    return parser.name, report, records


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


# --------------------------------------------------------------------------- layouts


def test_old_layout_defaults_to_messenger_with_full_record(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "messages/inbox/dylanprice_10/message_1.json",
        thread(
            [
                {"sender_name": "Dylan Price", "timestamp_ms": T0, "content": "Answer me"},
                {"sender_name": "Carys Hughes", "timestamp_ms": T0 - 60_000, "content": "No"},
            ]
        ),
    )
    name, report, records = run(path, name="messages/inbox/dylanprice_10/message_1.json")
    assert name == "facebook-messenger"
    assert [r.as_dict() | {"id": None} for r in records] == [
        {
            "id": None,
            "kind": "message",
            "subtype": None,
            "platform": "facebook",
            "time_utc": "2026-02-02T02:40:00+00:00",
            "time_raw": str(T0),
            "tz_basis": "epoch",
            "sender": "Dylan Price",
            "recipients": ["Carys Hughes"],
            "conversation": "Dylan Price",
            "text": "Answer me",
            "attachments": [],
            "flags": [],
            "locator": {
                "path": "messages/inbox/dylanprice_10/message_1.json",
                "json_path": "$.messages[0]",
            },
            "parser": {"name": "facebook-messenger", "version": "1.0.0"},
            "extra": {},
        },
        {
            "id": None,
            "kind": "message",
            "subtype": None,
            "platform": "facebook",
            "time_utc": "2026-02-02T02:39:00+00:00",
            "time_raw": str(T0 - 60_000),
            "tz_basis": "epoch",
            "sender": "Carys Hughes",
            "recipients": ["Dylan Price"],
            "conversation": "Dylan Price",
            "text": "No",
            "attachments": [],
            "flags": [],
            "locator": {
                "path": "messages/inbox/dylanprice_10/message_1.json",
                "json_path": "$.messages[1]",
            },
            "parser": {"name": "facebook-messenger", "version": "1.0.0"},
            "extra": {},
        },
    ]
    assert report.skipped == []
    assert any("End-to-end-encrypted" in g for g in get_parser(name).known_gaps)
    assert report.warnings == []


@pytest.mark.parametrize(
    ("rel", "expected_parser", "platform"),
    [
        (
            "your_activity_across_facebook/messages/inbox/t_1/message_1.json",
            "facebook-messenger",
            "facebook",
        ),
        (
            "your_facebook_activity/messages/e2ee_cutover/t_1/message_1.json",
            "facebook-messenger",
            "facebook",
        ),
        (
            "your_facebook_activity/messages/message_requests/t_1/message_1.json",
            "facebook-messenger",
            "facebook",
        ),
        ("your_instagram_activity/messages/inbox/t_1/message_1.json", "instagram", "instagram"),
    ],
)
def test_new_layouts_decide_platform_from_path(
    tmp_path: Path, rel: str, expected_parser: str, platform: str
) -> None:
    path = write(
        tmp_path, rel, thread([{"sender_name": "Dylan Price", "timestamp_ms": T0, "content": "hi"}])
    )
    # The name may be the bare file name (an exhibit): the path on disk still shows it.
    name, _, records = run(path)
    assert name == expected_parser
    assert [r.platform for r in records] == [platform]


def test_old_layout_instagram_recognised_from_content(tmp_path: Path) -> None:
    doc = thread(
        [
            {
                "sender_name": "dylan.p_example",
                "timestamp_ms": T0,
                "content": "look",
                "share": {
                    "link": "https://www.instagram.com/p/Cxyz/",
                    "original_content_owner": "carys_h_example",
                },
            }
        ]
    )
    path = write(tmp_path, "messages/inbox/dylanp_1/message_1.json", doc)
    name, _, records = run(path)
    assert name == "instagram"
    assert records[0].platform == "instagram"
    assert records[0].extra["share"]["original_content_owner"] == "carys_h_example"


def test_instagram_link_shared_on_messenger_stays_facebook(tmp_path: Path) -> None:
    doc = thread(
        [
            {
                "sender_name": "Dylan Price",
                "timestamp_ms": T0,
                "content": "look",
                "share": {"link": "https://www.instagram.com/p/Cxyz/"},
                "is_unsent_image_by_messenger_kid_parent": False,
            }
        ]
    )
    path = write(tmp_path, "messages/inbox/dylanprice_10/message_1.json", doc)
    name, _, records = run(path)
    assert name == "facebook-messenger"
    assert records[0].platform == "facebook"


def test_archive_member_platform_from_sibling_names(tmp_path: Path) -> None:
    # In a case the exhibit is named by its leaf only; the zip's other members show the layout.
    path = write(
        tmp_path, "RE-1-4.json", thread([{"sender_name": "A", "timestamp_ms": T0, "content": "a"}])
    )
    siblings = {
        "your_instagram_activity/messages/inbox/t_1/photos/1.jpg": "RE/1/5",
        "your_instagram_activity/personal_information/personal_information.json": "RE/1/6",
    }
    name, _, records = run(path, name="message_1.json", exhibit="RE/1/4", siblings=siblings)
    assert name == "instagram"
    assert records[0].platform == "instagram"
    assert records[0].locator.as_dict() == {
        "exhibit": "RE/1/4",
        "path": "message_1.json",
        "json_path": "$.messages[0]",
    }


def test_format_override_wins_over_detection(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "messages/inbox/x/message_1.json",
        thread([{"sender_name": "A", "timestamp_ms": T0, "content": "a"}]),
    )
    _, _, records = run(path, fmt="instagram")
    assert records[0].platform == "instagram"
    assert records[0].parser == "instagram"


# --------------------------------------------------------------------------- pagination, order


def test_pagination_folder_helper_reads_pages_in_order(tmp_path: Path) -> None:
    folder = tmp_path / "your_facebook_activity" / "messages" / "inbox" / "dylanprice_10"
    pages = {
        1: [T0, T0 - 1000],
        2: [T0 - 2000, T0 - 3000],
        10: [T0 - 4000],
    }
    for number, stamps in pages.items():
        write(
            folder.parent,
            f"dylanprice_10/message_{number}.json",
            thread(
                [
                    {"sender_name": "Dylan Price", "timestamp_ms": t, "content": str(t)}
                    for t in stamps
                ]
            ),
        )
    assert [p.name for p in find_thread_files(folder)] == [
        "message_1.json",
        "message_2.json",
        "message_10.json",
    ]
    report = ParseReport()
    records = list(parse_thread_folder(folder, ParseContext(), report, exhibit="RE/4"))
    assert [r.text for r in records] == [str(t) for s in pages.values() for t in s]
    assert {r.locator.path for r in records} == {f"dylanprice_10/message_{n}.json" for n in pages}
    assert {r.locator.exhibit for r in records} == {"RE/4"}
    assert {r.platform for r in records} == {"facebook"}
    assert all(not r.flags for r in records)  # newest-first order is not a regression
    assert len({r.id for r in records}) == 5


def test_pagination_folder_helper_refuses_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match=re.escape("no message_N.json thread files found")):
        list(parse_thread_folder(tmp_path, ParseContext(), ParseReport()))


def test_newest_first_is_normal_but_a_newer_message_later_is_flagged(tmp_path: Path) -> None:
    stamps = [T0, T0 - 10_000, T0 + 5_000, T0 - 20_000]
    path = write(
        tmp_path,
        "messages/inbox/x/message_1.json",
        thread([{"sender_name": "Dylan Price", "timestamp_ms": t, "content": "m"} for t in stamps]),
    )
    _, _, records = run(path)
    assert [sorted(r.flags) for r in records] == [[], [], ["order_regression"], []]
    assert [r.time_utc for r in records] == [ms(t) for t in stamps]


# --------------------------------------------------------------------------- mojibake


def test_mojibake_repaired_once_welsh_and_emoji(tmp_path: Path) -> None:
    doc = thread(
        [
            {
                "sender_name": "Dylan Pr\u00efce",
                "timestamp_ms": T0,
                "content": "Saw you at the caf\u00e9 on Stryd Fawr \U0001f440",
            },
            {
                "sender_name": "Carys Hughes",
                "timestamp_ms": T0 - 1,
                "content": "Paid \u00e2 chysylltu \u00e2 fi eto",
            },
            # The real text *looks* like mojibake: it must come back as typed, not repaired twice.
            {"sender_name": "Carys Hughes", "timestamp_ms": T0 - 2, "content": "caf\u00c3\u00a9"},
            {"sender_name": "Carys Hughes", "timestamp_ms": T0 - 3, "content": "plain ascii"},
        ],
        participants=[{"name": "Dylan Pr\u00efce"}, {"name": "Carys Hughes"}],
    )
    path = write(tmp_path, "messages/inbox/x/message_1.json", doc)
    raw = path.read_text(encoding="ascii")
    assert "caf\\u00c3\\u00a9 on Stryd Fawr \\u00f0\\u009f\\u0091\\u0080" in raw
    _, _, records = run(path)
    assert [r.text for r in records] == [
        "Saw you at the caf\u00e9 on Stryd Fawr \U0001f440",
        "Paid \u00e2 chysylltu \u00e2 fi eto",
        "caf\u00c3\u00a9",
        "plain ascii",
    ]
    assert records[0].sender == "Dylan Pr\u00efce"
    assert records[1].recipients == ("Dylan Pr\u00efce",)
    assert [sorted(r.flags) for r in records] == [
        ["mojibake_repaired"],
        ["mojibake_repaired"],
        ["mojibake_repaired"],
        [],
    ]


def test_correct_latin1_text_is_left_alone(tmp_path: Path) -> None:
    # A file that was already repaired (or written correctly) must not be touched.
    doc = thread(
        [
            {"sender_name": "Carys Hughes", "timestamp_ms": T0, "content": "caf\u00e9"},
            {"sender_name": "Carys Hughes", "timestamp_ms": T0 - 1, "content": "\U0001f600 ok"},
            {
                "sender_name": "Carys Hughes",
                "timestamp_ms": T0 - 2,
                "content": "na\u00efve \u00a35",
            },
        ]
    )
    path = write(tmp_path, "messages/inbox/x/message_1.json", doc, escape=False)
    _, _, records = run(path)
    assert [r.text for r in records] == ["caf\u00e9", "\U0001f600 ok", "na\u00efve \u00a35"]
    assert all(not r.flags for r in records)


def test_repair_function_contract() -> None:
    assert repair_mojibake("caf\u00c3\u00a9") == ("caf\u00e9", True)
    assert repair_mojibake("caf\u00e9") == ("caf\u00e9", False)
    assert repair_mojibake("\u2019") == ("\u2019", False)
    assert repair_mojibake("abc") == ("abc", False)


# --------------------------------------------------------------------------- variants


def test_reactions_shares_photos_unsent_calls(tmp_path: Path) -> None:
    root = tmp_path / "export"
    photo_rel = "messages/inbox/dylanprice_10/photos/123.jpg"
    (root / photo_rel).parent.mkdir(parents=True)
    (root / photo_rel).write_bytes(b"\xff\xd8 synthetic jpeg")
    doc = thread(
        [
            {
                "sender_name": "Dylan Price",
                "timestamp_ms": T0,
                "content": "Answer me \U0001f620",
                "reactions": [{"reaction": "\U0001f622", "actor": "Carys Hughes"}],
            },
            {
                "sender_name": "Dylan Price",
                "timestamp_ms": T0 - 1000,
                "photos": [
                    {"uri": photo_rel, "creation_timestamp": 1770000000},
                    {
                        "uri": "messages/inbox/dylanprice_10/photos/missing.jpg",
                        "creation_timestamp": 1770000000,
                    },
                ],
            },
            {
                "sender_name": "Dylan Price",
                "timestamp_ms": T0 - 2000,
                "content": "Dylan Price sent a link.",
                "share": {"link": "https://example.org/map", "share_text": "Stryd Fawr"},
                "type": "Share",
            },
            {
                "sender_name": "Dylan Price",
                "timestamp_ms": T0 - 3000,
                "content": "Dylan Price unsent a message",
                "is_unsent": True,
            },
            {
                "sender_name": "Dylan Price",
                "timestamp_ms": T0 - 4000,
                "content": "Dylan Price called you.",
                "call_duration": 0,
                "type": "Call",
            },
            {
                "sender_name": "Carys Hughes",
                "timestamp_ms": T0 - 5000,
                "content": "You called Dylan Price.",
                "call_duration": 125,
            },
            {
                "sender_name": "Dylan Price",
                "timestamp_ms": T0 - 6000,
                "sticker": {"uri": "messages/stickers_used/1.png"},
            },
        ]
    )
    path = write(root, "messages/inbox/dylanprice_10/message_1.json", doc)
    _, report, records = run(path)
    got = [(r.kind.value, r.subtype, sorted(r.flags)) for r in records]
    assert got == [
        ("message", None, ["mojibake_repaired"]),
        ("media", None, []),
        ("message", None, []),
        ("message", "unsent", ["deleted"]),
        ("call", "missed", []),
        ("call", "answered", []),
        ("media", None, []),
    ]
    assert records[0].text == "Answer me \U0001f620"
    assert records[0].extra["reactions"] == [{"reaction": "\U0001f622", "actor": "Carys Hughes"}]
    photo, missing = records[1].attachments
    assert photo.name == photo_rel
    assert photo.sha256 == hashlib.sha256(b"\xff\xd8 synthetic jpeg").hexdigest()
    assert photo.size == len(b"\xff\xd8 synthetic jpeg")
    assert missing.sha256 is None and missing.size is None
    assert "photos" not in records[1].extra  # linked as attachments, not repeated
    assert records[2].extra["share"] == {
        "link": "https://example.org/map",
        "share_text": "Stryd Fawr",
    }
    assert records[2].extra["type"] == "Share"
    assert records[4].extra["call_duration"] == 0
    assert records[5].extra["call_duration"] == 125
    assert records[5].recipients == ("Dylan Price",)
    assert records[6].attachments[0].name == "messages/stickers_used/1.png"
    assert report.skipped == []


def test_attachments_link_to_sibling_exhibits(tmp_path: Path) -> None:
    uri = "your_instagram_activity/messages/inbox/t_1/photos/9.jpg"
    path = write(
        tmp_path,
        "m.json",
        thread([{"sender_name": "Dylan Price", "timestamp_ms": T0, "photos": [{"uri": uri}]}]),
    )
    siblings = {"export/" + uri: "RE/2/7", "export/other.jpg": "RE/2/8"}
    _, _, records = run(path, fmt="instagram", exhibit="RE/2/1", siblings=siblings)
    assert records[0].attachments[0].exhibit == "RE/2/7"
    assert records[0].locator.exhibit == "RE/2/1"


def test_bad_items_are_reported_not_dropped(tmp_path: Path) -> None:
    doc = thread(
        [
            {"sender_name": "Dylan Price", "timestamp_ms": T0, "content": "ok"},
            "not a message",
            {"sender_name": "Dylan Price", "timestamp_ms": "yesterday", "content": "no time"},
            {"sender_name": "Dylan Price", "timestamp_ms": 10**30, "content": "far future"},
        ]
    )
    path = write(tmp_path, "messages/inbox/x/message_1.json", doc)
    _, report, records = run(path)
    assert [r.text for r in records] == ["ok", "no time", "far future"]
    assert report.skipped == [("$.messages[1]", "not a JSON object (str)")]
    assert [r.tz_basis.value for r in records] == ["epoch", "unknown", "unknown"]
    assert any("$.messages[2]: timestamp 'yesterday'" in w for w in report.warnings)
    assert any("$.messages[3]: timestamp 1" in w and "out of range" in w for w in report.warnings)


# --------------------------------------------------------------------------- malformed files


@pytest.mark.parametrize(
    ("filename", "message", "position", "before"),
    [
        (
            "truncated.json",
            "the file ends in the middle of the JSON document (truncated?); "
            "2 records before the fault were read",
            "line 13, column 45",
            2,
        ),
        ("invalid_utf8.json", "invalid UTF-8 (byte 0xff at offset", "line 13, column 83", 2),
        (
            "deep_nesting.json",
            "JSON nested too deeply to read safely; 1 record before",
            "line 12, column 5",
            1,
        ),
        (
            "huge_number.json",
            "unreadable JSON value (Exceeds the limit (4300 digits)",
            "line 12, column 5",
            1,
        ),
        (
            "trailing_data.json",
            "unexpected data after the end of the JSON document; 1 record before the fault",
            "line 15, column 1",
            1,
        ),
        (
            "missing_comma.json",
            "invalid JSON: expected ',' or ']'; 1 record before",
            "line 12, column 5",
            1,
        ),
    ],
)
def test_malformed_file_gives_position_and_records_before_fault(
    filename: str, message: str, position: str, before: int
) -> None:
    source = Source.loose(DATA / filename)
    parser = get_parser("facebook-messenger")
    got: list[Record] = []
    with pytest.raises(ParseError) as info:
        got.extend(parser.parse(source, ParseContext(), ParseReport()))
    err = info.value
    assert message in err.message
    assert err.position == position
    assert err.path == filename
    assert err.records_before_fault == before
    assert len(got) == before
    assert err.advice
    assert str(err).startswith(f"{filename} ({position}): ")


def test_not_a_thread_object() -> None:
    source = Source.loose(DATA / "not_an_object.json")
    with pytest.raises(
        ParseError, match="expected a JSON object with 'participants' and 'messages', found list"
    ):
        list(get_parser("facebook-messenger").parse(source, ParseContext(), ParseReport()))
    assert detect(source).parser is None or detect(source).parser.name != "facebook-messenger"


def test_size_cap_refuses_before_reading(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "messages/inbox/x/message_1.json",
        thread([{"sender_name": "A", "timestamp_ms": T0, "content": "x" * 500}]),
    )
    ctx = ParseContext(options={"max_bytes": "100"})
    with pytest.raises(ParseError) as info:
        list(get_parser("facebook-messenger").parse(Source.loose(path), ctx, ParseReport()))
    assert "over the 100-byte limit for a JSON export" in info.value.message
    assert info.value.records_before_fault == 0


# --------------------------------------------------------------------------- demo fixture


def test_demo_fixture_is_deterministic_and_tells_the_story(tmp_path: Path) -> None:
    sys.path.insert(0, str(FIXTURES))
    try:
        import meta as meta_fixture  # type: ignore[import-not-found]
        import story  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(FIXTURES))
    first = meta_fixture.generate(tmp_path / "a")
    second = meta_fixture.generate(tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert all("your_instagram_activity/messages/inbox/" in p.as_posix() for p in first)
    raw = b"".join(p.read_bytes() for p in first)
    assert b"caf\\u00c3\\u00a9 on Stryd Fawr" in raw
    records: list[Record] = []
    for path in first:
        name, _, recs = run(path)
        assert name == "instagram"
        records.extend(recs)
    by_text = {r.text: r for r in records}
    assert len(records) == len(story.INSTAGRAM_MESSAGES)
    for when, who, key, text in story.INSTAGRAM_MESSAGES:
        record = by_text[text]
        assert record.time_utc == when.astimezone(UTC)
        account = story.SUSPECT[key]
        victim = story.VICTIM["instagram"]
        assert record.sender == (account if who == "suspect" else victim)
        assert record.recipients == ((victim,) if who == "suspect" else (account,))
    assert "mojibake_repaired" in by_text["Saw you at the café on Stryd Fawr"].flags


# --------------------------------------------------------------------------- properties

names = st.sampled_from(["Dylan Price", "Carys Hughes", "Dyl\u00e2n \u2605", "\u00c3\u00a9"])
message_st = st.fixed_dictionaries(
    {
        "sender_name": names,
        "timestamp_ms": st.integers(min_value=0, max_value=4_102_444_800_000),
        "content": st.text(max_size=40),
    }
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(messages=st.lists(message_st, max_size=8))
def test_round_trip_property(tmp_path: Path, messages: list[dict[str, Any]]) -> None:
    ordered = sorted(messages, key=lambda m: -m["timestamp_ms"])
    path = write(
        tmp_path,
        "your_facebook_activity/messages/inbox/p_1/message_1.json",
        thread(ordered, participants=[{"name": "Dylan Price"}, {"name": "Carys Hughes"}]),
    )
    _, report, records = run(path)
    assert [(r.sender, r.text, r.time_utc) for r in records] == [
        (m["sender_name"], m["content"], ms(m["timestamp_ms"])) for m in ordered
    ]
    assert all("order_regression" not in r.flags for r in records)
    assert report.skipped == []


@settings(max_examples=200, deadline=None)
@given(text=st.text())
def test_mojibake_property(text: str) -> None:
    escaped = json.loads(json.dumps(meta_escape(text), ensure_ascii=True))
    fixed, repaired = repair_mojibake(escaped)
    assert fixed == text
    assert repaired == (not text.isascii())
    # Never twice: the repaired text is stable or, when it is itself mojibake-shaped, the
    # parser never sees it again (it repairs each source string once).
    assert repair_mojibake(fixed)[0] == fixed or not fixed.isascii()


# --------------------------------------------------------------------------- CLI


def test_cli_parse_instagram_thread_and_truncated_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cyberstalk.cli import app

    sample = Path(__file__).parent / "samples" / "instagram" / "message_1.json"
    result = CliRunner().invoke(app, ["parse", str(sample)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["text"] for line in lines] == [
        "I know where you go running",
        "",
        "Found you here too",
    ]
    assert {line["platform"] for line in lines} == {"instagram"}
    assert lines[2]["extra"]["share"]["share_text"] == "Morning run \u2600\ufe0f"
    assert lines[2]["flags"] == ["mojibake_repaired"]

    result = CliRunner().invoke(app, ["parse", str(DATA / "truncated.json")])
    assert result.exit_code == 3
    assert len(result.stdout.splitlines()) == 2
    assert "truncated.json (line 13, column 45): the file ends in the middle" in result.stderr


def test_empty_file_and_non_text_content(tmp_path: Path) -> None:
    empty = tmp_path / "message_1.json"
    empty.write_bytes(b"\n")
    with pytest.raises(ParseError) as info:
        list(get_parser("instagram").parse(Source.loose(empty), ParseContext(), ParseReport()))
    assert str(info.value) == (
        "message_1.json (line 1, column 1): the file is empty: no JSON document in it; "
        "0 records before the fault were read\n"
        "  hint: the export was not saved or not downloaded completely; obtain it again"
    )
    path = write(
        tmp_path,
        "messages/inbox/x/message_1.json",
        thread([{"sender_name": "A", "timestamp_ms": T0, "content": 42}]),
    )
    _, _, records = run(path)
    assert records[0].text == "" and records[0].extra == {"content": 42}


def test_ingested_instagram_fixture_keeps_its_platform(tmp_path: Path, case: Any) -> None:
    # In a case the exhibit is stored as evidence/RE-n.json and named by its leaf only; the
    # platform then comes from the submission path recorded in the manifest.
    from typer.testing import CliRunner

    from cyberstalk.cli import app

    sys.path.insert(0, str(FIXTURES))
    try:
        import meta as meta_fixture  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(FIXTURES))
    meta_fixture.generate(tmp_path / "submission")
    result = CliRunner().invoke(
        app, ["ingest", str(case.root), str(tmp_path / "submission"), "--source", "test"]
    )
    assert result.exit_code == 0, result.output
    for ref in ("RE/1", "RE/2"):
        source = Source(
            path=next((case.root / "evidence").glob(ref.replace("/", "-") + ".*")),
            name="message_1.json",
            exhibit=ref,
        )
        parser = detect(source).parser
        assert parser is not None and parser.name == "instagram"
        records = list(parser.parse(source, ParseContext(), ParseReport()))
        assert {r.platform for r in records} == {"instagram"}
        assert {r.locator.exhibit for r in records} == {ref}


def test_ingested_folder_links_photos_to_their_exhibits(tmp_path: Path, case: Any) -> None:
    from typer.testing import CliRunner

    from cyberstalk.cli import app
    from cyberstalk.parsers.runner import exhibit_source

    uri = "your_instagram_activity/messages/inbox/t_1/photos/17.jpg"
    sub = tmp_path / "dyi"
    (sub / uri).parent.mkdir(parents=True)
    from PIL import Image

    # A real (tiny) JPEG: ingest reads every image and exits 3 when one cannot be read.
    Image.new("RGB", (4, 4), (200, 30, 30)).save(sub / uri, format="JPEG")
    write(
        sub,
        "your_instagram_activity/messages/inbox/t_1/message_1.json",
        thread([{"sender_name": "Dylan Price", "timestamp_ms": T0, "photos": [{"uri": uri}]}]),
    )
    result = CliRunner().invoke(app, ["ingest", str(case.root), str(sub), "--source", "t"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((case.root / "manifest.json").read_text(encoding="utf-8"))
    refs = {e["original_name"]: e["ref"] for e in manifest["exhibits"]}
    source = exhibit_source(case.root, manifest, refs["message_1.json"])
    records = list(get_parser("instagram").parse(source, ParseContext(), ParseReport()))
    assert [(a.name, a.exhibit) for a in records[0].attachments] == [(uri, refs["17.jpg"])]
    assert records[0].kind.value == "media"
