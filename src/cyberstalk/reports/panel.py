"""The multi-agency stalking panel pack: the timeline analysis summarised for a meeting of
police, probation, victim support and CPS, with the people masked.

The pack holds no message text unless the officer asks for a record's text by its id.
Everything in it is built once as plain data (:func:`build_pack`), with every name and
identifier of case.toml already replaced (:mod:`cyberstalk.reports.redact`), and the HTML,
PDF and JSON are renderings of that one structure: the three formats cannot disagree, and
no renderer ever sees a clear identifier. The pack flags, it never judges: each item is
"possible" and "for the panel's consideration", with the records behind it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from cyberstalk.case import Case, CaseConfig
from cyberstalk.errors import ReportError, UsageError
from cyberstalk.hashing.fsutil import atomic_write
from cyberstalk.records import utc_iso
from cyberstalk.reports.common import CSP
from cyberstalk.reports.redact import ROLE_HELP, Redactor, choose_fields
from cyberstalk.reports.timeline_common import (
    DIRECTION_LABELS,
    ReportMeta,
    local_text,
    meta_for,
    risk_summary,
)
from cyberstalk.reports.timeline_html import env, escape
from cyberstalk.timeline import Analysis, Entry, analyse
from cyberstalk.timeline.indicators import day

FORMATS = ("html", "pdf", "json")
PERIODS = ("auto", "week", "month")
SCHEMA = 1
"""Version of the JSON pack's layout."""
IDS_SHOWN = 60
"""Record ids printed per item in the HTML and PDF (the JSON lists every one)."""
AUTO_WEEKS = 26
"""``--period auto``: weeks when contact spans at most this many weeks, else months."""

FOUR = ("fixated", "obsessive", "unwanted", "repeated")
S2A3 = ("contact_any_means", "monitoring", "loitering", "publishing")
NOT_RAISED = {
    "fixated": "Fixated: contact spanning many days, or fixation phrases on two or more days.",
    "obsessive": "Obsessive: many contacts in a day, long runs without a reply, many channels.",
    "unwanted": "Unwanted: contact continuing after the victim asked for it to stop or blocked.",
    "repeated": "Repeated: contact on two or more occasions (PHA 1997 s.7(3)).",
    "contact_any_means": "s.2A(3)(b): contact through two or more channels or failed calls.",
    "monitoring": "s.2A(3)(d), (g): phrases showing monitoring, watching or spying.",
    "loitering": "s.2A(3)(a), (e), (g): phrases showing following, loitering or watching.",
    "publishing": "s.2A(3)(c): phrases showing publishing material about the person.",
}
"""What each FOUR and s.2A(3) rule looks for, shown when it is not raised."""
POSSIBLE = "possible: for the panel's consideration"
PALETTE = (
    "#1d3c6e",
    "#b36b00",
    "#2e7d32",
    "#7a1f5c",
    "#00838f",
    "#6d4c41",
    "#5e35b1",
    "#c62828",
    "#546e7a",
)


@dataclass(frozen=True)
class PanelOptions:
    """What the officer chose for one pack."""

    role: str = "panel"
    """Agency preset (:data:`cyberstalk.reports.redact.ROLE_PRESETS`)."""
    reveal: tuple[str, ...] = ()
    """Fields shown in clear on top of the preset (``suspect-name``, ``phone``...)."""
    mask: tuple[str, ...] = ()
    """Fields masked even though the preset shows them."""
    include_text: tuple[str, ...] = ()
    """Record ids whose text is printed (masked like everything else)."""
    period: str = "auto"
    """Escalation chart buckets: week, month, or auto."""


@dataclass
class PanelResult:
    """What making a pack did."""

    format: str
    path: Path
    sha256: str
    size: int
    role: str
    revealed: tuple[str, ...]
    redaction: dict[str, Any] = field(default_factory=dict)
    included: tuple[str, ...] = ()


# --------------------------------------------------------------------------- the pack


