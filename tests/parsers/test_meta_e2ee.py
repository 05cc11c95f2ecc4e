"""End-to-end-encrypted Messenger export parser (secure-storage download)."""

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

T0 = 1_770_000_000_000


def e2ee(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "participants": ["Carys Hughes", "Dylan Price"],
        "threadName": "Dylan Price",
        "messages": messages,
    }


def write(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def run(path: Path) -> tuple[str, ParseReport, list[Record]]:
    source = Source.loose(path)
    parser = detect(source).parser
    assert parser is not None, detect(source).scores
    report = ParseReport(parser=parser.name)
    return parser.name, report, list(parser.parse(source, ParseContext(), report))


def test_e2ee_variants(tmp_path: Path) -> None:
    root = tmp_path / "secure_storage"
    (root / "media").mkdir(parents=True)
    (root / "media" / "5551.jpg").write_bytes(b"jpeg bytes")
    doc = e2ee(
        [
            {
                "senderName": "Dylan Price",
                "timestamp": T0,
                "text": "Caf\u00e9 on Stryd Fawr?",
                "type": "text",
                "media": [],
                "reactions": [],
                "isUnsent": False,
            },
            {
                "senderName": "Dylan Price",
                "timestamp": T0 + 1000,
                "text": "",
                "type": "media",
                "media": [{"uri": "media/5551.jpg"}, {"uri": "Failed to download media"}],
                "reactions": [{"actor": "Carys Hughes", "reaction": "\U0001f621"}],
                "isUnsent": False,
            },
            {
                "senderName": "Dylan Price",
                "timestamp": T0 + 2000,
                "text": "https://example.org/x",
                "type": "link",
                "media": [],
                "reactions": [],
                "isUnsent": False,
            },
            {
                "senderName": "Dylan Price",
                "timestamp": T0 + 3000,
                "text": "",
                "type": "text",
                "media": [],
                "reactions": [],
                "isUnsent": True,
            },
            {
                "senderName": "Carys Hughes",
                "timestamp": T0 + 4000,
                "text": "This message is unavailable",
                "type": "placeholder",
                "media": [],
                "reactions": [],
                "isUnsent": False,
            },
        ]
    )
    path = write(root / "DylanPrice_1.json", doc)
    name, report, records = run(path)
    assert name == "facebook-messenger-e2ee"
    assert report.warnings == [] and report.skipped == []
    assert [(r.kind.value, r.subtype, sorted(r.flags)) for r in records] == [
        ("message", None, []),
        ("media", None, []),
        ("message", None, []),
        ("message", "unsent", ["deleted"]),
        ("system", "placeholder", []),
    ]
    first = records[0]
    assert first.text == "Caf\u00e9 on Stryd Fawr?"  # correct UTF-8 is never "repaired"
    assert first.platform == "facebook"
    assert first.sender == "Dylan Price"
    assert first.recipients == ("Carys Hughes",)
    assert first.conversation == "Dylan Price"
    assert first.time_utc == datetime(2026, 2, 2, 2, 40, tzinfo=UTC)
    assert first.tz_basis.value == "epoch"
    assert first.locator.json_path == "$.messages[0]"
    photo, failed = records[1].attachments
    assert photo.name == "media/5551.jpg" and photo.size == 10 and photo.sha256
    assert failed.omitted and failed.name == "Failed to download media"
    assert records[1].extra["reactions"] == [{"actor": "Carys Hughes", "reaction": "\U0001f621"}]
    assert records[2].extra["type"] == "link"
    assert records[4].recipients == ("Dylan Price",)
    assert all(not r.flags or r.flags == {"deleted"} for r in records)
    assert any("not yet confirmed" in g for g in get_parser(name).known_gaps)


def test_e2ee_meta_style_escaping_is_repaired_once(tmp_path: Path) -> None:
    doc = e2ee(
        [
            {
                "senderName": "Dylan Price",
                "timestamp": T0,
                "text": "caf\u00e9".encode().decode("latin-1"),
                "type": "text",
            }
        ]
    )
    _, _, records = run(write(tmp_path / "x_1.json", doc))
    assert records[0].text == "caf\u00e9"
    assert records[0].flags == {"mojibake_repaired"}


def test_e2ee_seconds_timestamps_by_magnitude(tmp_path: Path) -> None:
    doc = e2ee([{"senderName": "Dylan Price", "timestamp": T0 // 1000, "text": "s"}])
    _, _, records = run(write(tmp_path / "x_1.json", doc))
    assert records[0].time_utc == datetime(2026, 2, 2, 2, 40, tzinfo=UTC)


def test_e2ee_truncated(tmp_path: Path) -> None:
    full = json.dumps(
        e2ee([{"senderName": "A", "timestamp": T0 + i, "text": str(i)} for i in range(3)]), indent=1
    )
    path = tmp_path / "x_1.json"
    path.write_text(full[: full.index('"2"')], encoding="utf-8")
    got: list[Record] = []
    with pytest.raises(ParseError) as info:
        got.extend(
            get_parser("facebook-messenger-e2ee").parse(
                Source.loose(path), ParseContext(), ParseReport()
            )
        )
    assert "truncated" in info.value.message
    assert info.value.records_before_fault == 2
    assert [r.text for r in got] == ["0", "1"]


def test_e2ee_not_dyi_and_dyi_not_e2ee(tmp_path: Path) -> None:
    dyi = write(
        tmp_path / "message_1.json",
        {"participants": [{"name": "A"}], "messages": [{"sender_name": "A", "timestamp_ms": 1}]},
    )
    assert get_parser("facebook-messenger-e2ee").sniff(Source.loose(dyi)) == 0.0
    e2 = write(tmp_path / "A_1.json", e2ee([{"senderName": "A", "timestamp": 1, "text": ""}]))
    assert get_parser("facebook-messenger").sniff(Source.loose(e2)) == 0.0


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    messages=st.lists(
        st.fixed_dictionaries(
            {
                "senderName": st.sampled_from(["Carys Hughes", "Dylan Price"]),
                "timestamp": st.integers(min_value=10**11, max_value=4_102_444_800_000),
                "text": st.text(max_size=30),
                "isUnsent": st.booleans(),
            }
        ),
        max_size=6,
    )
)
def test_e2ee_round_trip_property(tmp_path: Path, messages: list[dict[str, Any]]) -> None:
    # Correct UTF-8 text survives untouched unless it is itself Latin-1-shaped mojibake.
    _, _, records = run(write(tmp_path / "Dylan_1.json", e2ee(messages)))
    assert len(records) == len(messages)
    for record, msg in zip(records, messages, strict=True):
        assert record.sender == msg["senderName"]
        assert record.time_utc == datetime.fromtimestamp(msg["timestamp"] / 1000, UTC)
        assert ("deleted" in record.flags) == msg["isUnsent"]
        if "mojibake_repaired" not in record.flags:
            assert record.text == msg["text"]
        else:
            assert msg["text"].encode("latin-1").decode("utf-8") == record.text
