"""The ``derived/`` folder: data regenerated from evidence, deterministic, per exhibit.

Layout::

    derived/records/<SAFE-REF>.jsonl        records parsed from one exhibit (Record.as_dict)
    derived/records/<SAFE-REF>.report.json  the parse report (counts, skipped, warnings)
    derived/media/<SAFE-REF>.json           image metadata, perceptual hash (media package)
    derived/ocr/<SAFE-REF>.json             OCR words, confidences and line boxes

``SAFE-REF`` is the exhibit reference with ``/`` replaced by ``-`` (``RE/1/3`` ->
``RE-1-3``). Everything here can be deleted and rebuilt from ``evidence/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from cyberstalk.hashing.fsutil import atomic_write
from cyberstalk.records import Record, record_bytes, record_line

__all__ = [
    "iter_record_dicts",
    "load_records",
    "record_bytes",
    "record_line",
    "record_sort_key",
    "records_dir",
    "safe_ref",
    "write_records",
]


def safe_ref(ref: str) -> str:
    """The file-system form of an exhibit reference (Windows forbids ``/``)."""
    return ref.replace("/", "-")


def records_dir(derived: Path) -> Path:
    return derived / "records"


def write_records(
    derived: Path, ref: str, records: Iterable[Record], report: dict[str, Any]
) -> Path:
    """Write one exhibit's records (and its parse report) atomically. Returns the path."""
    out = records_dir(derived)
    out.mkdir(parents=True, exist_ok=True)
    body = b"".join(map(record_bytes, records))
    path = out / f"{safe_ref(ref)}.jsonl"
    atomic_write(path, body)
    atomic_write(
        out / f"{safe_ref(ref)}.report.json",
        (json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode(),
    )
    return path


def iter_record_dicts(derived: Path) -> Iterator[dict[str, Any]]:
    """Every record of every exhibit as a dict, exhibit by exhibit (sorted file names)."""
    folder = records_dir(derived)
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)


def load_records(derived: Path) -> list[Record]:
    """Every record in ``derived/records``, sorted by (time, exhibit, position, id).

    Records without a time sort last.
    """
    records = [Record.from_dict(d) for d in iter_record_dicts(derived)]
    records.sort(key=record_sort_key)
    return records


def record_sort_key(r: Record) -> tuple[int, str, str, int, str]:
    loc = r.locator
    position = loc.line_start or loc.xml_index or loc.byte_start or 0
    return (
        0 if r.time_utc else 1,
        r.time_utc.isoformat() if r.time_utc else "",
        loc.exhibit or loc.path,
        position,
        r.id,
    )
