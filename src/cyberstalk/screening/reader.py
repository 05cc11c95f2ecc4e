"""Reading a crime-records export (CSV, JSON or Excel ``.xlsx``) through a column mapping.

The mapping follows ``cyberstalk parse --format csv`` (:mod:`cyberstalk.parsers.csv_generic`):
``--map KEY=VALUE`` names the column (CSV header) or field (JSON key) for each key, and a
column named exactly like a key (case-insensitive) is used when the key is not mapped.

- keys: ``text`` (the free-text summary, required), ``id`` (record reference, default: the
  line or record number), ``date``, ``offence``;
- settings: ``delimiter`` (CSV: one character, or ``tab``), ``sheet`` (xlsx: the worksheet,
  default the first).

An ``.xlsx`` workbook is read with openpyxl in read-only (streaming) mode with cached values
only: a formula is never evaluated, its last computed value (as Excel saved it) is read, and
a formula with no saved value reads as empty and is counted in a note. Before openpyxl sees
it, the zip is checked against :data:`XLSX_MAX_MEMBERS`, :data:`XLSX_MAX_UNPACKED` and
:data:`XLSX_MAX_RATIO` (a zip bomb is refused), and its XML is parsed with defusedxml.

Any other column (a ``label``, names, addresses) is never read. The whole file is read
into memory, so it is refused above ``max_bytes``; a fault names the line (CSV) or the
record (JSON) where it is.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Any

from cyberstalk.errors import ParseError, UsageError

KEYS = ("id", "text", "date", "offence")
SETTINGS = ("delimiter", "sheet")
REQUIRED = ("text",)
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
_BOM = "\ufeff"
XLSX_MAX_MEMBERS = 10_000
"""An .xlsx with more zip members than this is refused."""
XLSX_MAX_UNPACKED = 2 * 1024 * 1024 * 1024
"""An .xlsx whose members unpack to more than this many bytes in all is refused."""
XLSX_MAX_RATIO = 200
"""A zip member (over 1 MiB unpacked) that unpacks to more than this many times its packed
size is refused (ordinary worksheets compress 5-20 times)."""
_ZIP_MAGIC = b"PK\x03\x04"

MAP_HELP = (
    "Column (CSV) or field (JSON) for each key, repeatable KEY=VALUE: text (the summary, "
    "required), id, date, offence; e.g. --map id=CrimeRef --map text=Summary "
    "--map date=Recorded --map offence=Offence. Settings: delimiter=,|;|tab (CSV), "
    "sheet=NAME (xlsx; default the first sheet). "
    "Unmapped keys use a column named exactly like the key; other columns are ignored."
)


class InputFormat(StrEnum):
    auto = "auto"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


@dataclass(frozen=True, slots=True)
class InputRecord:
    """One crime record as the screen sees it."""

    id: str
    """Record reference (the mapped id column), or the position when there is none."""
    position: str
    """Where it is in the file: ``line 7`` (CSV), ``record 3`` (JSON, 1-based) or
    ``Sheet1 row 7`` (xlsx)."""
    text: str
    date: str | None
    offence: str | None


@dataclass(frozen=True, slots=True)
class RecordSet:
    """The records of one export and how they were read."""

    name: str
    format: str
    sha256: str
    """SHA-256 of the file's bytes, so that a report names exactly what was screened."""
    columns: dict[str, str]
    """Key -> the column or field name it was read from."""
    records: tuple[InputRecord, ...]
    notes: tuple[str, ...]


def _record(get: Callable[[str], str | None], position: str, summary: str | None) -> InputRecord:
    """One input record from a row's mapped values (``get(key)``); ``summary`` is the text
    already read (so that a missing one can be counted by the caller)."""
    return InputRecord(
        id=(get("id") or "").strip() or position,
        position=position,
        text=summary or "",
        date=(get("date") or "").strip() or None,
        offence=(get("offence") or "").strip() or None,
    )


def parse_mapping(options: Mapping[str, str]) -> dict[str, str]:
    """Check ``--map`` keys (unknown keys are a usage error)."""
    unknown = sorted(set(options) - set(KEYS) - set(SETTINGS))
    if unknown:
        raise UsageError(
            f"unknown --map key(s): {', '.join(unknown)}",
            advice=f"use keys {', '.join(KEYS)} or setting {', '.join(SETTINGS)}",
        )
    return dict(options)


def _delimiter(options: Mapping[str, str]) -> str:
    value = options.get("delimiter", ",")
    if value.lower() == "tab":
        return "\t"
    if len(value) != 1:
        raise UsageError(
            f"--map delimiter={value!r} must be one character (or 'tab')",
            advice="e.g. --map delimiter=; or --map delimiter=tab",
        )
    return value


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except IsADirectoryError:
        raise ParseError("is a folder, not an export file", path=str(path)) from None
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    if len(data) > max_bytes:
        raise ParseError(
            f"larger than the limit of {max_bytes} bytes; the screen reads the whole file "
            "into memory",
            path=str(path),
            advice="split the export, or raise the limit with --max-mb",
        )
    return data


