"""``cyberstalk timeline``: the course-of-conduct timeline of a case, as a report."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cyberstalk.case import Case, open_case
from cyberstalk.commands._options import (
    from_option,
    json_option,
    output_option,
    parse_day,
    person_option,
    to_option,
)
from cyberstalk.commands._output import err, handle_errors, keep_until_exit
from cyberstalk.errors import CaseError, UsageError


def _refuse_without_records(case: Case) -> None:
    """A case with no records gives an empty report that looks like a case with no
    contact: refuse, and say what to run."""
    from cyberstalk.records import iter_record_dicts

    if next(iter_record_dicts(case.derived_dir), None) is not None:
        return
    exhibits = [p for p in case.evidence_dir.iterdir() if not p.name.startswith(".")]
    if not exhibits:
        raise CaseError(
            f"case {case.root} has no evidence yet: nothing to put on a timeline",
            advice=f"ingest the submission first: `cyberstalk ingest {case.root} PATH "
            '--source "..."`',
        )
    raise CaseError(
        f"case {case.root} has {len(exhibits)} exhibit{'' if len(exhibits) == 1 else 's'} but no "
        "parsed records "
        "(no message export was recognised, or derived/ was deleted)",
        advice=f"rebuild the records with `cyberstalk process {case.root}`; "
        "`cyberstalk parse FILE` shows what a single export gives",
    )


@handle_errors
def timeline_cmd(
    directory: Path = typer.Argument(..., help="Case folder."),
    fmt: str = typer.Option(
        "html",
        "--format",
        "-f",
        help=(
            "Report format: html (one self-contained file; above 20,000 records or about "
            "10 MB, an index page with the chronology in one page per month in a folder "
            "named after it: timeline.html and timeline/2026-01.html...), pdf (A4, via "
            "WeasyPrint; a large case prints its records per month), csv (spreadsheet-safe), "
            "json (summary, occasions, indicators, records) or timesketch "
            "(JSONL for Timesketch import)."
        ),
    ),
    output: Path | None = output_option("Output file (default: CASE/reports/timeline.<ext>)."),
    date_from: str | None = from_option(),
    date_to: str | None = to_option(),
    person: str | None = person_option(),
    gap_hours: float | None = typer.Option(
        None,
        "--gap-hours",
        help="Hours without contact that start a new occasion (default 6, or case.toml "
        "[settings] occasion_gap_hours).",
    ),
    night_start: str | None = typer.Option(
        None, "--night-start", help="Start of night hours, HH:MM (default 22:00)."
    ),
    night_end: str | None = typer.Option(
        None, "--night-end", help="End of night hours, HH:MM (default 06:00)."
    ),
    as_json: bool = json_option("Print what was written (path, SHA-256, counts) as JSON."),
) -> None:
    """Make the course-of-conduct timeline report: every contact on one line, occasions,
    indicators (FOUR and s.2A(3) behaviours) with their records, and possible breaches of
    orders. Each report is recorded in the custody log with its SHA-256."""
    # Imported here: `cyberstalk --help` should not pay for phonenumbers and jinja2.
    from cyberstalk.reports.timeline_common import FORMATS
    from cyberstalk.reports.timeline_report import make_timeline_report
    from cyberstalk.timeline.gcpause import gc_paused

    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    case = open_case(directory)
    _refuse_without_records(case)
    with gc_paused(freeze=True):  # the analysis lives until the command ends
        a, result = make_timeline_report(
            case,
            fmt,
            output,
            person=person,
            date_from=parse_day(date_from, "--from"),
            date_to=parse_day(date_to, "--to"),
            occasion_gap_hours=gap_hours,
            night_start=night_start,
            night_end=night_end,
        )
    keep_until_exit(a)  # (its report is written: nothing is left to free it for)
    contacts = sum(ps.contacts for ps in a.summary.persons)
    err(
        f"analysed {a.summary.records_in_scope} records: {contacts} contacts from "
        f"{', '.join(a.persons_of_interest) or 'nobody'}, {len(a.occasions)} occasions, "
        f"{len(a.indicators)} indicators, {len(a.unresolved)} unresolved identifiers"
    )
    for note in a.notes:
        err(f"note: {note}")
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "format": result.format,
                    "path": str(result.path),
                    "sha256": result.sha256,
                    "size": result.size,
                    **result.stats,
                    "indicators": sorted({i.id for i in a.indicators}),
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    typer.echo(f"{result.path}  sha256 {result.sha256}")
    pages = result.stats.get("pages")
    if isinstance(pages, list) and pages:
        biggest = max(p["size"] for p in pages)
        typer.echo(
            f"index page: the chronology is in {len(pages)} pages in "
            f"{Path(pages[0]['path']).parent}/ (largest {biggest / 1e6:.1f} MB), each in the "
            "custody log with its SHA-256"
        )
    if fmt == "timesketch":
        st = result.stats
        typer.echo(
            f"timesketch: {st['rows_in']} records in, {st['rows_out']} rows out, "
            f"{st['skipped_no_time']} left out (no time)"
        )


def register(app: typer.Typer) -> None:
    app.command("timeline")(timeline_cmd)
