"""``cyberstalk parse``: turn one export into records (JSON Lines on stdout)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

import typer

from cyberstalk.case import open_case
from cyberstalk.cli import err, handle_errors
from cyberstalk.errors import ParseError, UsageError
from cyberstalk.parsers.base import Source
from cyberstalk.parsers.csv_generic import MAP_HELP
from cyberstalk.parsers.registry import all_parsers, parse_source
from cyberstalk.parsers.runner import (
    exhibit_source,
    load_case_manifest,
    make_context,
    parse_options,
    summary_lines,
    write_jsonl,
)


class DateOrder(StrEnum):
    dmy = "dmy"
    mdy = "mdy"
    ymd = "ymd"


def _stdout() -> BinaryIO:
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # pragma: no cover - every real and test stdout has one
        raise UsageError("stdout does not accept bytes")
    sys.stdout.flush()
    out: BinaryIO = buffer
    return out


def _list_formats(as_json: bool) -> None:
    parsers = all_parsers()
    if as_json:
        data = [
            {
                "name": p.name,
                "version": p.version,
                "platform": p.platform,
                "description": p.description,
                "known_gaps": list(p.known_gaps),
            }
            for p in parsers.values()
        ]
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    width = max((len(n) for n in parsers), default=0)
    for name, p in parsers.items():
        typer.echo(f"{name:<{width}}  {p.description}")


def parse_cmd(
    target: Path | None = typer.Argument(
        None,
        help="The export file to parse, or a case folder together with --exhibit.",
        show_default=False,
    ),
    fmt: str = typer.Option(
        "auto",
        "--format",
        "-f",
        metavar="NAME",
        help="Format name (see --list), or 'auto' to detect it from the file.",
    ),
    tz: str | None = typer.Option(
        None,
        "--tz",
        metavar="ZONE",
        help=(
            "IANA zone for zone-less times (e.g. Europe/London). Default: the case's "
            "timezone, else Europe/London. Records say which was used (tz_basis)."
        ),
    ),
    date_order: DateOrder | None = typer.Option(
        None,
        "--date-order",
        help=(
            "Day/month order of numeric dates when the file cannot show it: dmy, mdy or "
            "ymd. Without it the order is detected, and the parse refuses if it is unclear."
        ),
        case_sensitive=False,
    ),
    mapping: list[str] = typer.Option(
        [], "--map", help=MAP_HELP, show_default=False, metavar="KEY=VALUE"
    ),
    exhibit: str | None = typer.Option(
        None,
        "--exhibit",
        metavar="REF",
        help="Exhibit reference (e.g. RE/1/3) to parse when TARGET is a case folder.",
    ),
    list_formats: bool = typer.Option(
        False, "--list", help="List the formats this version can parse, and exit."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="With --list: print the formats and their known gaps as JSON."
    ),
) -> None:
    """Parse an export into records, written to stdout as JSON Lines.

    One record per line (messages, calls, blocks, deletions...), each with its time in UTC,
    the time as written, the sender, the byte-exact text, flags and a locator pointing at
    the exact lines and bytes it came from. A summary (records per kind, skipped lines
    with reasons, notes and the source's known gaps) goes to stderr.

    Examples:

      cyberstalk parse "WhatsApp Chat - Dylan.zip" --tz Europe/London > chat.jsonl

      cyberstalk parse calls.csv --format csv --map time=Date --map sender=From
      --map text=Body --map "time_format=%d/%m/%Y %H:%M"

      cyberstalk parse CASE_DIR --exhibit RE/1/2
    """
    if list_formats:
        _list_formats(as_json)
        return
    if target is None:
        raise UsageError("give a file to parse (or --list)", advice="see `cyberstalk parse --help`")
    options = parse_options(mapping)
    if options and fmt == "auto":
        fmt = "csv"
        err("note: --map given, so the file is read as --format csv")
    if target.is_dir():
        if exhibit is None:
            raise UsageError(
                f"{target} is a folder: name the exhibit to parse with --exhibit REF",
                advice="e.g. cyberstalk parse CASE_DIR --exhibit RE/1/3",
            )
        case = open_case(target)
        source = exhibit_source(case.root, load_case_manifest(case.root), exhibit)
        case_tz: str | None = case.config.timezone
    else:
        if exhibit is not None:
            raise UsageError("--exhibit needs TARGET to be a case folder")
        if not target.is_file():
            raise UsageError(f"{target} is not a file", advice="check the path")
        source = Source.loose(target)
        case_tz = None
    ctx = make_context(
        tz=tz,
        case_tz=case_tz,
        date_order=date_order.value if date_order else None,
        options=options,
    )
    parser, report, records = parse_source(source, ctx, fmt)
    label = f"{source.exhibit} ({source.name})" if source.exhibit else source.name
    try:
        write_jsonl(records, _stdout())
    except ParseError as exc:
        if exc.records_before_fault is not None or report.total:
            # A fault part-way: say what was parsed before it (already on stdout).
            err("\n".join(summary_lines(parser, report, label)))
            err(
                f"{report.total} record(s) parsed before the fault were written to stdout; "
                "they are complete only up to the position below"
            )
            exc.records_before_fault = report.total
        raise
    err("\n".join(summary_lines(parser, report, label)))


def register(app: typer.Typer) -> None:
    app.command("parse")(handle_errors(parse_cmd))
