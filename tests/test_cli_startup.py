"""Start-up of the console script, held structurally (the timings are in benchmarks/): a
command line that names its command loads that command's module only (the others, rich
and their libraries stay unimported), while help, --version and typos still see every
command."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from cyberstalk.cli import new_app
from cyberstalk.commands import MODULES, module_app

PROBE = """
import json, sys
sys.argv = ["cyberstalk", *json.loads(sys.argv[1])]
from cyberstalk.cli import main
try:
    main()
except SystemExit:
    pass
loaded = sorted(m for m in sys.modules if m.startswith(("cyberstalk.commands.", "rich", "jinja2",
                                                          "weasyprint", "cyberstalk.screening",
                                                          "typer", "click")))
print(json.dumps(loaded), file=sys.stderr)
"""


def loaded_after(*argv: str) -> tuple[list[str], str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)], capture_output=True, text=True, check=True
    )
    return json.loads(result.stderr.strip().splitlines()[-1]), result.stdout


def test_a_named_command_loads_only_its_module() -> None:
    loaded, out = loaded_after("ingest", "--help")
    assert "Usage: cyberstalk ingest" in out
    assert [m for m in loaded if m.startswith("cyberstalk.commands.")] == [
        "cyberstalk.commands._options",  # the shared option declarations
        "cyberstalk.commands._output",
        "cyberstalk.commands.fastpath",  # asked first; it leaves --help to typer
        "cyberstalk.commands.ingest",
    ]
    assert not any(m.startswith(("rich", "jinja2", "weasyprint", "cyberstalk.screening"))
                   for m in loaded)  # fmt: skip


def test_top_level_help_lists_every_command() -> None:
    _, out = loaded_after("--help")
    for name in MODULES:
        assert f"  {name}" in out


def test_version_and_typos() -> None:
    loaded, out = loaded_after("--version")
    assert out.startswith("cyberstalk ")
    # answered before typer, click or any command module is imported
    assert [m for m in loaded if m.startswith(("typer", "click", "cyberstalk.commands."))] == [
        "cyberstalk.commands._output"
    ]
    result = subprocess.run(
        [sys.executable, "-m", "cyberstalk", "ingets"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2 and "No such command 'ingets'" in result.stderr


@pytest.mark.parametrize(
    ("argv", "module"),
    [(["verify", "--help"], "verify"), (["case", "init", "--help"], "case")],
)
def test_a_command_line_loads_only_what_it_names(argv: list[str], module: str) -> None:
    loaded, out = loaded_after(*argv)
    assert "Usage: cyberstalk" in out
    commands = {m for m in loaded if m.startswith("cyberstalk.commands.")}
    shared = {"cyberstalk.commands._options", "cyberstalk.commands._output"}
    assert commands - shared - {"cyberstalk.commands.fastpath"} == {f"cyberstalk.commands.{module}"}


def test_the_app_loads_each_command_when_it_is_looked_up() -> None:
    import click
    import typer.main

    group = typer.main.get_command(new_app())
    assert isinstance(group, click.Group)
    ctx = click.Context(group)
    assert group.commands == {}
    assert group.get_command(ctx, "verify") is not None
    assert sorted(group.commands) == ["verify"]
    assert group.list_commands(ctx) == list(MODULES)  # the --help order
    assert group.get_command(ctx, "ingets") is None  # a typo loads all, to suggest one
    assert sorted(group.commands) == sorted(MODULES)


GC_PROBE = """
import gc, json, sys
from pathlib import Path
seen = {}
import cyberstalk.commands.case as case_cmds
real = case_cmds.init_case
def spy(*args, **kwargs):
    seen["in_command"] = gc.isenabled()  # the command's own work runs with the collector on
    return real(*args, **kwargs)
case_cmds.init_case = spy
sys.argv = ["cyberstalk", "case", "init", sys.argv[1], "--ref", "R", "--officer", "O",
            "--initials", "RE"]
from cyberstalk.cli import main
try:
    main()
except SystemExit as exc:
    seen["code"] = exc.code
seen["after"] = gc.isenabled()
print(json.dumps(seen))
"""


def test_collector_is_paused_only_for_start_up(tmp_path) -> None:
    """main() pauses the cyclic collector while it loads modules and builds the app; the
    command itself must run with it on (a long parse would otherwise keep its cycles)."""
    result = subprocess.run(
        [sys.executable, "-c", GC_PROBE, str(tmp_path / "case")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")},
    )
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {"in_command": True, "code": 0, "after": True}, result.stderr


def test_every_command_runs_through_handle_errors() -> None:
    """handle_errors turns the collector back on (and maps errors to exit codes), so every
    command callback must be wrapped by it, sub-commands included."""
    import typer

    from cyberstalk.commands._output import handle_errors

    wrapper_code = handle_errors(lambda: None).__code__

    def callbacks(app: typer.Typer, prefix: str) -> list[tuple[str, object]]:
        found = [(f"{prefix}{c.name}", c.callback) for c in app.registered_commands]
        for group in app.registered_groups:
            assert group.typer_instance is not None
            found += callbacks(group.typer_instance, f"{prefix}{group.name} ")
        return found

    found = [found for name in MODULES for found in callbacks(module_app(name), "")]
    assert len(found) >= len(MODULES)
    unwrapped = [name for name, cb in found if getattr(cb, "__code__", None) is not wrapper_code]
    assert unwrapped == []
