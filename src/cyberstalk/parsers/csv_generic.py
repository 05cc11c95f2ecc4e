"""Generic CSV with a column mapping: for any export the toolkit has no parser for.

The mapping comes from ``--map KEY=VALUE`` options (``ParseContext.options``):

- columns: ``time``, ``text`` (required), ``sender``, ``recipients``, ``kind``,
  ``subtype``, ``conversation``, ``attachment`` -> the header name of a column
  (``--map time=Date --map sender=From --map text=Body``);
- ``time_format``: a ``strptime`` pattern (``%d/%m/%Y %H:%M``), or ``iso`` (ISO 8601, the
  default), ``epoch`` (seconds) or ``epoch_ms``; a pattern with ``%z`` gives an explicit
  offset, otherwise times are zone-less and read in the case/``--tz`` zone;
- ``delimiter`` (a single character, or ``tab``), ``platform`` (put on records, default
  ``csv``), ``recipients_sep`` (default ``;``).

Without a mapping, columns named exactly like the keys (``time``, ``sender``, ``text``...)
are used. Sniffing is deliberately low: the parser is picked with ``--format csv`` (or
``--map``), or when the header row already names the columns.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from cyberstalk.errors import ParseError
from cyberstalk.parsers.base import SNIFF_BYTES, ParseContext, ParseReport, Source
from cyberstalk.parsers.registry import register
from cyberstalk.parsers.textutil import BOM, decode_line, iter_lines
from cyberstalk.records import JSON, Attachment, Locator, Record, RecordKind, TzBasis
from cyberstalk.records.times import from_epoch, localise

COLUMN_KEYS = (
    "time",
    "text",
    "sender",
    "recipients",
    "kind",
    "subtype",
    "conversation",
    "attachment",
)
SETTING_KEYS = ("time_format", "delimiter", "platform", "recipients_sep")
SNIFF_HEADER_CHARS = 4096
"""Longest first line sniffed as a CSV header. ``csv.Sniffer`` is quadratic in its input
(64 KiB of ``{"a":`` takes seconds); a header row is never this long."""
REQUIRED = ("time", "text")

MAP_HELP = (
    "Column mapping for --format csv, repeatable KEY=VALUE. Columns: "
    + ", ".join(COLUMN_KEYS)
    + " (time and text required), e.g. --map time=Date --map sender=From --map text=Body. "
    "Settings: time_format=STRPTIME|iso|epoch|epoch_ms (default iso; e.g. "
    "'time_format=%d/%m/%Y %H:%M'), delimiter=,|;|tab, platform=NAME, recipients_sep=;"
)


@dataclass(frozen=True)
class Mapping_:
    """A validated column mapping: column key -> index in the row."""

    columns: dict[str, int]
    names: dict[str, str]
    time_format: str
    platform: str
    recipients_sep: str


def _header_names(row: list[str]) -> list[str]:
    names = [c.strip() for c in row]
    if names and names[0].startswith(BOM):
        names[0] = names[0][1:].strip()
    return names


def _delimiter(options: Mapping[str, str]) -> str:
    value = options.get("delimiter", ",")
    if value.lower() == "tab":
        return "\t"
    if len(value) != 1:
        raise ParseError(
            f"--map delimiter={value!r} must be one character (or 'tab')",
            advice="e.g. --map delimiter=; or --map delimiter=tab",
        )
    return value


def build_mapping(header: list[str], options: Mapping[str, str], name: str) -> Mapping_:
    """Check the mapping against the header row; errors list the available columns."""
    unknown = sorted(set(options) - set(COLUMN_KEYS) - set(SETTING_KEYS))
    if unknown:
        raise ParseError(
            f"unknown --map key(s): {', '.join(unknown)}",
            path=name,
            advice=(
                f"use column keys {', '.join(COLUMN_KEYS)} or settings {', '.join(SETTING_KEYS)}"
            ),
        )
    names = _header_names(header)
    lowered = {n.lower(): i for i, n in reversed(list(enumerate(names)))}
    columns: dict[str, int] = {}
    chosen: dict[str, str] = {}
    for key in COLUMN_KEYS:
        wanted = options.get(key)
        if wanted is None:
            if key in lowered:
                columns[key] = lowered[key]
                chosen[key] = names[lowered[key]]
            continue
        if wanted in names:
            columns[key] = names.index(wanted)
        elif wanted.lower() in lowered:
            columns[key] = lowered[wanted.lower()]
        else:
            raise ParseError(
                f"--map {key}={wanted}: no such column; the header has: "
                + ", ".join(repr(n) for n in names),
                path=name,
                position="line 1",
                advice="name a column exactly as the header row writes it",
            )
        chosen[key] = names[columns[key]]
    missing = [k for k in REQUIRED if k not in columns]
    if missing:
        raise ParseError(
            f"no column for {', '.join(missing)}; the header has: "
            + ", ".join(repr(n) for n in names),
            path=name,
            position="line 1",
            advice="map them, e.g. --map time=Date --map text=Body (see `cyberstalk parse --help`)",
        )
    return Mapping_(
        columns=columns,
        names=chosen,
        time_format=options.get("time_format", "iso"),
        platform=options.get("platform", "csv"),
        recipients_sep=options.get("recipients_sep", ";"),
    )


def parse_time(raw: str, fmt: str, ctx: ParseContext) -> tuple[datetime, TzBasis, frozenset[str]]:
    """Read one time field; ValueError when it does not fit ``fmt``."""
    value = raw.strip()
    if fmt in ("epoch", "epoch_ms"):
        return from_epoch(int(value), "s" if fmt == "epoch" else "ms"), TzBasis.EPOCH, frozenset()
    # Zone-less results are localised below (DTZ007 would want a %z in every pattern).
    parsed = (
        datetime.fromisoformat(value) if fmt == "iso" else datetime.strptime(value, fmt)  # noqa: DTZ007
    )
    if parsed.tzinfo is not None and parsed.utcoffset() is not None:
        return parsed, TzBasis.EXPLICIT_OFFSET, frozenset()
    utc, flags = localise(parsed, ctx.zone.zone)
    return utc, ctx.zone.basis, flags


class _Feeder:
    """Feeds decoded lines to csv.reader while tracking line numbers and byte offsets."""

    def __init__(self, lines: Iterator[tuple[int, int, int, str]]) -> None:
        # (line number, offset past the terminator, offset before the terminator, text)
        self._lines = lines
        self.offset = 0
        self.content_end = 0
        self.line = 0

    def __iter__(self) -> _Feeder:
        return self

    def __next__(self) -> str:
        number, end, content_end, text = next(self._lines)
        self.line = number
        self.offset = end
        self.content_end = content_end
        return text


@register
class GenericCsvParser:
    """Any CSV export, read through a column mapping given with ``--map``."""

    name: ClassVar[str] = "csv"
    version: ClassVar[str] = "1.0"
    platform: ClassVar[str] = "csv"
    description: ClassVar[str] = (
        "Generic CSV with a header row and a column mapping (--map time=... --map text=...)"
    )
    known_gaps: ClassVar[tuple[str, ...]] = (
        "the meaning of each column is the investigator's mapping, not the platform's "
        "documentation: check it against the source app",
        "zone-less times are read in the case/--tz zone unless the time format has %z",
        "system events, edits and deletions are only typed if a 'kind'/'subtype' column says so",
    )

    def sniff(self, source: Source) -> float:
        head = source.head(SNIFF_BYTES)
        if b"\x00" in head:
            return 0.0
        first = head.split(b"\n", 1)[0].decode("utf-8", "ignore").lstrip(BOM).strip()
        if not first or len(first) > SNIFF_HEADER_CHARS:
            return 0.0
        try:
            dialect = csv.Sniffer().sniff(first, delimiters=",;\t|")
            header = next(csv.reader([first], dialect))
        except (csv.Error, StopIteration):
            return 0.0
        names = {c.strip().lower() for c in header}
        if {"time", "text"} <= names and len(header) >= 2:
            return 0.6  # the header names the mapping
        return 0.1 if source.name.lower().endswith(".csv") and len(header) >= 2 else 0.0

    def parse(self, source: Source, ctx: ParseContext, report: ParseReport) -> Iterator[Record]:
        delimiter = _delimiter(ctx.options)
        with source.open() as fh:
            decoded = (
                (line.number, line.end, line.content_end, decode_line(line, source.name))
                for line in iter_lines(fh, source.name)
            )
            feeder = _Feeder(decoded)
            reader = csv.reader(feeder, delimiter=delimiter, strict=True)
            try:
                header = next(reader)
            except StopIteration:
                raise ParseError(
                    "empty file: no header row", path=source.name, advice="check the file"
                ) from None
            except csv.Error as exc:
                raise ParseError(
                    f"malformed CSV header: {exc}", path=source.name, position="line 1"
                ) from None
            mapping = build_mapping(header, ctx.options, source.name)
            report.warnings.append(
                "column mapping: "
                + ", ".join(f"{k}={v!r}" for k, v in mapping.names.items())
                + f"; time_format={mapping.time_format!r}"
            )
            emitted = 0
            first_row = True
            while True:
                start_line = feeder.line + 1
                start_byte = feeder.offset
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    raise ParseError(
                        f"malformed CSV: {exc} ({emitted} records before the fault were parsed)",
                        path=source.name,
                        position=f"line {start_line}, byte {start_byte}",
                        advice="check quoting near this line, or the --map delimiter",
                        records_before_fault=emitted,
                    ) from None
                except ParseError as exc:
                    exc.records_before_fault = emitted
                    exc.message += f" ({emitted} records before the fault were parsed)"
                    raise
                position = (
                    f"line {start_line}"
                    if feeder.line == start_line
                    else f"lines {start_line}-{feeder.line}"
                )
                if not row or all(not c.strip() for c in row):
                    report.skip(position, "empty row")
                    continue
                width = max(mapping.columns.values()) + 1
                if len(row) < width:
                    short = [k for k, i in mapping.columns.items() if i >= len(row)]
                    report.skip(
                        position,
                        f"row has {len(row)} fields; no value for {', '.join(short)}",
                    )
                    continue
                record = self._record(
                    row,
                    mapping,
                    ctx,
                    report,
                    source,
                    position,
                    first_row,
                    Locator(
                        exhibit=source.exhibit,
                        path=source.name,
                        line_start=start_line,
                        line_end=feeder.line,
                        byte_start=start_byte,
                        byte_end=feeder.content_end,
                    ),
                )
                first_row = False
                emitted += 1
                yield record

    def _record(
        self,
        row: list[str],
        mapping: Mapping_,
        ctx: ParseContext,
        report: ParseReport,
        source: Source,
        position: str,
        first_row: bool,
        locator: Locator,
    ) -> Record:
        cols = mapping.columns

        def get(key: str) -> str | None:
            return row[cols[key]] if key in cols else None

        time_raw = get("time") or ""
        time_utc: datetime | None
        try:
            time_utc, basis, flags = parse_time(time_raw, mapping.time_format, ctx)
        except (ValueError, OverflowError) as exc:
            if first_row:
                raise ParseError(
                    f"time {time_raw!r} in column {mapping.names['time']!r} does not match "
                    f"time_format {mapping.time_format!r} ({exc})",
                    path=source.name,
                    position=position,
                    advice=(
                        "give the format, e.g. --map 'time_format=%d/%m/%Y %H:%M' "
                        "(or iso, epoch, epoch_ms)"
                    ),
                    records_before_fault=0,
                ) from None
            report.warnings.append(
                f"{position}: time {time_raw!r} does not match {mapping.time_format!r}; "
                "the record is kept without a time"
            )
            time_utc, basis, flags = None, TzBasis.UNKNOWN, frozenset()
        text = get("text") or ""
        kind = RecordKind.MESSAGE
        kind_raw = get("kind")
        if kind_raw:
            try:
                kind = RecordKind(kind_raw.strip().lower())
            except ValueError:
                report.warnings.append(
                    f"{position}: kind {kind_raw!r} is not one of "
                    f"{', '.join(k.value for k in RecordKind)}; read as message"
                )
        attachments: tuple[Attachment, ...] = ()
        att = get("attachment")
        if att and att.strip():
            attachments = (Attachment(name=att.strip(), exhibit=source.siblings.get(att.strip())),)
            if not text and not kind_raw:
                kind = RecordKind.MEDIA
        recipients_raw = get("recipients")
        recipients: tuple[str, ...] = ()
        if recipients_raw:
            recipients = tuple(
                r.strip() for r in recipients_raw.split(mapping.recipients_sep) if r.strip()
            )
        extra: dict[str, JSON] = {}
        return Record(
            kind=kind,
            platform=mapping.platform,
            time_utc=time_utc,
            time_raw=time_raw,
            tz_basis=basis,
            locator=locator,
            parser=self.name,
            parser_version=self.version,
            sender=(get("sender") or "").strip() or None,
            recipients=recipients,
            text=text,
            attachments=attachments,
            flags=flags,
            subtype=(get("subtype") or "").strip() or None,
            conversation=(get("conversation") or "").strip() or None,
            extra=extra,
        )
