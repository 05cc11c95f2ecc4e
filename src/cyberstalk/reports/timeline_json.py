"""Timeline as JSON: top-level ``report``, ``summary``, ``occasions``, ``indicators``...,
then ``records``, written record by record (a 200,000-record case is never one string)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from json.encoder import encode_basestring as _string
from typing import IO, Any

from cyberstalk.records import utc_iso
from cyberstalk.reports.timeline_common import MadeOnce, ReportMeta, risk_summary, utc_text
from cyberstalk.timeline import Analysis, Entry
from cyberstalk.timeline.model import PersonSummary, Run


def _d(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _run(run: Run | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "start": utc_text(run.start),
        "end": utc_text(run.end),
        "length": len(run.records),
        "records": list(run.records),
    }


def person_summary_dict(ps: PersonSummary) -> dict[str, Any]:
    return {
        "person": ps.person,
        "first_contact": utc_text(ps.first),
        "last_contact": utc_text(ps.last),
        "contacts": ps.contacts,
        "occasions": ps.occasions,
        "channels": dict(ps.channels),
        "active_days": ps.active_days,
        "span_days": ps.span_days,
        "busiest_day": (
            {"date": _d(ps.busiest_day[0]), "contacts": ps.busiest_day[1]}
            if ps.busiest_day
            else None
        ),
        "longest_daily_streak": (
            {
                "first": _d(ps.longest_streak[0]),
                "last": _d(ps.longest_streak[1]),
                "days": ps.longest_streak[2],
            }
            if ps.longest_streak
            else None
        ),
        "night_contacts": len(ps.night_contacts),
        "call_attempts_not_connected": ps.attempts,
        "longest_unanswered_run": _run(ps.longest_unanswered),
        "unanswered_runs": [_run(r) for r in ps.unanswered_runs],
        "per_day": {d.isoformat(): n for d, n in ps.per_day},
        "per_week": dict(ps.per_week),
    }


def head_sections(a: Analysis, meta: ReportMeta) -> dict[str, Any]:
    """Every section except ``records``, in a fixed order (``risk`` after the breaches)."""
    out: dict[str, Any] = {}
    for key, value in _sections(a, meta).items():
        out[key] = value
        if key == "possible_breaches":
            out["risk"] = risk_summary(a, meta)
    return out


def _sections(a: Analysis, meta: ReportMeta) -> dict[str, Any]:
    s = a.summary
    return {
        "report": {
            "title": "Course-of-conduct timeline",
            "case": meta.reference,
            "force": meta.force,
            "officer": meta.officer,
            "generated_at": utc_text(meta.generated_at),
            "tool": meta.tool,
            "timezone": a.timezone,
            "times": "time_utc is UTC; time_local is the case timezone with its offset",
            "person_filter": a.person_filter,
            "date_from": _d(a.date_from),
            "date_to": _d(a.date_to),
            "victim": a.victim,
            "persons_of_interest": list(a.persons_of_interest),
            "settings": a.settings.as_dict(),
            "lexicons": [
                {"language": lang, "file": f, "entries": n} for lang, f, n in a.lexicon_info
            ],
            "notes": list(a.notes),
            "disclaimer": (
                "Indicators are pointers for the officer's judgement, with the rule and the "
                "records behind each; they are not findings."
            ),
        },
        "summary": {
            "records_total": s.records_total,
            "records_in_scope": s.records_in_scope,
            "records_without_time": s.untimed,
            "platforms": dict(s.platforms),
            "contacts_unattributed": s.unattributed_to_victim,
            "contacts_withheld": s.withheld,
            "persons": [person_summary_dict(ps) for ps in s.persons],
        },
        "occasions": [
            {
                "id": o.id,
                "person": o.person,
                "number": o.number,
                "start": utc_text(o.start),
                "end": utc_text(o.end),
                "contacts": len(o.records),
                "channels": list(o.channels),
                "records": list(o.records),
            }
            for o in a.occasions
        ],
        "indicators": [
            {
                "id": i.id,
                "title": i.title,
                "person": i.person,
                "group": i.group,
                "rule": i.rule,
                "details": list(i.details),
                "records": list(i.records),
            }
            for i in a.indicators
        ],
        "possible_breaches": [
            {
                "order": b.order_kind,
                "subject": b.subject,
                "made": _d(b.made),
                "served": utc_text(b.served),
                "conditions": list(b.conditions),
                "records": list(b.records),
            }
            for b in a.breaches
        ],
        "after_block": [
            {
                "person": b.person,
                "block_record": b.block_record,
                "block_time": utc_text(b.block_time),
                "platform": b.platform,
                "contacts_after": list(b.contacts),
                "new_identifiers": [
                    {"identifier": k, "first_record": r} for k, r in b.new_identifiers
                ],
            }
            for b in a.after_block
        ],
        "identities": [
            {
                "person": p.name,
                "role": p.role,
                "identifiers": [
                    {
                        "identifier": u.key,
                        "as_written": u.shown,
                        "platform": u.platform,
                        "records": u.count,
                        "first_use": utc_text(u.first),
                        "last_use": utc_text(u.last),
                        "first_record": u.first_record,
                        "last_record": u.last_record,
                    }
                    for u in p.identifiers
                ],
            }
            for p in a.identities
        ],
        "unresolved_identifiers": [
            {
                "as_written": u.raw,
                "identifier": u.key,
                "platforms": list(u.platforms),
                "records": u.count,
                "to_victim": u.to_victim,
                "first_use": utc_text(u.first),
                "last_use": utc_text(u.last),
                "example_record": u.example,
                "note": u.note,
            }
            for u in a.unresolved
        ],
        "lexicon_matches": [
            {
                "record": m.record,
                "category": m.category,
                "language": m.language,
                "entry": m.entry,
                "found": m.found,
            }
            for m in a.matches
        ],
    }


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


_dump = json.JSONEncoder(
    ensure_ascii=False, sort_keys=False, separators=(",", ":"), default=_default
).encode


def _value(value: Any) -> str:
    """One JSON value, as ``_dump`` writes it (strings and None without its overhead)."""
    if type(value) is str:
        return _string(value)
    if value is None:
        return "null"
    if type(value) is int:  # as the encoder writes an int
        return int.__repr__(value)
    return _dump(value)


_INDICATORS = MadeOnce(lambda ids: _dump(list(ids)))
"""A row's ``indicators``, by its tuple of indicator ids."""