def _risk(a: Analysis, meta: ReportMeta, r: Redactor) -> dict[str, Any]:
    """The risk summary (questions, evidence ids, answers, grading, who and when), with
    every name in the evidence lines and the officer's notes masked like the rest."""
    data = risk_summary(a, meta)
    for q in data["questions"]:
        for ev in q["evidence"]:
            ev["en"], ev["cy"] = r.untrusted(ev["en"]), r.untrusted(ev["cy"])
        if q["answer"] is not None:
            q["answer"]["note"] = r.untrusted(q["answer"]["note"])
    if data["grading"] is not None:
        data["grading"]["reasons"] = r.untrusted(data["grading"]["reasons"])
    return data


@dataclass
class _Cite:
    """What every section of the pack needs: the analysis, the redactor, the timezone, and
    the records cited so far (the record index lists them)."""

    a: Analysis
    r: Redactor
    zone: ZoneInfo
    cited: set[str]

    def when(self, dt: datetime | None) -> str:
        return short_time(dt, self.zone)

    def ids(self, records: tuple[str, ...] | list[str]) -> list[str]:
        # The index holds the records the HTML links to (the first IDS_SHOWN of each
        # list), so a 200,000-record case still gives a pack a panel can read.
        self.cited.update(records[:IDS_SHOWN])
        return list(records)


def build_pack(
    a: Analysis, config: CaseConfig, meta: ReportMeta, options: PanelOptions
) -> tuple[dict[str, Any], Redactor]:
    """The pack as plain data (fixed key order), every person and identifier masked."""
    if options.period not in PERIODS:
        raise UsageError(f"--period {options.period!r} is not one of {', '.join(PERIODS)}")
    revealed, revealed_text = choose_fields(options.role, options.reveal, options.mask)
    missing = [rid for rid in options.include_text if rid not in a.by_id]
    if missing:
        raise UsageError(
            f"--include-text {missing[0]}: no record with that id in the pack's scope",
            advice="record ids are in the pack's record index and in `cyberstalk timeline "
            "CASE --format json`",
        )
    r = Redactor.for_case(config, revealed)
    zone = ZoneInfo(a.timezone)

    pois = a.persons_of_interest
    contacts: dict[str, list[Entry]] = {p: [] for p in pois}
    all_contacts: list[Entry] = []  # every person of interest's, in chronology order
    for e in a.entries:
        if e.contact and e.person in contacts:
            contacts[e.person].append(e)
            all_contacts.append(e)
    c = _Cite(a, r, zone, set(options.include_text))
    cited = c.cited

    people = _people(config, pois, r)
    summary = _summary(c, contacts)
    indicators = _indicators(c)
    after_block = _after_block(c)
    breaches = _breaches(c)
    platforms = _platforms(c, all_contacts)

    escalation = _escalation(a, all_contacts, options.period, r, zone)
    for bucket in escalation["buckets"]:
        cited.update(bucket["records"][:IDS_SHOWN])
    cited.update(m["record"] for m in escalation["marks"] if m["record"])

    occasions = _occasions(c)

    included = _included(c, options.include_text)

    risk = _risk(a, meta, r)
    for q in risk["questions"]:
        for ev in q["evidence"]:
            cited.update(ev.get("records", [])[:IDS_SHOWN])

    records = _record_index(c, options.include_text)

    scope_person = r.person(a.person_filter) if a.person_filter else None
    pack: dict[str, Any] = {
        "pack": "multi-agency stalking panel pack",
        "schema": SCHEMA,
        "case": {
            "reference": meta.reference,
            "force": meta.force,
            "officer": meta.officer,
            "timezone": a.timezone,
        },
        "generated_at": utc_iso(meta.generated_at),
        "generated": local_text(meta.generated_at.astimezone(zone)),
        "tool": meta.tool,
        "role": options.role,
        "role_help": ROLE_HELP[options.role],
        "revealed": list(revealed_text),
        "scope": {
            "person": scope_person,
            "from": a.date_from.isoformat() if a.date_from else None,
            "to": a.date_to.isoformat() if a.date_to else None,
            "persons_of_interest": [r.person(p) for p in pois],
        },
        "people": people,
        "summary": summary,
        "unattributed": {
            "contacts_to_victim": a.summary.unattributed_to_victim,
            "withheld_number": a.summary.withheld,
            "unresolved_identifiers": len(a.unresolved),
        },
        "indicators": indicators,
        "after_block": after_block,
        "breaches": breaches,
        "risk": risk,
        "platforms": platforms,
        "escalation": escalation,
        "occasions": occasions,
        "included_text": included,
        "records": records,
        "notes": [r.untrusted(n) for n in a.notes],
        "settings": [[k, v] for k, v in a.settings.describe()],
    }
    pack["redaction"] = {
        "masked_by_default": "every name and identifier in case.toml; unlisted phone "
        "numbers and e-mail addresses in text from the evidence",
        "revealed": list(revealed_text),
        "replacements": dict(sorted(r.counts.items())),
    }
    return pack, r


