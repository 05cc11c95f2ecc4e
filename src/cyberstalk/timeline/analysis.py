"""The analysis: records -> identities -> directed contacts -> occasions -> indicators.

:func:`analyse` reads a case; :func:`analyse_records` is the analysis itself, in passes
over the records in time order, each pass a function below:

1. :func:`resolve_entries`: resolve senders and recipients, direct each record, filter by
   dates and person (one :class:`Entry` per record in scope);
2. :func:`tally_identities`: identifier use, unresolved senders, counted contacts;
3. :func:`group_occasions` (``occasions.py``), then :func:`read_replies`: victim replies,
   blocks and third-party contact;
4. :func:`contact_after_blocks`, :func:`order_breaches` and :func:`person_summaries`
   (figures per person of interest);
5. :func:`lexicon_matches`: the lexicon's matches and the victim's stop requests (the
   first pass that needs the lexicon hits, which a child may be finding meanwhile);
6. :func:`person_results`: indicators per person of interest.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cyberstalk.case import Case, CaseConfig
from cyberstalk.errors import UsageError
from cyberstalk.forked import Forked, two_cores_free
from cyberstalk.identifiers import display_key, identifier_key
from cyberstalk.records import Flag, Record, RecordKind
from cyberstalk.records.store import iter_record_texts, iter_records, record_sort_key
from cyberstalk.timeline import lexicon
from cyberstalk.timeline.gcpause import gc_paused
from cyberstalk.timeline.identities import (
    Resolution,
    Resolver,
    direction_of,
    platform_hints,
)
from cyberstalk.timeline.indicators import PersonFacts, person_indicators
from cyberstalk.timeline.model import (
    EVENT,
    FROM_VICTIM,
    OTHER,
    TO_VICTIM,
    AfterBlock,
    Analysis,
    Breach,
    Contact,
    Entry,
    IdentifierUse,
    Indicator,
    LexiconMatch,
    Occasion,
    PersonIdentities,
    PersonSummary,
    Summary,
    Unresolved,
)
from cyberstalk.timeline.occasions import group_occasions
from cyberstalk.timeline.settings import Settings, load_settings
from cyberstalk.timeline.summary import NOT_CONNECTED, person_summary

CONTACT_KINDS = frozenset(
    {
        RecordKind.MESSAGE,
        RecordKind.MEDIA,
        RecordKind.CALL,
        RecordKind.EMAIL,
        RecordKind.SCREENSHOT_TEXT,
    }
)
_SCREENSHOT_TEXT = RecordKind.SCREENSHOT_TEXT  # (once: see timeline.model.TO_VICTIM)
_new_match = tuple.__new__  # LexiconMatch(...) without the namedtuple's Python __new__
_BLOCK_TARGET_KEYS = ("blocked", "target", "contact", "account", "attributed_to")
_CHAT_PREFIXES = ("WhatsApp Chat with ", "Chat WhatsApp gyda ")


def analyse(
    case: Case,
    *,
    person: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    records: Sequence[Record] | None = None,
    **overrides: Any,
) -> Analysis:
    """Analyse a case's records (``derived/records``) against its people and orders.

    ``overrides`` are settings (``occasion_gap_hours``, ``night_start``...) that replace
    case.toml ``[settings]`` values; None values are ignored.
    """
    settings = load_settings(case.config.settings, overrides)
    ids: list[str] | None = None
    beside = HitsBeside.start(case.derived_dir) if records is None else HitsBeside(None)
    with gc_paused(), beside:
        if records is None:
            records, ids = load_with_ids(case.derived_dir)
            beside.ids = ids
        analysis = analyse_records(
            records,
            case.config,
            ids=ids,
            settings=settings,
            person=person,
            date_from=date_from,
            date_to=date_to,
            text_hits=beside.hits,
        )
    extra = date_basis_notes(case.derived_dir, analysis.entries)
    return dataclasses.replace(analysis, notes=analysis.notes + extra) if extra else analysis


_ORDER_WORDS = {"dmy": "day/month/year", "mdy": "month/day/year", "ymd": "year/month/day"}


def date_basis_notes(derived: Path, entries: Sequence[Entry]) -> tuple[str, ...]:
    """Where dates rest on a person's decision rather than the evidence alone: the
    exhibits whose date order an officer settled (from the parse index, which names the
    custody event), and the screenshot lines that show a clock time but no date."""
    notes: list[str] = []
    for path in sorted((derived / "records").glob("*.report.json")):
        try:
            index = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        decided = index.get("date_order") if isinstance(index, dict) else None
        if not isinstance(decided, dict) or decided.get("basis") != "user":
            continue
        ref = str(decided.get("exhibit") or path.name.removesuffix(".report.json"))
        flagged = [e for e in entries if Flag.DATE_ORDER_CHOSEN.value in e.record.flags]
        count = sum(1 for e in flagged if e.record.locator.exhibit == ref)
        who = decided.get("decided_by") or "the user"
        seq = decided.get("custody_seq")
        notes.append(
            f"Dates in exhibit {ref} fit more than one day/month/year order; they are read as "
            f"{_ORDER_WORDS.get(str(decided.get('order')), decided.get('order'))} by decision "
            f"of {who}"
            + (f" (custody event {seq})" if seq else "")
            + (f": \u201c{decided['reason']}\u201d" if decided.get("reason") else "")
            + f". {count} entries rest on it (flag date_order_chosen)."
        )
    clock_only = 0
    for e in reversed(entries):  # the untimed entries: last (Analysis.entries)
        rec = e.record
        if rec.time_utc is not None:
            break
        clock_only += rec.kind is RecordKind.SCREENSHOT_TEXT and bool(rec.time_raw)
    if clock_only:
        notes.append(
            f"{clock_only} screenshot lines show a clock time but no date that can be known "
            "(no capture time, dated file name or date in the image): they are listed undated, "
            "at the end."
        )
    return tuple(notes)


_DUPLICATE = Flag.DUPLICATE.value  # (an enum's .value is a property: a call each time)


def _is_counted(record: Record) -> bool:
    if record.kind not in CONTACT_KINDS or _DUPLICATE in record.flags:
        return False
    # A screenshot line that corroborates an exported message is the same contact.
    return not (record.kind is _SCREENSHOT_TEXT and record.extra.get("corroborates"))


def _block_target(record: Record, resolver: Resolver, victims: frozenset[str]) -> str | None:
    candidates: list[str] = []
    for key in _BLOCK_TARGET_KEYS:
        value = record.extra.get(key)
        if isinstance(value, str):
            candidates.append(value)
    candidates += list(record.recipients)
    if record.conversation:
        conv = record.conversation
        for prefix in _CHAT_PREFIXES:
            conv = conv.removeprefix(prefix)
        candidates.append(conv)
    if record.sender:
        candidates.append(record.sender)
    for value in candidates:
        res = resolver.resolve(value, record.platform)
        if res is not None and res.person is not None and res.person not in victims:
            return res.person
    return None


BESIDE_MIN_BYTES = 8 << 20
"""Record files of at least this many bytes (about 20,000 records) have their lexicon
hits found in a child process while this one loads and resolves them."""


class HitsBeside:
    """The lexicon hits of every record's text, found by a forked child on the second
    core while this process loads, sorts and resolves the records: the child reads only
    the texts out of the record files (:func:`~cyberstalk.records.store.iter_record_texts`,
    in the order :func:`load_with_ids` reads the records) and hands back
    :func:`lexicon.pack_hits` of the hits by each record's place. With one core, a small
    case or a failed child, :meth:`hits` gives None and the analysis finds them itself:
    the same function over the same texts."""

    def __init__(self, child: Forked | None) -> None:
        self.child = child
        self.ids: Sequence[str] = ()

    @classmethod
    def start(cls, derived: Path) -> HitsBeside:
        files = sorted((derived / "records").glob("*.jsonl"))
        try:
            size = sum(f.stat().st_size for f in files)
        except OSError:
            size = 0
        if size < BESIDE_MIN_BYTES or not two_cores_free():
            return cls(None)

        def work() -> list[Any]:
            texts = list(enumerate(iter_record_texts(derived)))
            hits = lexicon.find_in_texts(lexicon.load_lexicons(), texts)
            return [len(texts), lexicon.pack_hits(hits)]

        try:
            return cls(Forked(work))
        except OSError:  # cannot fork now
            return cls(None)

    def hits(self) -> dict[str, lexicon.Pair] | None:
        """Wait for the child: the hits by record id, or None (no child, or it failed,
        or it read another number of records than were loaded)."""
        if self.child is None:
            return None
        done = self.child.value()
        self.child = None
        if done is None or done[0] != len(self.ids):
            return None
        try:
            return lexicon.unpack_hits(done[1], self.ids)
        except (IndexError, ValueError, TypeError):
            return None

    def __enter__(self) -> HitsBeside:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.child is not None:
            self.child.close()
            self.child = None


def load_with_ids(derived: Path) -> tuple[list[Record], list[str]]:
    """Every record in ``derived/records`` with its id (as the parser wrote it), in file
    order: :func:`cyberstalk.records.store.iter_records`."""
    records: list[Record] = []
    ids: list[str] = []
    for rec, rid in iter_records(derived):
        records.append(rec)
        ids.append(rid)
    return records, ids


@dataclass
class People:
    """Who the case is about: the victim(s) and the persons of interest."""

    names: list[str]
    victims: frozenset[str]
    victim_name: str | None
    victim_label: str
    pois: tuple[str, ...]
    notes: list[str]

    @property
    def poi_set(self) -> frozenset[str]:
        return frozenset(self.pois)


def case_people(config: CaseConfig, person: str | None) -> People:
    """The victim(s) and persons of interest of ``config`` (``person``: only that one),
    with a note for each gap an officer should know of."""
    notes: list[str] = []
    names = [p.name for p in config.people]
    victims = frozenset(p.name for p in config.people if p.role == "victim")
    victim_name = sorted(victims)[0] if len(victims) == 1 else None
    if not victims:
        notes.append(
            "No victim is named in case.toml: messages are read as the victim's only through "
            "the export's own direction (outgoing/sent). Add the victim with "
            "`cyberstalk case person add DIR --role victim ...`."
        )
    elif len(victims) > 1:
        notes.append(
            f"More than one victim in case.toml ({', '.join(sorted(victims))}): "
            "contacts to any of them are counted together."
        )
    victim_label = victim_name or ("the victim" if not victims else " / ".join(sorted(victims)))

    if person is not None:
        match = [n for n in names if n.casefold() == person.strip().casefold()]
        if not match:
            raise UsageError(
                f"--person {person!r} is not a person in case.toml "
                f"(people: {', '.join(names) or 'none'})",
                advice="add them with `cyberstalk case person add` or check the spelling",
            )
        pois: tuple[str, ...] = (match[0],)
    else:
        pois = tuple(p.name for p in config.people if p.role == "suspect")
        if not pois:
            pois = tuple(p.name for p in config.people if p.role != "victim")
            if config.people:
                notes.append(
                    "No suspect in case.toml: every person who is not the victim is "
                    "treated as a person of interest."
                )
    if not pois:
        notes.append(
            "No person of interest: case.toml names no suspect (or nobody but the victim), "
            "so no contact is counted. Add one with `cyberstalk case person add DIR --role "
            "suspect ...`."
        )
    return People(names, victims, victim_name, victim_label, pois, notes)


@dataclass
class Resolved:
    """Pass 1: the records in scope as entries, in time order, with what later passes
    need beside them (the sender's raw key; recipients of the victim's own records)."""

    entries: list[Entry]
    keys: list[str | None]
    victim_recipients: dict[int, list[Resolution]] = field(default_factory=dict)
    """Index in ``entries`` -> resolved recipients, for records from the victim."""


def resolve_entries(
    ordered: Sequence[tuple[Record, str]],
    resolver: Resolver,
    people: People,
    zone: ZoneInfo,
    *,
    person: str | None,
    date_from: date | None,
    date_to: date | None,
) -> Resolved:
    """Resolve, direct and filter: one :class:`Entry` per record in scope (``contact``
    and ``occasion`` are filled in once the occasions are known)."""
    victims = people.victims
    pois = people.pois
    entries: list[Entry] = []
    keys: list[str | None] = []
    victim_recipients: dict[int, list[Resolution]] = {}
    platform_of: dict[str, str] | None = None
    shown: dict[str, str] = {}
    dated = date_from is not None or date_to is not None
    resolve = resolver.resolve
    for rec, rec_id in ordered:
        t = rec.time_utc
        local = t.astimezone(zone) if t else None
        if dated:
            if local is None:
                continue
            if (date_from and local.date() < date_from) or (date_to and local.date() > date_to):
                continue
        if rec.kind is _SCREENSHOT_TEXT:
            # a name read off a screenshot has no platform of its own: hint it
            if platform_of is None:
                platform_of = {
                    rid: r.platform for r, rid in ordered if r.kind is not _SCREENSHOT_TEXT
                }
            hints = platform_hints(rec, platform_of)
            sender = resolver.resolve_hinted(rec.sender, hints, rec.platform)
            recips = [
                r for v in rec.recipients if (r := resolver.resolve_hinted(v, hints, rec.platform))
            ]
        else:
            sender = resolve(rec.sender, rec.platform)
            recips = (
                [r for v in rec.recipients if (r := resolve(v, rec.platform))]
                if rec.recipients
                else []
            )
        direction = direction_of(rec, sender, recips, victims)
        who = sender.person if sender else None
        if person is not None:
            involved = (
                who == pois[0]
                or any(r.person == pois[0] for r in recips)
                or direction is EVENT
                or (
                    direction is FROM_VICTIM
                    and not any(r.person and r.person != pois[0] for r in recips)
                )
            )
            if not involved:
                continue
        key = sender.key if sender else None
        ident = None
        if key:
            ident = shown.get(key)
            if ident is None:
                ident = shown[key] = display_key(key)
        if direction is FROM_VICTIM and recips:
            victim_recipients[len(entries)] = recips
        entries.append(Entry(rec, rec_id, local, direction, who, ident, False, None))
        keys.append(key)
    return Resolved(entries, keys, victim_recipients)


@dataclass
class Tally:
    """Pass 2: identifier use, unresolved senders and counted contacts."""

    uses: dict[tuple[str, str], list[Any]]
    unresolved: dict[str, dict[str, Any]]
    counted: dict[str, list[Contact]]
    platforms: dict[str, int]
    unattributed: int
    withheld: int
    untimed: int
    withheld_rows: int


def tally_identities(res: Resolved, resolver: Resolver, poi_set: frozenset[str]) -> Tally:
    uses: dict[tuple[str, str], list[Any]] = {}
    unresolved: dict[str, dict[str, Any]] = {}
    counted: dict[str, list[Contact]] = defaultdict(list)
    unattributed = withheld = untimed = withheld_rows = 0
    platforms: dict[str, int] = defaultdict(int)
    withheld_flag = Flag.WITHHELD_NUMBER.value
    to_victim = TO_VICTIM
    for e, key in zip(res.entries, res.keys, strict=True):
        rec = e.record
        rid = e.id
        who = e.person
        t = rec.time_utc
        platforms[rec.platform] += 1
        if withheld_flag in rec.flags:
            withheld_rows += 1
        if t is None:
            untimed += 1
        is_contact = e.direction is to_victim and _is_counted(rec)
        if who is not None and key is not None and t is not None:
            u = uses.get((who, key))
            if u is None:
                u = uses[who, key] = [0, t, None, rid, None]
            u[0] += 1
            u[2], u[4] = t, rid
        if rec.sender and who is None and e.direction is not FROM_VICTIM:
            r = resolver.resolve(rec.sender, rec.platform)
            assert r is not None
            item = unresolved.setdefault(
                r.key,
                {
                    "raw": rec.sender,
                    "platforms": set(),
                    "count": 0,
                    "first": None,
                    "last": None,
                    "example": rid,
                    "to_victim": 0,
                    "withheld": r.withheld,
                    "ambiguous": r.ambiguous,
                },
            )
            item["platforms"].add(rec.platform)
            item["count"] += 1
            if t is not None:
                if item["first"] is None:
                    item["first"] = t
                item["last"] = t
            if is_contact:
                item["to_victim"] += 1
        if is_contact and who is None:
            unattributed += 1
            if withheld_flag in rec.flags or not rec.sender or key == "withheld":
                withheld += 1
        if is_contact and who in poi_set and t is not None:
            assert who is not None and e.local is not None
            counted[who].append((t, rid, rec.platform, rec.subtype, e.local))
    return Tally(
        uses, unresolved, counted, platforms, unattributed, withheld, untimed, withheld_rows
    )


def identity_tables(
    config: CaseConfig, tally: Tally
) -> tuple[list[PersonIdentities], list[Unresolved]]:
    """Each person's identifiers with their first and last use; the unresolved senders,
    most contacts with the victim first."""
    identities: list[PersonIdentities] = []
    for someone in config.people:
        items: list[IdentifierUse] = []
        seen_keys: set[str] = set()
        for ident in someone.identifiers:
            k = identifier_key(ident)
            if k in seen_keys:
                continue
            seen_keys.add(k)
            u = tally.uses.get((someone.name, k)) or [0, None, None, None, None]
            items.append(IdentifierUse(display_key(k), ident.value, ident.platform, *u))
        identities.append(PersonIdentities(someone.name, someone.role, tuple(items)))
    unresolved_list = []
    for k, item in tally.unresolved.items():
        note = ""
        if item["ambiguous"]:
            note = "matches more than one person: " + ", ".join(item["ambiguous"])
        elif item["withheld"]:
            note = "withheld number: cannot be assigned from the record alone"
        unresolved_list.append(
            Unresolved(
                item["raw"],
                display_key(k),
                tuple(sorted(item["platforms"])),
                item["count"],
                item["first"],
                item["last"],
                item["example"],
                item["to_victim"],
                note,
            )
        )
    unresolved_list.sort(key=lambda u: (-u.to_victim, -u.count, u.key))
    return identities, unresolved_list


Block = tuple[Record, str, datetime, str | None]
"""A block or unblock event: ``(record, id, time, person blocked or None)``."""


@dataclass
class Replies:
    """Pass 3: what the victim sent (replies), blocks, and contact by a person of interest
    with third parties. Nothing here needs the lexicon hits, which may still be being
    found beside (:class:`HitsBeside`)."""

    replies: dict[str, list[tuple[datetime, str, bool]]]
    blocks: list[Block]
    third_party: dict[str, list[str]]
    aimed: dict[int, tuple[str, ...]]
    """Index in ``entries`` of each timed record from the victim -> the persons of interest
    it was sent to (for its stop requests)."""


def read_replies(
    res: Resolved,
    people: People,
    resolver: Resolver,
    occasion_of: dict[str, str],
) -> Replies:
    pois = people.pois
    poi_set = people.poi_set
    victims = people.victims
    poi_pairs: dict[str, set[tuple[str, str | None]]] = defaultdict(set)
    for e in res.entries:
        if e.person in poi_set and e.direction is not FROM_VICTIM:
            poi_pairs[e.person].add((e.record.platform, e.record.conversation))

    def aimed_at(rec: Record, recips: list[Resolution], p: str) -> bool:
        named = {r.person for r in recips if r.person and r.person not in victims}
        if named:
            return p in named
        return (rec.platform, rec.conversation) in poi_pairs[p]

    replies: dict[str, list[tuple[datetime, str, bool]]] = {p: [] for p in pois}
    blocks: list[Block] = []
    third_party: dict[str, list[str]] = defaultdict(list)
    aimed: dict[int, tuple[str, ...]] = {}
    no_recips: list[Resolution] = []
    for n, e in enumerate(res.entries):
        rec = e.record
        t = rec.time_utc
        if t is None:
            continue
        direction = e.direction
        who = e.person
        if direction is FROM_VICTIM:
            recips = res.victim_recipients.get(n, no_recips)
            to = aimed[n] = tuple(p for p in pois if aimed_at(rec, recips, p))
            for p in to:
                replies[p].append((t, e.id, True))
        elif direction is TO_VICTIM and who in poi_set and e.id in occasion_of:
            assert who is not None
            replies[who].append((t, e.id, False))
        elif direction is OTHER and who in poi_set:
            assert who is not None
            third_party[who].append(e.id)
        elif direction is EVENT and rec.subtype in ("block", "unblock"):
            target = _block_target(rec, resolver, victims)
            blocks.append((rec, e.id, t, target))
    return Replies(replies, blocks, third_party, aimed)


@dataclass
class Matches:
    """Pass 4: the lexicon matches in the victim's records and in the contacts of persons
    of interest, in time order."""

    matches: list[LexiconMatch]
    match_times: dict[str, datetime]
    """A contact's record id -> its local time, for each contact with a match."""
    stop_requests: dict[str, list[tuple[datetime, str, LexiconMatch]]]
    """Person of interest -> the stop requests the victim sent them."""


