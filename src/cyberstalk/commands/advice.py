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
from cyberstalk.cli import err, handle_errors
from cyberstalk.errors import UsageError


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
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="File to write. Default with a case: CASE/reports/advice-sheet-LANG.FORMAT; "
        "without a case: standard output (required for pdf).",
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
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary for scripts."),
) -> None:
    """Make a safeguarding advice sheet for a victim: tailored to the platforms and
    behaviours in the case, in English, Welsh or both, as HTML, PDF or Markdown.

    The sheet never shows the suspect's details or any evidence.
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
        if fmt == "pdf" and output is None:
            raise UsageError("a PDF needs a file: add -o FILE.pdf")
        if as_json and output is None:
            raise UsageError("--json without a case needs -o FILE (the sheet goes to the file)")
        result = make_sheet(
            platforms=platform,
            behaviours=behaviour,
            add=add,
            exclude=exclude,
            lang=lang,
            fmt=fmt,
            force=force,
            day=day,
        )
        if output is None:
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
    err(f"sheet {result.sheet.sheet_id} recorded in the custody log")


def register(app: typer.Typer) -> None:
    app.command("advice")(advice_cmd)
