"""Screening crime records of other offences for stalking behaviours (``cyberstalk screen``).

A force records many stalking cases as something else (malicious communications, criminal
damage, harassment, breach of an order). The screen reads an export of crime records with
free-text summaries (:mod:`.reader`), looks for the Protection from Harassment Act 1997
s.2A(3) behaviours and the FOUR markers (fixated, obsessive, unwanted, repeated) with
English and Welsh lexicons kept as data (:mod:`.lexicon`, ``lexicons/*.toml``), and flags
the records whose wording shows possible stalking behaviour for a person to review
(:mod:`.engine`). Beside the rules a small learned scorer (:mod:`.scorer`, a logistic
regression over word and character n-grams trained on the labelled records that ship with
the repository) scores every summary: a record is flagged when the rules flag it and the
score is not below the scorer's veto, or when the score reaches the scorer's threshold
whatever the rules say. Every flag shows its evidence: the rule matches (rule, words,
positions) and, for a scorer-driven flag, the features that raised the score with their
weights. It flags; it never judges.

This package sits at the end of the flow: it may use the timeline's lexicon machinery and
the reports' helpers; nothing imports it but the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cyberstalk import __version__
from cyberstalk.screening import scorer
from cyberstalk.screening.engine import Assessment, Match, SetAside, assess
from cyberstalk.screening.lexicon import RULES, load_screen_lexicons
from cyberstalk.screening.reader import (
    DEFAULT_MAX_BYTES,
    InputFormat,
    InputRecord,
    RecordSet,
    read_records,
)

NOTICE = (
    "A flag means the wording of the summary shows possible stalking behaviour for review "
    "by a person; it is not a finding that stalking happened, and an unflagged record is "
    "not cleared."
)


COMBINATION = (
    "flagged when the rules flag the summary and the scorer's score is at least its veto, "
    "or when the score is at least its threshold whatever the rules say"
)


@dataclass(frozen=True, slots=True)
class Screened:
    """One summary screened by the rules and the scorer."""

    assessment: Assessment
    score: float
    """The scorer's score, 0 to 1."""
    threshold: float
    veto: float

    @property
    def by_rules(self) -> bool:
        return self.assessment.flagged and self.score >= self.veto

    @property
    def by_model(self) -> bool:
        return self.score >= self.threshold

    @property
    def flagged(self) -> bool:
        return self.by_rules or self.by_model

    @property
    def vetoed(self) -> bool:
        """The rules flag it but the scorer's score is below the veto."""
        return self.assessment.flagged and not self.flagged

    @property
    def flagged_by(self) -> tuple[str, ...]:
        return tuple(
            name for name, on in (("rules", self.by_rules), ("model", self.by_model)) if on
        )


def screen_text(text: str, lexicons: tuple[Any, ...] | None = None) -> Screened:
    """Screen one summary with the rules and the packaged scorer."""
    a = assess(text, lexicons)
    weights = scorer.load()
    return Screened(a, weights.score(text, a), weights.threshold, weights.veto)


@dataclass(frozen=True, slots=True)
class Finding:
    """One record flagged for review."""

    record: InputRecord
    assessment: Assessment
    screened: Screened | None = None
    """How the rules and the scorer decided (None: by the rules alone, with no scorer)."""

    @property
    def rules(self) -> tuple[str, ...]:
        """The rules that fired; for a flag by the scorer alone, the rules with a counted
        match (the partial rule evidence), in rule order."""
        if self.assessment.rules:
            return self.assessment.rules
        found = {m.rule for m in self.assessment.matches}
        return tuple(r for r in RULES if r in found)

    @property
    def flagged_by(self) -> tuple[str, ...]:
        return self.screened.flagged_by if self.screened is not None else ("rules",)

    def features(self) -> list[dict[str, Any]]:
        """The scorer features that raised this record's score most (with weights), for a
        flag by the scorer alone (a flag by the rules shows its rule matches instead)."""
        if self.screened is None or self.flagged_by != ("model",):
            return []
        return scorer.top_features(scorer.load(), self.record.text, self.assessment)

    def reason(self) -> str:
        s = self.screened
        if s is None or s.by_rules:
            text = self.assessment.reason()
            if s is not None and s.by_model:
                text += f"; scorer {s.score:.2f} >= {s.threshold:.2f}"
            return text
        features = self.features()
        top = ", ".join(f'"{f["value"]}" {f["weight"]:+.2f}' for f in features[:3])
        return (
            "shows possible stalking behaviour for review: scorer "
            f"{s.score:.2f} >= {s.threshold:.2f} (top features: {top})"
        )

    def as_dict(self) -> dict[str, Any]:
        a = self.assessment
        out: dict[str, Any] = {
            "id": self.record.id,
            "position": self.record.position,
            "date": self.record.date,
            "offence": self.record.offence,
            "rules": list(self.rules),
            "languages": list(a.languages),
            "reason": self.reason(),
            "matches": [m.as_dict() for m in a.matches],
            "set_aside": [s.as_dict() for s in a.set_aside],
            "summary": self.record.text,
            "flagged_by": list(self.flagged_by),
        }
        if self.screened is not None:
            out["model"] = {
                "score": round(self.screened.score, 4),
                "threshold": self.screened.threshold,
                "veto": self.screened.veto,
                "features": self.features(),
            }
        return out