def lexicon_matches(
    res: Resolved,
    people: People,
    rep: Replies,
    occasion_of: dict[str, str],
    hits: dict[str, lexicon.Pair],
) -> Matches:
    """``hits``: the lexicon hits of the records' texts (:func:`lexicon.find_in_texts`):
    those of the victim's categories in her records, of the subject's in the contacts."""
    poi_set = people.poi_set
    aimed = rep.aimed
    matches: list[LexiconMatch] = []
    match_times: dict[str, datetime] = {}
    stop_requests: dict[str, list[tuple[datetime, str, LexiconMatch]]] = defaultdict(list)
    get = hits.get
    for n, e in enumerate(res.entries):
        rid = e.id
        pair = get(rid)
        if pair is None:
            continue
        direction = e.direction
        if direction is FROM_VICTIM:
            to = aimed.get(n)
            if to is None or not pair[0]:  # untimed, or no hit of hers
                continue
            found = [_new_match(LexiconMatch, (rid, *h)) for h in pair[0]]
            t = e.record.time_utc
            assert t is not None  # (an untimed record has no place in ``aimed``)
            asks = [(t, rid, m) for m in found if m.category == "stop_request"]
            for p in to:
                stop_requests[p] += asks
            matches += found
        elif (
            direction is TO_VICTIM
            and pair[1]
            and e.person in poi_set
            and rid in occasion_of
            and e.record.time_utc is not None
        ):
            theirs = pair[1]
            if len(theirs) == 1:  # (most: one phrase in a message)
                matches.append(_new_match(LexiconMatch, (rid, *theirs[0])))
            else:
                matches += [_new_match(LexiconMatch, (rid, *h)) for h in theirs]
            assert e.local is not None
            match_times[rid] = e.local
    return Matches(matches, match_times, stop_requests)


