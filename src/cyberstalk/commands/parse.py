"""``cyberstalk parse``: turn one export into records (JSON Lines on stdout).

The command line is declared twice: for typer (with its help), and as :data:`FAST`, which
``cyberstalk.cli.main`` parses without importing typer (see
:mod:`cyberstalk.commands.fastpath`); both call :func:`run`. A test holds the two to the
same values for every line the fast parser takes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from cyberstalk.commands._output import err
from cyberstalk.commands.fastpath import Signature
from cyberstalk.errors import ParseError, UsageError
from cyberstalk.parsers.base import Source
from cyberstalk.parsers.registry import all_parsers, parse_source
from cyberstalk.parsers.runner import (
    exhibit_source,
    load_case_manifest,
    make_context,
    parse_options,
    summary_lines,
    write_jsonl,
)
from cyberstalk.parsers.textutil import DateOrder

if TYPE_CHECKING:
    import typer


def _date_order(value: str) -> DateOrder:
    """``--date-order`` as typer reads it (any case); ValueError for anything else."""
    if not value.isascii():
        raise ValueError(value)
    return DateOrder(value.lower())


FAST = Signature(
    positionals=("target",),
    options={
        "--format": "fmt",
        "--tz": "tz",
        "--date-order": "date_order",
        "--exhibit": "exhibit",
    },
    flags={"--list": ("list_formats", True), "--json": ("as_json", True)},
    defaults={
        "fmt": "auto",
        "tz": None,
        "date_order": None,
        "mapping": [],
        "exhibit": None,
        "list_formats": False,
        "as_json": False,
    },
    paths=frozenset({"target"}),
    converters={"date_order": _date_order},
)


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
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    width = max((len(n) for n in parsers), default=0)
    for name, p in parsers.items():
        sys.stdout.write(f"{name:<{width}}  {p.description}\n")


def run(
    target: Path | None,
    *,
    fmt: str,
    tz: str | None,
    date_order: DateOrder | None,
    mapping: list[str],
    exhibit: str | None,
    list_formats: bool,
    as_json: bool,
) -> int:
    """Parse ``target`` (or a case's exhibit) to JSON Lines on stdout, with the summary on
    stderr; return the exit code (0: a ParseError is raised, not returned)."""
    if list_formats:
        _list_formats(as_json)
        return 0
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
        from cyberstalk.case import open_case  # (only a case folder needs it)

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
    return 0


def register(app: typer.Typer) -> None:
    import typer

    from cyberstalk.commands._options import json_option
    from cyberstalk.commands._output import handle_errors
    from cyberstalk.parsers.csv_generic import MAP_HELP

    @handle_errors
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
                "ymd. Without it the order is detected, and the parse refuses if it is "
                "unclear."
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
        as_json: bool = json_option("With --list: print the formats and their known gaps as JSON."),
    ) -> None:
        """Parse an export into records, written to stdout as JSON Lines.

        One record per line (messages, calls, blocks, deletions...), each with its time in
        UTC, the time as written, the sender, the byte-exact text, flags and a locator
        pointing at the exact lines and bytes it came from. A summary (records per kind,
        skipped lines with reasons, notes and the source's known gaps) goes to stderr.

        Examples:

          cyberstalk parse "WhatsApp Chat - Dylan.zip" --tz Europe/London > chat.jsonl

          cyberstalk parse calls.csv --format csv --map time=Date --map sender=From
          --map text=Body --map "time_format=%d/%m/%Y %H:%M"

          cyberstalk parse CASE_DIR --exhibit RE/1/2
        """
        run(
            target,
            fmt=fmt,
            tz=tz,
            date_order=date_order,
            mapping=mapping,
            exhibit=exhibit,
            list_formats=list_formats,
            as_json=as_json,
        )

    app.command("parse")(parse_cmd)
