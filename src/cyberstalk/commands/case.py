"""``cyberstalk case ...``: create a case folder, show it, add people."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import typer

from cyberstalk.case import (
    DEFAULT_TIMEZONE,
    ROLES,
    SETTINGS_KEYS,
    SPO_STATUSES,
    add_identifiers,
    add_order,
    add_person,
    add_spo_record,
    init_case,
    open_case,
    set_setting,
)
from cyberstalk.commands._options import json_option
from cyberstalk.commands._output import handle_errors
from cyberstalk.errors import CaseError, UsageError
from cyberstalk.identifiers import IDENTIFIER_TYPES, check_identifier, parse_identifier_arg

_ID_HELP = (
    "TYPE:VALUE[@PLATFORM], repeatable. Types: "
    + ", ".join(IDENTIFIER_TYPES)
    + ". E.g. --id phone:07700900123 --id username:alex_x@instagram --id email:a@example.org"
)

# suggest_commands=False: click suggests a command for a typo itself (see cli._new_app)
case_app = typer.Typer(
    help="Create and inspect case folders.", no_args_is_help=True, suggest_commands=False
)
person_app = typer.Typer(
    help="People in the case and their identifiers.", no_args_is_help=True, suggest_commands=False
)
order_app = typer.Typer(
    help="Court orders recorded for the case.", no_args_is_help=True, suggest_commands=False
)
case_app.add_typer(person_app, name="person")
case_app.add_typer(order_app, name="order")


@case_app.command("init")
@handle_errors
def init_cmd(
    directory: Path = typer.Argument(..., help="Folder to create (must be new or empty)."),
    ref: str = typer.Option(..., "--ref", help="Case or crime reference, e.g. NWP/2026/0142."),
    officer: str = typer.Option(..., "--officer", help="Officer in the case (name and rank)."),
    initials: str = typer.Option(
        ..., "--initials", help="Exhibit producer's initials: exhibits become XX/1, XX/2..."
    ),
    tz: str = typer.Option(
        DEFAULT_TIMEZONE, "--tz", help="Case timezone (IANA) used to display times."
    ),
    force: str = typer.Option("North Wales Police", "--force", help="Force name on reports."),
) -> None:
    """Create a case folder with case.toml, an empty custody log and its sub-folders."""
    case = init_case(
        directory, reference=ref, officer=officer, initials=initials, timezone=tz, force=force
    )
    typer.echo(f"created case {case.config.reference} at {case.root}")


@case_app.command("show")
@handle_errors
def show_cmd(
    directory: Path = typer.Argument(..., help="Case folder."),
    as_json: bool = json_option(),
) -> None:
    """Check case.toml and print the case, its people, orders and settings.

    Unknown tables or keys, and identifiers that are not what their type says (a phone
    number that is no number), are errors naming the entry."""
    cfg = open_case(directory).config
    problems = [
        f"{p.name}: {i.type}:{i.value}: {problem}"
        for p in cfg.people
        for i in p.identifiers
        if (problem := check_identifier(i))
    ]
    if problems:
        raise CaseError(
            f"{directory / 'case.toml'}: identifiers that cannot be right:\n  "
            + "\n  ".join(problems),
            advice="correct them in case.toml by hand",
        )
    data = {
        "reference": cfg.reference,
        "officer": cfg.officer,
        "exhibit_prefix": cfg.exhibit_prefix,
        "timezone": cfg.timezone,
        "force": cfg.force,
        "people": [
            {
                "name": p.name,
                "role": p.role,
                "identifiers": [
                    {"type": i.type, "value": i.value, "platform": i.platform}
                    for i in p.identifiers
                ],
                "addresses": list(p.addresses),
            }
            for p in cfg.people
        ],
        "orders": [
            {
                "kind": o.kind,
                "subject": o.subject,
                "made": o.made.isoformat() if o.made else None,
                "served": o.served.isoformat() if o.served else None,
                "conditions": list(o.conditions),
            }
            for o in cfg.orders
        ],
        "spo": [
            {
                "subject": x.subject,
                "status": x.status,
                "date": x.date.isoformat(),
                "reasons": x.reasons,
            }
            for x in cfg.spo
        ],
        "settings": {
            k: v if isinstance(v, bool | int | float | str) else _shown(v)
            for k, v in cfg.settings.items()
        },
    }
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    typer.echo(f"case      {cfg.reference}  ({cfg.force})")
    typer.echo(f"officer   {cfg.officer}  exhibits {cfg.exhibit_prefix}/n  timezone {cfg.timezone}")
    for p in cfg.people:
        ids = (
            ", ".join(
                f"{i.type}:{i.value}" + (f"@{i.platform}" if i.platform else "")
                for i in p.identifiers
            )
            or "no identifiers"
        )
        typer.echo(f"person    {p.name} [{p.role}]  {ids}")
    for o in cfg.orders:
        served = o.served.isoformat() if o.served else "not recorded"
        made = f", made {o.made.isoformat()}" if o.made else ""
        typer.echo(f"order     {o.kind} binding {o.subject}{made}, served {served}")
    for x in cfg.spo:
        typer.echo(f"spo       {x.date.isoformat()} {x.status} ({x.subject}): {x.reasons}")
    for key, value in cfg.settings.items():
        typer.echo(f"setting   {key} = {_shown(value)}")


def _shown(value: object) -> object:
    """A setting's value as case.toml writes it (``true``, ``22:00``, ``6.0``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    isoformat = getattr(value, "isoformat", None)
    return isoformat() if callable(isoformat) else value


