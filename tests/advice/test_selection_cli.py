"""Choosing topics (officer flags, case records, timeline indicators) and the CLI."""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cyberstalk.case import Identifier, add_person, open_case
from cyberstalk.cli import app
from cyberstalk.errors import UsageError
from cyberstalk.hashing.custody import check_chain, events, read_lines
from cyberstalk.records import Locator, Record, RecordKind, TzBasis, write_records
from cyberstalk.safeguarding_advice import select, select_for_case

SUSPECT = "Alex Suspect"
SUSPECT_PHONE = "07700 900123"
SECRET_TEXT = "I know where you live, Sam"

runner = CliRunner()


def record(i: int, when: datetime, **kw: object) -> Record:
    base: dict[str, object] = {
        "kind": RecordKind.MESSAGE,
        "platform": "sms",
        "time_utc": when,
        "time_raw": when.isoformat(),
        "tz_basis": TzBasis.EPOCH,
        "locator": Locator("TO/1", "export.txt", line_start=i + 1),
        "parser": "test",
        "parser_version": "1",
        "sender": SUSPECT_PHONE,
        "recipients": ("07700 900001",),
        "text": SECRET_TEXT,
    }
    base.update(kw)
    return Record(**base)  # type: ignore[arg-type]


def populate(case_dir: Path) -> None:
    """A tiny case: a suspect who texts on three occasions, a WhatsApp block, a discord DM."""
    case = open_case(case_dir)
    case = add_person(
        case, name="Sam Victim", role="victim", identifiers=[Identifier("phone", "07700 900001")]
    )
    add_person(case, name=SUSPECT, role="suspect", identifiers=[Identifier("phone", SUSPECT_PHONE)])
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    recs = [record(i, t0 + timedelta(days=2 * i)) for i in range(3)]
    recs.append(
        record(
            3,
            t0 + timedelta(days=1),
            kind=RecordKind.SYSTEM,
            platform="whatsapp",
            subtype="block",
            text="You blocked this contact.",
        )
    )
    recs.append(record(4, t0 + timedelta(days=3), platform="discord"))
    write_records(case.derived_dir, "TO/1", recs, {})


# --------------------------------------------------------------------------- selection


def test_officer_flags_map_platform_aliases_and_keep_sheet_order() -> None:
    sel = select(platforms=["Twitter", "messenger", "sms"], behaviours=["stalkerware", "threats"])
    assert sel.topics == [
        "core-reporting",
        "core-evidence",
        "sms-calls",
        "facebook",
        "x",
        "threats",
        "stalkerware",
    ]
    assert sel.reasons["x"] == ["officer: --platform x"]


def test_unknown_ids_and_excluding_core_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="'myspace' is not a known platform") as info:
        select(platforms=["myspace"])
    assert "whatsapp" in (info.value.advice or "")
    with pytest.raises(UsageError, match="not a known behaviour"):
        select(behaviours=["whatsapp"])
    with pytest.raises(UsageError, match="core advice is on every sheet"):
        select(exclude=["core-evidence"])


def test_case_topics_come_from_records_and_timeline(case_dir: Path) -> None:
    populate(case_dir)
    sel = select_for_case(open_case(case_dir))
    assert sel.timeline_used
    assert {"whatsapp", "sms-calls", "new-accounts", "repeated-contact"} <= set(sel.topics)
    assert "records: 3 for this platform" in " ".join(sel.reasons["sms-calls"])
    assert any("'block' events" in r for r in sel.reasons["new-accounts"])
    assert any(
        r.startswith("timeline: indicator repeated") for r in sel.reasons["repeated-contact"]
    )
    assert "platform discord: no advice module" in sel.unmatched
    # the timeline's own indicators are all mapped to something or nothing, never dropped
    from cyberstalk.timeline import analyse

    for indicator in analyse(open_case(case_dir)).indicators:
        assert f"indicator {indicator.id}: no rule in rules.toml" not in sel.unmatched


def test_officer_removes_and_adds_to_case_topics(case_dir: Path) -> None:
    populate(case_dir)
    sel = select_for_case(
        open_case(case_dir), exclude=["whatsapp"], behaviours=["trackers"], add=["doxxing"]
    )
    assert "whatsapp" not in sel.topics
    assert {"trackers", "doxxing"} <= set(sel.topics)


