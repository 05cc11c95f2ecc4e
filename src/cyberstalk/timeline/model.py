"""Value types of a course-of-conduct analysis. Plain data: the renderers read these."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

from cyberstalk.records import Record, RecordKind
from cyberstalk.timeline.settings import Settings


class Direction(StrEnum):
    """Which way a record went, seen from the victim."""

    TO_VICTIM = "to_victim"
    """Sent to (or attempted to reach) the victim."""
    FROM_VICTIM = "from_victim"
    """Written or placed by the victim."""
    OTHER = "other"
    """Between other people (e.g. the suspect writing to a third party)."""
    EVENT = "event"
    """A platform event (block, number change...), not a contact."""


TO_VICTIM, FROM_VICTIM = Direction.TO_VICTIM, Direction.FROM_VICTIM
OTHER, EVENT = Direction.OTHER, Direction.EVENT
"""The members as module names, for the passes that compare every record's direction:
Python 3.11 reads a member off its class at about ten times the cost of a global name."""


Contact = tuple[datetime, str, str, str | None, datetime]
"""A counted contact: ``(time_utc, record id, platform, subtype, local time)``."""


@dataclass(slots=True)
class Entry:
    """One record in the chronology, with what the analysis made of it. Read-only by
    convention: not frozen because a frozen dataclass costs 4x to build, and a 200,000
    record case builds 200,000 of these."""

    record: Record
    """The record as parsed."""
    id: str
    """The record id (computed once: ``Record.id`` hashes on every call)."""
    local: datetime | None
    """The time in the case timezone (None when the source has no time)."""
    direction: Direction
    """Direction seen from the victim."""
    person: str | None
    """Person the sender resolved to (None: unresolved or withheld)."""
    identifier: str | None
    """The sender's normalised identifier (``phone:+447700900789``), if any."""
    contact: bool
    """True when counted as a contact from a person of interest to the victim."""
    occasion: str | None = None
    """Occasion id (``occ-3``) for counted contacts."""


@dataclass(frozen=True, slots=True)
class IdentifierUse:
    """One identifier of a person and when it was used as a sender."""

    key: str
    """Normalised form (``phone:+447700900789``, ``username:instagram:d.price``)."""
    shown: str
    """As the officer wrote it in case.toml."""
    platform: str | None
    """Platform the identifier belongs to, if tied to one."""
    count: int = 0
    """Records sent from it."""
    first: datetime | None = None
    """First use (UTC)."""
    last: datetime | None = None
    """Last use (UTC)."""
    first_record: str | None = None
    """Id of the first record sent from it."""
    last_record: str | None = None
    """Id of the last record sent from it."""


@dataclass(frozen=True, slots=True)
class PersonIdentities:
    """A person from case.toml and the use of each of their identifiers."""

    name: str
    role: str
    identifiers: tuple[IdentifierUse, ...]


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A sender seen in the records that matches nobody in case.toml."""

    raw: str
    """The sender as the source wrote it (first spelling seen)."""
    key: str
    """Normalised form used to group spellings."""
    platforms: tuple[str, ...]
    """Platforms it appeared on."""
    count: int
    """Records sent from it."""
    first: datetime | None
    last: datetime | None
    example: str
    """Id of one record sent from it."""
    to_victim: int
    """How many of its records reached the victim."""
    note: str = ""
    """Why it is unresolved (e.g. it matches two people)."""


@dataclass(frozen=True, slots=True)
class Occasion:
    """A run of contacts from one person with no gap longer than the occasion gap."""

    id: str
    person: str
    number: int
    """1-based number of the occasion within the person's contacts."""
    start: datetime
    end: datetime
    records: tuple[str, ...]
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Run:
    """Consecutive contacts with no reply from the victim in between."""

    person: str
    start: datetime
    end: datetime
    records: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PersonSummary:
    """The course-of-conduct figures for one person of interest."""

    person: str
    first: datetime | None
    last: datetime | None
    contacts: int
    occasions: int
    channels: tuple[tuple[str, int], ...]
    """(platform, contacts) sorted by platform."""
    per_day: tuple[tuple[date, int], ...]
    """(local date, contacts), days with contact only, sorted."""
    per_week: tuple[tuple[str, int], ...]
    """(ISO week ``2026-W03``, contacts), sorted."""
    busiest_day: tuple[date, int] | None
    active_days: int
    span_days: int
    """Calendar days from first to last contact, inclusive."""
    longest_streak: tuple[date, date, int] | None
    """(first day, last day, days) of the longest run of consecutive days with contact."""
    night_contacts: tuple[str, ...]
    unanswered_runs: tuple[Run, ...]
    """Runs of at least ``unanswered_run_min`` contacts, in time order."""
    longest_unanswered: Run | None
    attempts: int
    """Calls that did not connect (missed, rejected, blocked)."""


