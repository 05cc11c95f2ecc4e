"""Snapchat My Data chat_history.json parser (new and old layouts)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyberstalk.errors import ParseError
from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.registry import detect, get_parser
from cyberstalk.records import Record

FEB5 = datetime(2026, 2, 5, 21, 10, 33, tzinfo=UTC)


def write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def run(path: Path) -> tuple[str, ParseReport, list[Record]]:
    source = Source.loose(path)
    parser = detect(source).parser
    assert parser is not None, detect(source).scores
    report = ParseReport(parser=parser.name)
    return parser.name, report, list(parser.parse(source, ParseContext(), report))


def item(sender: str, is_sender: bool, text: str, media: str = "TEXT", **kw: Any) -> dict[str, Any]:
    base = {
        "From": sender,
        "Media Type": media,
        "Created": "2026-02-05 21:10:33 UTC",
        "Content": text,
        "Conversation Title": None,
        "IsSender": is_sender,
        "Created(microseconds)": 1770325833000,
        "IsSaved": True,
    }
    base.update(kw)
    return base


def test_new_layout(tmp_path: Path) -> None:
    doc = {
        "dylan.snap_example": [
            item("dylan.snap_example", False, "I know where you work"),
            item("carys.snap_example", True, "Stop"),
            item("dylan.snap_example", False, "", "MEDIA", **{"Media IDs": "b~Ez12 | b~Ez13"}),
        ],
        "group-1234": [
            item("dylan.snap_example", False, "hi all", **{"Conversation Title": "Run club"}),
        ],
    }
    path = write(tmp_path / "chat_history.json", doc)
    name, report, records = run(path)
    assert name == "snapchat"
    assert report.warnings == [] and report.skipped == []
    incoming, outgoing, media, group = records
    assert incoming.sender == "dylan.snap_example"
    assert incoming.recipients == ("carys.snap_example",)  # the account, from IsSender items
    assert incoming.subtype == "incoming" and outgoing.subtype == "outgoing"
    assert incoming.time_utc == FEB5 and incoming.tz_basis.value == "epoch"
    assert incoming.time_raw == "1770325833000"
    assert incoming.conversation == "dylan.snap_example"
    assert incoming.locator.json_path == "$['dylan.snap_example'][0]"
    assert outgoing.recipients == ("dylan.snap_example",)
    assert media.kind.value == "media"
    assert [(a.name, a.omitted) for a in media.attachments] == [("b~Ez12", True), ("b~Ez13", True)]
    assert group.conversation == "Run club" and group.recipients == ()
    assert group.extra["IsSaved"] is True
    assert any("Only saved chats" in g for g in get_parser(name).known_gaps)


def test_old_layout_created_with_utc_suffix(tmp_path: Path) -> None:
    doc = {
        "Received Saved Chat History": [
            {
                "From": "dylan.snap_example",
                "Media Type": "TEXT",
                "Created": "2026-02-05 21:10:33 UTC",
                "Text": "Saw you",
            },
            {
                "From": "dylan.snap_example",
                "Media Type": "TEXT",
                "Created": "05/02/2026 21:10",
                "Text": "bad time",
            },
        ],
        "Sent Saved Chat History": [
            {
                "To": "dylan.snap_example",
                "Media Type": "TEXT",
                "Created": "2026-02-05 21:12:00 UTC",
                "Text": "Go away",
            },
        ],
    }
    _, report, records = run(write(tmp_path / "chat_history.json", doc))
    saw, bad, away = records
    assert saw.text == "Saw you" and saw.time_utc == FEB5
    assert saw.tz_basis.value == "explicit_offset" and saw.recipients == ()
    assert saw.conversation == "dylan.snap_example"
    assert bad.time_utc is None and bad.tz_basis.value == "unknown"
    assert away.sender is None and away.recipients == ("dylan.snap_example",)
    assert away.subtype == "outgoing" and away.conversation == "dylan.snap_example"
    assert any("'05/02/2026 21:10' unreadable" in w for w in report.warnings)


def test_snapchat_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "chat_history.json"
    good = json.dumps(item("a", False, "ok"))
    path.write_bytes(b'{"a": [' + good.encode() + b', {"From": "\xc3\x28"}]}')
    got: list[Record] = []
    with pytest.raises(ParseError) as info:
        got.extend(get_parser("snapchat").parse(Source.loose(path), ParseContext(), ParseReport()))
    assert "invalid UTF-8 (byte 0xc3" in info.value.message
    assert info.value.records_before_fault == 1
    assert [r.text for r in got] == ["ok"]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    items=st.lists(
        st.tuples(
            st.booleans(), st.text(max_size=30), st.integers(min_value=10**12, max_value=4 * 10**12)
        ),
        max_size=6,
    )
)
def test_snapchat_round_trip_property(tmp_path: Path, items: list[tuple[bool, str, int]]) -> None:
    doc = {
        "friend": [
            item("me" if mine else "friend", mine, text, **{"Created(microseconds)": ms})
            for mine, text, ms in items
        ]
    }
    _, _, records = run(write(tmp_path / "chat_history.json", doc))
    assert [(r.sender, r.text, r.time_utc) for r in records] == [
        ("me" if mine else "friend", text, datetime.fromtimestamp(ms / 1000, UTC))
        for mine, text, ms in items
    ]