def test_without_the_timeline_package_records_still_choose_topics(
    case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    populate(case_dir)
    monkeypatch.setitem(sys.modules, "cyberstalk.timeline", None)  # import now fails
    sel = select_for_case(open_case(case_dir))
    assert not sel.timeline_used
    assert {"whatsapp", "sms-calls", "new-accounts"} <= set(sel.topics)
    assert "repeated-contact" not in sel.topics


def test_empty_case_gets_the_core_topics(case_dir: Path) -> None:
    sel = select_for_case(open_case(case_dir))
    assert sel.topics == ["core-reporting", "core-evidence"]


# --------------------------------------------------------------------------- CLI


def test_list_shows_every_topic() -> None:
    result = runner.invoke(app, ["advice", "--list"])
    assert result.exit_code == 0, result.output
    for tid in ("core-evidence", "whatsapp", "stalkerware", "smart-home"):
        assert tid in result.stdout
    assert "Spy apps on your phone" in result.stdout and "Apiau ysbïo" in result.stdout
    data = json.loads(runner.invoke(app, ["advice", "--list", "--json"]).stdout)
    row = next(r for r in data if r["id"] == "facebook")
    assert row["applies_to"]["platforms"] == ["facebook", "messenger"]
    assert row["status_cy"] == "draft"


def test_sheet_without_a_case_to_stdout() -> None:
    result = runner.invoke(
        app,
        ["advice", "-p", "whatsapp", "-b", "threats", "--lang", "en", "-f", "md", "--date",
         "2026-11-29"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Staying safe online")
    assert "## WhatsApp" in result.stdout and "## Threats" in result.stdout
    assert "29 November 2026" in result.stdout
    assert "topics: core-reporting, core-evidence, whatsapp, threats" in result.stderr


def test_sheet_without_a_case_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "sheet.html"
    result = runner.invoke(app, ["advice", "-p", "x", "--lang", "cy", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert '<html lang="cy">' in out.read_text("utf-8")
    result = runner.invoke(app, ["advice", "-b", "trackers", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["outputs"][0]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert summary["topics"][-1] == "trackers" and summary["lang"] == "both"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "myspace"], "'myspace' is not a known platform"),
        (["--lang", "fr"], "--lang 'fr' must be one of en, cy, both"),
        (["-f", "docx"], "--format 'docx' must be one of html, pdf, md"),
        (["-f", "pdf"], "a PDF needs a file"),
        (["--date", "29/11/2026"], "not a date in the form YYYY-MM-DD"),
        (["--show-case-reference"], "needs a case folder"),
        (["--json"], "--json without a case needs -o FILE"),
    ],
)
def test_usage_errors_exit_2_with_a_message(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["advice", *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_unwritable_output_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = runner.invoke(app, ["advice", "-o", str(blocker / "sheet.html")])
    assert result.exit_code == 3, result.output
    assert "cannot write advice sheet" in result.stderr and "hint:" in result.stderr


def test_missing_case_folder_exits_3(tmp_path: Path) -> None:
    result = runner.invoke(app, ["advice", str(tmp_path / "nope")])
    assert result.exit_code == 3
    assert "no case folder" in result.stderr


def test_case_sheet_is_written_logged_and_free_of_case_details(case_dir: Path) -> None:
    populate(case_dir)
    result = runner.invoke(app, ["advice", str(case_dir), "--lang", "both", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    out = case_dir / "reports" / "advice-sheet-both.html"
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert summary["outputs"] == [{"path": "reports/advice-sheet-both.html", "sha256": digest}]
    html = out.read_text("utf-8")
    # nothing about the suspect, the evidence or the case reference
    for secret in (SUSPECT, "Alex", SUSPECT_PHONE, "900123", SECRET_TEXT, "Sam Victim",
                   "NWP/2026/0142", "DC Test Officer", "TO/1", "discord"):  # fmt: skip
        assert secret not in html, secret
    assert summary["sheet_id"] in html
    assert "new-accounts" in summary["topics"]
    # recorded in the custody log, chain intact
    lines = read_lines(case_dir / "custody.jsonl")
    assert check_chain(lines) == []
    last = events(lines)[-1]
    assert last["event"] == "advice_sheet_made"
    assert last["details"]["outputs"] == summary["outputs"]
    assert last["details"]["sheet_id"] == summary["sheet_id"]
    assert last["details"]["topics"] == summary["topics"]
    assert SECRET_TEXT not in json.dumps(last) and SUSPECT not in json.dumps(last)
    assert "platform discord: no advice module" in result.stderr


def test_case_reference_only_when_asked(case_dir: Path) -> None:
    out = case_dir / "reports" / "ref.md"
    result = runner.invoke(
        app, ["advice", str(case_dir), "--lang", "en", "-f", "md", "-o", str(out),
              "--show-case-reference"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Reference: NWP/2026/0142" in out.read_text("utf-8")
    assert events(read_lines(case_dir / "custody.jsonl"))[-1]["details"]["case_reference_shown"]


def test_case_sheet_is_deterministic_for_the_same_case_state(
    case_dir: Path, tmp_path: Path
) -> None:
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    assert runner.invoke(app, ["advice", str(case_dir), "-o", str(a)]).exit_code == 0
    # the first run appended an event; pin the date as a reproducible build would
    env = {"SOURCE_DATE_EPOCH": "1795939200"}  # 2026-11-29
    assert runner.invoke(app, ["advice", str(case_dir), "-o", str(a)], env=env).exit_code == 0
    assert runner.invoke(app, ["advice", str(case_dir), "-o", str(b)], env=env).exit_code == 0
    assert a.read_bytes() == b.read_bytes()


def test_case_lock_is_respected(case_dir: Path) -> None:
    case = open_case(case_dir)
    with case.lock("another command"):
        result = runner.invoke(app, ["advice", str(case_dir), "--lang", "en"])
    assert result.exit_code == 3
    assert "locked" in result.stderr
    assert not (case_dir / "reports" / "advice-sheet-en.html").exists()


@pytest.mark.parametrize("lang", ["en", "cy", "both"])
def test_demo_commands_work_on_a_case_with_no_records(case_dir: Path, lang: str) -> None:
    for fmt in ("html", "pdf"):
        result = runner.invoke(app, ["advice", str(case_dir), "--lang", lang, "--format", fmt])
        assert result.exit_code == 0, result.output
        path = case_dir / "reports" / f"advice-sheet-{lang}.{fmt}"
        assert path.stat().st_size > 1000
        assert f"reports/advice-sheet-{lang}.{fmt}  sha256:" in result.stdout
    made = [
        e
        for e in events(read_lines(case_dir / "custody.jsonl"))
        if e["event"] == "advice_sheet_made"
    ]
    assert [e["details"]["format"] for e in made] == ["html", "pdf"]
