"""X/Twitter archive direct-messages.js parser."""

from __future__ import annotations

import json
import re
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

PREFIX = "window.YTD.direct_messages.part0 = "
CARYS, DYLAN, THIRD = "1000000001", "2000000002", "3000000003"


def write(path: Path, conversations: list[dict[str, Any]], prefix: str = PREFIX) -> Path:
    path.write_text(
        prefix + json.dumps(conversations, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return path


def message(
    i: int, sender: str, recipient: str | None, text: str, created: str, **kw: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reactions": [],
        "urls": [],
        "text": text,
        "mediaUrls": [],
        "senderId": sender,
        "id": str(i),
        "createdAt": created,
    }
    if recipient is not None:
        body["recipientId"] = recipient
    body.update(kw)
    return {"messageCreate": body}


def run(path: Path) -> tuple[str, ParseReport, list[Record]]:
    source = Source.loose(path)
    parser = detect(source).parser
    assert parser is not None, detect(source).scores
    report = ParseReport(parser=parser.name)
    return parser.name, report, list(parser.parse(source, ParseContext(), report))


def test_one_to_one_conversation(tmp_path: Path) -> None:
    conv = {
        "dmConversation": {
            "conversationId": f"{CARYS}-{DYLAN}",
            "messages": [
                message(
                    2,
                    DYLAN,
                    CARYS,
                    "Saw you at the caf\u00e9 \U0001f440",
                    "2026-02-20T21:15:00.000Z",
                    reactions=[
                        {
                            "senderId": CARYS,
                            "reactionKey": "angry",
                            "eventId": "9",
                            "createdAt": "2026-02-20T21:16:00.000Z",
                        }
                    ],
                ),
                message(
                    1,
                    DYLAN,
                    CARYS,
                    "https://t.co/abc",
                    "2026-02-20T21:14:00.000Z",
                    mediaUrls=["https://ton.twitter.com/dm/1/1/photo.jpg"],
                ),
            ],
        }
    }
    name, report, records = run(write(tmp_path / "direct-messages.js", [conv]))
    assert name == "twitter-dm"
    assert report.warnings == [] and report.skipped == []
    first, second = records
    assert first.text == "Saw you at the caf\u00e9 \U0001f440"
    assert first.sender == DYLAN and first.recipients == (CARYS,)
    assert first.time_utc == datetime(2026, 2, 20, 21, 15, tzinfo=UTC)
    assert first.time_raw == "2026-02-20T21:15:00.000Z"
    assert first.tz_basis.value == "explicit_offset"
    assert first.conversation == f"{CARYS}-{DYLAN}"
    assert first.locator.json_path == "$[0].dmConversation.messages[0]"
    assert first.extra["reactions"][0]["reactionKey"] == "angry"
    assert first.extra["id"] == "2"
    assert second.kind.value == "message"
    assert [a.name for a in second.attachments] == ["https://ton.twitter.com/dm/1/1/photo.jpg"]
    assert first.platform == "twitter" and not first.flags
    assert any("numeric account ids" in g for g in get_parser(name).known_gaps)


def test_group_events_become_system_records(tmp_path: Path) -> None:
    conv = {
        "dmConversation": {
            "conversationId": "1500000000000000001",
            "messages": [
                {
                    "conversationNameUpdate": {
                        "initiatingUserId": DYLAN,
                        "name": "Carys watch",
                        "createdAt": "2026-02-21T10:00:00.000Z",
                    }
                },
                message(5, DYLAN, None, "hello all", "2026-02-21T09:59:00.000Z"),
                {
                    "participantsJoin": {
                        "initiatingUserId": DYLAN,
                        "userIds": [CARYS, THIRD],
                        "createdAt": "2026-02-21T09:58:00.000Z",
                    }
                },
                {
                    "joinConversation": {
                        "initiatingUserId": DYLAN,
                        "participantsSnapshot": [DYLAN, CARYS, THIRD],
                        "createdAt": "2026-02-21T09:58:00.000Z",
                    }
                },
            ],
        }
    }
    path = write(
        tmp_path / "direct-messages-group.js",
        [conv],
        prefix="window.YTD.direct_messages_group.part0 = ",
    )
    _, _, records = run(path)
    assert [(r.kind.value, r.subtype) for r in records] == [
        ("system", "conversation_name_update"),
        ("message", None),
        ("system", "participants_join"),
        ("system", "join_conversation"),
    ]
    assert records[0].text == "Carys watch" and records[0].sender == DYLAN
    assert records[1].recipients == (CARYS, THIRD)  # everyone else seen in the conversation
    assert records[2].recipients == (CARYS, THIRD)
    assert records[3].extra["participantsSnapshot"] == [DYLAN, CARYS, THIRD]


def test_missing_prefix_and_truncation(tmp_path: Path) -> None:
    bare = tmp_path / "dm.js"
    bare.write_text("[]", encoding="utf-8")
    with pytest.raises(
        ParseError, match=re.escape("missing the 'window.YTD.direct_messages.part0 = '")
    ):
        list(get_parser("twitter-dm").parse(Source.loose(bare), ParseContext(), ParseReport()))
    conv = {
        "dmConversation": {
            "conversationId": f"{CARYS}-{DYLAN}",
            "messages": [
                message(i, DYLAN, CARYS, f"m{i}", "2026-02-20T21:15:00.000Z") for i in range(3)
            ],
        }
    }
    path = write(tmp_path / "direct-messages.js", [conv])
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index('"m2"')], encoding="utf-8")
    got: list[Record] = []
    with pytest.raises(ParseError) as info:
        got.extend(
            get_parser("twitter-dm").parse(Source.loose(path), ParseContext(), ParseReport())
        )
    assert "truncated" in info.value.message
    assert info.value.records_before_fault == 2
    assert [r.text for r in got] == ["m0", "m1"]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    msgs=st.lists(
        st.tuples(
            st.booleans(),
            st.text(max_size=30),
            st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2035, 1, 1)),
        ),
        max_size=6,
    )
)
def test_twitter_round_trip_property(
    tmp_path: Path, msgs: list[tuple[bool, str, datetime]]
) -> None:
    items = [
        message(
            i,
            DYLAN if mine else CARYS,
            CARYS if mine else DYLAN,
            text,
            when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
        )
        for i, (mine, text, when) in enumerate(msgs)
    ]
    path = write(
        tmp_path / "direct-messages.js",
        [{"dmConversation": {"conversationId": f"{CARYS}-{DYLAN}", "messages": items}}],
    )
    _, _, records = run(path)
    assert [(r.sender, r.text, r.time_utc) for r in records] == [
        (
            DYLAN if mine else CARYS,
            text,
            when.replace(microsecond=when.microsecond // 1000 * 1000, tzinfo=UTC),
        )
        for mine, text, when in msgs
    ]
