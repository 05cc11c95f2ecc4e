"""Command modules. Each exposes ``register(app)`` adding its command (named as the
module) to a typer app; :mod:`cyberstalk.cli` loads them as they are invoked."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # typer is imported by the command modules themselves, when they load
    import typer

# One module per area, each with one command of its name (a group for `case`). Keep the
# order: it is the --help order.
MODULES = (
    "case",
    "ingest",
    "capture",
    "process",
    "parse",
    "verify",
    "timestamp",
    "export",
    "timeline",
    "media",
    "search",
    "advice",
    "risk",
    "panel",
    "profile",
    "screen",
)


def module_app(name: str) -> typer.Typer:
    """A typer app with the commands of one module (``name`` from :data:`MODULES`)."""
    import typer

    module = importlib.import_module(f"cyberstalk.commands.{name}")
    # as the root app (cyberstalk.cli): click suggests a command for a typo itself
    app = typer.Typer(add_completion=False, rich_markup_mode=None, suggest_commands=False)
    module.register(app)
    return app