def contact_after_blocks(
    blocks: Sequence[Block], people: People, tally: Tally, notes: list[str]
) -> list[AfterBlock]:
    """For each block: the person's contacts after it (until an unblock on the same
    platform), and identifiers first used after it."""
    pois = people.pois
    poi_set = people.poi_set
    uses = tally.uses
    after_block: list[AfterBlock] = []
    for rec, rid, when, target in blocks:
        if rec.subtype != "block":
            continue
        targets = [target] if target in poi_set else (list(pois) if target is None else [])
        for p in targets:
            assert p is not None
            until = min(
                (
                    w
                    for r2, _, w, t2 in blocks
                    if r2.subtype == "unblock"
                    and w > when
                    and r2.platform == rec.platform
                    and t2 in (p, None)
                ),
                default=None,
            )
            later = [
                (t, r, plat)
                for t, r, plat, _, _ in tally.counted[p]
                if t > when and (until is None or t < until or plat != rec.platform)
            ]
            before_keys = {k for (pp, k), u in uses.items() if pp == p and u[1] <= when}
            later_ids = {r for _, r, _ in later}
            new_ids: list[tuple[str, str]] = []
            for (pp, k), u in sorted(uses.items(), key=lambda kv: kv[1][1]):
                if pp == p and k not in before_keys and u[3] in later_ids:
                    new_ids.append((display_key(k), u[3]))
            after_block.append(
                AfterBlock(
                    p, rid, when, rec.platform, tuple(r for _, r, _ in later), tuple(new_ids)
                )
            )
            if target is None:
                notes.append(
                    f"The block event {rid} ({rec.platform}) does not name who was blocked; it "
                    f"is applied to {p}, a person of interest."
                )
    return after_block


