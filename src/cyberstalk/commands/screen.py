"""``cyberstalk screen FILE``: flag crime records of other offences that show stalking
behaviours, for a person to review."""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

import typer

from cyberstalk.commands._options import json_option, output_option
from cyberstalk.commands._output import err, handle_errors
from cyberstalk.errors import ExitCode, UsageError
from cyberstalk.parsers.runner import parse_options
from cyberstalk.screening.reader import MAP_HELP, InputFormat, RecordSet

PROGRESS_FROM = 2000
"""Files of fewer records than this are screened without a progress bar."""


class OutFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    html = "html"


_SUFFIXES = {".csv": OutFormat.csv, ".json": OutFormat.json, ".html": OutFormat.html}


def _out_format(fmt: OutFormat | None, as_json: bool, out: Path | None) -> OutFormat:
    if as_json:
        if fmt not in (None, OutFormat.json):
            raise UsageError(f"--json and --format {fmt} disagree", advice="give one of them")
        return OutFormat.json
    if fmt is not None:
        if out is not None and fmt is OutFormat.table:
            raise UsageError("-o writes csv, json or html", advice="add --format csv|json|html")
        return fmt
    if out is None:
        return OutFormat.table
    found = _SUFFIXES.get(out.suffix.lower())
    if found is None:
        raise UsageError(
            f"cannot tell the output format from {out.name!r}",
            advice="add --format csv|json|html",
        )
    return found


def screen_cmd(
    file: Path = typer.Argument(
        ..., help="CSV, JSON or Excel .xlsx export of crime records with free-text summaries."
    ),
    mapping: list[str] = typer.Option(
        [], "--map", help=MAP_HELP, show_default=False, metavar="KEY=VALUE"
    ),
    input_format: InputFormat = typer.Option(
        InputFormat.auto,
        "--input-format",
        help="How to read FILE: csv, json, xlsx, or auto (by suffix, else by content).",
        case_sensitive=False,
    ),
    as_json: bool = json_option("Print the result as JSON (deterministic) for scripts."),
    out: Path | None = output_option(
        "Write the result to this file (format from --format, or from the suffix)."
    ),
    fmt: OutFormat | None = typer.Option(
        None,
        "--format",
        help="Output format: table (stdout only), csv, json or html (self-contained page).",
        case_sensitive=False,
        show_default=False,
    ),
    max_mb: int = typer.Option(
        256, "--max-mb", min=1, help="Refuse input files larger than this many MiB."
    ),
) -> None:
    """Flag crime records whose summaries show possible stalking behaviour, for review.

    Reads a CSV (header row), JSON (array of objects, or {"records": [...]}) or Excel
    .xlsx (first sheet or --map sheet=NAME, header row; formulas are never evaluated,
    their saved values are read) export of crime records of any offence. Only the mapped
    columns are read: text (the free-text summary, required), id, date and offence. A
    column named exactly like a key is used when the key is not mapped; any other column
    (a label, names) is ignored.

    Each summary is searched with English and Welsh lexicons (data files in
    cyberstalk/screening/lexicons/) for these rules:

    \b
      s2A3-a-following   s2A3-b-contacting   s2A3-c-publishing   s2A3-d-monitoring
      s2A3-e-loitering   s2A3-f-interfering  s2A3-g-watching
          the Protection from Harassment Act 1997 s.2A(3) behaviours;
      SB-ordering   SB-false-reports   SB-locating
          further behaviours of the published lists (goods ordered in her name,
          false reports to her employer or authorities, tracking her down after a move);
      FOUR-fixated  FOUR-obsessive  FOUR-unwanted  FOUR-repeated
          the FOUR markers (FOUR-repeated includes counts such as "40 messages").

    A record is flagged when it shows at least one behaviour AND a FOUR marker, a second,
    different behaviour, or the same behaviour again in another clause; a single contact
    is not flagged. Words after
    a negative in the same clause ("no contact since", "denies following her", "dim
    cysylltiad") are set aside, and phrases such as "followed up" or "repeated the
    caution" are not behaviours, and matches near an ordinary caller or purpose ("call
    centre", "debt collector", "officers attended", "arrange contact with the children")
    are set aside. A flag means the record shows possible stalking
    behaviour for a person to review; it is never a finding, and an unflagged record is
    not cleared.

    Output: a table on stdout (record, offence, rules, matched words with their character
    positions in the summary), --json for scripts, or -o FILE --format csv|json|html.

    Exit codes: 0 no record flagged; 1 records flagged for review; 2 usage error (unknown
    --map key, no such column or sheet); 3 the file could not be read (bad CSV or JSON, wrong
    shape, not UTF-8, a corrupt or oversized workbook, too large), with the line, record or
    row named. On a terminal a progress bar on stderr shows the screening of a large file.

    Example:

    \b
      cyberstalk screen records.csv --map id=CrimeRef --map text=Summary \\
        --map date=Recorded --map offence=Offence -o screening.html
    """
    from cyberstalk.commands._output import byte_progress, print_table
    from cyberstalk.screening import screen_file
    from cyberstalk.screening.render import RENDERERS, table_rows, title

    kind = _out_format(fmt, as_json, out)
    if out is not None and not out.parent.is_dir():
        raise UsageError(f"-o {out}: folder {out.parent} does not exist")
    with byte_progress("screen") as bar:

        def progress(records: RecordSet) -> Callable[[int], None] | None:
            if len(records.records) < PROGRESS_FROM:
                return None
            task = bar.add_task("screen", total=sum(len(r.text) + 1 for r in records.records))
            return lambda n: bar.advance(task, n)

        result = screen_file(
            file,
            parse_options(mapping),
            input_format=input_format,
            max_bytes=max_mb * 1024 * 1024,
            progress=progress,
        )
    for note in result.source.notes:
        err(f"note: {note}")
    if kind is OutFormat.table:
        print_table(
            title(result), ("Record", "Offence", "Rules", "Matched words"), table_rows(result)
        )
    else:
        data = RENDERERS[kind.value](result)
        if out is None:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            from cyberstalk.hashing.fsutil import atomic_write

            atomic_write(out, data)
            err(f"{title(result)}; written to {out}")
    if result.findings:
        raise typer.Exit(int(ExitCode.FINDINGS))


def register(app: typer.Typer) -> None:
    app.command("screen")(handle_errors(screen_cmd))
