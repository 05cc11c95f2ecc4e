"""What a case's evidence holds that may bear on each screening question.

Read from the course-of-conduct analysis (``cyberstalk.timeline``): counts and record ids,
in English and Welsh, or "nothing in the evidence". Never an answer: a question with
evidence beside it is still the officer's to answer, from the victim and police systems.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from cyberstalk.records import Flag
from cyberstalk.risk.questions import QUESTIONS, Question
from cyberstalk.timeline import Analysis
from cyberstalk.timeline.model import Direction

RECORDS_SHOWN = 12
"""Record ids listed per line (the JSON output has them all)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One fact from the evidence, in both languages, with the records behind it."""

    en: str
    cy: str
    records: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QuestionEvidence:
    """A question and what the evidence shows for it."""

    question: Question
    findings: tuple[Finding, ...] = ()

    @property
    def found(self) -> bool:
        return bool(self.findings)

    @property
    def records(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r for f in self.findings for r in f.records))


@dataclass(frozen=True, slots=True)
class Context:
    """Facts shown above the questions: contact rates from each person of interest."""

    findings: tuple[Finding, ...] = field(default_factory=tuple)


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else many or word + 's'}"


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _gwaith(n: int) -> str:
    return {1: "unwaith", 2: "ddwywaith"}.get(n, f"{n} o weithiau")


NOTHING_EN = "nothing in the evidence"
NOTHING_CY = "dim byd yn y dystiolaeth"


def _matches_by_category(a: Analysis, people: set[str]) -> dict[str, list[str]]:
    """Record ids per lexicon category, in one pass over the matches: those from a person
    of interest, and (under ``stop_request``) the victim's own requests to stop."""
    out: dict[str, list[str]] = defaultdict(list)
    entry_of = a.by_id.get
    from_victim = Direction.FROM_VICTIM
    for m in a.matches:
        rid = m.record
        entry = entry_of(rid)
        if entry is None:
            continue
        if entry.person in people or (
            entry.direction is from_victim and m.category == "stop_request"
        ):
            out[m.category].append(rid)
    return {k: list(dict.fromkeys(v)) for k, v in out.items()}


def _indicator_records(a: Analysis, indicator: str) -> list[str]:
    cited = (i.records for i in a.indicators if i.id == indicator)
    return list(dict.fromkeys(itertools.chain.from_iterable(cited)))


def context(a: Analysis) -> Context:
    """Contacts per day and per week from each person of interest."""
    findings = []
    for ps in a.summary.persons:
        if not ps.contacts:
            continue
        busiest_week = max(ps.per_week, key=lambda kv: kv[1]) if ps.per_week else None
        day = ps.busiest_day
        en = (
            f"{ps.person}: {ps.contacts} contacts on {ps.active_days} days over {ps.span_days} "
            f"days, {ps.occasions} occasions"
        )
        cy = (
            f"{ps.person}: {ps.contacts} cyswllt ar {ps.active_days} diwrnod dros "
            f"{ps.span_days} diwrnod, {ps.occasions} achlysur"
        )
        if day is not None:
            en += f"; most in one day {day[1]} ({day[0].isoformat()})"
            cy += f"; y mwyaf mewn diwrnod {day[1]} ({day[0].isoformat()})"
        if busiest_week is not None:
            en += f"; most in one week {busiest_week[1]} ({busiest_week[0]})"
            cy += f"; y mwyaf mewn wythnos {busiest_week[1]} ({busiest_week[0]})"
        findings.append(Finding(en, cy))
    return Context(tuple(findings))