def order_breaches(
    config: CaseConfig,
    people: People,
    entries: Sequence[Entry],
    tally: Tally,
    third_party: dict[str, list[str]],
    notes: list[str],
) -> list[Breach]:
    """Contacts (to the victim or anyone) by an order's subject after it was served."""
    breaches: list[Breach] = []
    by_time: dict[str, datetime | None] | None = None
    for order in config.orders:
        subject = next((n for n in people.names if n.casefold() == order.subject.casefold()), None)
        if subject is None:
            notes.append(
                f"Order {order.kind!r}: subject {order.subject!r} is not a person in "
                "case.toml, so contacts cannot be checked against it."
            )
            continue
        if order.served is None:
            notes.append(
                f"Order {order.kind!r} binding {subject} has no service time: add "
                "`served` to case.toml to list contacts after service."
            )
            continue
        if subject not in people.poi_set:
            continue
        served = order.served
        counted = tally.counted[subject]  # in time order
        first = bisect_left(counted, served, key=itemgetter(0))
        after_service = [c[1] for c in itertools.islice(counted, first, None)]
        if third_party.get(subject):
            if by_time is None:
                by_time = {e.id: e.record.time_utc for e in entries}
            after_service += [
                rid
                for rid in third_party[subject]
                if (t3 := by_time.get(rid)) is not None and t3 >= served
            ]
        wanted = set(after_service)
        breaches.append(
            Breach(
                order.kind,
                subject,
                order.made,
                served,
                order.conditions,
                tuple(e.id for e in entries if e.id in wanted),  # in time order
            )
        )
    return breaches


