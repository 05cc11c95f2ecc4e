"""The plain summary table: aligned, and hostile names shown escaped, never interpreted;
and a command that keeps its result to the end of the process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cyberstalk.commands._output import display_width, print_table, safe_text


def test_columns_line_up_including_wide_characters(capsys) -> None:
    print_table("t", ("a", "b"), [("日本", "x"), ("abcdef", None), (1, "y")])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "t"
    assert lines[1] == "a       b"
    assert lines[2] == "------  -"
    # the second column starts at the same terminal cell on every row
    starts = {display_width(row[: row.index(c)]) for row, c in ((lines[3], "x"), (lines[5], "y"))}
    assert starts == {8}
    assert lines[4] == "abcdef"  # None shows as empty, trailing spaces trimmed


def test_control_and_format_characters_are_escaped(capsys) -> None:
    hostile = "report\u202etxt.exe\x1b[2J\r\nnext\u2028"
    print_table("t", ("name",), [(hostile,)])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "\r" not in out
    assert out.splitlines()[3] == "report\\u202etxt.exe\\x1b[2J\\x0d\\x0anext\\u2028"


def test_safe_text_keeps_printable_text_as_is() -> None:
    assert safe_text("Ffôn Siân 📱 [bold]x[/bold]") == "Ffôn Siân 📱 [bold]x[/bold]"
    assert display_width("Siân") == 4
    assert display_width("日本") == 4


KEEP = """
import sys
from cyberstalk.commands import _output
if sys.argv[1] == "allowed":
    _output.end_without_freeing()
kept = [object() for _ in range(3)]
_output.keep_until_exit(kept)
print("written before the end", end="")  # still in stdout's buffer
sys.stderr.write("and a message")
_output.exit_kept(int(sys.argv[2]))
print(" | exit_kept returned")
"""


def test_a_kept_result_ends_the_process_with_its_code_and_its_output_flushed() -> None:
    """keep_until_exit under the console script: exit_kept ends the process at once,
    with the command's code, its buffered output written; anywhere else it is a no-op."""

    def run(mode: str, code: int) -> subprocess.CompletedProcess[str]:
        buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
        return subprocess.run(
            [sys.executable, "-c", KEEP, mode, str(code)],
            capture_output=True,
            text=True,
            env=buffered,
        )

    for code in (0, 3):
        done = run("allowed", code)
        assert (done.returncode, done.stdout, done.stderr) == (
            code,
            "written before the end",
            "and a message",
        )
    # stdout's reader gone before the end (`| head`): the flush fails, the code is 1
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        gone = subprocess.run(
            [sys.executable, "-c", KEEP, "allowed", "0"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
        )
    finally:
        os.close(write_end)
    assert (gone.returncode, gone.stderr) == (1, "and a message")
    other = run("library", 3)  # not the console script: nothing kept, nothing ended
    assert (other.returncode, other.stdout) == (0, "written before the end | exit_kept returned\n")


def test_the_timeline_command_ends_kept_with_its_report_and_log_complete(tmp_path) -> None:
    """The console script's timeline keeps its analysis and ends without freeing it: the
    exit code, the printed report line and the custody log's record are all there."""
    from helpers.fixture_scripts import load_fixture

    root = load_fixture("timeline").build_case(tmp_path / "case")
    done = subprocess.run(
        [sys.executable, "-m", "cyberstalk", "timeline", str(root), "--json"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert "analysed" in done.stderr
    lines = (root / "custody.jsonl").read_text("utf-8").splitlines()
    made = [e for e in map(json.loads, lines) if e["event"] == "report_made"]
    assert made[-1]["details"]["sha256"] == shown["sha256"]
    assert Path(shown["path"]).read_bytes()
