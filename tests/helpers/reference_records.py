"""The record id and JSON line as first written (json over ``as_dict()``), kept as the
reference :mod:`cyberstalk.records` (model and jsonl) is tested against."""

from __future__ import annotations

import hashlib
import json

from cyberstalk.records import Record


def reference_id(record: Record) -> str:
    """Record.id as first written: every part length-prefixed, None as ``-;``."""
    loc = record.locator
    parts = (
        loc.exhibit,
        loc.path,
        loc.member,
        loc.line_start,
        loc.line_end,
        loc.byte_start,
        loc.byte_end,
        loc.json_path,
        loc.xml_index,
        record.parser,
        record.kind.value,
        record.time_raw,
        record.text,
        record.subtype,
    )
    out = []
    for part in parts:
        if part is None:
            out.append("-;")
        else:
            text = str(part)
            out.append(f"{len(text)}:{text};")
    digest = hashlib.sha256("".join(out).encode("utf-8", "surrogatepass")).hexdigest()
    return "r-" + digest[:16]


def reference_line(record: Record) -> bytes:
    """The JSON Lines line: json over as_dict(), UTF-8; a line whose text holds a lone
    surrogate (not encodable as UTF-8) is written with ASCII escapes instead."""
    data = record.as_dict()
    try:
        return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(data, separators=(",", ":")) + "\n").encode("ascii")