@dataclass(frozen=True, slots=True)
class Summary:
    """Whole-case figures, then one summary per person of interest."""

    records_total: int
    """Records in the case's derived data."""
    records_in_scope: int
    """Records after the date and person filters."""
    untimed: int
    """Records without a usable time (listed last, not counted)."""
    platforms: tuple[tuple[str, int], ...]
    """(platform, records in scope)."""
    unattributed_to_victim: int
    """Contacts that reached the victim from withheld or unresolved senders (not counted)."""
    withheld: int
    """Of those, how many had a withheld number."""
    persons: tuple[PersonSummary, ...]


@dataclass(frozen=True, slots=True)
class Indicator:
    """Something the officer should look at, with the rule in plain words and its records.

    An indicator is material for the officer's judgement, never a finding.
    """

    id: str
    """Stable id (``repeated``, ``unwanted``, ``monitoring``...): the advice sheet maps these."""
    title: str
    """Short heading."""
    rule: str
    """The rule that raised it, in plain words, with the numbers used."""
    records: tuple[str, ...]
    """Ids of the records behind it, in time order."""
    person: str | None = None
    """Person of interest it concerns."""
    group: str = ""
    """``FOUR``, ``s.2A(3)`` or ``pattern``."""
    details: tuple[str, ...] = ()
    """Facts behind it in short lines (e.g. phrases matched, with the lexicon entry)."""


@dataclass(frozen=True, slots=True)
class Breach:
    """Contacts by the subject of an order after it was served: possible breaches."""

    order_kind: str
    subject: str
    made: date | None
    served: datetime
    conditions: tuple[str, ...]
    records: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AfterBlock:
    """Contact from a person after the victim blocked them."""

    person: str
    block_record: str
    block_time: datetime
    platform: str
    contacts: tuple[str, ...]
    """Contacts from the person after the block, on any channel."""
    new_identifiers: tuple[tuple[str, str], ...]
    """(identifier, first record id) for identifiers first used after the block."""


class LexiconMatch(NamedTuple):
    """A lexicon entry found in a record's text (immutable; a tuple because a large case
    makes hundreds of thousands)."""

    record: str
    category: str
    language: str
    entry: str
    """The lexicon entry that matched (as written in the lexicon)."""
    found: str
    """The text that matched (as written in the message)."""


@dataclass(frozen=True)
class Analysis:
    """Everything the timeline reports show, computed once."""

    reference: str
    timezone: str
    settings: Settings
    person_filter: str | None
    date_from: date | None
    date_to: date | None
    victim: str | None
    persons_of_interest: tuple[str, ...]
    entries: tuple[Entry, ...]
    """The chronology: timed records in time order, then untimed ones."""
    identities: tuple[PersonIdentities, ...]
    unresolved: tuple[Unresolved, ...]
    occasions: tuple[Occasion, ...]
    summary: Summary
    indicators: tuple[Indicator, ...]
    breaches: tuple[Breach, ...]
    after_block: tuple[AfterBlock, ...]
    matches: tuple[LexiconMatch, ...]
    blocks: tuple[Entry, ...]
    """Block events (for chart marks)."""
    notes: tuple[str, ...] = ()
    """Things the officer should know about how the analysis ran."""
    lexicon_info: tuple[tuple[str, str, int], ...] = ()
    """(language, file, entries) of the lexicons used."""
    by_id: dict[str, Entry] = field(default_factory=dict)
    """Entry by record id."""
    indicators_by_record: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Indicator ids per record id (for chronology rows)."""

    @functools.cached_property
    def corroborated_by(self) -> dict[str, tuple[str, ...]]:
        """Export record id -> ids of the screenshot lines that show the same message
        (each screenshot line names what it corroborates in ``extra.corroborates``)."""
        out: dict[str, list[str]] = {}
        for e in self.entries:
            ids = e.record.extra.get("corroborates")
            if e.record.kind is RecordKind.SCREENSHOT_TEXT and isinstance(ids, list):
                for rid in ids:
                    if isinstance(rid, str):
                        out.setdefault(rid, []).append(e.id)
        return {k: tuple(v) for k, v in out.items()}