def person_summaries(
    people: People,
    tally: Tally,
    occasions: Sequence[Occasion],
    rep: Replies,
    settings: Settings,
    zone: ZoneInfo,
) -> list[PersonSummary]:
    """Each person of interest's summary figures."""
    return [
        person_summary(
            p,
            tally.counted[p],
            [o for o in occasions if o.person == p],
            rep.replies[p],
            settings,
            zone,
        )
        for p in people.pois
    ]


def person_results(
    people: People,
    tally: Tally,
    occasions: Sequence[Occasion],
    summaries: Sequence[PersonSummary],
    found: Matches,
    rep: Replies,
    after_block: Sequence[AfterBlock],
    breaches: Sequence[Breach],
    occasion_of: dict[str, str],
    settings: Settings,
    zone: ZoneInfo,
) -> list[Indicator]:
    """Each person of interest's indicators (``summaries``: of :func:`person_summaries`)."""
    indicators: list[Indicator] = []
    for p, ps in zip(people.pois, summaries, strict=True):
        mine = [o for o in occasions if o.person == p]
        counted = tally.counted[p]
        mine_ids = {o.id for o in mine}  # a counted contact is on one occasion of its sender's
        facts = PersonFacts(
            person=p,
            summary=ps,
            occasion_firsts=[o.records[0] for o in mine],
            contacts=counted,
            attempts=[c[1] for c in counted if c[3] in NOT_CONNECTED] if ps.attempts else [],
            matches=[m for m in found.matches if occasion_of.get(m.record) in mine_ids],
            match_times=found.match_times,
            stop_requests=found.stop_requests[p],
            blocks=[b for b in after_block if b.person == p],
            breaches=[b for b in breaches if b.subject == p],
            third_party=rep.third_party.get(p, []),
        )
        indicators += person_indicators(facts, settings, people.victim_label, zone)
    return indicators


