"""The `cyberstalk timeline` command and every report format, on real files."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
from html import unescape
from pathlib import Path

import pytest
from timeline_helpers import rec
from typer.testing import CliRunner

from cyberstalk.case import open_case
from cyberstalk.cli import app
from cyberstalk.hashing.custody import check_chain, events, read_lines
from cyberstalk.records import write_records
from cyberstalk.reports import timeline_json
from cyberstalk.reports.common import CSP
from cyberstalk.reports.timeline_common import meta_for
from cyberstalk.reports.timeline_json import render_json
from cyberstalk.timeline import analyse

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["timeline", *args])
    return result.exit_code, result.stdout, result.stderr


def add_hostile_records(case_dir: Path) -> list[str]:
    hostile = [
        rec(
            "2026-03-21 22:00",
            "Dylan P",
            "<script>alert('x')</script><img src=x onerror=y>",
            platform="telegram",
            exhibit="RE/9",
        ),
        rec(
            "2026-03-21 22:05",
            "Dylan P",
            '=HYPERLINK("http://evil","click")',
            platform="telegram",
            exhibit="RE/9",
        ),
        rec(None, "Dylan P", "+cmd|' /C calc'!A0", platform="telegram", exhibit="RE/9"),
    ]
    write_records(open_case(case_dir).derived_dir, "RE/9", hostile, {})
    return [r.id for r in hostile]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def report_events(case_dir: Path) -> list[dict]:  # type: ignore[type-arg]
    return [
        e for e in events(read_lines(case_dir / "custody.jsonl")) if e["event"] == "report_made"
    ]


def test_html_report_is_self_contained_escaped_and_linked(story_case: Path) -> None:
    add_hostile_records(story_case)
    code, out, errtext = run(str(story_case))
    assert code == 0, errtext
    path = story_case / "reports" / "timeline.html"
    assert out.startswith(str(path))
    html = path.read_text("utf-8")
    metas = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    assert [unescape(m) for m in metas] == [CSP]
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;img src=x" in html
    assert not re.search(r"<(link|img|iframe|object|embed)\b", html, re.I)
    assert not re.search(r"\b(src|href)\s*=\s*[\"']?(https?:|//)", html, re.I)
    # summary comes first, then the chart, indicators... chronology last
    order = [
        html.index(f'id="{s}"')
        for s in ("summary", "chart", "indicators", "orders", "occasions", "chronology")
    ]
    assert order == sorted(order)
    assert "<svg" in html and "Stalking Protection Order served" in html
    # every in-page link resolves to an element id
    targets = set(re.findall(r'href="#([^"]+)"', html))
    anchors = set(re.findall(r'id="([^"]+)"', html))
    assert targets and targets <= anchors
    # each chronology row names its exhibit and position
    shown = re.sub(r"<[^>]+>", "", html)  # as a reader sees it (without <wbr> and spans)
    assert "RE/1 line 2" in shown and "RE/4 $.messages[0]" in shown
    assert "GMT +00:00" in html and "6 hours" in html
    (event,) = report_events(story_case)
    assert event["details"]["sha256"] == sha(path)
    assert event["details"]["path"] == "reports/timeline.html"
    assert check_chain(read_lines(story_case / "custody.jsonl")) == []


def test_reports_are_byte_identical_for_the_same_case(
    story_case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for fmt in ("html", "json", "csv", "timesketch"):
        assert run(str(story_case), "-f", fmt, "-o", str(story_case / f"a.{fmt}"))[0] == 0
        assert run(str(story_case), "-f", fmt, "-o", str(story_case / f"b.{fmt}"))[0] == 0
        assert sha(story_case / f"a.{fmt}") == sha(story_case / f"b.{fmt}"), fmt
    # without SOURCE_DATE_EPOCH the time comes from the custody log, ignoring report events
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert run(str(story_case), "-o", str(story_case / "c.html"))[0] == 0
    assert run(str(story_case), "-o", str(story_case / "d.html"))[0] == 0
    assert sha(story_case / "c.html") == sha(story_case / "d.html")
    assert len(report_events(story_case)) == 10


def test_csv_is_formula_safe_and_complete(story_case: Path) -> None:
    ids = add_hostile_records(story_case)
    code, _, _ = run(str(story_case), "-f", "csv")
    assert code == 0
    raw = (story_case / "reports" / "timeline.csv").read_bytes()
    assert b"\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
    assert len(rows) == 36 + 3
    by_id = {r["id"]: r for r in rows}
    assert by_id[ids[1]]["text"].startswith("'=HYPERLINK")
    assert by_id[ids[2]]["text"].startswith("'+cmd")
    assert rows[-1]["id"] == ids[2] and rows[-1]["time_utc"] == ""  # undated last
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value
    first = rows[0]
    assert first["time_utc"] == "2026-01-05T18:02:11+00:00"
    assert first["locator"] == "RE/1 line 2" and first["exhibit"] == "RE/1"


def test_json_report_sections_and_utc(story_case: Path) -> None:
    ids = add_hostile_records(story_case)
    code, out, _ = run(str(story_case), "-f", "json", "--json")
    assert code == 0
    info = json.loads(out)
    data = json.loads(Path(info["path"]).read_text("utf-8"))
    assert list(data)[:5] == ["report", "summary", "occasions", "indicators", "possible_breaches"]
    assert list(data)[-1] == "records"
    assert len(data["records"]) == 39 == info["records"]
    assert info["sha256"] == sha(Path(info["path"]))
    assert "order_breach" in info["indicators"]
    assert data["summary"]["persons"][0]["contacts"] == 30
    assert data["report"]["settings"]["occasion_gap_hours"] == "6.0"
    raw = next(r for r in data["records"] if r["id"] == ids[1])
    assert raw["text"] == '=HYPERLINK("http://evil","click")'  # raw value kept in JSON
    summer = [r for r in data["records"] if r["time_utc"]]
    assert all(r["time_utc"].endswith("+00:00") for r in summer)
    assert {i["id"] for i in data["indicators"]} >= {"repeated", "unwanted", "order_breach"}
    for ind in data["indicators"]:
        assert ind["rule"] and ind["records"]


def test_json_renderer_streams(story_case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timeline_json, "_BATCH", 1)  # rows go out in batches of _BATCH

    class Counting(io.StringIO):
        writes = 0

        def write(self, s: str) -> int:
            self.writes += 1
            return super().write(s)

    case = open_case(story_case)
    a = analyse(case)
    buf = Counting()
    render_json(a, meta_for(case), buf)
    assert buf.writes > len(a.entries)  # record by record, not one big string
    json.loads(buf.getvalue())


def test_timesketch_rows(story_case: Path) -> None:
    add_hostile_records(story_case)
    code, out, _ = run(str(story_case), "-f", "timesketch")
    assert code == 0
    assert "timesketch: 39 records in, 38 rows out, 1 left out (no time)" in out
    lines = (story_case / "reports" / "timeline.timesketch.jsonl").read_text("utf-8").splitlines()
    assert len(lines) == 38
    from datetime import datetime

    for line in lines:
        ev = json.loads(line)
        assert {"message", "datetime", "timestamp", "timestamp_desc"} <= set(ev)
        assert not any(k.startswith("_") for k in ev)
        when = datetime.fromisoformat(ev["datetime"])
        assert when.utcoffset() is not None
        assert isinstance(ev["timestamp"], int)
        assert ev["timestamp"] == int(when.timestamp()) * 1_000_000 + when.microsecond
    assert report_events(story_case)[0]["details"]["rows_out"] == 38


@pytest.mark.slow
def test_pdf_report(story_case: Path) -> None:
    code, _out, errtext = run(str(story_case), "-f", "pdf")
    assert code == 0, errtext
    path = story_case / "reports" / "timeline.pdf"
    assert path.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Course-of-conduct timeline" in text
    assert "Possible breach of Stalking Protection Order" in text
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "595.276 x 841.89" in info  # A4
    assert report_events(story_case)[0]["details"]["sha256"] == sha(path)


def test_filters_and_settings_on_the_command_line(story_case: Path) -> None:
    code, out, _ = run(
        str(story_case),
        "-f",
        "json",
        "--json",
        "--from",
        "2026-02-14",
        "--to",
        "2026-02-28",
        "--person",
        "dylan price",
        "--gap-hours",
        "48",
        "--night-start",
        "23:00",
    )
    assert code == 0
    path = Path(json.loads(out)["path"])
    assert path.name == "timeline-dylan-price-2026-02-14_2026-02-28.json"
    data = json.loads(path.read_text("utf-8"))
    assert data["report"]["date_from"] == "2026-02-14"
    assert data["report"]["settings"]["night_start"] == "23:00"
    assert data["report"]["settings"]["occasion_gap_hours"] == "48.0"
    assert all("2026-02-14" <= r["time_local"][:10] <= "2026-02-28" for r in data["records"])


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["-f", "docx"], 2, "--format 'docx' is not one of"),
        (["--from", "14/02/2026"], 2, "is not a date"),
        (["--person", "Nobody"], 2, "not a person in case.toml"),
        (["--gap-hours", "-1"], 2, "positive number"),
        (["--night-start", "25:00"], 2, "must be a time"),
    ],
)
def test_usage_errors(story_case: Path, args: list[str], code: int, message: str) -> None:
    got, _out, errtext = run(str(story_case), *args)
    assert got == code
    assert message in errtext and "Traceback" not in errtext
    assert not (story_case / "reports" / "timeline.html").exists()


def test_not_a_case_and_output_folder(tmp_path: Path, story_case: Path) -> None:
    code, _, errtext = run(str(tmp_path / "nowhere"))
    assert code == 3 and "no case folder" in errtext
    code, _, errtext = run(str(story_case), "-o", str(tmp_path))
    assert code == 2 and "is a folder" in errtext


def test_bad_case_settings_are_reported(story_case: Path) -> None:
    toml = story_case / "case.toml"
    toml.write_text(
        toml.read_text("utf-8").replace(
            "legacy_digests = false", 'legacy_digests = false\noccasion_gap_hours = "often"'
        ),
        "utf-8",
    )
    code, _, errtext = run(str(story_case))
    assert code == 3 and "occasion_gap_hours must be a positive number" in errtext


def test_help_text() -> None:
    result = runner.invoke(app, ["timeline", "--help"])
    assert result.exit_code == 0
    for option in ("--format", "--from", "--to", "--person", "--gap-hours", "--json"):
        assert option in result.stdout


def test_large_cases_collapse_in_html_and_cite_only_in_print(story_case: Path) -> None:
    from cyberstalk.reports.timeline_html import cited_records, render_html

    case = open_case(story_case)
    a = analyse(case, html_collapse_rows=10, pdf_max_rows=10)
    buf = io.StringIO()
    stats = render_html(a, meta_for(case), buf)
    html = buf.getvalue()
    assert stats["collapsed"] is True and stats["rows"] == 36
    assert "<details><summary>January 2026 (" in html and "grouped by month" in html
    printed = io.StringIO()
    stats = render_html(a, meta_for(case), printed, for_print=True)
    cited = {r for i in a.indicators for r in i.records} | {b.block_record for b in a.after_block}
    assert cited <= cited_records(a)
    cited = cited_records(a)
    assert stats["rows"] == len(cited) < 36
    assert "more than the PDF limit of 10" in printed.getvalue()
    assert "<details>" not in printed.getvalue().split('id="chronology"')[1]
    rows = set(re.findall(r'<tr id="(r-[0-9a-f]+)"', printed.getvalue()))
    assert rows == cited
    targets = set(re.findall(r'href="#([^"]+)"', printed.getvalue()))
    assert targets <= set(re.findall(r'id="([^"]+)"', printed.getvalue()))
