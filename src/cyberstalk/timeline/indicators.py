"""Indicators: the FOUR mnemonic, the s.2A(3) behaviours messages can show, and patterns.

Every indicator states its rule in plain words with the numbers used and lists the records
behind it. The toolkit never decides that conduct is stalking or harassment: these are
pointers for the officer's judgement (College of Policing: "think stalking first", FOUR =
fixated, obsessive, unwanted, repeated; PHA 1997 s.2A(3) examples of acts associated with
stalking).
"""

from __future__ import annotations

import functools
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from zoneinfo import ZoneInfo

from cyberstalk.timeline.model import (
    AfterBlock,
    Breach,
    Contact,
    Indicator,
    LexiconMatch,
    PersonSummary,
)
from cyberstalk.timeline.settings import Settings

INDICATOR_IDS = (
    "repeated",
    "unwanted",
    "fixated",
    "obsessive",
    "contact_any_means",
    "monitoring",
    "loitering",
    "publishing",
    "threats",
    "contact_after_block",
    "new_identifier_after_block",
    "order_breach",
    "night_contact",
    "third_party_contact",
)
"""Every indicator id, in report order."""

LEXICON_INDICATORS = {
    "monitoring": (
        "Monitoring",
        "s.2A(3)(d) and (g): monitoring the person's use of electronic communications, "
        "watching or spying",
    ),
    "loitering": (
        "Following, loitering or watching",
        "s.2A(3)(a), (e) and (g): following, loitering in a place, watching or spying",
    ),
    "publishing": (
        "Publishing material",
        "s.2A(3)(c): publishing material relating to the person or claiming to come from them",
    ),
    "threats": ("Threats", "threatening words (s.4 and s.4A fear of violence; OSA 2023 s.181)"),
}


def day(value: datetime | date, zone: ZoneInfo | None = None) -> str:
    """``5 Jan 2026`` (a datetime is shown in ``zone``)."""
    if isinstance(value, datetime):
        value = value.astimezone(zone).date() if zone else value.date()
    return f"{value.day} {value:%b %Y}"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


@dataclass
class PersonFacts:
    """What the indicator rules need to know about one person of interest."""

    person: str
    summary: PersonSummary
    occasion_firsts: list[str]
    """First record of each occasion."""
    contacts: Sequence[Contact]
    """Every counted contact (time, record id, platform, subtype, local time), in time order."""
    attempts: list[str]
    """Calls that did not connect."""
    matches: list[LexiconMatch] = field(default_factory=list)
    """Lexicon hits in the person's contacts."""
    match_times: dict[str, datetime] = field(default_factory=dict)
    """Local time of each matched record."""
    stop_requests: list[tuple[datetime, str, LexiconMatch]] = field(default_factory=list)
    """The victim's stop requests aimed at this person."""
    blocks: list[AfterBlock] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)
    third_party: list[str] = field(default_factory=list)

    @functools.cached_property
    def by_category(self) -> dict[str, list[LexiconMatch]]:
        """``matches`` by lexicon category, in their order (one pass for every rule)."""
        out: dict[str, list[LexiconMatch]] = defaultdict(list)
        for m in self.matches:
            out[m.category].append(m)
        return dict(out)


def _quote(m: LexiconMatch) -> str:
    lang = "English" if m.language == "en" else "Welsh, draft lexicon"
    return f"\u201c{m.entry}\u201d ({lang}) in {m.record}"


def person_indicators(
    f: PersonFacts, settings: Settings, victim: str, zone: ZoneInfo
) -> list[Indicator]:
    """Every indicator the rules raise for one person, in INDICATOR_IDS order: the FOUR
    and s.2A(3) rules (sorted), then the patterns, each rule a function below."""
    if f.summary.contacts == 0:
        return []
    out = [i for rule in _FOUR_AND_S2A for i in rule(f, settings, victim, zone)]
    out.sort(key=lambda i: INDICATOR_IDS.index(i.id))
    out += [i for rule in _PATTERNS for i in rule(f, settings, victim, zone)]
    return out


