"""Timeline as Timesketch JSONL: one event a line with the fields Timesketch requires
(``message``, ``datetime`` in ISO 8601 with an explicit offset, ``timestamp_desc``) plus an
integer microsecond ``timestamp`` that matches ``datetime`` exactly, and our own fields.

No field starts with ``_``: Timesketch strips ``_id``, ``_index``, ``_source``... on import.
Records without a time cannot be placed on a timeline: they are counted and left out, so
rows in and rows out always reconcile.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import IO, Any

from cyberstalk.reports.timeline_common import ReportMeta, sender_label
from cyberstalk.timeline import Analysis, Entry

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

DESCRIPTIONS = {
    "message": "Message Sent",
    "media": "Message Sent",
    "email": "Email Sent",
    "call": "Call",
    "system": "Event Recorded",
    "screenshot_text": "Screenshot Message Time",
}


def micros(dt: datetime) -> int:
    """Exact integer microseconds since the epoch (no float rounding)."""
    delta = dt.astimezone(UTC) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def message_of(entry: Entry) -> str:
    rec = entry.record
    who = sender_label(entry) or "unknown"
    what = rec.kind.value + (f"/{rec.subtype}" if rec.subtype else "")
    text = rec.text.replace("\r", " ").replace("\n", " ")
    if len(text) > 500:
        text = text[:500] + "\u2026"
    return f"[{rec.platform} {what}] {who}: {text}".rstrip()


def event_of(a: Analysis, entry: Entry) -> dict[str, Any]:
    rec = entry.record
    assert rec.time_utc is not None
    when = rec.time_utc.astimezone(UTC)
    return {
        "message": message_of(entry),
        "datetime": when.isoformat(),
        "timestamp": micros(when),
        "timestamp_desc": DESCRIPTIONS.get(rec.kind.value, "Event Recorded"),
        "record_id": entry.id,
        "platform": rec.platform,
        "kind": rec.kind.value,
        "subtype": rec.subtype,
        "direction": entry.direction.value,
        "person": entry.person,
        "sender": rec.sender,
        "recipients": list(rec.recipients),
        "text": rec.text,
        "exhibit": rec.locator.exhibit,
        "locator": rec.locator.describe(),
        "occasion": entry.occasion,
        "indicators": list(a.indicators_by_record.get(entry.id, ())),
        "flags": sorted(rec.flags),
        "tag": list(a.indicators_by_record.get(entry.id, ())),
    }


def render_timesketch(a: Analysis, meta: ReportMeta, fh: IO[str]) -> dict[str, Any]:
    rows_out = skipped = 0
    for entry in a.entries:
        if entry.record.time_utc is None:
            skipped += 1
            continue
        fh.write(json.dumps(event_of(a, entry), ensure_ascii=False, separators=(",", ":")))
        fh.write("\n")
        rows_out += 1
    return {"rows_in": len(a.entries), "rows_out": rows_out, "skipped_no_time": skipped}
