"""`cyberstalk risk`: the S-DASH questions with their evidence, the officer's answers and
grading as custody events, and the summary in the timeline report and the panel pack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cyberstalk.case import open_case
from cyberstalk.cli import app
from cyberstalk.risk import QUESTIONS, evidence_for, read_assessment
from cyberstalk.timeline import analyse
from helpers.fixture_scripts import load_fixture

story = load_fixture("timeline")


@pytest.fixture
def case_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1774051200")
    return story.build_case(tmp_path / "case")  # type: ignore[no-any-return]


def cli(*args: object) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def events(root: Path, name: str) -> list[dict]:
    lines = (root / "custody.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["event"] == name]


def test_every_question_shows_evidence_or_nothing_and_is_never_answered(case_root) -> None:
    result = cli("risk", case_root, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [q["number"] for q in data["questions"]] == list(range(1, 12))
    by_id = {q["id"]: q for q in data["questions"]}
    assert all(q["answer"] is None for q in data["questions"])
    assert data["grading"] is None and data["answered"] == 0
    assert not events(case_root, "risk_answer")  # looking records nothing
    # the story's evidence: stop requests, loitering/monitoring, threats, new accounts
    a = analyse(open_case(case_root))
    found = {e.question.id: e for e in evidence_for(a)}
    for qid in ("frightened", "history", "visits", "following", "others_engaged"):
        assert found[qid].found, qid
        assert found[qid].records and set(found[qid].records) <= set(a.by_id)
        assert any(ev["records"] for ev in by_id[qid]["evidence"])
    # message evidence cannot show these: said so, never guessed
    for qid in ("property", "violence_others", "substances", "past_violence"):
        assert by_id[qid]["evidence"] == [
            {"en": "nothing in the evidence", "cy": "dim byd yn y dystiolaeth", "records": []}
        ]
    assert all(q["cy"] and q["cy"] != q["en"] for q in data["questions"])


def test_threats_and_third_parties_come_from_the_suspects_own_records() -> None:
    from datetime import UTC, datetime, timedelta

    from cyberstalk.case import parse_config
    from cyberstalk.records import Locator, Record, RecordKind, TzBasis
    from cyberstalk.timeline import analyse_records

    cfg = parse_config(
        {
            "case": {"reference": "R", "officer": "O", "exhibit_prefix": "T"},
            "people": [
                {"name": n, "role": r, "identifiers": [{"type": "phone", "value": v}]}
                for n, r, v in (
                    ("Vic", "victim", "07700900111"),
                    ("Sam", "suspect", "07700900222"),
                    ("Mam", "other", "07700900333"),
                )
            ],
        }
    )  # fmt: skip
    start = datetime(2026, 1, 5, 18, tzinfo=UTC)

    def rec(n: int, text: str, to: str) -> Record:
        return Record(
            kind=RecordKind.MESSAGE, platform="sms", time_utc=start + timedelta(days=n),
            time_raw=str(n), tz_basis=TzBasis.EPOCH,
            locator=Locator(exhibit="T/1", path="sms.xml", line_start=n),
            parser="t", parser_version="1", sender="07700900222", recipients=(to,), text=text,
        )  # fmt: skip

    records = [
        rec(1, "answer me", "07700900111"),
        rec(2, "you'll regret this", "07700900111"),
        rec(3, "tell her to ring me", "07700900333"),
    ]
    a = analyse_records(records, cfg, ids=[r.id for r in records])
    found = {e.question.id: e for e in evidence_for(a)}
    assert found["threats"].records == (records[1].id,)
    assert found["third_parties"].records == (records[2].id,)
    assert not found["property"].found


def test_answers_and_grading_are_custody_events_and_a_change_is_a_new_event(case_root) -> None:
    first = cli(
        "risk", case_root, "--answer", "1=yes", "--note", "1=she says she is terrified",
        "--answer", "threats=no", "--grade", "medium", "--reason", "daily contact",
        "--by", "DS Example",
    )  # fmt: skip
    assert first.exit_code == 0, first.output
    assert "recorded 2 answers and grading medium" in first.stderr
    answers = events(case_root, "risk_answer")
    assert [(e["details"]["question"], e["details"]["answer"]) for e in answers] == [
        ("frightened", "yes"),
        ("threats", "no"),
    ]
    assert answers[0]["details"]["note"] == "she says she is terrified"
    assert answers[0]["actor"] == "DS Example" == answers[0]["details"]["assessor"]
    log_before = (case_root / "custody.jsonl").read_bytes()
    change = cli("risk", case_root, "--answer", "6=yes", "--grade", "high", "--reason", "threat")
    assert change.exit_code == 0, change.output
    assert (case_root / "custody.jsonl").read_bytes().startswith(log_before)  # appended only
    assessment = read_assessment(open_case(case_root))
    assert assessment.answers["threats"].answer == "yes"
    assert assessment.answers["frightened"].assessor == "DS Example"
    assert assessment.grading is not None and assessment.grading.grading == "high"
    assert assessment.superseded == 2  # the first threats answer and the first grading
    assert len(assessment.history) == 5
    shown = cli("risk", case_root, "--lang", "en")
    assert " 6. Has the suspect threatened physical or sexual violence?" in shown.stdout
    assert "answer: yes" in shown.stdout and "grading: high / uchel" in shown.stdout


def test_answers_from_a_file_for_the_control_room(case_root, tmp_path: Path) -> None:
    toml = tmp_path / "answers.toml"
    toml.write_text(
        'assessor = "PC 1234, control room"\n[answers]\n'
        'frightened = { answer = "yes", note = "crying on the call" }\nq4 = "not known"\n'
        '[grading]\nlevel = "high"\nreasons = "fear, visits"\n'
    )
    assert cli("risk", case_root, "--from-file", toml).exit_code == 0
    js = tmp_path / "answers.json"
    js.write_text(json.dumps({"answers": {"11": "no"}}))
    assert cli("risk", case_root, "--from-file", js).exit_code == 0
    a = read_assessment(open_case(case_root))
    assert {k: v.answer for k, v in a.answers.items()} == {
        "frightened": "yes",
        "visits": "not_known",
        "past_violence": "no",
    }
    assert a.answers["frightened"].assessor == "PC 1234, control room"
    assert a.grading is not None and a.grading.reasons == "fear, visits"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--answer", "6=maybe"], "is not one of yes, no, not_known"),
        (["--answer", "12=yes"], "no screening question '12'"),
        (["--answer", "6"], "must be QUESTION=yes|no|not_known"),
        (["--grade", "high"], "a grading needs its reasons"),
        (["--grade", "severe", "--reason", "x"], "is not one of standard, medium, high"),
        (["--note", "6=x"], "has no --answer"),
        (["--answer", "6=yes", "--answer", "threats=no"], "answered twice"),
        (["--reason", "x"], "--reason goes with --grade"),
    ],
)
def test_refusals_record_nothing(case_root, args: list[str], message: str) -> None:
    before = (case_root / "custody.jsonl").read_bytes()
    result = cli("risk", case_root, *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert (case_root / "custody.jsonl").read_bytes() == before


def test_the_summary_is_in_the_timeline_report_and_masked_in_the_panel_pack(case_root) -> None:
    assert cli(
        "risk", case_root, "--answer", "6=yes", "--note", "6=Carys says he threatened her",
        "--grade", "high", "--reason", "threats to Carys", "--by", "DS Example",
    ).exit_code == 0  # fmt: skip
    out = case_root / "reports" / "t.html"
    assert cli("timeline", case_root, "-o", out).exit_code == 0
    html = out.read_text()
    section = html.partition('<section id="risk">')[2].partition("</section>")[0]
    assert "Grading: high / uchel" in section and "DS Example" in section
    assert QUESTIONS[5].cy.replace("'", "&#39;") in section
    assert "Carys says he threatened her" in section
    tl_json = case_root / "reports" / "t.json"
    assert cli("timeline", case_root, "--format", "json", "-o", tl_json).exit_code == 0
    risk = json.loads(tl_json.read_text())["risk"]
    assert risk["grading"]["grading"] == "high" and risk["yes"] == 1
    pack = case_root / "reports" / "p.json"
    assert cli("panel", case_root, "--format", "json", "-o", pack).exit_code == 0
    text = pack.read_text()
    masked = json.loads(text)["risk"]
    assert masked["grading"]["reasons"] == "threats to Victim A"
    threats = next(q for q in masked["questions"] if q["id"] == "threats")
    assert threats["answer"]["note"] == "Victim A says he threatened her"
    people = [p.name for p in open_case(case_root).config.people]
    for name in people:
        for part in name.split():
            assert part not in json.dumps(masked), part