def _repeated(f: PersonFacts, settings: Settings, victim: str, zone: ZoneInfo) -> list[Indicator]:
    """FOUR: repeated."""
    s = f.summary
    p = f.person
    gap = f"{settings.occasion_gap_hours:g}"
    out: list[Indicator] = []
    if s.occasions >= 2:
        out.append(
            Indicator(
                "repeated",
                "Repeated",
                f"Two or more occasions of contact (PHA 1997 s.7(3)). {p} contacted {victim} "
                f"on {plural(s.occasions, 'occasion')}; a new occasion starts after more than "
                f"{gap} hours without contact. Records: the first contact of each occasion.",
                tuple(f.occasion_firsts),
                p,
                "FOUR",
            )
        )
    return out


def _unwanted(f: PersonFacts, settings: Settings, victim: str, zone: ZoneInfo) -> list[Indicator]:
    """FOUR: unwanted."""
    p = f.person
    out: list[Indicator] = []
    triggers: list[tuple[datetime, str, str]] = [
        (when, rid, f"asked to stop: {_quote(m)}") for when, rid, m in f.stop_requests
    ]
    triggers += [
        (b.block_time, b.block_record, f"blocked on {b.platform} ({b.block_record})")
        for b in f.blocks
    ]
    triggers.sort()
    if triggers:
        first_when = triggers[0][0]
        later = bisect_right(f.contacts, first_when, key=itemgetter(0))  # (in time order)
        after = [c[1] for c in f.contacts[later:]]
        if after:
            asked = len(f.stop_requests)
            blocked = len(f.blocks)
            out.append(
                Indicator(
                    "unwanted",
                    "Unwanted",
                    f"{victim} asked for contact to stop ({plural(asked, 'message')} matching "
                    f"the English or Welsh stop-request lexicon) or blocked {p} "
                    f"({plural(blocked, 'block event')}), and contact continued: "
                    f"{plural(len(after), 'contact')} after {day(first_when, zone)}. Records: "
                    "the requests and blocks, then every later contact.",
                    tuple(dict.fromkeys([rid for _, rid, _ in triggers] + after)),
                    p,
                    "FOUR",
                    tuple(text for _, _, text in triggers),
                )
            )
    return out


def _fixated(f: PersonFacts, settings: Settings, victim: str, zone: ZoneInfo) -> list[Indicator]:
    """FOUR: fixated."""
    s = f.summary
    p = f.person
    out: list[Indicator] = []
    fixation = f.by_category.get("fixation", [])
    fixation_days = {f.match_times[m.record].date() for m in fixation}
    long_span = s.span_days >= settings.fixated_min_days
    if long_span or len(fixation_days) >= 2:
        details = []
        records: list[str] = []
        if long_span and s.first and s.last:
            details.append(
                f"contact spans {s.span_days} days ({day(s.first, zone)} to {day(s.last, zone)}), "
                f"on {plural(s.active_days, 'day')}"
            )
            records += [f.contacts[0][1], f.contacts[-1][1]]
        if fixation:
            details.append(
                f"fixation phrases on {plural(len(fixation_days), 'day')}: "
                + "; ".join(_quote(m) for m in fixation[:20])
                + (f"; and {len(fixation) - 20} more" if len(fixation) > 20 else "")
            )
            records += [m.record for m in fixation]
        out.append(
            Indicator(
                "fixated",
                "Fixated",
                f"Persistence or a fixed theme: contact from {p} spans at least "
                f"{settings.fixated_min_days} days, or {p}'s messages repeat fixation phrases "
                "from the lexicon (e.g. \u201cyou owe me\u201d, \u201cI'm not going "
                "anywhere\u201d) on two or more days.",
                _ordered(records, f.contacts),
                p,
                "FOUR",
                tuple(details),
            )
        )
    return out


def _obsessive(f: PersonFacts, settings: Settings, victim: str, zone: ZoneInfo) -> list[Indicator]:
    """FOUR: obsessive."""
    s = f.summary
    p = f.person
    out: list[Indicator] = []
    details: list[str] = []
    records: list[str] = []
    if s.busiest_day and s.busiest_day[1] >= settings.obsessive_daily:
        bday = s.busiest_day[0]
        details.append(f"{plural(s.busiest_day[1], 'contact')} on {day(bday)}")
        records += [rid for _, rid, _, _, local in f.contacts if local.date() == bday]
    run = s.longest_unanswered
    if run and len(run.records) >= settings.obsessive_unanswered:
        details.append(
            f"{plural(len(run.records), 'contact')} in a row without a reply "
            f"({day(run.start, zone)} to {day(run.end, zone)})"
        )
        records += list(run.records)
    if len(s.channels) >= settings.obsessive_channels:
        details.append(
            f"{plural(len(s.channels), 'channel')}: " + ", ".join(c for c, _ in s.channels)
        )
        records += _first_per_channel(f)
    if details:
        out.append(
            Indicator(
                "obsessive",
                "Obsessive",
                f"Intensity: {settings.obsessive_daily} or more contacts on one day, or "
                f"{settings.obsessive_unanswered} or more contacts in a row without a reply, "
                f"or {settings.obsessive_channels} or more channels.",
                _ordered(records, f.contacts),
                p,
                "FOUR",
                tuple(details),
            )
        )
    return out


