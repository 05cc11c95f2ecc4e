"""Discord data-package messages.json parser."""

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
from cyberstalk.records.times import choose_zone


def package(
    root: Path,
    messages: list[dict[str, Any]],
    channel: dict[str, Any] | None,
    user: dict[str, Any] | None = None,
) -> Path:
    folder = root / "package" / "messages" / "c1203000000000000001"
    folder.mkdir(parents=True)
    if channel is not None:
        (folder / "channel.json").write_text(json.dumps(channel), encoding="utf-8")
    if user is not None:
        (root / "package" / "account").mkdir()
        (root / "package" / "account" / "user.json").write_text(json.dumps(user), "utf-8")
    path = folder / "messages.json"
    path.write_text(json.dumps(messages, ensure_ascii=False), encoding="utf-8")
    return path


def run(path: Path, ctx: ParseContext | None = None) -> tuple[str, ParseReport, list[Record]]:
    source = Source.loose(path)
    parser = detect(source).parser
    assert parser is not None, detect(source).scores
    report = ParseReport(parser=parser.name)
    return parser.name, report, list(parser.parse(source, ctx or ParseContext(), report))


def test_dm_channel_with_account_and_recipients(tmp_path: Path) -> None:
    path = package(
        tmp_path,
        [
            {
                "ID": 1203000000000000101,
                "Timestamp": "2026-02-05 21:10:33",
                "Contents": "Please stop messaging me",
                "Attachments": "",
            },
            {
                "ID": 1203000000000000102,
                "Timestamp": "2026-07-05 08:00:00.123000+00:00",
                "Contents": "",
                "Attachments": "https://cdn.discordapp.com/a/1.png https://cdn.discordapp.com/a/2.png",
            },
        ],
        {
            "id": "1203000000000000001",
            "type": 1,
            "recipients": ["900000000000000001", "900000000000000002"],
        },
        {"id": "900000000000000001", "username": "carys_h_example"},
    )
    name, report, records = run(path)
    assert name == "discord"
    assert report.warnings == [] and report.skipped == []
    first, second = records
    assert first.sender == "carys_h_example"
    assert first.recipients == ("900000000000000002",)
    assert first.text == "Please stop messaging me"
    assert first.time_utc == datetime(2026, 2, 5, 21, 10, 33, tzinfo=UTC)  # GMT in February
    assert first.tz_basis.value == "default_timezone"
    assert first.kind.value == "message" and first.subtype == "outgoing"
    assert first.conversation == "1203000000000000001"
    assert first.locator.json_path == "$[0]" and first.locator.path == "messages.json"
    assert first.extra["id"] == 1203000000000000101
    assert second.kind.value == "media"
    assert [a.name for a in second.attachments] == [
        "https://cdn.discordapp.com/a/1.png",
        "https://cdn.discordapp.com/a/2.png",
    ]
    assert second.time_utc == datetime(2026, 7, 5, 8, 0, 0, 123000, tzinfo=UTC)
    assert second.tz_basis.value == "explicit_offset"
    assert any("Only the requester's own messages" in g for g in get_parser(name).known_gaps)


def test_zone_less_times_follow_tz_and_flag_dst(tmp_path: Path) -> None:
    path = package(
        tmp_path,
        [
            {"ID": 1, "Timestamp": "2026-03-29 01:30:00", "Contents": "gap", "Attachments": ""},
            {"ID": 2, "Timestamp": "2026-10-25 01:30:00", "Contents": "twice", "Attachments": ""},
            {"ID": 3, "Timestamp": "not a time", "Contents": "?", "Attachments": ""},
        ],
        {"id": "5", "type": 0, "name": "general", "guild": {"id": "6", "name": "Bangor runners"}},
    )
    _, report, records = run(path)
    assert [sorted(r.flags) for r in records] == [["dst_nonexistent"], ["dst_ambiguous"], []]
    assert records[2].time_utc is None and records[2].tz_basis.value == "unknown"
    assert records[0].conversation == "Bangor runners #general"
    assert records[0].sender == "account holder"
    assert any("$[2]: timestamp 'not a time' unreadable" in w for w in report.warnings)
    ctx = ParseContext(zone=choose_zone("UTC", None))
    _, _, utc_records = run(path, ctx)
    assert utc_records[0].time_utc == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert utc_records[0].tz_basis.value == "user_supplied"
    assert utc_records[0].flags == frozenset()


