"""Which advice topics go on a sheet: from the officer's choice, or from a case.

From a case, platforms come from the ``platform`` field (and kind) of parsed records;
behaviours from record subtypes and from the timeline's indicators. The mappings are
data (``rules.toml``). The officer's additions and exclusions apply last. The reasons
recorded per topic are counts and rule names only: never evidence or anyone's details,
because they go into the custody log and to the screen of whoever runs the command.
"""

from __future__ import annotations

import importlib
import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from cyberstalk.errors import CyberstalkError, UsageError
from cyberstalk.safeguarding_advice.content import (
    AdviceContentError,
    Module,
    load_modules,
)

if TYPE_CHECKING:
    from cyberstalk.case import Case
    from cyberstalk.records import Record


@dataclass(frozen=True, slots=True)
class Rules:
    """The mappings from case facts to topic ids."""

    platforms: dict[str, str]
    """Record ``platform`` value -> platform topic id."""
    record_kinds: dict[str, str]
    """Record kind -> platform topic id."""
    record_subtypes: dict[str, tuple[str, ...]]
    """Record subtype -> behaviour topic ids."""
    indicators: dict[str, tuple[str, ...]]
    """Timeline indicator id -> behaviour topic ids."""
    order: tuple[str, ...] = ()
    """Topic order on a sheet (most urgent first)."""


@dataclass(slots=True)
class Selection:
    """The topics chosen for a sheet, in sheet order, with why each was chosen."""

    topics: list[str]
    """Topic ids: core first, then platforms, then behaviours (each in catalogue order)."""
    reasons: dict[str, list[str]] = field(default_factory=dict)
    """Topic id -> short reasons (``officer: --platform``, ``records: 12 on whatsapp``)."""
    unmatched: list[str] = field(default_factory=list)
    """Case facts with no advice module (``platform discord: no advice module``) and
    notes for the officer (``timeline not used: ...``)."""
    timeline_used: bool = False
    """True when the timeline's indicators were available and used."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "topics": list(self.topics),
            "reasons": {k: list(v) for k, v in sorted(self.reasons.items())},
            "unmatched": list(self.unmatched),
            "timeline_used": self.timeline_used,
        }


def parse_rules(text: str, where: str = "rules.toml") -> Rules:
    """Parse the rules file and check every topic id it names exists."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AdviceContentError(f"{where}: invalid TOML: {exc}") from exc
    known = load_modules("en")

    def check(topic: str, kind: str, key: str) -> str:
        if topic not in known or known[topic].kind != kind:
            raise AdviceContentError(f"{where}: {key} maps to {topic!r}, which is not a {kind}")
        return topic

    return Rules(
        platforms={
            k: check(v, "platform", f"[platforms] {k}")
            for k, v in data.get("platforms", {}).items()
        },
        record_kinds={
            k: check(v, "platform", f"[record_kinds] {k}")
            for k, v in data.get("record_kinds", {}).items()
        },
        record_subtypes={
            k: tuple(check(t, "behaviour", f"[record_subtypes] {k}") for t in v)
            for k, v in data.get("record_subtypes", {}).items()
        },
        indicators={
            k: tuple(check(t, "behaviour", f"[indicators] {k}") for t in v)
            for k, v in data.get("indicators", {}).items()
        },
        order=tuple(_check_known(t, known, where) for t in data.get("order", [])),
    )


def _check_known(topic: str, known: dict[str, Module], where: str) -> str:
    if topic not in known:
        raise AdviceContentError(f"{where}: order names {topic!r}, which is not a topic")
    return topic


@cache
def load_rules() -> Rules:
    """The packaged rules file."""
    path = resources.files("cyberstalk.safeguarding_advice") / "rules.toml"
    return parse_rules(path.read_text("utf-8"))


def catalogue() -> list[Module]:
    """Every English module in sheet order: core, platforms, behaviours (file order within)."""
    modules = load_modules("en").values()
    kinds = {"core": 0, "platform": 1, "behaviour": 2}
    rank = {tid: i for i, tid in enumerate(load_rules().order)}
    return sorted(modules, key=lambda m: (kinds[m.kind], rank.get(m.id, len(rank)), m.id))


def topic_ids(kind: str) -> list[str]:
    """Ids of one kind, in catalogue order."""
    return [m.id for m in catalogue() if m.kind == kind]


def _check_ids(ids: Sequence[str], kind: str | None, flag: str) -> None:
    known = {m.id: m.kind for m in catalogue()}
    for tid in ids:
        if tid not in known or (kind is not None and known[tid] != kind):
            valid = [k for k, v in known.items() if kind is None or v == kind]
            raise UsageError(
                f"{flag} {tid!r} is not a known {kind or 'topic'} id",
                advice=f"use one of: {', '.join(valid)} (see `cyberstalk advice --list`)",
            )