def _contact_any_means(
    f: PersonFacts, settings: Settings, victim: str, zone: ZoneInfo
) -> list[Indicator]:
    """S.2A(3)(b) contacting or attempting to contact by any means."""
    s = f.summary
    p = f.person
    out: list[Indicator] = []
    if len(s.channels) >= 2 or f.attempts:
        details = [
            f"{plural(len(s.channels), 'channel')}: "
            + ", ".join(f"{c} ({n})" for c, n in s.channels)
        ]
        if f.attempts:
            details.append(f"{plural(len(f.attempts), 'call')} that did not connect")
        out.append(
            Indicator(
                "contact_any_means",
                "Contacting or attempting to contact by any means",
                f"s.2A(3)(b): {p} contacted or tried to contact {victim} through two or more "
                "channels, or by calls that did not connect (missed, rejected, blocked). "
                "Records: the first contact on each channel and every failed call.",
                _ordered(_first_per_channel(f) + f.attempts, f.contacts),
                p,
                "s.2A(3)",
                tuple(details),
            )
        )
    return out


def _lexicon_behaviours(
    f: PersonFacts, settings: Settings, victim: str, zone: ZoneInfo
) -> list[Indicator]:
    """Lexicon behaviours."""
    p = f.person
    out: list[Indicator] = []
    for ind_id, (title, law) in LEXICON_INDICATORS.items():
        hits = f.by_category.get(ind_id, [])
        if not hits:
            continue
        out.append(
            Indicator(
                ind_id,
                title,
                f"{law}. {p}'s messages contain phrases from the {ind_id} lexicon (English and "
                "Welsh, listed in the report). A phrase is a pointer to read the message in "
                "context, not proof of the behaviour.",
                tuple(dict.fromkeys(m.record for m in hits)),
                p,
                "s.2A(3)" if ind_id != "threats" else "pattern",
                tuple(_quote(m) for m in hits[:50]),
            )
        )
    return out


def _contact_after_block(
    f: PersonFacts, settings: Settings, victim: str, zone: ZoneInfo
) -> list[Indicator]:
    """Blocks."""
    p = f.person
    out: list[Indicator] = []
    after = list(_ordered([rid for b in f.blocks for rid in b.contacts], f.contacts))
    if after:
        out.append(
            Indicator(
                "contact_after_block",
                "Contact after a block",
                f"{victim} blocked {p} ({plural(len(f.blocks), 'block event')}) and {p} "
                f"contacted {victim} afterwards, on any channel "
                f"({plural(len(after), 'contact')}). Records: the block events, then the "
                "contacts after them.",
                tuple(dict.fromkeys([b.block_record for b in f.blocks] + after)),
                p,
                "pattern",
                tuple(
                    f"block on {b.platform} {day(b.block_time, zone)} ({b.block_record}): "
                    f"{plural(len(b.contacts), 'later contact')}"
                    for b in f.blocks
                ),
            )
        )
    return out


def _new_identifier_after_block(
    f: PersonFacts, settings: Settings, victim: str, zone: ZoneInfo
) -> list[Indicator]:
    """New identifiers."""
    p = f.person
    out: list[Indicator] = []
    # Each new identifier once, against the latest block before its first use.
    latest: dict[str, tuple[AfterBlock, str]] = {}
    for b in sorted(f.blocks, key=lambda b: b.block_time):
        for ident, rid in b.new_identifiers:
            latest[ident] = (b, rid)
    position = _positions({rid for _, rid in latest.values()}, f.contacts)
    end = len(f.contacts)
    new_ids = sorted(
        ((b, ident, rid) for ident, (b, rid) in latest.items()),
        key=lambda t: (position.get(t[2], end), t[2]),
    )
    if new_ids:
        out.append(
            Indicator(
                "new_identifier_after_block",
                "New identifier after a block",
                f"After {victim} blocked {p}, {p} contacted {victim} from an identifier (number, "
                "account, address or name) not used before that block. Records: the block "
                "events and the first contact from each new identifier.",
                tuple(
                    dict.fromkeys(
                        [b.block_record for b, _, _ in new_ids] + [r for *_, r in new_ids]
                    )
                ),
                p,
                "pattern",
                tuple(
                    f"{ident} first used {rid}, after the {b.platform} block of "
                    f"{day(b.block_time, zone)}"
                    for b, ident, rid in new_ids
                ),
            )
        )
    return out


