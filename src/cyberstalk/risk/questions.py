"""The stalking screening questions (S-DASH, 2009) an officer answers, in English and Welsh.

S-DASH is the police stalking and harassment screening tool of 11 yes/no questions
(Sheridan and Roberts, adapted for ACPO by Laura Richards): used where there are two or
more incidents or the victim is very frightened; more "yes" answers mean higher risk.
The wording here is this toolkit's own short form of each question; the officer answers
from what the victim and police systems say. The toolkit never answers: it shows, beside
each question, what the case's digital evidence holds that may bear on it.

The Welsh wording is a draft for review by a Welsh speaker (``WELSH_STATUS``).
"""

from __future__ import annotations

from dataclasses import dataclass

WELSH_STATUS = "drafft: i'w adolygu gan siaradwr Cymraeg / draft: for review by a Welsh speaker"

ANSWERS = ("yes", "no", "not_known")
"""What an officer may record for a question."""
ANSWER_WORDS = {
    "yes": ("yes", "ydy / oes"),
    "no": ("no", "nac ydy / nac oes"),
    "not_known": ("not known", "ddim yn hysbys"),
}
GRADINGS = ("standard", "medium", "high")
"""Risk gradings, as in the force's risk identification."""
GRADING_WORDS = {"standard": "safonol", "medium": "canolig", "high": "uchel"}


@dataclass(frozen=True, slots=True)
class Question:
    """One screening question."""

    number: int
    """1 to 11, as numbered in S-DASH."""
    id: str
    """Stable short id (``threats``), used on the command line and in the custody log."""
    en: str
    cy: str
    looks_for: str
    """What evidence the toolkit looks for (shown to the officer; English)."""


QUESTIONS: tuple[Question, ...] = (
    Question(
        1,
        "frightened",
        "Is the victim very frightened?",
        "Ydy'r dioddefwr yn ofnus iawn?",
        "the victim's own requests for contact to stop, and blocks",
    ),
    Question(
        2,
        "history",
        "Is there a previous history of harassment or stalking by the suspect?",
        "Oes hanes blaenorol o aflonyddu neu stelcio gan y sawl a ddrwgdybir?",
        "orders recorded in the case, and how long the contact has gone on",
    ),
    Question(
        3,
        "property",
        "Has the suspect damaged or destroyed property?",
        "Ydy'r sawl a ddrwgdybir wedi difrodi neu ddinistrio eiddo?",
        "nothing: damage is not something message evidence can show",
    ),
    Question(
        4,
        "visits",
        "Has the suspect turned up unannounced more than three times a week?",
        "Ydy'r sawl a ddrwgdybir wedi troi i fyny'n ddirybudd fwy na thair gwaith yr wythnos?",
        "messages saying the suspect is outside or was near the victim, counted per week",
    ),
    Question(
        5,
        "following",
        "Is the suspect following the victim or loitering nearby?",
        "Ydy'r sawl a ddrwgdybir yn dilyn y dioddefwr neu'n loetran gerllaw?",
        "messages showing following, loitering, watching or knowing where the victim was",
    ),
    Question(
        6,
        "threats",
        "Has the suspect threatened physical or sexual violence?",
        "Ydy'r sawl a ddrwgdybir wedi bygwth trais corfforol neu rywiol?",
        "messages with threat phrases",
    ),
    Question(
        7,
        "third_parties",
        "Has the suspect harassed any third party since it began (family, children, "
        "friends, neighbours, colleagues)?",
        "Ydy'r sawl a ddrwgdybir wedi aflonyddu ar unrhyw drydydd parti ers iddo ddechrau "
        "(teulu, plant, ffrindiau, cymdogion, cydweithwyr)?",
        "records from the suspect to people other than the victim",
    ),
    Question(
        8,
        "violence_others",
        "Has the suspect been violent to anyone else during this?",
        "Ydy'r sawl a ddrwgdybir wedi bod yn dreisgar tuag at unrhyw un arall yn ystod hyn?",
        "nothing: violence is not something message evidence can show",
    ),
    Question(
        9,
        "others_engaged",
        "Has the suspect engaged other people to help, knowingly or not?",
        "Ydy'r sawl a ddrwgdybir wedi cael pobl eraill i helpu, yn fwriadol neu'n ddiarwybod?",
        "new accounts or numbers after a block, withheld numbers, and unknown senders who "
        "reached the victim",
    ),
    Question(
        10,
        "substances",
        "Has the suspect had problems with drugs, alcohol or mental health in the past year?",
        "Ydy'r sawl a ddrwgdybir wedi cael problemau gyda chyffuriau, alcohol neu iechyd "
        "meddwl yn ystod y flwyddyn ddiwethaf?",
        "nothing: ask the victim and check police systems",
    ),
    Question(
        11,
        "past_violence",
        "Has the suspect been violent in the past (known to police)?",
        "Ydy'r sawl a ddrwgdybir wedi bod yn dreisgar yn y gorffennol (yn hysbys i'r heddlu)?",
        "nothing: check police systems",
    ),
)

BY_KEY: dict[str, Question] = {
    **{q.id: q for q in QUESTIONS},
    **{str(q.number): q for q in QUESTIONS},
    **{f"q{q.number}": q for q in QUESTIONS},
}
"""A question by its id, its number (``6``) or ``q6``."""