def _people(config: CaseConfig, pois: tuple[str, ...], r: Redactor) -> list[dict[str, Any]]:
    """The people, masked, with their identifiers."""
    people = [
        {
            "label": r.person(p.name),
            "role": p.role,
            "person_of_interest": p.name in pois,
            "identifiers": [
                {"kind": kind, "shown": shown} for kind, shown in r.identifier_masks[p.name]
            ],
        }
        for p in config.people
    ]
    return people


def _summary(c: _Cite, contacts: dict[str, list[Entry]]) -> list[dict[str, Any]]:
    """Each person of interest's figures."""
    a, r = c.a, c.r
    summary = []
    for ps in a.summary.persons:
        mine = contacts.get(ps.person, [])
        summary.append(
            {
                "person": r.person(ps.person),
                "contacts": ps.contacts,
                "occasions": ps.occasions,
                "first": c.when(ps.first),
                "last": c.when(ps.last),
                "first_record": c.ids([mine[0].id])[0] if mine else None,
                "last_record": c.ids([mine[-1].id])[0] if mine else None,
                "span_days": ps.span_days,
                "active_days": ps.active_days,
                "busiest_day": (
                    f"{ps.busiest_day[1]} on {day(ps.busiest_day[0])}" if ps.busiest_day else None
                ),
                "night_contacts": len(ps.night_contacts),
                "calls_not_connected": ps.attempts,
                "longest_without_reply": (
                    len(ps.longest_unanswered.records) if ps.longest_unanswered else 0
                ),
                "platforms": [
                    {"platform": r.untrusted(plat), "contacts": n} for plat, n in ps.channels
                ],
            }
        )
    return summary


def _indicators(c: _Cite) -> list[dict[str, Any]]:
    """Each person of interest's FOUR and s.2A(3) items, raised or not, then the
    other indicators raised."""
    a, r = c.a, c.r
    indicators = []
    for p in a.persons_of_interest:
        raised = {i.id: i for i in a.indicators if i.person == p}

        def item(ind_id: str) -> dict[str, Any]:
            ind = raised.get(ind_id)  # noqa: B023 - called at once, in this iteration
            if ind is None:
                return {
                    "id": ind_id,
                    "title": ind_id.replace("_", " ").capitalize(),
                    "raised": False,
                    "status": "not raised by the rules",
                    "rule": NOT_RAISED.get(ind_id, ""),
                    "details": [],
                    "count": 0,
                    "records": [],
                }
            return {
                "id": ind.id,
                "title": r.text(ind.title),
                "raised": True,
                "status": POSSIBLE,
                "rule": r.text(ind.rule),
                "details": [r.text(d) for d in ind.details],
                "count": len(ind.records),
                "records": c.ids(ind.records),
            }

        four = [item(i) for i in FOUR]
        s2a3 = [item(i) for i in S2A3]
        other = [item(i.id) for i in raised.values() if i.id not in FOUR + S2A3]
        indicators.append({"person": r.person(p), "four": four, "s2a3": s2a3, "other": other})
    return indicators


