"""The README is checked by machine: every command has help text and appears in it, and
its walkthrough commands run (against a TSA on 127.0.0.1 that the test starts)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from cyberstalk.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def all_commands() -> list[tuple[str, object]]:
    # typer vendors its own click: recognise groups and options by duck typing
    root = typer.main.get_command(app)
    found: list[tuple[str, object]] = []

    def walk(prefix: str, cmd) -> None:
        if hasattr(cmd, "list_commands"):  # the root loads each command as it is looked up
            ctx = typer.Context(cmd)
            for name in sorted(cmd.list_commands(ctx)):
                walk(f"{prefix} {name}".strip(), cmd.get_command(ctx, name))
        else:
            found.append((prefix, cmd))

    walk("", root)
    return found


def test_every_command_has_help_and_is_in_the_readme() -> None:
    commands = all_commands()
    assert len(commands) >= 5
    for name, cmd in commands:
        assert (cmd.help or "").strip(), f"`cyberstalk {name}` has no help text"
        for param in cmd.params:
            if param.param_type_name == "option" and not getattr(param, "hidden", False):
                assert (param.help or "").strip(), f"`cyberstalk {name}` {param.opts} has no help"
        assert re.search(rf"cyberstalk {re.escape(name)}\b", README), (
            f"`cyberstalk {name}` is not shown in README.md"
        )


def test_readme_opens_with_the_two_commands() -> None:
    head = README[:1500]
    assert "make demo" in head and "make test" in head


def walkthrough_commands() -> list[str]:
    marker = README.index("<!-- walkthrough:")
    block = README[marker:].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


@pytest.mark.slow
def test_readme_walkthrough_runs(tmp_path: Path, local_tsa) -> None:
    """Every command of the README walkthrough, in order, in a fresh folder, against a TSA
    on 127.0.0.1 started by the test."""
    import os
    import shutil
    import subprocess
    import sys

    from helpers.tsa import write_root

    (tmp_path / "fixtures").mkdir()
    for script in (ROOT / "fixtures").glob("*.py"):
        shutil.copy(script, tmp_path / "fixtures" / script.name)
    bindir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": bindir + os.pathsep + os.environ["PATH"],
        "TSA_URL": local_tsa.url,
        "TSA_ROOT": str(write_root(local_tsa, tmp_path / "tsa-root.pem")),
    }
    commands = walkthrough_commands()
    assert len(commands) >= 15
    for command in commands:
        result = subprocess.run(
            ["bash", "-c", command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    reports = tmp_path / "demo-case" / "reports"
    assert (reports / "timeline.html").is_file() and (reports / "advice.html").is_file()
