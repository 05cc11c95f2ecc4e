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
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from json.encoder import encode_basestring as _string  # the C encoder's own, when built
from pathlib import Path
from typing import Any

from cyberstalk.hashing.fsutil import atomic_write
from cyberstalk.models import Locator, Record, utc_iso


def safe_ref(ref: str) -> str:
    """The file-system form of an exhibit reference (Windows forbids ``/``)."""
    return ref.replace("/", "-")


def records_dir(derived: Path) -> Path:
    return derived / "records"


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_ENCODE_ASCII = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


def record_line(record_dict: Mapping[str, Any]) -> bytes:
    """One JSON Lines line as written in derived/ and by ``cyberstalk parse``: compact,
    UTF-8, keys in the record's fixed order.

    A lone surrogate (a broken ``\\ud83d`` escape in a JSON export) cannot be UTF-8; such a
    line is written with ASCII escapes instead, which reads back to the same text.
    """
    try:
        return (_ENCODE(record_dict) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (_ENCODE_ASCII(record_dict) + "\n").encode("ascii")


def _value(value: Any) -> str:
    """One JSON value as ``_ENCODE`` writes it (strings, ints and None without the
    encoder's set-up)."""
    if type(value) is str:
        return _string(value)
    if value is None:
        return "null"
    if type(value) is int:
        return int.__repr__(value)
    return _ENCODE(value)


def _locator(loc: Locator) -> str:
    """``_ENCODE(loc.as_dict())``: the fields that are not None, in field order."""
    e, p, m = loc.exhibit, loc.path, loc.member
    ls, le, bs, be = loc.line_start, loc.line_end, loc.byte_start, loc.byte_end
    if (
        type(ls) is int
        and type(le) is int
        and type(bs) is int
        and type(be) is int
        and type(p) is str
        and loc.json_path is None
        and loc.xml_index is None
    ):  # a line of a text export: one f-string
        head = "{" if e is None else '{"exhibit":' + _value(e) + ","
        tail = "}" if m is None else ',"member":' + _value(m) + "}"
        return (
            f'{head}"path":{_string(p)},"line_start":{ls},"line_end":{le},'
            f'"byte_start":{bs},"byte_end":{be}{tail}'
        )
    out = ""
    v: Any = loc.exhibit
    if v is not None:
        out = ',"exhibit":' + _value(v)
    v = loc.path
    if v is not None:
        out += ',"path":' + _value(v)
    v = loc.line_start
    if v is not None:
        out += ',"line_start":' + (int.__repr__(v) if type(v) is int else _value(v))
    v = loc.line_end
    if v is not None:
        out += ',"line_end":' + (int.__repr__(v) if type(v) is int else _value(v))
    v = loc.byte_start
    if v is not None:
        out += ',"byte_start":' + (int.__repr__(v) if type(v) is int else _value(v))
    v = loc.byte_end
    if v is not None:
        out += ',"byte_end":' + (int.__repr__(v) if type(v) is int else _value(v))
    v = loc.json_path
    if v is not None:
        out += ',"json_path":' + _value(v)
    v = loc.xml_index
    if v is not None:
        out += ',"xml_index":' + _value(v)
    v = loc.member
    if v is not None:
        out += ',"member":' + _value(v)
    return "{" + out[1:] + "}"


def record_bytes(record: Record) -> bytes:
    """``record_line(record.as_dict())``, written directly from the record's fields
    instead of building the dicts and walking them: the same bytes in a third of the
    time (tests/test_derived_serialiser.py checks the two against each other).

    A value the direct path does not know (a non-string where the model has a string)
    goes the generic way, as does a line with a lone surrogate (ASCII escapes)."""
    try:
        t = record.time_utc
        if t is None:
            when = "null"
        elif t.tzinfo is UTC and type(t) is datetime:
            when = f'"{t.isoformat()}"'  # digits and -:T+. only: nothing to escape
        else:
            when = _string(utc_iso(t))
        sender = record.sender
        subtype = record.subtype
        conversation = record.conversation
        recipients = record.recipients
        attachments = record.attachments
        flags = record.flags
        extra = record.extra
        version = record.parser_version
        line = (
            f'{{"id":"{record.id}","kind":{_string(record.kind._value_)},"subtype":'
            f'{"null" if subtype is None else _string(subtype)},"platform":'
            f'{_string(record.platform)},"time_utc":{when},"time_raw":'
            f'{_string(record.time_raw)},"tz_basis":{_string(record.tz_basis._value_)},'
            f'"sender":{"null" if sender is None else _string(sender)},"recipients":'
            f'{_ENCODE(list(recipients)) if recipients else "[]"},"conversation":'
            f'{"null" if conversation is None else _string(conversation)},"text":'
            f'{_string(record.text)},"attachments":'
            f"{_ENCODE([a.as_dict() for a in attachments]) if attachments else '[]'},"
            f'"flags":{_flags(flags) if flags else "[]"},"locator":'
            f'{_locator(record.locator)},"parser":{{"name":{_string(record.parser)},'
            f'"version":{_string(version)}}},"extra":'
            f"{_ENCODE(dict(sorted(extra.items()))) if extra else '{}'}}}\n"
        )
        return line.encode("utf-8")
    except (TypeError, UnicodeEncodeError):
        # A non-string value _string refuses (the encoder writes it as what it is), or
        # a lone surrogate: record_line decides, exactly as for any dict.
        return record_line(record.as_dict())


_FLAGS: dict[frozenset[str], str] = {}


def _flags(flags: frozenset[str]) -> str:
    """``_ENCODE(sorted(flags))``, remembered: a source has a handful of flag sets."""
    hit = _FLAGS.get(flags)
    if hit is None:
        hit = _ENCODE(sorted(flags))
        if len(_FLAGS) < 256 and all(type(f) is str for f in flags):
            _FLAGS[flags] = hit
    return hit


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