def _after_block(c: _Cite) -> list[dict[str, Any]]:
    """Contact after each block."""
    a, r = c.a, c.r
    after_block = [
        {
            "person": r.person(b.person),
            "platform": r.untrusted(b.platform),
            "block_record": c.ids([b.block_record])[0],
            "block_time": c.when(b.block_time),
            "status": POSSIBLE,
            "contacts_after": len(b.contacts),
            "records": c.ids(b.contacts),
            "new_identifiers": [
                {"identifier": r.identifier(key), "first_record": c.ids([rid])[0]}
                for key, rid in b.new_identifiers
            ],
        }
        for b in a.after_block
    ]
    return after_block


def _breaches(c: _Cite) -> list[dict[str, Any]]:
    """Each order and the contacts after its service."""
    a, r = c.a, c.r
    breaches = [
        {
            "order": r.text(b.order_kind),
            "subject": r.person(b.subject),
            "made": day(b.made) if b.made else None,
            "served": c.when(b.served),
            "conditions": [r.text(c) for c in b.conditions],
            "status": (
                f"Possible breach: {len(b.records)} contact(s) after service, for the panel's "
                "consideration (whether a condition was broken, and any reasonable excuse, "
                "is not decided here)"
                if b.records
                else "no contact after service in the records"
            ),
            "contacts_after_service": len(b.records),
            "records": c.ids(b.records),
        }
        for b in a.breaches
    ]
    return breaches


def _platforms(c: _Cite, all_contacts: list[Entry]) -> list[dict[str, Any]]:
    """Contacts per platform, with the identifiers used on it."""
    r = c.r
    by_platform: dict[str, list[Entry]] = {}
    for e in all_contacts:
        by_platform.setdefault(e.record.platform, []).append(e)
    platforms = []
    for plat in sorted(by_platform):
        mine = by_platform[plat]
        used = list(dict.fromkeys(e.identifier for e in mine if e.identifier))
        platforms.append(
            {
                "platform": r.untrusted(plat),
                "contacts": len(mine),
                "first": c.when(mine[0].local),
                "last": c.when(mine[-1].local),
                "identifiers": [r.identifier(k) for k in used],
                "records": c.ids([e.id for e in mine]),
            }
        )
    return platforms


def _occasions(c: _Cite) -> list[dict[str, Any]]:
    """The occasions."""
    a, r = c.a, c.r
    occasions = [
        {
            "id": o.id,
            "person": r.person(o.person),
            "number": o.number,
            "start": c.when(o.start),
            "end": c.when(o.end),
            "contacts": len(o.records),
            "channels": [r.untrusted(c) for c in o.channels],
            "records": c.ids(o.records),
        }
        for o in a.occasions
    ]
    return occasions


def _included(c: _Cite, include_text: tuple[str, ...]) -> list[dict[str, Any]]:
    """The texts the officer chose to include."""
    a, r = c.a, c.r
    included = []
    for rid in include_text:
        e = a.by_id[rid]
        included.append(
            {
                "record": rid,
                "time": c.when(e.local),
                "platform": r.untrusted(e.record.platform),
                "from": _from(e, r, a),
                "text": r.untrusted(e.record.text),
                "attachments": [r.untrusted(att.name) for att in e.record.attachments],
            }
        )
    return included


