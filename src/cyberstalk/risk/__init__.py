"""Risk identification with its evidence: the stalking screening questions (S-DASH), what
the case's digital evidence holds for each, and the officer's answers and grading.

The toolkit never answers a question or grades a case. It shows the evidence beside each
question ("nothing in the evidence" where there is none); the officer records answers and
a grading with reasons, each an event in the custody log (:mod:`.assessment`).
"""

from __future__ import annotations

from typing import Any

from cyberstalk.risk.assessment import (
    Answer,
    Assessment,
    Grading,
    parse_answers_file,
    question,
    read_assessment,
    record,
)
from cyberstalk.risk.evidence import (
    NOTHING_CY,
    NOTHING_EN,
    RECORDS_SHOWN,
    Finding,
    QuestionEvidence,
    context,
    evidence_for,
)
from cyberstalk.risk.questions import (
    ANSWER_WORDS,
    ANSWERS,
    GRADING_WORDS,
    GRADINGS,
    QUESTIONS,
    WELSH_STATUS,
    Question,
)

__all__ = [
    "ANSWERS",
    "ANSWER_WORDS",
    "GRADINGS",
    "GRADING_WORDS",
    "NOTHING_CY",
    "NOTHING_EN",
    "QUESTIONS",
    "RECORDS_SHOWN",
    "WELSH_STATUS",
    "Answer",
    "Assessment",
    "Finding",
    "Grading",
    "Question",
    "QuestionEvidence",
    "context",
    "evidence_for",
    "parse_answers_file",
    "question",
    "read_assessment",
    "record",
    "summary",
]


def summary(
    evidence: tuple[QuestionEvidence, ...], assessment: Assessment, *, ids: bool = True
) -> dict[str, Any]:
    """The risk summary as data, for ``risk --json`` and the reports: each question in
    both languages, its evidence (record ids when ``ids``), the current answer with who
    and when, and the grading."""
    questions = []
    for item in evidence:
        q = item.question
        answer = assessment.answers.get(q.id)
        questions.append(
            {
                "number": q.number,
                "id": q.id,
                "en": q.en,
                "cy": q.cy,
                "looks_for": q.looks_for,
                "evidence": [
                    {"en": f.en, "cy": f.cy, **({"records": list(f.records)} if ids else {})}
                    for f in item.findings
                ]
                or [{"en": NOTHING_EN, "cy": NOTHING_CY, **({"records": []} if ids else {})}],
                "answer": None
                if answer is None
                else {
                    "answer": answer.answer,
                    "en": ANSWER_WORDS[answer.answer][0],
                    "cy": ANSWER_WORDS[answer.answer][1],
                    "note": answer.note,
                    "assessor": answer.assessor,
                    "time": answer.time,
                    "custody_seq": answer.seq,
                },
            }
        )
    g = assessment.grading
    return {
        "questions": questions,
        "answered": len(assessment.answers),
        "yes": assessment.yes_count,
        "grading": None
        if g is None
        else {
            "grading": g.grading,
            "cy": GRADING_WORDS[g.grading],
            "reasons": g.reasons,
            "assessor": g.assessor,
            "time": g.time,
            "custody_seq": g.seq,
        },
        "superseded": assessment.superseded,
        "welsh_status": WELSH_STATUS,
    }
