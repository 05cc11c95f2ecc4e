"""What every parser implements, and what it is given.

A parser *sniffs* first (how sure it is, 0.0-1.0, that a file is its format), then
*parses*, yielding :class:`~cyberstalk.records.Record` objects. Malformed items are counted
in the :class:`ParseReport` with a reason; they are never silently dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Protocol, runtime_checkable

from cyberstalk.parsers.textutil import DateOrderDecision
from cyberstalk.records import Record
from cyberstalk.records.times import ZoneChoice, choose_zone

SNIFF_BYTES = 64 * 1024
"""How much of a file sniffing may read."""


@dataclass(frozen=True)
class Source:
    """A file to parse: a stored exhibit or a loose file."""

    path: Path
    """The file on disk (for an exhibit, its read-only copy under ``evidence/``)."""
    name: str
    """The original name (what the victim's file was called): shown in locators."""
    exhibit: str | None = None
    """Exhibit reference, when the file is an exhibit of a case."""
    siblings: Mapping[str, str] = field(default_factory=dict)
    """For an archive member: the other members' names -> their exhibit refs, so that
    attachments (``<attached: 00000007-PHOTO....jpg>``) link to their exhibits."""

    def open(self) -> BinaryIO:
        return self.path.open("rb")

    def head(self, size: int = SNIFF_BYTES) -> bytes:
        with self.path.open("rb") as fh:
            return fh.read(size)

    @classmethod
    def loose(cls, path: Path) -> Source:
        return cls(path=path, name=path.name)


@dataclass(frozen=True)
class ParseContext:
    """Settings a parse runs with."""

    zone: ZoneChoice = field(default_factory=lambda: choose_zone(None, None))
    """Zone for zone-less times and its basis."""
    date_order: str | None = None
    """``dmy``, ``mdy`` or ``ymd`` when the user decided; None to detect from the file."""
    options: Mapping[str, str] = field(default_factory=dict)
    """Parser-specific options (e.g. the generic CSV column mapping)."""
    latest: datetime | None = None
    """Nothing in the source can be dated after this (the time the exhibit was received,
    or now): rules out date orders that would put messages in the future."""


@dataclass
class ParseReport:
    """What a parse did, for the summary on stderr and the derived/ index."""

    parser: str = ""
    records: Counter[str] = field(default_factory=Counter)
    """Records emitted, per kind."""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(position, reason) for every item that could not become a record."""
    warnings: list[str] = field(default_factory=list)
    """Things the officer should know (e.g. the export's known gaps, overlap dedupe)."""
    duplicates: int = 0
    """Records recognised as repeats across overlapping exports."""
    date_order: DateOrderDecision | None = None
    """How the day/month/year order of written dates was decided, for parsers that read
    such dates."""

    def count(self, record: Record) -> Record:
        self.records[record.kind.value] += 1
        return record

    def skip(self, position: str, reason: str) -> None:
        self.skipped.append((position, reason))

    def shaped(
        self,
        value: Any,
        types: type | tuple[type, ...],
        where: str,
        *,
        expected: str = "an array",
        outcome: str = "not read",
    ) -> Any:
        """``value`` when it is empty or one of ``types``; otherwise None, with a warning
        naming ``where`` (a number where an export has a list is a warning, not a
        TypeError: found by fuzzing every parser)."""
        if value and not isinstance(value, types):
            self.warnings.append(
                f"{where}: a {type(value).__name__}, expected {expected}; {outcome}"
            )
            return None
        return value

    @property
    def total(self) -> int:
        return sum(self.records.values())

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "parser": self.parser,
            "records": dict(sorted(self.records.items())),
            "total": self.total,
            "skipped": [{"position": p, "reason": r} for p, r in self.skipped],
            "warnings": list(self.warnings),
            "duplicates": self.duplicates,
        }
        if self.date_order is not None:
            out["date_order"] = {
                "order": self.date_order.order,
                "basis": self.date_order.basis,
                "why": self.date_order.why,
            }
        return out


@runtime_checkable
class Parser(Protocol):
    """One export format."""

    name: ClassVar[str]
    """Registry name, used with ``--format`` (``whatsapp``, ``sms-backup``...)."""
    version: ClassVar[str]
    """Bumped whenever output for the same input changes."""
    platform: ClassVar[str]
    """Platform id put on records."""
    description: ClassVar[str]
    """One line for ``--help`` and the README."""
    known_gaps: ClassVar[tuple[str, ...]]
    """What the *source* cannot show (e.g. WhatsApp export caps): told to the officer."""

    def sniff(self, source: Source) -> float:
        """Confidence 0.0-1.0 that ``source`` is this format. Reads at most SNIFF_BYTES."""
        ...

    def parse(self, source: Source, ctx: ParseContext, report: ParseReport) -> Iterator[Record]:
        """Yield records in source order. Raise ParseError (with position) on a fatal fault."""
        ...