def select(
    *,
    platforms: Sequence[str] = (),
    behaviours: Sequence[str] = (),
    add: Sequence[str] = (),
    exclude: Sequence[str] = (),
    found: dict[str, list[str]] | None = None,
) -> Selection:
    """Combine facts found in a case (``found``: topic -> reasons) with the officer's flags.

    Platform ids may be given as a record platform (``messenger``, ``twitter``, ``sms``)
    and are mapped to their topic. Core topics are always included and cannot be excluded.
    """
    rules = load_rules()
    platforms = [rules.platforms.get(p.lower(), p.lower()) for p in platforms]
    behaviours = [b.lower() for b in behaviours]
    add = [a.lower() for a in add]
    exclude = [e.lower() for e in exclude]
    _check_ids(platforms, "platform", "--platform")
    _check_ids(behaviours, "behaviour", "--behaviour")
    _check_ids(add, None, "--add")
    _check_ids(exclude, None, "--exclude")
    core = topic_ids("core")
    for tid in exclude:
        if tid in core:
            raise UsageError(
                f"--exclude {tid!r}: the core advice is on every sheet",
                advice="core topics (evidence, reporting, 999) cannot be left out",
            )
    reasons: dict[str, list[str]] = {tid: ["core: always included"] for tid in core}
    for tid, why in (found or {}).items():
        reasons.setdefault(tid, []).extend(why)
    for flag, ids in (("--platform", platforms), ("--behaviour", behaviours), ("--add", add)):
        for tid in ids:
            reasons.setdefault(tid, []).append(f"officer: {flag} {tid}")
    for tid in exclude:
        reasons.pop(tid, None)
    topics = [m.id for m in catalogue() if m.id in reasons]
    return Selection(topics=topics, reasons={t: reasons[t] for t in topics})


def case_facts(case: Case) -> tuple[dict[str, list[str]], list[str], bool]:
    """Topics suggested by a case: (topic -> reasons, unmatched facts, timeline used)."""
    from cyberstalk.records import load_records

    rules = load_rules()
    found: dict[str, list[str]] = {}
    unmatched: set[str] = set()
    records = load_records(case.derived_dir)
    per_platform: Counter[str] = Counter()
    per_subtype: Counter[str] = Counter()
    for record in records:
        topic = rules.record_kinds.get(record.kind.value) or rules.platforms.get(
            record.platform.lower()
        )
        if topic:
            per_platform[topic] += 1
        else:
            unmatched.add(f"platform {record.platform}: no advice module")
        if record.subtype and record.subtype in rules.record_subtypes:
            per_subtype[record.subtype] += 1
    for topic, count in sorted(per_platform.items()):
        found.setdefault(topic, []).append(f"records: {count} for this platform")
    for subtype, count in sorted(per_subtype.items()):
        for topic in rules.record_subtypes[subtype]:
            found.setdefault(topic, []).append(f"records: {count} '{subtype}' events")
    timeline_used = False
    try:
        indicators = _timeline_indicators(case, records)
    except _TimelineFailed as exc:
        indicators = None
        unmatched.add(f"timeline not used: {exc}")
    if indicators is not None:
        timeline_used = True
        for ind_id, count in sorted(indicators.items()):
            topics = rules.indicators.get(ind_id)
            if topics is None:
                unmatched.add(f"indicator {ind_id}: no rule in rules.toml")
                continue
            for topic in topics:
                found.setdefault(topic, []).append(
                    f"timeline: indicator {ind_id} ({count} records)"
                )
    return found, sorted(unmatched), timeline_used


class _TimelineFailed(Exception):
    """The timeline package is there but could not analyse this case."""


def _timeline_indicators(case: Case, records: Sequence[Record]) -> dict[str, int] | None:
    """Indicator id -> number of records, or None when the timeline package is unavailable.

    Imported lazily: the timeline package sits to the left of reports in the flow but is
    written separately; a case whose timeline cannot be built still gets a sheet from its
    records alone.
    """
    try:
        timeline = importlib.import_module("cyberstalk.timeline")
    except ImportError:
        return None
    analyse = getattr(timeline, "analyse", None)
    if analyse is None:
        return None
    try:
        analysis = analyse(case, records=records)  # records already loaded
    except CyberstalkError as exc:
        raise _TimelineFailed(str(exc)) from exc
    out: Counter[str] = Counter()
    for indicator in getattr(analysis, "indicators", ()):
        out[str(indicator.id)] += len(getattr(indicator, "records", ()) or ())
    return dict(out)


def select_for_case(
    case: Case,
    *,
    platforms: Sequence[str] = (),
    behaviours: Sequence[str] = (),
    add: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Selection:
    """Topics for a case: what its evidence shows, plus and minus the officer's flags."""
    found, unmatched, timeline_used = case_facts(case)
    selection = select(
        platforms=platforms, behaviours=behaviours, add=add, exclude=exclude, found=found
    )
    selection.unmatched = unmatched
    selection.timeline_used = timeline_used
    return selection