def _decode(data: bytes, name: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ParseError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded",
            path=name,
            position=f"line {line}, byte {exc.start}",
            advice="save the export as UTF-8 (in Excel: 'CSV UTF-8'), or convert it with iconv",
        ) from None
    return text[1:] if text.startswith(_BOM) else text


def sniff_format(path: Path, data: bytes) -> InputFormat:
    """JSON for ``.json`` or content starting with ``[``/``{``; xlsx for ``.xlsx``/``.xlsm``
    or a zip; otherwise CSV."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm") or data[:4] == _ZIP_MAGIC:
        return InputFormat.xlsx
    if suffix == ".json":
        return InputFormat.json
    if suffix in (".csv", ".tsv", ".txt"):
        return InputFormat.csv
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return InputFormat.json if head[:1] in (b"[", b"{") else InputFormat.csv


def read_records(
    path: Path,
    options: Mapping[str, str] | None = None,
    *,
    input_format: InputFormat = InputFormat.auto,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> RecordSet:
    """Read ``path`` into records (ParseError -> exit 3, UsageError -> exit 2)."""
    mapping = parse_mapping(options or {})
    data = _read_bytes(path, max_bytes)
    fmt = sniff_format(path, data) if input_format is InputFormat.auto else input_format
    digest = hashlib.sha256(data).hexdigest()
    if fmt is InputFormat.xlsx:
        return _read_xlsx(data, str(path), digest, mapping)
    text = _decode(data, str(path))
    if fmt is InputFormat.json:
        return _read_json(text, str(path), digest, mapping)
    return _read_csv(text, str(path), digest, mapping)


def _choose(names: list[str], mapping: Mapping[str, str], where: str) -> dict[str, int]:
    lowered = {n.lower(): i for i, n in reversed(list(enumerate(names)))}
    chosen: dict[str, int] = {}
    for key in KEYS:
        wanted = mapping.get(key)
        if wanted is None:
            if key in lowered:
                chosen[key] = lowered[key]
            continue
        if wanted in names:
            chosen[key] = names.index(wanted)
        elif wanted.lower() in lowered:
            chosen[key] = lowered[wanted.lower()]
        else:
            raise UsageError(
                f"--map {key}={wanted}: no such {where}; the file has: "
                + ", ".join(repr(n) for n in names),
                advice="name a column exactly as the file writes it",
            )
    missing = [k for k in REQUIRED if k not in chosen]
    if missing:
        raise UsageError(
            f"no {where} for {', '.join(missing)}; the file has: "
            + ", ".join(repr(n) for n in names),
            advice="map it, e.g. --map text=Summary (see `cyberstalk screen --help`)",
        )
    return chosen


def _read_csv(text: str, name: str, digest: str, mapping: Mapping[str, str]) -> RecordSet:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(mapping), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ParseError("empty file: no header row", path=name) from None
    except csv.Error as exc:
        raise ParseError(f"malformed CSV header: {exc}", path=name, position="line 1") from None
    names = [c.strip() for c in header]
    cols = _choose(names, mapping, "column")
    width = max(cols.values()) + 1
    records: list[InputRecord] = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ParseError(
                f"malformed CSV: {exc} ({len(records)} records before it were read)",
                path=name,
                position=f"line {start}",
                advice="check the quoting near this line, or the --map delimiter",
            ) from None
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < width:
            short = [names[i] for k, i in cols.items() if i >= len(row)]
            raise ParseError(
                f"row has {len(row)} fields, the header has {len(names)}: no value for "
                + ", ".join(repr(s) for s in short),
                path=name,
                position=f"line {start}",
                advice="check the quoting or the --map delimiter of this line",
            )
        end = reader.line_num
        position = f"line {start}" if end == start else f"lines {start}-{end}"

        def get(key: str, row: list[str] = row) -> str | None:
            return row[cols[key]] if key in cols else None

        records.append(_record(get, position, get("text")))
    return RecordSet(
        name=name,
        format="csv",
        sha256=digest,
        columns={k: names[i] for k, i in cols.items()},
        records=tuple(records),
        notes=(),
    )


def _scalar(value: object, key: str, field: str, position: str, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ParseError(
        f"field {field!r} (--map {key}) is {type(value).__name__}, expected text or a number",
        path=name,
        position=position,
    )


def _read_json(text: str, name: str, digest: str, mapping: Mapping[str, str]) -> RecordSet:
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"malformed JSON: {exc.msg}",
            path=name,
            position=f"line {exc.lineno}, column {exc.colno}",
        ) from None
    except RecursionError:
        raise ParseError("JSON nested too deeply", path=name) from None
    items = data.get("records") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ParseError(
            'expected a JSON array of record objects, or an object with a "records" array; '
            f"found {type(data).__name__}",
            path=name,
            advice="export the records as a JSON array of objects",
        )
    fields: dict[str, None] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ParseError(
                f"record is {type(item).__name__}, expected an object",
                path=name,
                position=f"record {i + 1} ($[{i}])",
            )
        fields.update(dict.fromkeys(item))
    names = list(fields)
    cols = _choose(names, mapping, "field") if items else {}
    chosen = {k: names[i] for k, i in cols.items()}
    records: list[InputRecord] = []
    missing_text: list[str] = []
    for i, item in enumerate(items):
        position = f"record {i + 1}"

        def get(key: str, item: dict[str, Any] = item, position: str = position) -> str | None:
            if key not in chosen:
                return None
            return _scalar(item.get(chosen[key]), key, chosen[key], position, name)

        summary = get("text")
        if summary is None:
            missing_text.append(position)
        records.append(_record(get, position, summary))
    notes: list[str] = []
    if missing_text:
        shown = ", ".join(missing_text[:10]) + (" ..." if len(missing_text) > 10 else "")
        notes.append(
            f"{len(missing_text)} record(s) have no {chosen.get('text', 'text')!r} value and "
            f"were screened as empty: {shown}"
        )
    if not items:
        notes.append("the file holds no records")
    return RecordSet(
        name=name,
        format="json",
        sha256=digest,
        columns=chosen,
        records=tuple(records),
        notes=tuple(notes),
    )


def _check_zip(data: bytes, name: str) -> None:
    """Refuse what is not a zip, or a zip that would unpack too far (a zip bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ParseError(
            f"not a readable .xlsx workbook (not a zip file: {exc})",
            path=name,
            advice="save the export from Excel as .xlsx, or as CSV UTF-8",
        ) from None
    if len(members) > XLSX_MAX_MEMBERS:
        raise ParseError(
            f"refused: the workbook holds {len(members)} zip members "
            f"(the limit is {XLSX_MAX_MEMBERS})",
            path=name,
        )
    unpacked = sum(m.file_size for m in members)
    if unpacked > XLSX_MAX_UNPACKED:
        raise ParseError(
            f"refused: the workbook would unpack to {unpacked} bytes "
            f"(the limit is {XLSX_MAX_UNPACKED}); it may be a zip bomb",
            path=name,
            advice="export the records as CSV UTF-8, or split the workbook",
        )
    for m in members:
        if m.file_size > 1024 * 1024 and m.file_size > XLSX_MAX_RATIO * max(m.compress_size, 1):
            raise ParseError(
                f"refused: zip member {m.filename!r} unpacks {m.file_size} bytes from "
                f"{m.compress_size} (more than {XLSX_MAX_RATIO} times); it may be a zip bomb",
                path=name,
            )


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(data: bytes, name: str, digest: str, mapping: Mapping[str, str]) -> RecordSet:
    """Read the first (or the ``sheet``) worksheet: a header row, then one record a row."""
    _check_zip(data, name)
    import warnings

    from openpyxl import load_workbook  # type: ignore[import-untyped]

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, XML and zip errors alike
        raise ParseError(
            f"not a readable .xlsx workbook: {type(exc).__name__}: {exc}"[:300],
            path=name,
            advice="open it in Excel and save it again as .xlsx, or as CSV UTF-8",
        ) from None
    try:
        return _read_sheet(book, name, digest, mapping)
    except ParseError:
        raise
    except (UsageError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a corrupt sheet part shows only when it is streamed
        raise ParseError(
            f"corrupt .xlsx worksheet: {type(exc).__name__}: {exc}"[:300],
            path=name,
            advice="open it in Excel and save it again as .xlsx, or as CSV UTF-8",
        ) from None
    finally:
        book.close()


def _read_sheet(book: Any, name: str, digest: str, mapping: Mapping[str, str]) -> RecordSet:
    wanted = mapping.get("sheet")
    if wanted is not None:
        if wanted not in book.sheetnames:
            raise UsageError(
                f"--map sheet={wanted}: no such sheet; the workbook has: "
                + ", ".join(repr(n) for n in book.sheetnames),
                advice="name a sheet exactly as the workbook writes it",
            )
        sheet = book[wanted]
    elif book.sheetnames:
        sheet = book[book.sheetnames[0]]
    else:
        raise ParseError("the workbook has no worksheets", path=name)
    title = str(sheet.title)
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise ParseError(f"sheet {title!r} is empty: no header row", path=name)
    names = [(_cell_text(c) or "").strip() for c in header]
    cols = _choose(names, mapping, "column")
    records: list[InputRecord] = []
    no_value = 0
    for number, row in enumerate(rows, start=2):
        cells = [_cell_text(c) for c in row]
        if all(not (c or "").strip() for c in cells):
            continue
        position = f"{title} row {number}"

        def get(key: str, cells: list[str | None] = cells) -> str | None:
            i = cols.get(key)
            return cells[i] if i is not None and i < len(cells) else None

        summary = get("text")
        if summary is None:
            no_value += 1
        records.append(_record(get, position, summary))
    notes = []
    if no_value:
        notes.append(
            f"{no_value} row(s) have no {names[cols['text']]!r} value (an empty cell, or a "
            "formula Excel saved no value for; formulas are never evaluated) and were "
            "screened as empty"
        )
    if not records:
        notes.append("the sheet holds no records")
    return RecordSet(
        name=name,
        format="xlsx",
        sha256=digest,
        columns={k: names[i] for k, i in cols.items()} | {"sheet": title},
        records=tuple(records),
        notes=tuple(notes),
    )