def indicators_by_record(indicators: Iterable[Indicator]) -> dict[str, tuple[str, ...]]:
    """Record id -> the ids of the indicators citing it, in indicator order.

    Built from sets, not record by record: the records are split into classes by the
    indicators that cite them (each indicator splits every class into the records it
    cites and the rest), and each class's combination is one tuple. A long course of
    conduct has a few classes of up to every contact."""
    classes: dict[tuple[str, ...], set[str]] = {}
    for ind in indicators:
        mine = set(ind.records)
        if not mine:
            continue
        split: dict[tuple[str, ...], set[str]] = {}
        for combo, rids in classes.items():
            both = rids & mine if mine else mine
            mine -= both
            if both and ind.id not in combo:
                if len(both) < len(rids):
                    rids -= both  # (this class's own set: the old classes are dropped)
                    _join(split, combo, rids)
                _join(split, (*combo, ind.id), both)
            else:
                _join(split, combo, rids)
        if mine:
            _join(split, (ind.id,), mine)
        classes = split
    out: dict[str, tuple[str, ...]] = {}
    for combo, rids in classes.items():
        out.update(dict.fromkeys(rids, combo))
    return out


def _join(classes: dict[tuple[str, ...], set[str]], combo: tuple[str, ...], rids: set[str]) -> None:
    have = classes.get(combo)
    if have is None:
        classes[combo] = rids
    else:
        have |= rids