def row_json(a: Analysis, entry: Entry) -> str:
    """``_dump(record_row(a, entry))``, built from its parts: the keys are fixed, so the
    row is written directly instead of building a dict and walking it. The same bytes
    (``tests/timeline`` checks the two against each other)."""
    rec = entry.record
    loc = rec.locator
    v = _value
    t = rec.time_utc
    local = entry.local
    ind = a.indicators_by_record.get(entry.id)
    inds = _INDICATORS[ind] if ind else "[]"
    locator = ",".join(f"{_string(k)}:{v(x)}" for k, x in loc.as_dict().items())
    return "".join(
        (
            '{"id":',
            v(entry.id),
            ',"time_utc":',
            "null" if t is None else v(t.isoformat() if t.tzinfo is UTC else utc_iso(t)),
            ',"time_local":',
            "null" if local is None else v(local.isoformat()),
            ',"time_raw":',
            v(rec.time_raw),
            ',"tz_basis":',
            v(rec.tz_basis._value_),
            ',"platform":',
            v(rec.platform),
            ',"kind":',
            v(rec.kind._value_),
            ',"subtype":',
            v(rec.subtype),
            ',"direction":',
            v(entry.direction._value_),
            ',"person":',
            v(entry.person),
            ',"sender":',
            v(rec.sender),
            ',"sender_identifier":',
            v(entry.identifier),
            ',"recipients":',
            _dump(list(rec.recipients)) if rec.recipients else "[]",
            ',"conversation":',
            v(rec.conversation),
            ',"text":',
            v(rec.text),
            ',"attachments":',
            _dump([att.as_dict() for att in rec.attachments]) if rec.attachments else "[]",
            ',"flags":',
            _dump(sorted(rec.flags)) if rec.flags else "[]",
            ',"counted_contact":',
            "true" if entry.contact else "false",
            ',"occasion":',
            v(entry.occasion),
            ',"indicators":',
            inds,
            ',"exhibit":',
            v(loc.exhibit),
            ',"locator":{',
            locator,
            '},"locator_text":',
            v(loc.describe()),
            ',"parser":{"name":',
            v(rec.parser),
            ',"version":',
            v(rec.parser_version),
            '},"extra":',
            _dump(dict(sorted(rec.extra.items()))) if rec.extra else "{}",
            "}",
        )
    )


_BATCH = 2000


def render_json(a: Analysis, meta: ReportMeta, fh: IO[str]) -> dict[str, Any]:
    """Write the JSON report to ``fh``; one record a line inside ``records``."""
    fh.write("{\n")
    for key, value in head_sections(a, meta).items():
        fh.write(f"{_dump(key)}:{_dump(value)},\n")
    fh.write('"records":[')
    entries = a.entries
    # Rows are written in batches: one write per row costs more than encoding it.
    for start in range(0, len(entries), _BATCH):
        rows = [row_json(a, e) for e in entries[start : start + _BATCH]]
        fh.write(("\n" if start == 0 else ",\n") + ",\n".join(rows))
    fh.write("\n]}\n")
    return {"records": len(a.entries)}
