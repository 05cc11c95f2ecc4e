"""The options several commands share, declared once: ``--json``, ``-o/--output`` and the
scope of a report (``--from``, ``--to``, ``--person``).

Each is a factory: a command calls it as the default of its parameter, giving the help
text where what the option does differs per command (what ``--json`` prints, where
``--output`` writes by default). ``--date-order``'s values are one enum,
:class:`cyberstalk.parsers.textutil.DateOrder`, beside the parsers that read them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import typer

from cyberstalk.errors import UsageError

JSON_HELP = "Print JSON for scripts."


def json_option(help: str = JSON_HELP) -> Any:
    """``--json``: a flag; ``help`` says what is printed."""
    return typer.Option(False, "--json", help=help)


def output_option(help: str, *, required: bool = False) -> Any:
    """``-o/--output PATH``: where the command writes; ``help`` gives its default."""
    return typer.Option(... if required else None, "--output", "-o", help=help, show_default=False)


def from_option() -> Any:
    """``--from YYYY-MM-DD``: the first day of a report's scope (see :func:`parse_day`)."""
    return typer.Option(
        None, "--from", help="First day to include, YYYY-MM-DD in the case timezone."
    )


def to_option() -> Any:
    """``--to YYYY-MM-DD``: the last day of a report's scope, inclusive."""
    return typer.Option(
        None, "--to", help="Last day to include, YYYY-MM-DD in the case timezone (inclusive)."
    )


def person_option(
    help: str = "Only this person of interest (a name from case.toml); default: every suspect.",
) -> Any:
    """``--person NAME``: the person of interest a report is about."""
    return typer.Option(None, "--person", help=help)


def parse_day(value: str | None, option: str) -> date | None:
    """The day ``--from``/``--to`` give (None when not given); a usage error naming
    ``option`` when ``value`` is not a YYYY-MM-DD date."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{option} {value!r} is not a date", advice="write dates as YYYY-MM-DD, e.g. 2026-02-14"
        ) from None
