"""Command lines parsed without typer, for commands whose start-up counts.

Importing typer and click is the largest part of a short ``cyberstalk ingest``'s
start-up, and typer's own lazy loading cannot remove it
(benchmarks/bench_startup.py times a command line both ways). A command
module in :data:`FAST_COMMANDS` declares its command line once more as a
:class:`Signature` and keeps its work in a typer-free ``run(**params) -> int``, which its
typer command calls too. :func:`fast_command` takes an ordinary command line (long
options, values, paths) and declines everything else: ``--help``, short or unknown
options, ``--``, a repeated option, a missing or dash-led value, a missing argument.
typer then parses the line as it always did, and gives the help or the usage error. So a
line is either parsed to exactly the values typer would give (a test holds the two
parsers to that) or left to typer.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

FAST_COMMANDS = ("ingest", "parse")
"""Command modules with a ``FAST`` signature and a ``run`` function."""
COMPLETION_VAR = "_CYBERSTALK_COMPLETE"
"""click's shell-completion variable: a line that asks for completion is click's."""


class Signature(NamedTuple):
    """A command line: positional arguments, the last one or more values when
    ``variadic``; options that take one value; flags that set a value; defaults for every
    option and flag; which values are paths; converters of other values (one that raises
    ValueError, as for a value typer refuses, leaves the line to typer)."""

    positionals: tuple[str, ...]
    options: Mapping[str, str]
    """``--name`` -> parameter."""
    flags: Mapping[str, tuple[str, bool]]
    """``--name`` -> (parameter, value)."""
    defaults: Mapping[str, Any]
    """Every option's and flag's parameter -> its value when not given (required
    options have none)."""
    variadic: bool = False
    paths: frozenset[str] = frozenset()
    converters: Mapping[str, Callable[[str], Any]] = MappingProxyType({})

    def parse(self, argv: list[str]) -> dict[str, Any] | None:
        """The parameters of ``argv``, or None where the line is not an ordinary one."""
        values: dict[str, Any] = {}
        given: list[str] = []
        rest = iter(argv)
        for token in rest:
            if not token.startswith("-"):
                given.append(token)
                continue
            name, eq, inline = token.partition("=")
            value: Any
            if name in self.options:
                param = self.options[name]
                value = inline if eq else next(rest, None)
                if not value or value.startswith("-"):
                    return None  # missing, empty or dash-led: typer's to judge
            elif name in self.flags and not eq:
                param, value = self.flags[name]
            else:
                return None  # --help, a short or unknown option, `--`, `-`, --flag=x
            if param in values:
                return None  # given twice: typer takes the last one; left to it
            try:
                values[param] = self._convert(param, value)
            except ValueError:
                return None  # a value typer refuses: its usage error
        fixed = len(self.positionals) - int(self.variadic)
        if len(given) < len(self.positionals) or (not self.variadic and len(given) > fixed):
            return None
        for param, value in zip(self.positionals[:fixed], given, strict=False):
            values[param] = self._convert(param, value)
        if self.variadic:
            last = self.positionals[-1]
            values[last] = [self._convert(last, value) for value in given[fixed:]]
        missing = [p for p in self.options.values() if p not in values and p not in self.defaults]
        if missing:
            return None
        return {**self.defaults, **values}

    def _convert(self, param: str, value: Any) -> Any:
        if not isinstance(value, str):
            return value  # a flag's value
        if param in self.paths:
            return Path(value)
        convert = self.converters.get(param)
        return value if convert is None else convert(value)


def fast_command(argv: list[str]) -> Callable[[], int] | None:
    """The command ``argv`` names, ready to run without typer, or None for typer."""
    if not argv or argv[0] not in FAST_COMMANDS or COMPLETION_VAR in os.environ:
        return None
    module = importlib.import_module(f"cyberstalk.commands.{argv[0]}")
    params = module.FAST.parse(argv[1:])
    if params is None:
        return None
    run: Callable[..., int] = module.run
    return lambda: run(**params)
