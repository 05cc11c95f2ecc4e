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

import contextlib
import io
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from json.decoder import scanstring  # type: ignore[attr-defined]  # (the C one; typeshed omits it)
from pathlib import Path
from typing import Any, BinaryIO

from cyberstalk.hashing.fsutil import WritebackFile, atomic_write, fsync_dir, temp_beside
from cyberstalk.records.jsonl import read_line, write_jsonl
from cyberstalk.records.model import (
    Record,
)

__all__ = [
    "file_record_dicts",
    "iter_record_dicts",
    "iter_records",
    "load_records",
    "record_path",
    "record_sort_key",
    "record_writer",
    "records_dir",
    "safe_ref",
    "write_records",
    "write_report",
]


def safe_ref(ref: str) -> str:
    """The file-system form of an exhibit reference (Windows forbids ``/``)."""
    return ref.replace("/", "-")


def records_dir(derived: Path) -> Path:
    return derived / "records"


def write_records(
    derived: Path, ref: str, records: Iterable[Record], report: Mapping[str, Any]
) -> Path:
    """Write one exhibit's records and its parse report, each file atomically, the records
    streamed (see :func:`record_writer`). Returns the records' path."""
    with record_writer(derived, ref) as out:
        write_jsonl(records, out)
    write_report(derived, ref, report)
    return record_path(derived, ref)


def record_path(derived: Path, ref: str) -> Path:
    return records_dir(derived) / f"{safe_ref(ref)}.jsonl"


def report_path(derived: Path, ref: str) -> Path:
    """``<SAFE-REF>.report.json``, beside the exhibit's records."""
    return records_dir(derived) / f"{safe_ref(ref)}.report.json"


@contextlib.contextmanager
def record_writer(derived: Path, ref: str) -> Iterator[BinaryIO]:
    """A file for one exhibit's record lines (:func:`write_jsonl` writes them), which
    replaces ``<SAFE-REF>.jsonl`` when the block ends: written beside it (its writeback
    started as it grows, see :class:`~cyberstalk.hashing.fsutil.WritebackFile`), fsynced,
    renamed.
    A reader (or a crash) sees the old file or the new one, never half; memory stays
    bounded however many records pass. An exception out of the block leaves the old file
    (catch a parse fault inside the block to keep the records before it)."""
    path = record_path(derived, ref)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    try:
        with io.BufferedWriter(WritebackFile(fd), 1 << 18) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def write_report(derived: Path, ref: str, report: Mapping[str, Any]) -> None:
    """``<SAFE-REF>.report.json``: the parse report (counts, skipped, warnings), atomically."""
    atomic_write(
        report_path(derived, ref),
        (json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode(),
    )


def iter_record_dicts(derived: Path) -> Iterator[dict[str, Any]]:
    """Every record of every exhibit as a dict, exhibit by exhibit (sorted file names)."""
    for line in _record_lines(derived):
        yield read_line(line)


def file_record_dicts(path: Path) -> Iterator[dict[str, Any]]:
    """The records of one ``derived/records`` file as dicts, in file order."""
    for line in _file_lines(path):
        yield read_line(line)


def _record_lines(derived: Path) -> Iterator[bytes]:
    """The record lines of every exhibit, exhibit by exhibit (sorted file names)."""
    folder = records_dir(derived)
    if folder.is_dir():
        for path in sorted(folder.glob("*.jsonl")):
            yield from _file_lines(path)


def _file_lines(path: Path) -> Iterator[bytes]:
    """The record lines of one file (as written: UTF-8, ``\\n`` after each), blank lines
    left out."""
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                yield line


_TEXT_KEY = ',"text":"'
_AFTER_TEXT = ',"attachments":'


def iter_record_texts(derived: Path) -> Iterator[str]:
    """The ``text`` of every record, in the order of :func:`iter_record_dicts`, each read
    out of its line without decoding the rest.

    A line of the store has its keys in the record's fixed order: the first
    ``,"text":"`` is the record's own (a quote inside an earlier value is escaped), and
    ``attachments`` follows it. A line where that does not hold is decoded whole."""
    for raw in _record_lines(derived):
        line = raw.decode()
        at = line.find(_TEXT_KEY)
        if at > 0:
            text, end = scanstring(line, at + len(_TEXT_KEY))
            if line.startswith(_AFTER_TEXT, end):
                yield text
                continue
        value = read_line(raw).get("text")
        yield value if isinstance(value, str) else ""


def iter_records(derived: Path) -> Iterator[tuple[Record, str]]:
    """Every record of every exhibit with its id, in file order (as
    :func:`iter_record_dicts`): ``Record.from_dict`` of each line, with one ``shared``
    dict for the whole case (the strings that repeat from record to record are one object
    each: a case of 200,000 records is read whole). The id is the one the parser wrote
    (computed only when a line lacks it: ``Record.id`` hashes on every call)."""
    shared: dict[str, str] = {}
    from_dict = Record.from_dict
    for d in iter_record_dicts(derived):
        rec = from_dict(d, shared)
        stored = d.get("id")
        yield rec, stored if isinstance(stored, str) and stored else rec.id


def load_records(derived: Path) -> list[Record]:
    """Every record in ``derived/records``, sorted by (time, exhibit, position, id).

    Records without a time sort last.
    """
    records = [rec for rec, _ in iter_records(derived)]
    records.sort(key=record_sort_key)
    return records


def record_sort_key(r: Record, rid: str | None = None) -> tuple[int, datetime, str, int, str]:
    """The one order of a case's records: by time (untimed last), then exhibit (or path),
    position in it, and id (``rid``: the record's id when the caller has it already;
    ``Record.id`` hashes on every call)."""
    loc = r.locator
    position = loc.line_start or loc.xml_index or loc.byte_start or 0
    t = r.time_utc
    return (
        0 if t else 1,
        t or _NO_TIME,
        loc.exhibit or loc.path,
        position,
        r.id if rid is None else rid,
    )


_NO_TIME = datetime.min.replace(tzinfo=UTC)
