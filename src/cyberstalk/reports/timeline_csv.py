"""Timeline as CSV (RFC 4180, CRLF), every cell protected against formula injection with
:func:`cyberstalk.reports.common.csv_cell`; written row by row. Raw values stay in JSON."""

from __future__ import annotations

import csv
from typing import IO, Any

from cyberstalk.reports.common import csv_cell
from cyberstalk.reports.timeline_common import ReportMeta, local_text, sender_label, utc_text
from cyberstalk.timeline import Analysis

HEADER = (
    "id",
    "time_utc",
    "time_local",
    "platform",
    "kind",
    "subtype",
    "direction",
    "person",
    "sender",
    "recipients",
    "text",
    "attachments",
    "exhibit",
    "locator",
    "occasion",
    "indicators",
    "flags",
)


def render_csv(a: Analysis, meta: ReportMeta, fh: IO[str]) -> dict[str, Any]:
    writer = csv.writer(fh, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([csv_cell(h) for h in HEADER])
    for e in a.entries:
        rec = e.record
        row = (
            e.id,
            utc_text(rec.time_utc) or "",
            local_text(e.local) if e.local else "",
            rec.platform,
            rec.kind.value,
            rec.subtype or "",
            e.direction.value,
            e.person or "",
            sender_label(e) if not e.person else (rec.sender or ""),
            "; ".join(rec.recipients),
            rec.text,
            "; ".join(att.name for att in rec.attachments),
            rec.locator.exhibit or "",
            rec.locator.describe(),
            e.occasion or "",
            " ".join(a.indicators_by_record.get(e.id, ())),
            " ".join(sorted(rec.flags)),
        )
        writer.writerow([csv_cell(v) for v in row])
    return {"records": len(a.entries)}
