"""``cyberstalk case ...``: create a case folder, show it, add people."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import typer

from cyberstalk.case import (
    DEFAULT_TIMEZONE,
    IDENTIFIER_TYPES,
    ROLES,
    Identifier,
    add_order,
    add_person,
    init_case,
    open_case,
)
from cyberstalk.cli import handle_errors
from cyberstalk.errors import UsageError

case_app = typer.Typer(help="Create and inspect case folders.", no_args_is_help=True)
person_app = typer.Typer(help="People in the case and their identifiers.", no_args_is_help=True)
order_app = typer.Typer(help="Court orders recorded for the case.", no_args_is_help=True)
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
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Check case.toml and print the case, its people and orders."""
    cfg = open_case(directory).config
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
    }
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    typer.echo(f"case      {cfg.reference}  ({cfg.force})")
    typer.echo(f"officer   {cfg.officer}  exhibits {cfg.exhibit_prefix}/n  timezone {cfg.timezone}")
    for p in cfg.people:
        ids = ", ".join(f"{i.type}:{i.value}" for i in p.identifiers) or "no identifiers"
        typer.echo(f"person    {p.name} [{p.role}]  {ids}")
    for o in cfg.orders:
        typer.echo(f"order     {o.kind} binding {o.subject}, served {o.served or 'not recorded'}")


@person_app.command("add")
@handle_errors
def person_add_cmd(
    directory: Path = typer.Argument(..., help="Case folder."),
    name: str = typer.Option(..., "--name", help="Name used in reports."),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
    identifier: list[str] = typer.Option(
        [],
        "--id",
        help=(
            "TYPE:VALUE[@PLATFORM], repeatable. Types: "
            "phone, email, username, display_name, account_id. E.g. --id phone:07700900123 "
            "--id username:alex_x@instagram"
        ),
    ),
) -> None:
    """Add a person and their identifiers to case.toml (recorded in the custody log)."""
    idents = []
    for raw in identifier:
        kind, sep, rest = raw.partition(":")
        if not sep or kind not in IDENTIFIER_TYPES or not rest:
            raise UsageError(f"--id {raw!r} must be TYPE:VALUE with TYPE one of {IDENTIFIER_TYPES}")
        platform = None
        if "@" in rest and kind != "email":
            rest, _, platform = rest.rpartition("@")
        idents.append(Identifier(kind, rest, platform or None))
    case = add_person(open_case(directory), name=name, role=role, identifiers=idents)
    typer.echo(f"added {name} [{role}] to {case.config.reference}")


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
        served_dt = datetime.fromisoformat(served) if served else None
    except ValueError as exc:
        raise UsageError(f"bad date: {exc}") from None
    case = add_order(
        open_case(directory),
        kind=kind,
        subject=subject,
        made=made_d,
        served=served_dt,
        conditions=list(condition),
    )
    typer.echo(f"recorded {kind} binding {subject} in {case.config.reference}")


def register(app: typer.Typer) -> None:
    app.add_typer(case_app, name="case")