@person_app.command("add")
@handle_errors
def person_add_cmd(
    directory: Path = typer.Argument(..., help="Case folder."),
    name: str = typer.Option(..., "--name", help="Name used in reports."),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
    identifier: list[str] = typer.Option([], "--id", help=_ID_HELP),
) -> None:
    """Add a person and their identifiers to case.toml (recorded in the custody log)."""
    idents = [parse_identifier_arg(raw) for raw in identifier]
    case = add_person(open_case(directory), name=name, role=role, identifiers=idents)
    typer.echo(f"added {name} [{role}] to {case.config.reference}")


@person_app.command("add-id")
@handle_errors
def person_add_id_cmd(
    directory: Path = typer.Argument(..., help="Case folder."),
    name: str = typer.Option(..., "--name", help="The person's name, as in case.toml."),
    identifier: list[str] = typer.Option(..., "--id", help=_ID_HELP),
) -> None:
    """Add identifiers to a person already in the case (recorded in the custody log)."""
    idents = [parse_identifier_arg(raw) for raw in identifier]
    case = add_identifiers(open_case(directory), name=name, identifiers=idents)
    person = next(p for p in case.config.people if p.name == name)
    typer.echo(
        f"added {len(idents)} identifier{'s' if len(idents) != 1 else ''} to {name} "
        f"({len(person.identifiers)} in all)"
    )


@case_app.command("set")
@handle_errors
def set_cmd(
    directory: Path = typer.Argument(..., help="Case folder."),
    key: str = typer.Argument(..., help=f"Setting: {', '.join(SETTINGS_KEYS)}."),
    value: str = typer.Argument(..., help="New value (true/false, a number, or HH:MM)."),
) -> None:
    """Change one [settings] value in case.toml (recorded in the custody log)."""
    case = open_case(directory)
    typed = _setting_value(key, value)
    set_setting(case, key, typed)
    typer.echo(f"{key} = {_shown(typed)} in {case.config.reference}")


def _setting_value(key: str, value: str) -> object:
    """The TOML value for ``case set KEY VALUE``, checked as the command that reads it
    checks it (so a setting that would be refused later is refused now)."""
    from dataclasses import fields
    from datetime import time

    from cyberstalk.timeline.settings import Settings, load_settings

    if key == "legacy_digests":
        if value.lower() not in ("true", "false"):
            raise UsageError(f"legacy_digests must be true or false (found {value!r})")
        return value.lower() == "true"
    names = {f.name for f in fields(Settings)}
    if key not in names:
        raise UsageError(
            f"unknown setting {key!r}", advice=f"known settings: {', '.join(SETTINGS_KEYS)}"
        )
    default = getattr(Settings(), key)
    typed: object = value
    try:
        if isinstance(default, float):
            typed = float(value)
        elif isinstance(default, int):
            typed = int(value)
    except ValueError:
        raise UsageError(f"{key} must be a number (found {value!r})") from None
    checked = getattr(load_settings({}, {key: typed}), key)
    if isinstance(checked, time):
        return checked.strftime("%H:%M")
    return checked


@order_app.command("add")
@handle_errors
def order_add_cmd(
    directory: Path = typer.Argument(..., help="Case folder."),
    kind: str = typer.Option(..., "--kind", help="E.g. 'Stalking Protection Order'."),
    subject: str = typer.Option(..., "--subject", help="Name of the person the order binds."),
    made: str | None = typer.Option(None, "--made", help="Date made, YYYY-MM-DD."),
    served: str | None = typer.Option(
        None,
        "--served",
        help="When served: YYYY-MM-DDTHH:MM[:SS][+HH:MM]; without an offset, the case "
        "timezone. Contact by the subject after this is listed as a possible breach.",
    ),
    condition: list[str] = typer.Option(
        [], "--condition", help="A prohibition or requirement, as written. Repeatable."
    ),
) -> None:
    """Record an order (e.g. a Stalking Protection Order) in case.toml."""
    try:
        made_d = date.fromisoformat(made) if made else None
    except ValueError:
        raise UsageError(
            f"--made {made!r} is not a date", advice="write it as YYYY-MM-DD, e.g. 2026-02-13"
        ) from None
    try:
        served_dt = datetime.fromisoformat(served) if served else None
    except ValueError:
        raise UsageError(
            f"--served {served!r} is not a date and time",
            advice="write it as YYYY-MM-DDTHH:MM, e.g. 2026-02-14T11:00 (case timezone) or "
            "2026-02-14T11:00+00:00",
        ) from None
    case = add_order(
        open_case(directory),
        kind=kind,
        subject=subject,
        made=made_d,
        served=served_dt,
        conditions=list(condition),
    )
    typer.echo(f"recorded {kind} binding {subject} in {case.config.reference}")


@order_app.command("spo")
@handle_errors
def order_spo_cmd(
    directory: Path = typer.Argument(..., help="Case folder."),
    subject: str = typer.Option(..., "--subject", help="Name of the person it would bind."),
    status: str = typer.Option(..., "--status", help=f"One of: {', '.join(SPO_STATUSES)}."),
    on: str = typer.Option(..., "--date", help="When this step happened, YYYY-MM-DD."),
    reason: str = typer.Option(
        ..., "--reason", help="Why (e.g. why it was or was not applied for)."
    ),
) -> None:
    """Record a step in considering a Stalking Protection Order: considered, applied,
    granted, refused or not_applied, with its date and reasons (in case.toml and the
    custody log; the force profile counts them)."""
    try:
        when = date.fromisoformat(on)
    except ValueError:
        raise UsageError(f"--date {on!r} is not a date", advice="write it as YYYY-MM-DD") from None
    case = add_spo_record(
        open_case(directory), subject=subject, status=status, when=when, reasons=reason
    )
    typer.echo(
        f"recorded SPO {status} for {subject} on {when.isoformat()} in {case.config.reference}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(case_app, name="case")