def _record_index(c: _Cite, include_text: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every cited record: when, where, from whom (its text only when included)."""
    a, r = c.a, c.r
    included_set = set(include_text)
    records = [
        {
            "id": e.id,
            "time": c.when(e.local) or "no time",
            "time_utc": utc_iso(e.record.time_utc) if e.record.time_utc else None,
            "platform": r.untrusted(e.record.platform),
            "kind": e.record.kind.value + (f"/{e.record.subtype}" if e.record.subtype else ""),
            "direction": DIRECTION_LABELS[e.direction.value],
            "from": _from(e, r, a),
            "conversation": r.conversation(e.record.conversation),
            "attachments": [r.untrusted(att.name) for att in e.record.attachments],
            "flags": sorted(e.record.flags),
            "locator": r.untrusted(e.record.locator.describe()),
            "occasion": e.occasion,
            "text": "included below" if e.id in included_set else "not included",
        }
        for e in a.entries
        if e.id in c.cited
    ]
    return records


def short_time(dt: datetime | None, zone: ZoneInfo) -> str:
    """``18 Feb 2026 06:45 GMT``: the case zone's abbreviation tells GMT from BST."""
    if dt is None:
        return ""
    local = dt.astimezone(zone)
    return f"{local.day} {local:%b %Y %H:%M} {local.tzname()}"


def _from(e: Entry, r: Redactor, a: Analysis) -> str:
    if e.person:
        return r.person(e.person)
    if "withheld_number" in e.record.flags:
        return "withheld number"
    if e.direction.value == "from_victim":
        return r.person(a.victim) if a.victim else "the victim's device"
    return "sender not attributed" if e.record.sender else ""


def _bucket(d: date, period: str) -> tuple[str, date, str]:
    """(key, first day, label) of the week or month holding ``d``."""
    if period == "week":
        y, w, _ = d.isocalendar()
        start = date.fromisocalendar(y, w, 1)
        return f"{y}-W{w:02d}", start, f"{start.day} {start:%b}"
    start = date(d.year, d.month, 1)
    return f"{d:%Y-%m}", start, f"{start:%b %Y}"


def _next(start: date, period: str) -> date:
    if period == "week":
        return start + timedelta(days=7)
    return date(start.year + (start.month == 12), start.month % 12 + 1, 1)


def _escalation(
    a: Analysis, contacts: list[Entry], period: str, r: Redactor, zone: ZoneInfo
) -> dict[str, Any]:
    """Contacts per week or month by platform, every period from the first contact to the
    last (empty ones too: a quiet month is part of the picture)."""
    timed = [e for e in contacts if e.local is not None]
    if period == "auto":
        if timed:
            span = (timed[-1].local.date() - timed[0].local.date()).days  # type: ignore[union-attr]
            period = "week" if span <= AUTO_WEEKS * 7 else "month"
        else:
            period = "week"
    plats = sorted({e.record.platform for e in timed})
    buckets: list[dict[str, Any]] = []
    if timed:
        first = _bucket(timed[0].local.date(), period)[1]  # type: ignore[union-attr]
        last = _bucket(timed[-1].local.date(), period)[1]  # type: ignore[union-attr]
        grouped: dict[str, list[Entry]] = {}
        for e in timed:
            grouped.setdefault(_bucket(e.local.date(), period)[0], []).append(e)  # type: ignore[union-attr]
        start = first
        while start <= last:
            key, _, label = _bucket(start, period)
            mine = grouped.get(key, [])
            counts = Counter(e.record.platform for e in mine)
            buckets.append(
                {
                    "period": key,
                    "start": start.isoformat(),
                    "label": label,
                    "total": len(mine),
                    "by_platform": {r.untrusted(p): counts[p] for p in plats},
                    "records": [e.id for e in mine],
                }
            )
            start = _next(start, period)
    marks = []
    for b in a.breaches:
        marks.append(
            {
                "kind": "order",
                "label": r.text(f"{b.order_kind} served"),
                "date": b.served.astimezone(zone).date().isoformat(),
                "record": None,
            }
        )
    for e in a.blocks:
        if e.local is not None and e.record.subtype == "block":
            marks.append(
                {
                    "kind": "block",
                    "label": f"block ({r.untrusted(e.record.platform)})",
                    "date": e.local.date().isoformat(),
                    "record": e.id,
                }
            )
    marks.sort(key=lambda m: (m["date"], m["kind"], m["label"]))
    busiest = max(buckets, key=lambda b: (b["total"], -len(b["period"])), default=None)
    return {
        "period": period,
        "platforms": [r.untrusted(p) for p in plats],
        "buckets": buckets,
        "marks": marks,
        "busiest": (
            {"period": busiest["period"], "contacts": busiest["total"]}
            if busiest and busiest["total"]
            else None
        ),
    }


# --------------------------------------------------------------------------- renderers


def render_json(pack: dict[str, Any]) -> bytes:
    return (json.dumps(pack, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


W, H = 1000, 300
LEFT, RIGHT, TOP, BOTTOM = 44, 170, 40, 56


def chart_svg(esc: dict[str, Any]) -> str:
    """Stacked bars of contacts per period by platform, with order service and blocks
    marked: inline SVG, every label escaped (the labels are already masked)."""
    buckets = esc["buckets"]
    if not buckets:
        return "<p>No contacts from a person of interest are in scope, so there is no chart.</p>"
    plats: list[str] = esc["platforms"]
    colour = {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(plats)}
    n = len(buckets)
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    bw = pw / n
    top = max(b["total"] for b in buckets) or 1
    word = "week" if esc["period"] == "week" else "month"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="100%" '
        'role="img" aria-labelledby="esc-title esc-desc">',
        f'<title id="esc-title">Contacts per {word} by platform</title>',
        f'<desc id="esc-desc">{escape(_chart_desc(esc))}</desc>',
        f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#999"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end" font-size="11">{top}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + ph}" text-anchor="end" font-size="11">0</text>',
    ]
    index = {b["start"]: i for i, b in enumerate(buckets)}
    for i, b in enumerate(buckets):
        y = TOP + ph
        for p in plats:
            count = b["by_platform"].get(p, 0)
            if not count:
                continue
            h = ph * count / top
            y -= h
            out.append(
                f'<rect x="{LEFT + i * bw + bw * 0.08:.2f}" y="{y:.2f}" '
                f'width="{max(bw * 0.84, 0.5):.2f}" height="{h:.2f}" fill="{colour[p]}">'
                f"<title>{escape(b['period'])} {escape(p)}: {count}</title></rect>"
            )
    step = max(1, math.ceil(n / 12))
    for i, b in enumerate(buckets):
        if i % step:
            continue
        x = LEFT + i * bw
        out.append(
            f'<line x1="{x:.2f}" y1="{TOP + ph}" x2="{x:.2f}" y2="{TOP + ph + 12}" stroke="#999"/>'
        )
        out.append(
            f'<text x="{x + 2:.2f}" y="{TOP + ph + 24}" font-size="11">{escape(b["label"])}</text>'
        )
    starts = sorted(index)
    for k, m in enumerate(esc["marks"]):
        # The period holding the mark's day, and how far into the period the day falls.
        holder = max((s for s in starts if s <= m["date"]), default=None)
        if holder is None:
            continue
        i = index[holder]
        span = 7 if esc["period"] == "week" else 31
        frac = min((date.fromisoformat(m["date"]) - date.fromisoformat(holder)).days / span, 1)
        x = LEFT + (i + frac) * bw
        if x > LEFT + pw:
            continue
        c = "#b00020" if m["kind"] == "order" else "#555"
        dash = "" if m["kind"] == "order" else ' stroke-dasharray="4 3"'
        out.append(
            f'<line x1="{x:.2f}" y1="{TOP - 4}" x2="{x:.2f}" y2="{TOP + ph}" stroke="{c}" '
            f'stroke-width="1.5"{dash}/>'
        )
        anchor = "end" if x > LEFT + pw * 0.7 else "start"
        out.append(
            f'<text x="{x + (-3 if anchor == "end" else 3):.2f}" y="{12 + (k % 2) * 13}" '
            f'font-size="11" fill="{c}" text-anchor="{anchor}">{escape(m["label"])} '
            f"{escape(m['date'])}</text>"
        )
    for i, p in enumerate(plats):
        y = TOP + 6 + i * 18
        out.append(
            f'<rect x="{W - RIGHT + 14}" y="{y}" width="12" height="12" fill="{colour[p]}"/>'
        )
        out.append(f'<text x="{W - RIGHT + 32}" y="{y + 10}" font-size="11">{escape(p)}</text>')
    out.append(
        f'<text x="{LEFT}" y="{H - 8}" font-size="11" fill="#444">Bars: contacts per {word} by '
        "platform. Solid red line: order served. Dashed line: block.</text>"
    )
    out.append("</svg>")
    return "\n".join(out)


def _chart_desc(esc: dict[str, Any]) -> str:
    buckets = esc["buckets"]
    total = sum(b["total"] for b in buckets)
    text = (
        f"{total} contacts in {len(buckets)} {esc['period']}s from {buckets[0]['period']} to "
        f"{buckets[-1]['period']}"
    )
    if esc["busiest"]:
        text += f"; most in {esc['busiest']['period']} ({esc['busiest']['contacts']})"
    return text + "."


def render_html(pack: dict[str, Any]) -> bytes:
    ctx = {
        "csp": CSP,
        "p": pack,
        "page_ref": re.sub(r"[^A-Za-z0-9/ ._-]", "", pack["case"]["reference"]),
        "chart": Markup(chart_svg(pack["escalation"])),  # noqa: S704 - escaped parts only
        "ids_shown": IDS_SHOWN,
    }
    return env().get_template("panel.html.j2").render(ctx).encode("utf-8")


def render_pdf(pack: dict[str, Any]) -> bytes:
    from cyberstalk.reports.common import html_to_pdf

    return html_to_pdf(render_html(pack).decode("utf-8"))


RENDERERS = {"html": render_html, "json": render_json, "pdf": render_pdf}


# --------------------------------------------------------------------------- the command


def default_path(case: Case, fmt: str, role: str) -> Path:
    return case.reports_dir / f"panel-pack-{role}.{fmt}"


def make_panel_pack(
    case: Case,
    fmt: str,
    out: Path | None = None,
    options: PanelOptions | None = None,
    *,
    person: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    **overrides: Any,
) -> PanelResult:
    """Analyse the case, build the masked pack, write it (whole or not at all) and record
    it in the custody log with its SHA-256, the role, the fields revealed and what was
    masked."""
    options = options or PanelOptions()
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    _, revealed_text = choose_fields(options.role, options.reveal, options.mask)  # fail early
    path = out if out is not None else default_path(case, fmt, options.role)
    if path.exists() and path.is_dir():
        raise UsageError(f"-o {path} is a folder; give a file name")
    a = analyse(case, person=person, date_from=date_from, date_to=date_to, **overrides)
    pack, redactor = build_pack(a, case.config, meta_for(case), options)
    data = RENDERERS[fmt](pack)
    sha = hashlib.sha256(data).hexdigest()
    redaction = redactor.record()
    with case.lock("panel"):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, data)
        except OSError as exc:
            raise ReportError(
                f"cannot write {path}: {exc.strerror}", advice="choose a writable path with -o"
            ) from exc
        try:
            shown = str(path.resolve().relative_to(case.root.resolve()))
        except ValueError:
            shown = str(path.resolve())
        case.log().append(
            "report_made",
            {
                "report": "panel",
                "format": fmt,
                "path": shown,
                "sha256": sha,
                "size": len(data),
                "role": options.role,
                "reveal": sorted(options.reveal),
                "mask": sorted(options.mask),
                "revealed": list(revealed_text),
                "include_text": list(options.include_text),
                "period": pack["escalation"]["period"],
                "person": a.person_filter,
                "date_from": a.date_from.isoformat() if a.date_from else None,
                "date_to": a.date_to.isoformat() if a.date_to else None,
                "redaction": redaction,
            },
        )
    return PanelResult(
        fmt, path, sha, len(data), options.role, revealed_text, redaction, options.include_text
    )
