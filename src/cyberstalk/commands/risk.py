"""``cyberstalk risk``: the stalking screening questions with the case's evidence beside
each, and the officer's answers and grading (recorded in the custody log)."""

from __future__ import annotations

from pathlib import Path

import typer

from cyberstalk.case import open_case
from cyberstalk.commands._options import json_option
from cyberstalk.commands._output import err, handle_errors, keep_until_exit, print_json
from cyberstalk.errors import UsageError

_LANGS = ("en", "cy", "both")
_WORDS = {
    "en": {"answer": "answer", "evidence": "evidence", "none": "not recorded"},
    "cy": {"answer": "ateb", "evidence": "tystiolaeth", "none": "heb ei gofnodi"},
    "both": {
        "answer": "answer / ateb",
        "evidence": "evidence / tystiolaeth",
        "none": "not recorded / heb ei gofnodi",
    },
}


@handle_errors
def risk_cmd(
    directory: Path = typer.Argument(..., help="Case folder."),
    answer: list[str] = typer.Option(
        [],
        "--answer",
        "-a",
        help="Record an answer: QUESTION=yes|no|not_known, QUESTION being the number (6), "
        "qN or the id (threats). Repeatable.",
    ),
    note: list[str] = typer.Option(
        [],
        "--note",
        help="A note for an answer: QUESTION=TEXT (what the victim said, where it was "
        "checked). Repeatable.",
    ),
    grade: str | None = typer.Option(
        None, "--grade", help="Record the risk grading: standard, medium or high."
    ),
    reason: str = typer.Option("", "--reason", help="Why this grading (required with --grade)."),
    from_file: Path | None = typer.Option(
        None,
        "--from-file",
        help="Record answers and a grading from a TOML or JSON file (for the control room; "
        "see the README for its form).",
    ),
    by: str | None = typer.Option(
        None, "--by", help="Who made the assessment (default: the case officer)."
    ),
    lang: str = typer.Option("both", "--lang", help="Questions in en, cy or both."),
    as_json: bool = json_option(),
) -> None:
    """Show the S-DASH stalking screening questions with what the evidence holds for each
    ("nothing in the evidence" where it holds nothing), and the answers and grading
    recorded so far; record answers and a grading. The toolkit never answers: every answer
    and grading is the officer's, and each is an event in the custody log (a change later
    is a new event, never an edit)."""
    from cyberstalk import risk
    from cyberstalk.timeline import analyse
    from cyberstalk.timeline.gcpause import gc_paused

    if lang not in _LANGS:
        raise UsageError(f"--lang {lang!r} is not one of {', '.join(_LANGS)}")
    case = open_case(directory)
    answers: list[tuple[risk.Question, str, str]] = []
    grading: tuple[str, str] | None = None
    assessor = by
    if from_file is not None:
        answers, grading, file_by = risk.parse_answers_file(from_file)
        assessor = assessor or file_by
    notes: dict[str, str] = {}
    for raw in note:
        key, sep, text = raw.partition("=")
        if not sep:
            raise UsageError(f"--note {raw!r} must be QUESTION=TEXT")
        notes[risk.question(key).id] = text.strip()
    for raw in answer:
        key, sep, value = raw.partition("=")
        if not sep:
            raise UsageError(f"--answer {raw!r} must be QUESTION=yes|no|not_known")
        q = risk.question(key)
        answers.append((q, value, notes.pop(q.id, "")))
    if notes:
        first = sorted(notes)[0]
        raise UsageError(f"--note for {first!r} has no --answer for that question")
    if grade is not None:
        grading = (grade, reason)
    elif reason:
        raise UsageError("--reason goes with --grade")
    if answers or grading is not None:
        assessment = risk.record(case, answers, grading, assessor)
        err(
            f"recorded {len(answers)} answer{'s' if len(answers) != 1 else ''}"
            + (f" and grading {grading[0].lower()}" if grading else "")
            + " in the custody log"
        )
    else:
        assessment = risk.read_assessment(case)
    with gc_paused(freeze=True):  # as the timeline command: no sweep after the analysis
        analysis = analyse(case)
    keep_until_exit(analysis)
    evidence = risk.evidence_for(analysis, orders=len(case.config.orders))
    data = risk.summary(evidence, assessment)
    if as_json:
        data["context"] = [{"en": f.en, "cy": f.cy} for f in risk.context(analysis).findings]
        print_json(data)
        return
    for f in risk.context(analysis).findings:
        typer.echo(f.en if lang == "en" else f.cy if lang == "cy" else f"{f.en}\n  {f.cy}")
    typer.echo("")
    words = _WORDS[lang]
    for q in data["questions"]:
        head = {"en": q["en"], "cy": q["cy"], "both": f"{q['en']}\n    {q['cy']}"}[lang]
        typer.echo(f"{q['number']:>2}. {head}")
        ans = q["answer"]
        if ans is None:
            typer.echo(f"    {words['answer']}: {words['none']}")
        else:
            shown = {"en": ans["en"], "cy": ans["cy"], "both": f"{ans['en']} / {ans['cy']}"}
            typer.echo(
                f"    {words['answer']}: {shown[lang]}  ({ans['assessor']}, {ans['time'][:16]}Z, "
                f"custody event {ans['custody_seq']})" + (f": {ans['note']}" if ans["note"] else "")
            )
        for ev in q["evidence"]:
            line = {"en": ev["en"], "cy": ev["cy"], "both": f"{ev['en']} / {ev['cy']}"}[lang]
            records = ev.get("records") or []
            listed = records[: risk.RECORDS_SHOWN]
            more = f" (+{len(records) - len(listed)} more)" if len(records) > len(listed) else ""
            ids = f": {' '.join(listed)}{more}" if records else ""
            typer.echo(f"    {words['evidence']}: {line}{ids}")
    g = data["grading"]
    typer.echo("")
    if g is None:
        typer.echo(
            "grading: not recorded (record one with --grade standard|medium|high --reason TEXT)"
        )
    else:
        typer.echo(
            f"grading: {g['grading']} / {g['cy']}  ({g['assessor']}, {g['time'][:16]}Z, "
            f"custody event {g['custody_seq']}): {g['reasons']}"
        )
    typer.echo(
        f"{data['answered']} of {len(data['questions'])} questions answered, {data['yes']} yes; "
        "the evidence lines are material for the officer, never an answer"
    )


def register(app: typer.Typer) -> None:
    app.command("risk")(risk_cmd)