def _order_breach(
    f: PersonFacts, settings: Settings, victim: str, zone: ZoneInfo
) -> list[Indicator]:
    """Orders."""
    p = f.person
    out: list[Indicator] = []
    for breach in f.breaches:
        if breach.records:
            out.append(
                Indicator(
                    "order_breach",
                    f"Possible breach of {breach.order_kind}",
                    f"A {breach.order_kind} binding {p} was served on "
                    f"{breach.served.astimezone(zone):%d %b %Y %H:%M %Z}; {p} contacted "
                    f"{victim} {plural(len(breach.records), 'time')} after service. Whether "
                    "each contact breaches the order's conditions, and whether there was a "
                    "reasonable excuse, is for the officer (SPA 2019 s.8).",
                    breach.records,
                    p,
                    "pattern",
                    tuple(f"condition: {c}" for c in breach.conditions),
                )
            )
    return out


def _night_contact(
    f: PersonFacts, settings: Settings, victim: str, zone: ZoneInfo
) -> list[Indicator]:
    """Night."""
    s = f.summary
    p = f.person
    out: list[Indicator] = []
    if s.night_contacts:
        out.append(
            Indicator(
                "night_contact",
                "Contact at night",
                f"{plural(len(s.night_contacts), 'contact')} from {p} between "
                f"{settings.night_start:%H:%M} and {settings.night_end:%H:%M} local time.",
                s.night_contacts,
                p,
                "pattern",
            )
        )
    return out


def _third_party_contact(
    f: PersonFacts, settings: Settings, victim: str, zone: ZoneInfo
) -> list[Indicator]:
    """Third parties."""
    p = f.person
    out: list[Indicator] = []
    if f.third_party:
        out.append(
            Indicator(
                "third_party_contact",
                "Contact with third parties",
                f"{p} sent {plural(len(f.third_party), 'record')} to other people named in the "
                "case (not the victim). Read them for contact through others or about the "
                "victim (s.2A(3)(b) includes indirect contact).",
                tuple(f.third_party),
                p,
                "pattern",
            )
        )
    return out


Rule = Callable[[PersonFacts, Settings, str, ZoneInfo], list[Indicator]]
_FOUR_AND_S2A: tuple[Rule, ...] = (
    _repeated,
    _unwanted,
    _fixated,
    _obsessive,
    _contact_any_means,
    _lexicon_behaviours,
)
_PATTERNS: tuple[Rule, ...] = (
    _contact_after_block,
    _new_identifier_after_block,
    _order_breach,
    _night_contact,
    _third_party_contact,
)


def _first_per_channel(f: PersonFacts) -> list[str]:
    """The first contact on each channel, in the order the channels were first used (the
    walk ends once every channel the summary counts has been met)."""
    channels = len(f.summary.channels)
    seen: dict[str, str] = {}
    for c in f.contacts:
        if c[2] not in seen:
            seen[c[2]] = c[1]
            if len(seen) == channels:
                break
    return list(seen.values())


def _positions(ids: set[str], contacts: Sequence[Contact]) -> dict[str, int]:
    """The place among the contacts of each of ``ids`` that is a contact."""
    return {c[1]: n for n, c in enumerate(contacts) if c[1] in ids}


def _ordered(ids: Iterable[str], contacts: Sequence[Contact]) -> tuple[str, ...]:
    """``ids`` once each: the contacts among them in the contacts' order, then the others
    by id. (A walk over the contacts: a long course of conduct cites most of them, and a
    sort key per id, or an index of every contact, cost tens of MB at 200,000.)"""
    wanted = set(ids)
    out = [c[1] for c in contacts if c[1] in wanted]
    if len(out) < len(wanted):
        out += sorted(wanted.difference(out))
    return tuple(out)