def test_discord_truncated_keeps_records_before(tmp_path: Path) -> None:
    path = package(
        tmp_path,
        [
            {"ID": i, "Timestamp": "2026-02-05 21:10:33", "Contents": f"m{i}", "Attachments": ""}
            for i in range(3)
        ],
        None,
    )
    cut = path.read_bytes()
    cut = cut[: cut.index(b'"m2"') + 2]
    path.write_bytes(cut)
    got: list[Record] = []
    with pytest.raises(ParseError) as info:
        got.extend(get_parser("discord").parse(Source.loose(path), ParseContext(), ParseReport()))
    assert info.value.records_before_fault == 2
    assert "truncated" in info.value.message
    assert info.value.position == f"line 1, column {len(cut) + 1}"
    assert [r.text for r in got] == ["m0", "m1"]


def test_discord_object_refused(tmp_path: Path) -> None:
    path = tmp_path / "messages.json"
    path.write_text('{"ID": 1}', encoding="utf-8")
    with pytest.raises(ParseError, match="expected a JSON array of messages, found dict"):
        list(get_parser("discord").parse(Source.loose(path), ParseContext(), ParseReport()))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    items=st.lists(
        st.tuples(
            st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2030, 1, 1)),
            st.text(max_size=30),
        ),
        max_size=6,
    )
)
def test_discord_round_trip_property(tmp_path: Path, items: list[tuple[datetime, str]]) -> None:
    rows = [
        {
            "ID": i,
            "Timestamp": when.replace(microsecond=0).isoformat(sep=" ") + "+00:00",
            "Contents": text,
            "Attachments": "",
        }
        for i, (when, text) in enumerate(items)
    ]
    path = tmp_path / f"case{len(list(tmp_path.iterdir()))}" / "messages.json"
    path.parent.mkdir()
    path.write_text(json.dumps(rows), encoding="utf-8")
    _, _, records = run(path)
    assert [(r.text, r.time_utc) for r in records] == [
        (text, when.replace(microsecond=0, tzinfo=UTC)) for when, text in items
    ]


def test_discord_package_zip_in_a_case_finds_its_side_files(tmp_path: Path, case: Any) -> None:
    # Stored exhibits are evidence/RE-1-3.json and so on: channel.json and user.json are
    # found through the case manifest (same archive, path relative to messages.json).
    import zipfile

    from typer.testing import CliRunner

    from cyberstalk.cli import app
    from cyberstalk.parsers.runner import exhibit_source

    archive = tmp_path / "package.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(
            "messages/c1203000000000000001/messages.json",
            json.dumps(
                [
                    {
                        "ID": 1,
                        "Timestamp": "2026-02-05 21:10:33",
                        "Contents": "Stop",
                        "Attachments": "",
                    }
                ]
            ),
        )
        zf.writestr(
            "messages/c1203000000000000001/channel.json",
            json.dumps(
                {
                    "id": "1203000000000000001",
                    "type": 1,
                    "recipients": ["900000000000000001", "900000000000000002"],
                }
            ),
        )
        zf.writestr(
            "account/user.json",
            json.dumps({"id": "900000000000000001", "username": "carys_h_example"}),
        )
        zf.writestr("messages/index.json", json.dumps({"1203000000000000001": "Direct Message"}))
    result = CliRunner().invoke(app, ["ingest", str(case.root), str(archive), "--source", "t"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((case.root / "manifest.json").read_text(encoding="utf-8"))
    ref = next(
        e["ref"]
        for e in manifest["exhibits"]
        if e.get("member_name") == "messages/c1203000000000000001/messages.json"
    )
    source = exhibit_source(case.root, manifest, ref)
    assert source.name == "messages.json"
    records = list(get_parser("discord").parse(source, ParseContext(), ParseReport()))
    assert [(r.sender, r.recipients, r.conversation, r.locator.exhibit) for r in records] == [
        ("carys_h_example", ("900000000000000002",), "1203000000000000001", ref)
    ]
