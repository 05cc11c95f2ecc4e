"""The record contract in one place.

- :mod:`.model`: :class:`Record` (one thing that happened, as one export recorded it), its
  :class:`Locator` and :class:`Attachment`, the enums, and the record id;
- :mod:`.jsonl`: the one JSON Lines form of a record (:func:`record_bytes`);
- :mod:`.store`: ``derived/records`` (write, iterate, load; one sort order);
- :mod:`.times`: turning the times exports write into aware UTC datetimes.

Parsers make Records; the store writes them; the timeline, panel, risk and media read
them back through the store. Nothing here imports a parser or a report.
"""

from __future__ import annotations

from cyberstalk.records.jsonl import (
    TextLines,
    hour_text,
    line_record,
    read_line,
    record_bytes,
    record_line,
    write_jsonl,
)
from cyberstalk.records.model import (
    JSON,
    Attachment,
    Flag,
    Locator,
    Record,
    RecordKind,
    TzBasis,
    make_locator,
    make_record,
    utc_iso,
)
from cyberstalk.records.store import (
    iter_record_dicts,
    load_records,
    record_path,
    record_sort_key,
    record_writer,
    records_dir,
    report_path,
    safe_ref,
    write_records,
    write_report,
)

__all__ = [
    "JSON",
    "Attachment",
    "Flag",
    "Locator",
    "Record",
    "RecordKind",
    "TextLines",
    "TzBasis",
    "hour_text",
    "iter_record_dicts",
    "line_record",
    "load_records",
    "make_locator",
    "make_record",
    "read_line",
    "record_bytes",
    "record_line",
    "record_path",
    "record_sort_key",
    "record_writer",
    "records_dir",
    "report_path",
    "safe_ref",
    "utc_iso",
    "write_jsonl",
    "write_records",
    "write_report",
]
