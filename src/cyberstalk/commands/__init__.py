"""Command modules. Each exposes ``register(app)`` adding its commands to the typer app."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # typer is imported by the command modules themselves, when they load
    import typer

# One module per area; each adds its own commands. Keep the order: it is the --help order.
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


def register_all(app: typer.Typer) -> None:
    for name in MODULES:
        register_one(app, name)


def register_one(app: typer.Typer, name: str) -> None:
    """Add the commands of one module (``name`` from :data:`MODULES`) to ``app``."""
    module = importlib.import_module(f"cyberstalk.commands.{name}")
    module.register(app)
