"""Small command-line behaviours a user meets first: typo suggestions, empty cases."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cyberstalk.case import init_case
from cyberstalk.cli import app


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The installed entry point, as a user runs it (the typo path goes through click)."""
    return subprocess.run(
        [sys.executable, "-m", "cyberstalk", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "suggestion"),
    [(["timelin"], "'timeline'"), (["case", "shw"], "'show'"), (["case", "person", "ad"], "'add'")],
)
def test_a_typo_suggests_the_command_once(args: list[str], suggestion: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.count("Did you mean") == 1
    assert f"Did you mean {suggestion}?" in result.stderr


def test_timeline_of_a_case_with_nothing_in_it_says_what_to_run(tmp_path: Path) -> None:
    case = init_case(tmp_path / "case", reference="R/1", officer="DC T", initials="RE")
    empty = run("timeline", case.root)
    assert empty.returncode == 3
    assert "no evidence yet" in empty.stderr and "cyberstalk ingest" in empty.stderr
    assert not list((case.root / "reports").iterdir())  # no empty report written
    note = tmp_path / "note.txt"
    note.write_text("not an export")
    assert run("ingest", case.root, note, "--source", "test").returncode == 0
    unparsed = run("timeline", case.root)
    assert unparsed.returncode == 3
    assert "1 exhibit but no parsed records" in unparsed.stderr
    hint = f"cyberstalk process {case.root}"
    assert hint in unparsed.stderr
    assert run(*hint.split()[1:]).returncode == 0  # the hint names a command that works