def evidence_for(a: Analysis, orders: int = 0) -> tuple[QuestionEvidence, ...]:
    """Each question with the findings that may bear on it (``orders``: how many orders
    the case file records)."""
    people = set(a.persons_of_interest)
    zone = ZoneInfo(a.timezone)
    found: dict[str, list[Finding]] = {q.id: [] for q in QUESTIONS}

    # 1 frightened: the victim's own words and actions
    matched = _matches_by_category(a, people)
    stops = [
        rid
        for rid in matched.get("stop_request", ())
        if a.by_id[rid].direction is Direction.FROM_VICTIM
    ]
    if stops:
        found["frightened"].append(
            Finding(
                f"the victim asked for contact to stop {_times(len(stops))}",
                f"gofynnodd y dioddefwr i'r cysylltu stopio {_gwaith(len(stops))}",
                tuple(stops),
            )
        )
    blocks = [e.id for e in a.blocks if e.record.subtype == "block"]
    if blocks:
        found["frightened"].append(
            Finding(
                f"the victim blocked the suspect {_times(len(blocks))}",
                f"rhwystrodd y dioddefwr y sawl a ddrwgdybir {_gwaith(len(blocks))}",
                tuple(blocks),
            )
        )

    # 2 history: orders on file, and how long this has gone on
    if orders:
        found["history"].append(
            Finding(
                f"{plural(orders, 'court order')} recorded in the case file",
                f"{orders} gorchymyn llys yn ffeil yr achos",
            )
        )
    fixated = _indicator_records(a, "fixated")
    for ps in a.summary.persons:
        if ps.contacts and ps.span_days >= 14:
            found["history"].append(
                Finding(
                    f"contact from {ps.person} spans {ps.span_days} days",
                    f"mae cysylltiad gan {ps.person} yn ymestyn dros {ps.span_days} diwrnod",
                    tuple(fixated),
                )
            )

    # 4 visits: "outside"/"saw you at" messages per week; 5 following
    presence = list(dict.fromkeys(matched.get("loitering", []) + matched.get("monitoring", [])))
    if presence:
        days: Counter[date] = Counter()
        for rid in presence:
            local = a.by_id[rid].local
            if local is not None:  # (in the case's zone already, unless made elsewhere)
                days[(local if local.tzinfo is zone else local.astimezone(zone)).date()] += 1
        weeks: Counter[str] = Counter()
        for day, n in days.items():
            year, week, _ = day.isocalendar()
            weeks[f"{year}-W{week:02d}"] += n
        top = max(weeks.items(), key=lambda kv: (kv[1], kv[0])) if weeks else None
        en = (
            f"{plural(len(presence), 'message')} "
            f"say{'s' if len(presence) == 1 else ''} the suspect was outside or near the victim"
        )
        cy = f"mae {len(presence)} neges yn dweud bod y sawl a ddrwgdybir y tu allan neu gerllaw"
        if top is not None:
            en += f"; most in one week: {top[1]} ({top[0]})"
            cy += f"; y mwyaf mewn wythnos: {top[1]} ({top[0]})"
        found["visits"].append(Finding(en, cy, tuple(presence)))
    following = matched.get("loitering", []) + _indicator_records(a, "monitoring")
    following = list(dict.fromkeys(following))
    if following:
        found["following"].append(
            Finding(
                f"{plural(len(following), 'record')} show{'s' if len(following) == 1 else ''} "
                "following, loitering, watching or monitoring",
                f"mae {len(following)} cofnod yn dangos dilyn, loetran, gwylio neu fonitro",
                tuple(following),
            )
        )

    # 6 threats
    threats = list(dict.fromkeys(matched.get("threats", []) + _indicator_records(a, "threats")))
    if threats:
        found["threats"].append(
            Finding(
                f"{plural(len(threats), 'message')} from the suspect "
                f"hold{'s' if len(threats) == 1 else ''} threat phrases",
                f"mae {len(threats)} neges gan y sawl a ddrwgdybir yn cynnwys ymadroddion "
                "bygythiol",
                tuple(threats),
            )
        )

    # 7 third parties
    third = _indicator_records(a, "third_party_contact")
    if not third:
        third = [e.id for e in a.entries if e.direction is Direction.OTHER and e.person in people]
    if third:
        found["third_parties"].append(
            Finding(
                f"{plural(len(third), 'record')} from the suspect to people other than the victim",
                f"{len(third)} cofnod gan y sawl a ddrwgdybir at bobl heblaw'r dioddefwr",
                tuple(third),
            )
        )

    # 9 others engaged: new accounts after a block, withheld numbers, unknown senders
    new_ids = [rid for b in a.after_block for _, rid in b.new_identifiers]
    if new_ids:
        found["others_engaged"].append(
            Finding(
                f"{plural(len(new_ids), 'new account or number', 'new accounts or numbers')} "
                f"first used after a block",
                f"defnyddiwyd {len(new_ids)} cyfrif neu rif newydd am y tro cyntaf ar ôl rhwystro",
                tuple(dict.fromkeys(new_ids)),
            )
        )
    withheld_flag, to_victim = Flag.WITHHELD_NUMBER.value, Direction.TO_VICTIM
    withheld = [
        e.id for e in a.entries if withheld_flag in e.record.flags and e.direction is to_victim
    ]
    if withheld:
        found["others_engaged"].append(
            Finding(
                f"{plural(len(withheld), 'contact')} reached the victim from withheld numbers",
                f"cyrhaeddodd {len(withheld)} cyswllt y dioddefwr o rifau cudd",
                tuple(withheld),
            )
        )
    strangers = [u for u in a.unresolved if u.to_victim]
    if strangers:
        found["others_engaged"].append(
            Finding(
                f"{plural(len(strangers), 'sender')} matching nobody in the case reached the "
                f"victim ({plural(sum(u.to_victim for u in strangers), 'record')})",
                f"cyrhaeddodd {len(strangers)} anfonwr nad ydynt yn cyfateb i neb yn yr achos "
                f"y dioddefwr ({sum(u.to_victim for u in strangers)} cofnod)",
                tuple(u.example for u in strangers),
            )
        )
    return tuple(QuestionEvidence(q, tuple(found[q.id])) for q in QUESTIONS)
