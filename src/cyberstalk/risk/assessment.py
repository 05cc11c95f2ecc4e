"""The officer's answers and risk grading, kept as events in the custody log.

Each answer is a ``risk_answer`` event and each grading a ``risk_grading`` event: who,
when, what, and why. A later change is a new event, never an edit, so the log shows every
answer ever given; the current assessment is the latest event for each question.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cyberstalk.case import Case
from cyberstalk.errors import UsageError
from cyberstalk.hashing.custody import events, read_lines
from cyberstalk.risk.questions import ANSWERS, BY_KEY, GRADINGS, QUESTIONS, Question

ANSWER_EVENT = "risk_answer"
GRADING_EVENT = "risk_grading"


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer as recorded."""

    question: str
    """Question id (``threats``)."""
    number: int
    answer: str
    """yes, no or not_known."""
    note: str
    assessor: str
    time: str
    """When it was recorded (UTC, from the custody event)."""
    seq: int
    """The custody event's sequence number."""


@dataclass(frozen=True, slots=True)
class Grading:
    """A risk grading as recorded."""

    grading: str
    """standard, medium or high."""
    reasons: str
    assessor: str
    time: str
    seq: int


@dataclass(frozen=True, slots=True)
class Assessment:
    """The current answers (latest per question) and grading, with the whole history."""

    answers: Mapping[str, Answer]
    grading: Grading | None
    history: tuple[Answer | Grading, ...]

    @property
    def recorded(self) -> bool:
        return bool(self.answers) or self.grading is not None

    @property
    def yes_count(self) -> int:
        return sum(1 for a in self.answers.values() if a.answer == "yes")

    @property
    def superseded(self) -> int:
        """Answers and gradings later replaced by a newer event."""
        current = {a.seq for a in self.answers.values()}
        if self.grading is not None:
            current.add(self.grading.seq)
        return len(self.history) - len(current)


def read_assessment(case: Case) -> Assessment:
    """The assessment as the custody log records it."""
    answers: dict[str, Answer] = {}
    grading: Grading | None = None
    history: list[Answer | Grading] = []
    for ev in events(read_lines(case.custody_path)):
        details = ev.get("details") or {}
        if ev.get("event") == ANSWER_EVENT:
            item = Answer(
                question=str(details.get("question")),
                number=int(details.get("number") or 0),
                answer=str(details.get("answer")),
                note=str(details.get("note") or ""),
                assessor=str(details.get("assessor") or ev.get("actor") or ""),
                time=str(ev.get("time")),
                seq=int(ev.get("seq") or 0),
            )
            answers[item.question] = item
            history.append(item)
        elif ev.get("event") == GRADING_EVENT:
            grading = Grading(
                grading=str(details.get("grading")),
                reasons=str(details.get("reasons") or ""),
                assessor=str(details.get("assessor") or ev.get("actor") or ""),
                time=str(ev.get("time")),
                seq=int(ev.get("seq") or 0),
            )
            history.append(grading)
    return Assessment(answers, grading, tuple(history))


def question(key: str) -> Question:
    """A question by id, number or ``qN``; UsageError naming the choices otherwise."""
    found = BY_KEY.get(key.strip().lower())
    if found is None:
        ids = ", ".join(f"{q.number}={q.id}" for q in QUESTIONS)
        raise UsageError(f"no screening question {key!r}", advice=f"questions: {ids}")
    return found


def check_answer(q: Question, answer: str) -> str:
    value = answer.strip().lower().replace(" ", "_").replace("-", "_")
    value = {"y": "yes", "n": "no", "unknown": "not_known", "nk": "not_known"}.get(value, value)
    if value not in ANSWERS:
        raise UsageError(
            f"question {q.number} ({q.id}): answer {answer!r} is not one of {', '.join(ANSWERS)}"
        )
    return value


def record(
    case: Case,
    answers: list[tuple[Question, str, str]],
    grading: tuple[str, str] | None,
    assessor: str | None = None,
) -> Assessment:
    """Append the answers ``(question, answer, note)`` and the grading ``(level, reasons)``
    to the custody log in one write, under the case lock. Reasons are required for a
    grading: a grade without its reasons cannot be reviewed."""
    if not answers and grading is None:
        raise UsageError("nothing to record: give --answer and/or --grade")
    by = (assessor or case.config.officer).strip()
    batch: list[tuple[str, Mapping[str, Any] | None]] = []
    seen: set[str] = set()
    for q, answer, note in answers:
        if q.id in seen:
            raise UsageError(f"question {q.number} ({q.id}) is answered twice")
        seen.add(q.id)
        batch.append(
            (
                ANSWER_EVENT,
                {
                    "question": q.id,
                    "number": q.number,
                    "answer": check_answer(q, answer),
                    "note": note,
                    "assessor": by,
                },
            )
        )
    if grading is not None:
        level, reasons = grading[0].strip().lower(), grading[1].strip()
        if level not in GRADINGS:
            raise UsageError(f"--grade {grading[0]!r} is not one of {', '.join(GRADINGS)}")
        if not reasons:
            raise UsageError(
                "a grading needs its reasons", advice='add --reason "why this grading"'
            )
        batch.append((GRADING_EVENT, {"grading": level, "reasons": reasons, "assessor": by}))
    with case.lock("risk"):
        case.log(by).append_many(batch)
    return read_assessment(case)


def parse_answers_file(
    path: Path,
) -> tuple[list[tuple[Question, str, str]], tuple[str, str] | None, str | None]:
    """Answers from a TOML or JSON file (for the control room)::

    assessor = "PC 1234, control room"
    [answers]
    frightened = { answer = "yes", note = "she says she is terrified" }
    threats = "no"
    [grading]
    level = "high"
    reasons = "threats, daily contact, turned up at work"
    """
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read answers file {path}: {exc}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: not valid {path.suffix.lstrip('.') or 'TOML'}: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a table with [answers] and/or [grading]")
    unknown = set(data) - {"assessor", "answers", "grading"}
    if unknown:
        raise UsageError(
            f"{path}: unknown key {sorted(unknown)[0]!r} (keys: assessor, answers, grading)"
        )
    answers: list[tuple[Question, str, str]] = []
    raw_answers = data.get("answers", {})
    if not isinstance(raw_answers, dict):
        raise UsageError(f"{path}: answers must be a table of question = answer")
    for key, value in raw_answers.items():
        q = question(str(key))
        if isinstance(value, str):
            answers.append((q, value, ""))
        elif isinstance(value, dict) and isinstance(value.get("answer"), str):
            answers.append((q, value["answer"], str(value.get("note", ""))))
        else:
            raise UsageError(
                f"{path}: answers.{key} must be a string or {{ answer = ..., note = ... }}"
            )
    grading = None
    raw_grading = data.get("grading")
    if raw_grading is not None:
        if not isinstance(raw_grading, dict) or not isinstance(raw_grading.get("level"), str):
            raise UsageError(f'{path}: grading needs level = "standard|medium|high" and reasons')
        grading = (raw_grading["level"], str(raw_grading.get("reasons", "")))
    assessor = data.get("assessor")
    return answers, grading, str(assessor) if assessor else None
