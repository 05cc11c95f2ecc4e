"""The options several commands share (commands/_options.py): one declaration each, the
same names and help wherever the option means the same, and one reading of a day."""

from __future__ import annotations

from datetime import date

import click
import pytest
import typer.main

from cyberstalk.cli import app
from cyberstalk.commands import MODULES
from cyberstalk.commands._options import parse_day
from cyberstalk.errors import UsageError


def options_named(name: str) -> dict[str, click.Option]:
    """Each command's option whose long name is ``name``."""
    group = typer.main.get_command(app)
    assert isinstance(group, click.Group)
    ctx = click.Context(group)
    found = {}
    for command in MODULES:
        cmd = group.get_command(ctx, command)
        assert cmd is not None
        for param in cmd.params:
            if isinstance(param, click.Option) and name in param.opts:
                found[command] = param
    return found


def test_json_is_a_flag_everywhere() -> None:
    found = options_named("--json")
    assert len(found) >= 12
    for command, option in found.items():
        assert option.is_flag and option.default is False, command
        assert option.opts == ["--json"] and option.help, command


def test_output_has_its_short_name_everywhere() -> None:
    found = options_named("--output")
    assert {"timeline", "panel", "advice", "profile", "screen"} <= set(found)
    for command, option in found.items():
        assert sorted(option.opts) == ["--output", "-o"], command
    assert found["profile"].required and not found["panel"].required


@pytest.mark.parametrize("name", ["--from", "--to", "--person"])
def test_report_scope_reads_the_same_in_every_report(name: str) -> None:
    found = options_named(name)
    assert {"timeline", "panel"} <= set(found)
    assert len({option.help for option in found.values()}) == 1


def test_parse_day() -> None:
    assert parse_day(None, "--from") is None
    assert parse_day("2026-02-14", "--from") == date(2026, 2, 14)
    with pytest.raises(UsageError, match="--to '14/02/2026' is not a date"):
        parse_day("14/02/2026", "--to")
