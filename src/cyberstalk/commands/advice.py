"""``cyberstalk advice``: a safeguarding advice sheet for a victim, in English and/or Welsh."""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import typer

from cyberstalk.case import DEFAULT_FORCE
from cyberstalk.commands._options import json_option, output_option
from cyberstalk.commands._output import err, handle_errors
from cyberstalk.errors import UsageError


def _stdout_is_terminal() -> bool:
    """True when standard output is a terminal (where an HTML or PDF sheet is no use)."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def _list_topics(as_json: bool) -> None:
    from cyberstalk.safeguarding_advice import catalogue, load_modules

    cy = load_modules("cy")
    rows: list[dict[str, Any]] = []
    for module in catalogue():
        rows.append(
            {
                "id": module.id,
                "kind": module.kind,
                "title_en": module.title,
                "title_cy": cy[module.id].title,
                "applies_to": {
                    "platforms": list(module.platforms),
                    "behaviours": list(module.behaviours),
                },
                "status_en": module.status,
                "status_cy": cy[module.id].status,
                "last_reviewed": module.last_reviewed.isoformat(),
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    typer.echo(f"{'id':20} {'kind':10} {'en':7} {'cy':7} title (en / cy)")
    for row in rows:
        applies = ", ".join(row["applies_to"]["platforms"] + row["applies_to"]["behaviours"])
        typer.echo(
            f"{row['id']:20} {row['kind']:10} {row['status_en']:7} {row['status_cy']:7} "
            f"{row['title_en']} / {row['title_cy']}" + (f"  [{applies}]" if applies else "")
        )


@handle_errors
def advice_cmd(
    case_dir: Path | None = typer.Argument(
        None,
        help=(
            "Case folder. Topics then come from the case's records (platforms, block events) "
            "and timeline indicators; the sheet is written to CASE/reports/ and recorded in "
            "the custody log. Leave out to make a sheet from --platform/--behaviour alone."
        ),
    ),
    platform: list[str] = typer.Option(
        [],
        "--platform",
        "-p",
        help="Add advice for a platform (repeatable): whatsapp, instagram, facebook, "
        "messenger, snapchat, tiktok, x, twitter, telegram, email, sms, calls.",
    ),
    behaviour: list[str] = typer.Option(
        [],
        "--behaviour",
        "--behavior",
        "-b",
        help="Add advice for a behaviour (repeatable), e.g. stalkerware, trackers, threats. "
        "See --list.",
    ),
    add: list[str] = typer.Option(
        [], "--add", help="Add any topic by id (repeatable). See --list."
    ),
    exclude: list[str] = typer.Option(
        [],
        "--exclude",
        "--remove",
        help="Leave a topic out even if the case suggests it (repeatable). "
        "The core topics are always on the sheet.",
    ),
    lang: str = typer.Option(
        "both",
        "--lang",
        help="en (English), cy (Welsh) or both (Welsh first, then English, same size).",
    ),
    fmt: str = typer.Option("html", "--format", "-f", help="html, pdf or md (Markdown)."),
    output: Path | None = output_option(
        "File to write. Default with a case: CASE/reports/advice-sheet-LANG.FORMAT "
        "(advice-officer-copy-LANG.FORMAT with --officer-copy). Without a case: standard "
        "output, for Markdown only; '-o -' sends html or pdf down a pipe (never to a "
        "terminal).",
    ),
    full: bool = typer.Option(
        False,
        "--full",
        help="Add the full guide (every chosen topic in full) after the key steps, in each "
        "language. Without it the sheet has only the key steps and the helplines.",
    ),
    officer_copy: bool = typer.Option(
        False,
        "--officer-copy",
        help="Make the officer's copy instead of the victim's sheet: why each topic was "
        "chosen, the sources behind it, its review status and the helplines' sources. "
        "Keep it with the case papers; never give it to the victim.",
    ),
    list_topics: bool = typer.Option(
        False, "--list", help="List the topics (ids, titles, applies-to, review status) and exit."
    ),
    show_case_reference: bool = typer.Option(
        False,
        "--show-case-reference",
        help="Print the case reference on the sheet. By default the sheet carries only a "
        "sheet id (recorded in the custody log), because the suspect may see it.",
    ),
    force: str = typer.Option(
        DEFAULT_FORCE, "--force", help="Force name on a sheet made without a case."
    ),
    on: str | None = typer.Option(
        None,
        "--date",
        help="Date on a sheet made without a case (YYYY-MM-DD). Default: SOURCE_DATE_EPOCH "
        "if set, else today. With a case, the date of the case's last custody event.",
    ),
    as_json: bool = json_option("Print a JSON summary for scripts."),
) -> None:
    """Make a safeguarding advice sheet for a victim: tailored to the platforms and
    behaviours in the case, in English, Welsh or both, as HTML, PDF or Markdown.

    The sheet is short: the key steps of each topic, most urgent first, and the
    helplines. --full adds the full guide; --officer-copy makes the officer's copy with
    the sources. The sheet never shows the suspect's details, any evidence or sources.

    Give a case folder, or --platform/--behaviour (or --add) for a sheet without a case.
    With neither, and no -o, the command prints a short usage message and exits 2.
    """
    if list_topics:
        _list_topics(as_json)
        return
    # Imported when run: the sheet stack (Jinja2 and the advice catalogue) is heavy.
    from cyberstalk.reports.advice import (
        FORMATS,
        SHEET_LANGS,
        make_case_sheet,
        make_sheet,
        write_output,
    )

    if lang not in SHEET_LANGS:
        raise UsageError(f"--lang {lang!r} must be one of {', '.join(SHEET_LANGS)}")
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} must be one of {', '.join(FORMATS)}")
    if case_dir is None:
        if show_case_reference:
            raise UsageError(
                "--show-case-reference needs a case folder",
                advice="give the case folder, or leave the flag off to print a sheet id",
            )
        day = None
        if on is not None:
            try:
                day = date.fromisoformat(on)
            except ValueError:
                raise UsageError(f"--date {on!r} is not a date in the form YYYY-MM-DD") from None
        to_stdout = output is None or str(output) == "-"
        if fmt == "pdf" and output is None:
            raise UsageError(
                "a PDF needs a file: add -o FILE.pdf", advice="or -o - to send it down a pipe"
            )
        if as_json and to_stdout:
            raise UsageError("--json without a case needs -o FILE (the sheet goes to the file)")
        if output is None and not (platform or behaviour or add):
            raise UsageError(
                "nothing to make: give a case folder, or --platform/--behaviour for a sheet "
                "without a case",
                advice="e.g. `cyberstalk advice --platform whatsapp --behaviour "
                "repeated-contact --format md`; see `cyberstalk advice --help` and --list",
            )
        if to_stdout and fmt != "md" and _stdout_is_terminal():
            raise UsageError(
                f"{'an HTML' if fmt == 'html' else 'a PDF'} sheet is not printed on a terminal",
                advice=f"write it to a file with -o FILE.{fmt}, or use --format md to read it here",
            )
        result = make_sheet(
            platforms=platform,
            behaviours=behaviour,
            add=add,
            exclude=exclude,
            lang=lang,
            fmt=fmt,
            force=force,
            day=day,
            full=full,
            officer_copy=officer_copy,
        )
        if output is None or to_stdout:
            sys.stdout.buffer.write(result.content)
            sys.stdout.flush()
        else:
            write_output(output, result.content)
            result.outputs = [
                {"path": str(output), "sha256": hashlib.sha256(result.content).hexdigest()}
            ]
            if as_json:
                typer.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
            err(f"wrote {output} ({len(result.content)} bytes)")
        err(f"topics: {', '.join(result.selection.topics)}")
        return
    if output is not None and str(output) == "-":
        raise UsageError(
            "a case sheet is written to a file and recorded in the custody log",
            advice="leave out -o for CASE/reports/, or give -o FILE",
        )
    if on is not None:
        raise UsageError(
            "--date applies only without a case",
            advice="a case sheet is dated by the case's custody log (or SOURCE_DATE_EPOCH)",
        )
    result = make_case_sheet(
        case_dir,
        platforms=platform,
        behaviours=behaviour,
        add=add,
        exclude=exclude,
        lang=lang,
        fmt=fmt,
        out=output,
        show_case_reference=show_case_reference,
        full=full,
        officer_copy=officer_copy,
    )
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        for item in result.outputs:
            typer.echo(f"{item['path']}  sha256:{item['sha256']}")
    for topic in result.selection.topics:
        err(f"  {topic}: {'; '.join(result.selection.reasons[topic])}")
    for note in result.selection.unmatched:
        err(f"  note: {note}")
    if not result.selection.timeline_used:
        err("  note: timeline indicators not available; topics chosen from records only")
    what = "officer's copy of sheet" if officer_copy else "sheet"
    err(f"{what} {result.sheet.sheet_id} recorded in the custody log")


def register(app: typer.Typer) -> None:
    app.command("advice")(advice_cmd)