def analyse_records(
    records: Iterable[Record],
    config: CaseConfig,
    *,
    ids: Sequence[str] | None = None,
    settings: Settings | None = None,
    person: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    text_hits: Callable[[], dict[str, lexicon.Pair] | None] | None = None,
) -> Analysis:
    """The analysis itself, on records already loaded (tests call this directly).
    ``text_hits``: gives the lexicon hits of the records' texts, found beside the
    analysis (:class:`HitsBeside`); None, or when it gives None, they are found here."""
    settings = settings or Settings()
    zone = ZoneInfo(config.timezone)
    resolver = Resolver(config.people)
    people = case_people(config, person)
    notes = people.notes
    if date_from and date_to and date_from > date_to:
        raise UsageError(f"--from {date_from} is after --to {date_to}")

    recs = records if isinstance(records, list) else list(records)
    rids = ids if ids is not None else [r.id for r in recs]
    if len(rids) != len(recs):
        raise ValueError("analyse_records: ids and records differ in length")
    ordered = sorted(zip(recs, rids, strict=True), key=lambda pair: record_sort_key(*pair))
    total = len(ordered)

    res = resolve_entries(
        ordered, resolver, people, zone, person=person, date_from=date_from, date_to=date_to
    )
    del ordered
    if (date_from or date_to) and total:
        notes.append(
            "Records outside the chosen dates, and records without a time, are left "
            "out of this report and of every figure in it."
        )
    tally = tally_identities(res, resolver, people.poi_set)
    identities, unresolved_list = identity_tables(config, tally)
    if tally.withheld_rows and not any(u.note.startswith("withheld") for u in unresolved_list):
        notes.append(
            f"{tally.withheld_rows} record(s) carry a withheld number; they reach the "
            "victim but are not attributed to anyone."
        )

    occasions, occasion_of = group_occasions(
        {p: tally.counted[p] for p in people.pois}, settings.occasion_gap_hours
    )
    for e in res.entries:
        occ = occasion_of.get(e.id)
        if occ is not None:
            e.contact = True
            e.occasion = occ

    rep = read_replies(res, people, resolver, occasion_of)
    after_block = contact_after_blocks(rep.blocks, people, tally, notes)
    breaches = order_breaches(config, people, res.entries, tally, rep.third_party, notes)
    summaries = person_summaries(people, tally, occasions, rep, settings, zone)
    # the passes above need no lexicon hits: a child finding them has had their time
    lexicons = lexicon.load_lexicons()
    hits = text_hits() if text_hits is not None else None
    if hits is None:
        hits = lexicon.find_in_texts(lexicons, ((e.id, e.record.text) for e in res.entries))
    found = lexicon_matches(res, people, rep, occasion_of, hits)
    del hits
    indicators = person_results(
        people,
        tally,
        occasions,
        summaries,
        found,
        rep,
        after_block,
        breaches,
        occasion_of,
        settings,
        zone,
    )
    summary = Summary(
        records_total=total,
        records_in_scope=len(res.entries),
        untimed=tally.untimed,
        platforms=tuple(sorted(tally.platforms.items())),
        unattributed_to_victim=tally.unattributed,
        withheld=tally.withheld,
        persons=tuple(summaries),
    )
    matches, block_events = found.matches, rep.blocks
    # what only the passes needed (every contact and reply as a tuple) goes before the
    # record index is built: the analysis's peak memory is here
    del tally, rep, found, occasion_of
    entries = tuple(res.entries)
    del res
    by_id = {e.id: e for e in entries}
    return Analysis(
        reference=config.reference,
        timezone=config.timezone,
        settings=settings,
        person_filter=people.pois[0] if person else None,
        date_from=date_from,
        date_to=date_to,
        victim=people.victim_name,
        persons_of_interest=people.pois,
        entries=entries,
        identities=tuple(identities),
        unresolved=tuple(unresolved_list),
        occasions=tuple(occasions),
        summary=summary,
        indicators=tuple(indicators),
        breaches=tuple(breaches),
        after_block=tuple(after_block),
        matches=tuple(matches),
        blocks=tuple(by_id[rid] for _, rid, _, _ in block_events if rid in by_id),
        notes=tuple(dict.fromkeys(notes)),
        lexicon_info=tuple((lx.language, lx.file, lx.size) for lx in lexicons),
        by_id=by_id,
        indicators_by_record=indicators_by_record(indicators),
    )
