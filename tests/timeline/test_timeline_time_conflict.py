"""A Telegram export whose ``date_unixtime`` fields are damaged, end to end: the
``time_conflict`` flag reaches every timeline format and the parse report."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner, Result

from cyberstalk.case import Identifier, add_person, init_case
from cyberstalk.cli import app


def cli(*args: object) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def _message(n: int, date: str, unix: str, text: str) -> dict[str, object]:
    return {
        "id": n,
        "type": "message",
        "date": date,
        "date_unixtime": unix,
        "from": "Dylan P",
        "from_id": "user1",
        "text": text,
    }


EXPORT = {
    "name": "Dylan P",
    "type": "personal_chat",
    "id": 42,
    "messages": [
        _message(1, "2026-01-05T18:00:00", "1767636000", "fine"),
        _message(2, "2026-01-06T19:00:00", "0", "epoch zero"),
        _message(3, "2026-01-07T20:00:00", "1767636000", "fields disagree"),
    ],
}


def test_time_conflict_reaches_every_timeline_format(tmp_path: Path) -> None:
    case = init_case(tmp_path / "case", reference="R/1", officer="DC T", initials="RE")
    add_person(
        case,
        name="Dylan Price",
        role="suspect",
        identifiers=[Identifier("display_name", "Dylan P", "telegram")],
    )
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "result.json").write_text(json.dumps(EXPORT), encoding="utf-8")
    ingest = cli("ingest", case.root, sub, "--source", "USB stick")
    assert ingest.exit_code == 0, ingest.output
    (report_path,) = (case.root / "derived" / "records").glob("*.report.json")
    warnings = json.loads(report_path.read_bytes())["warnings"]
    assert any(w.startswith("2 record(s) with a time conflict") for w in warnings)

    out = tmp_path / "timeline.csv"
    assert cli("timeline", case.root, "--format", "csv", "-o", out).exit_code == 0
    rows = {r["text"]: r for r in csv.DictReader(out.read_text(encoding="utf-8").splitlines())}
    assert rows["fine"]["flags"] == ""
    assert rows["epoch zero"]["flags"] == "time_conflict"
    assert rows["fields disagree"]["flags"] == "time_conflict"
    # the zero epoch gave way to the wall clock (Europe/London, winter: UTC)
    assert "2026-01-06T19:00:00" in rows["epoch zero"]["time_utc"]

    out = tmp_path / "timeline.json"
    assert cli("timeline", case.root, "--format", "json", "-o", out).exit_code == 0
    doc = json.loads(out.read_bytes())
    flags = {r["text"]: r["flags"] for r in doc["records"]}
    assert flags == {
        "fine": [],
        "epoch zero": ["time_conflict"],
        "fields disagree": ["time_conflict"],
    }

    out = tmp_path / "timeline.html"
    assert cli("timeline", case.root, "--format", "html", "-o", out).exit_code == 0
    html = out.read_text(encoding="utf-8").replace("<wbr>", "")
    shown = {}
    for row in html.split("<tr")[1:]:
        for text in ("fine", "epoch zero", "fields disagree"):
            if f">{text}<" in row:
                shown[text] = "<em>time_conflict</em>" in row
                if text == "epoch zero":  # the note with both values, not only the flag
                    assert "time conflict: date_unixtime 0 (1970-01-01" in row
    assert shown == {"fine": False, "epoch zero": True, "fields disagree": True}
    assert cli("verify", case.root).exit_code == 0
