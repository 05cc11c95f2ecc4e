"""An unclear date order, from ingest's refusal to the officer's recorded decision and the
timeline that shows what the dates rest on."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from cyberstalk.case import Case
from cyberstalk.cli import app
from cyberstalk.hashing.custody import events, read_lines

# 24-03-10 .. 24-03-12: 10-12 March 2024 (year first) or 24 March 2010-2012 (day first).
CHAT = (
    "24-03-10, 21:40 - Jordan: I know where you live now\n"
    "24-03-11, 22:05 - Jordan: Answer me\n"
    "24-03-12, 23:15 - Jordan: I'm outside\n"
)


def _ingest(runner: CliRunner, case: Case, tmp_path: Path) -> tuple[int, str]:
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / "WhatsApp Chat with Jordan.txt").write_text(CHAT, encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(case.root), str(sub), "--source", "test USB"])
    return result.exit_code, result.stderr + result.stdout


def test_unclear_order_is_refused_then_settled_by_the_command_the_hint_names(
    runner: CliRunner, case: Case, tmp_path: Path
) -> None:
    code, output = _ingest(runner, case, tmp_path)
    assert code == 3  # an export could not be read: the officer must act
    assert "cannot tell the date order" in output
    hint = re.search(r"record the decision: (cyberstalk process .+)", output)
    assert hint is not None, output
    words = shlex.split(hint.group(1))
    assert words[:4] == ["cyberstalk", "process", str(case.root), "--exhibit"]
    assert words[4:7] == ["RE/1", "--date-order", "dmy|ymd"]
    # nothing from the chat reached derived/ undated or misdated
    stored = case.derived_dir / "records" / "RE-1.jsonl"
    assert not stored.exists() or stored.read_bytes() == b""

    # an order the file rules out is refused, and nothing is recorded
    refused = runner.invoke(
        app, [*words[1:5], "--date-order", "mdy", "--reason", "guess"], catch_exceptions=False
    )
    assert refused.exit_code == 3, refused.stderr
    assert "--date-order mdy contradicts the file" in refused.stderr
    assert not any(
        e["event"] == "date_order_decided" for e in events(read_lines(case.custody_path))
    )

    reason = "victim's phone settings seen: yy-mm-dd"
    done = runner.invoke(app, [*words[1:5], "--date-order", "ymd", "--reason", reason])
    assert done.exit_code == 0, done.stderr
    assert "recorded: RE/1 dates read as ymd" in done.stdout

    decided = [
        e for e in events(read_lines(case.custody_path)) if e["event"] == "date_order_decided"
    ]
    assert len(decided) == 1
    details = decided[0]["details"]
    assert (details["exhibit"], details["order"], details["reason"]) == ("RE/1", "ymd", reason)
    assert "the file allows dmy|ymd" in details["file_allows"]

    lines = (case.derived_dir / "records" / "RE-1.jsonl").read_text().splitlines()
    records = [json.loads(x) for x in lines]
    assert [r["time_utc"] for r in records] == [
        "2024-03-10T21:40:00+00:00",
        "2024-03-11T22:05:00+00:00",
        "2024-03-12T23:15:00+00:00",
    ]
    assert all("date_order_chosen" in r["flags"] for r in records)

    # the decision survives a rebuild of derived/, and the evidence still verifies
    rebuilt = runner.invoke(app, ["process", str(case.root)])
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert "with GPS positions" in rebuilt.stdout and "[] with GPS" not in rebuilt.stdout
    again = [
        json.loads(x)
        for x in (case.derived_dir / "records" / "RE-1.jsonl").read_text().splitlines()
    ]
    assert [r["time_utc"] for r in again] == [r["time_utc"] for r in records]
    assert runner.invoke(app, ["verify", str(case.root)]).exit_code == 0

    # the timeline says what these dates rest on
    out = tmp_path / "timeline.json"
    tl = runner.invoke(app, ["timeline", str(case.root), "--format", "json", "-o", str(out)])
    assert tl.exit_code in (0, 1), tl.stderr
    notes = json.loads(out.read_bytes())
    text = json.dumps(notes)
    assert "read as year/month/day by decision of DC Test Officer" in text
    assert reason in text and "3 entries rest on it" in text
    html = tmp_path / "timeline.html"
    runner.invoke(app, ["timeline", str(case.root), "--format", "html", "-o", str(html)])
    assert "by decision of DC Test Officer" in html.read_text()


def test_process_usage_errors(runner: CliRunner, case: Case) -> None:
    lone = runner.invoke(app, ["process", str(case.root), "--date-order", "dmy"])
    assert lone.exit_code == 2 and "go with --exhibit" in lone.stderr
    bare = runner.invoke(app, ["process", str(case.root), "--exhibit", "RE/1"])
    assert bare.exit_code == 2 and "cyberstalk process CASE" in bare.stderr
    no_reason = runner.invoke(
        app, ["process", str(case.root), "--exhibit", "RE/1", "--date-order", "dmy"]
    )
    assert no_reason.exit_code == 2 and "--reason is required" in no_reason.stderr
