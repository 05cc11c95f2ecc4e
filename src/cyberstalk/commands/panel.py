"""``cyberstalk panel``: the multi-agency stalking panel pack of a case, people masked."""

from __future__ import annotations

from pathlib import Path

import typer

from cyberstalk.case import open_case
from cyberstalk.commands._options import (
    from_option,
    json_option,
    output_option,
    parse_day,
    person_option,
    to_option,
)
from cyberstalk.commands._output import err, handle_errors, print_json
from cyberstalk.errors import UsageError

FORMATS = ("html", "pdf", "json")


@handle_errors
def panel_cmd(
    directory: Path = typer.Argument(..., help="Case folder."),
    output: Path | None = output_option(
        "Output file (default: CASE/reports/panel-pack-ROLE.FORMAT)."
    ),
    fmt: str = typer.Option(
        "html",
        "--format",
        "-f",
        help="html (one self-contained file that prints on A4), pdf (A4, via WeasyPrint) or "
        "json (the same content as data).",
    ),
    role: str = typer.Option(
        "panel",
        "--role",
        help="Who the pack is for, which sets what is shown in clear: panel (default: "
        "everything masked), police (victim's and suspect's names, suspect's identifiers), "
        "probation (suspect's name), victim-support and cps (victim's and suspect's names).",
    ),
    reveal: list[str] = typer.Option(
        [],
        "--reveal",
        help="Show a field in clear, on top of the role's preset (repeatable). Fields are "
        "[ROLE-]KIND: KIND is name, phone, email, username, display-name, account-id or "
        "address (or ROLE-all), ROLE is victim, suspect, witness or other; e.g. suspect-name, "
        "phone, victim-address.",
    ),
    mask: list[str] = typer.Option(
        [],
        "--mask",
        help="Mask a field the role's preset would show (repeatable; same vocabulary as "
        "--reveal), e.g. --role police --mask victim-name.",
    ),
    include_text: list[str] = typer.Option(
        [],
        "--include-text",
        help="Print this record's message text in the pack, masked like the rest "
        "(repeatable; a record id such as r-0123456789abcdef from the pack's record index). "
        "Without it the pack holds no message text.",
    ),
    period: str = typer.Option(
        "auto",
        "--period",
        help="Escalation chart buckets: week, month, or auto (weeks up to 26 weeks of "
        "contact, else months).",
    ),
    date_from: str | None = from_option(),
    date_to: str | None = to_option(),
    person: str | None = person_option(),
    as_json: bool = json_option("Print what was written (path, SHA-256, what was masked) as JSON."),
) -> None:
    """Make the pack for the monthly multi-agency stalking panel: occasions, FOUR and
    s.2A(3) indicators, contact after a block, possible order breaches, platforms and
    escalation over time, each with its record ids; no message text unless asked for.
    Everyone in case.toml is masked by pseudonym ("Victim A", "[phone 1 of Victim A]")
    unless --role or --reveal shows them. The pack is recorded in the custody log with its
    SHA-256, the role, the fields revealed and what was masked."""
    from cyberstalk.reports.panel import PanelOptions, make_panel_pack  # jinja2: only when run
    from cyberstalk.timeline.gcpause import gc_paused

    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    case = open_case(directory)
    options = PanelOptions(
        role=role,
        reveal=tuple(reveal),
        mask=tuple(mask),
        include_text=tuple(dict.fromkeys(include_text)),
        period=period,
    )
    with gc_paused(freeze=True):  # as the timeline command: no sweep after the analysis
        result = make_panel_pack(
            case,
            fmt,
            output,
            options,
            person=person,
            date_from=parse_day(date_from, "--from"),
            date_to=parse_day(date_to, "--to"),
        )
    counts = result.redaction.get("counts", {})
    err(
        f"panel pack for {result.role}: shown in clear: "
        f"{', '.join(result.revealed) or 'nothing'}; masked "
        f"{sum(v for k, v in counts.items() if isinstance(v, int))} occurrences; "
        f"{len(result.included)} record text(s) included"
    )
    if as_json:
        print_json(
            {
                "format": result.format,
                "path": str(result.path),
                "sha256": result.sha256,
                "size": result.size,
                "role": result.role,
                "revealed": list(result.revealed),
                "include_text": list(result.included),
                # Not the pseudonym key (who "Victim A" is): that stays in the custody log.
                "redaction": {k: v for k, v in result.redaction.items() if k != "pseudonyms"},
            }
        )
        return
    typer.echo(f"{result.path}  sha256 {result.sha256}")


def register(app: typer.Typer) -> None:
    app.command("panel")(panel_cmd)
