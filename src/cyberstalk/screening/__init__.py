"""Screening crime records of other offences for stalking behaviours (``cyberstalk screen``).

A force records many stalking cases as something else (malicious communications, criminal
damage, harassment, breach of an order). The screen reads an export of crime records with
free-text summaries (:mod:`.reader`), looks for the Protection from Harassment Act 1997
s.2A(3) behaviours and the FOUR markers (fixated, obsessive, unwanted, repeated) with
English and Welsh lexicons kept as data (:mod:`.lexicon`, ``lexicons/*.toml``), and flags
the records whose wording shows possible stalking behaviour for a person to review
(:mod:`.engine`). It flags; it never judges.

This package sits at the end of the flow: it may use the timeline's lexicon machinery and
the reports' helpers; nothing imports it but the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cyberstalk import __version__
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


@dataclass(frozen=True, slots=True)
class Finding:
    """One record flagged for review."""

    record: InputRecord
    assessment: Assessment

    def as_dict(self) -> dict[str, Any]:
        a = self.assessment
        return {
            "id": self.record.id,
            "position": self.record.position,
            "date": self.record.date,
            "offence": self.record.offence,
            "rules": list(a.rules),
            "languages": list(a.languages),
            "reason": a.reason(),
            "matches": [m.as_dict() for m in a.matches],
            "set_aside": [s.as_dict() for s in a.set_aside],
            "summary": self.record.text,
        }


@dataclass(frozen=True, slots=True)
class ScreenResult:
    """The screen of one export."""

    source: RecordSet
    findings: tuple[Finding, ...]
    """Flagged records, in file order."""

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
            "screened": self.screened,
            "flagged": len(self.findings),
            "notes": list(self.source.notes),
            "findings": [f.as_dict() for f in self.findings],
        }


PROGRESS_EVERY = 500
"""Records screened between two calls of the ``progress`` callback."""


def screen_records(
    records: RecordSet, progress: Callable[[int], None] | None = None
) -> ScreenResult:
    """Screen every record; keep the flagged ones. ``progress`` is called now and then with
    the characters of summary screened since its last call (for a progress bar)."""
    lexicons = load_screen_lexicons()
    findings = []
    done = 0
    for i, record in enumerate(records.records, start=1):
        a = assess(record.text, lexicons)
        if a.flagged:
            findings.append(Finding(record, a))
        done += len(record.text) + 1
        if progress is not None and i % PROGRESS_EVERY == 0:
            progress(done)
            done = 0
    if progress is not None and done:
        progress(done)
    return ScreenResult(records, tuple(findings))


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
    "SetAside",
    "assess",
    "read_records",
    "screen_file",
    "screen_records",
]