@dataclass(frozen=True, slots=True)
class ScreenResult:
    """The screen of one export."""

    source: RecordSet
    findings: tuple[Finding, ...]
    """Flagged records, in file order."""
    vetoed: int = 0
    """Records the rules flag that the scorer's veto left unflagged."""

    @property
    def screened(self) -> int:
        return len(self.source.records)

    def as_dict(self) -> dict[str, Any]:
        """Deterministic: no times, paths reduced to the file name."""
        return {
            "tool": f"cyberstalk {__version__}",
            "notice": NOTICE,
            "source": {
                "name": Path(self.source.name).name,
                "sha256": self.source.sha256,
                "format": self.source.format,
                "columns": self.source.columns,
            },
            "lexicons": [
                {
                    "language": lex.language,
                    "file": lex.file,
                    "status": lex.status,
                    "entries": lex.size,
                }
                for lex in load_screen_lexicons()
            ],
            "rules": RULES,
            "scorer": scorer_summary(),
            "screened": self.screened,
            "flagged": len(self.findings),
            "notes": list(self.source.notes),
            "findings": [f.as_dict() for f in self.findings],
            "vetoed": self.vetoed,
        }


def scorer_summary() -> dict[str, Any]:
    """What the JSON output says about the scorer and how it combines with the rules."""
    w = scorer.load()
    return {
        "file": "scorer.json",
        "model": "logistic regression over word, word-pair and character 4-gram features",
        "trained_on_sha256": w.trained_on,
        "examples": w.examples,
        "threshold": w.threshold,
        "veto": w.veto,
        "combination": COMBINATION,
    }


PROGRESS_EVERY = 500
"""Records screened between two calls of the ``progress`` callback."""


def screen_records(
    records: RecordSet, progress: Callable[[int], None] | None = None
) -> ScreenResult:
    """Screen every record; keep the flagged ones. ``progress`` is called now and then with
    the characters of summary screened since its last call (for a progress bar)."""
    lexicons = load_screen_lexicons()
    weights = scorer.load()
    findings = []
    vetoed = 0
    done = 0
    for i, record in enumerate(records.records, start=1):
        a = assess(record.text, lexicons)
        s = Screened(a, weights.score(record.text, a), weights.threshold, weights.veto)
        if s.flagged:
            findings.append(Finding(record, a, s))
        elif s.vetoed:
            vetoed += 1
        done += len(record.text) + 1
        if progress is not None and i % PROGRESS_EVERY == 0:
            progress(done)
            done = 0
    if progress is not None and done:
        progress(done)
    return ScreenResult(records, tuple(findings), vetoed)


def screen_file(
    path: Path,
    options: Mapping[str, str] | None = None,
    *,
    input_format: InputFormat = InputFormat.auto,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Callable[[RecordSet], Callable[[int], None] | None] | None = None,
) -> ScreenResult:
    """Read ``path`` through the column mapping ``options`` and screen it. ``progress``, given
    the records read, may return the callback :func:`screen_records` reports to."""
    records = read_records(path, options, input_format=input_format, max_bytes=max_bytes)
    return screen_records(records, progress(records) if progress is not None else None)


__all__ = [
    "NOTICE",
    "Assessment",
    "Finding",
    "InputFormat",
    "Match",
    "ScreenResult",
    "Screened",
    "SetAside",
    "assess",
    "read_records",
    "screen_file",
    "screen_records",
    "screen_text",
]
