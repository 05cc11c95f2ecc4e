"""`cyberstalk ingest` and `cyberstalk parse` parsed without typer
(cyberstalk.commands.fastpath).

The fast parser must give exactly the values typer gives for every line it takes, and
decline every other line, which typer then parses as it always did. A real run through
the console script must print the same bytes and exit with the same code as the typer
path, and must not import typer or click at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cyberstalk.cli import new_app
from cyberstalk.commands import ingest as ingest_module
from cyberstalk.commands import parse as parse_module
from cyberstalk.commands.fastpath import Signature, fast_command

FAST = ingest_module.FAST


def typer_values(argv: list[str], module: Any = ingest_module) -> tuple[int, dict[str, Any] | None]:
    """(exit code, the values typer hands to ``run``) for ``cyberstalk COMMAND ARGV``, the
    command of ``module`` (ingest by default)."""
    seen: dict[str, Any] = {}
    names = list(module.FAST.positionals)

    def spy(*args: Any, **options: Any) -> int:
        seen.update(zip(names, args, strict=True), **options)
        return 0

    command = module.__name__.rsplit(".", 1)[-1]
    with mock.patch.object(module, "run", spy):
        result = CliRunner().invoke(new_app(), [command, *argv])
    return result.exit_code, (seen or None)


TOKENS = st.sampled_from(
    [
        "case",
        "sub",
        "a b.txt",
        "ü.jpg",
        "--source",
        "--source=USB bag 1",
        "--source=",
        "--received-from",
        "--operator",
        "--operator=DC Jones",
        "--key",
        "--key=k.pem",
        "--legacy-digests",
        "--no-legacy-digests",
        "--process",
        "--no-process",
        "--json",
        "--json=1",
        "--help",
        "-h",
        "--",
        "-",
        "-x",
        "--sauce",
        "",
        "USB stick",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(TOKENS, max_size=9))
def test_every_line_the_fast_parser_takes_typer_parses_the_same(argv: list[str]) -> None:
    fast = FAST.parse(argv)
    if fast is None:
        return  # declined: typer parses it, as before
    code, values = typer_values(argv)
    assert code == 0, argv
    assert values == fast, argv


ORDINARY = [
    ["case", "sub", "--source", "USB stick"],
    ["case", "sub", "more", "--source=USB stick", "--json"],
    ["--source", "s", "case", "sub"],
    ["case", "--no-process", "sub", "--source", "s", "--operator", "DC Jones"],
    ["case", "sub", "--source", "s", "--received-from", "victim", "--key", "k.pem"],
    ["case", "sub", "--source", "s", "--legacy-digests", "--process"],
    ["case", "sub", "--source", "s", "--no-legacy-digests"],
]


@pytest.mark.parametrize("argv", ORDINARY)
def test_ordinary_lines_are_parsed_without_typer_to_typers_values(argv: list[str]) -> None:
    fast = FAST.parse(argv)
    assert fast is not None
    assert typer_values(argv) == (0, fast)
    assert fast["directory"] == Path("case")
    assert all(isinstance(p, Path) for p in fast["paths"])


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["case", "sub", "--source", "s", "--help"],
        ["case", "sub", "--source", "s", "-h"],
        ["case", "sub"],  # --source missing
        ["case", "--source", "s"],  # no path
        ["case", "sub", "--source"],  # no value
        ["case", "sub", "--source", "--json"],  # a dash-led value
        ["case", "sub", "--source="],
        ["case", "sub", "--source", "a", "--source", "b"],
        ["case", "sub", "--source", "s", "--process", "--no-process"],
        ["case", "sub", "--source", "s", "--json=1"],
        ["case", "sub", "--source", "s", "--sauce", "x"],
        ["case", "--", "-sub", "--source", "s"],
        ["case", "-", "--source", "s"],
    ],
)
def test_unusual_lines_are_left_to_typer(argv: list[str]) -> None:
    assert FAST.parse(argv) is None


def test_a_fixed_signature_takes_exactly_its_positionals() -> None:
    sig = Signature(positionals=("a", "b"), options={}, flags={}, defaults={})
    assert sig.parse(["x", "y"]) == {"a": "x", "b": "y"}
    assert sig.parse(["x"]) is None
    assert sig.parse(["x", "y", "z"]) is None


def test_only_named_commands_and_no_completion_request_go_fast(monkeypatch) -> None:
    assert fast_command(["ingest", "case", "sub", "--source", "s"]) is not None
    assert fast_command(["verify", "case"]) is None
    assert fast_command([]) is None
    monkeypatch.setenv("_CYBERSTALK_COMPLETE", "bash_complete")
    assert fast_command(["ingest", "case", "sub", "--source", "s"]) is None


# --------------------------------------------------------------------------- real runs

RUN = """
import json, sys
mode, argv = sys.argv[1], json.loads(sys.argv[2])  # fast: the console script's main()
sys.argv = ["cyberstalk", *argv]
code = 0
try:
    if mode == "fast":
        from cyberstalk.cli import main
        main()
    else:
        from cyberstalk.cli import new_app
        new_app()()
except SystemExit as exc:
    code = exc.code or 0
# what an ingest of plain files has no use for: the CLI framework, what only an archive
# (zipfile) or a thread pool of the standard library's (with logging) would need, and
# dataclasses, whose import (inspect, ast, dis) and per-class code generation cost more
# than the rest of such an ingest's own modules together, and mimetypes (see filetype)
heavy = (
    "typer", "click", "zipfile", "concurrent", "logging", "dataclasses", "inspect", "mimetypes"
)
loaded = [m.split(".")[0] for m in sys.modules if m.startswith(heavy)]
sys.stderr.write("\\n@@" + json.dumps({"code": code, "loaded": sorted(set(loaded))}))
"""


def run(mode: str, cwd: Path, *argv: str) -> tuple[int, str, str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", RUN, mode, json.dumps(argv)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "XDG_CONFIG_HOME": str(cwd / "xdg")},
    )
    stderr, _, tail = result.stderr.rpartition("\n@@")
    info = json.loads(tail)
    return info["code"], result.stdout, stderr, info["loaded"]


def init_case(cwd: Path, name: str) -> None:
    code, _, stderr, _ = run(
        "fast", cwd, "case", "init", name, "--ref", "R1", "--officer", "O", "--initials", "FP"
    )
    assert code == 0, stderr


@pytest.fixture
def submission(tmp_path: Path) -> Path:
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "a.txt").write_bytes(b"first message\n")
    (sub / "b.bin").write_bytes(bytes(range(256)) * 64)
    (sub / "link").symlink_to("a.txt")  # refused: exit 3
    evil = "\x1b[2J\x1b[31mred.txt"  # a name that would drive a terminal
    (sub / evil).symlink_to("a.txt")
    return tmp_path


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_fast_and_typer_runs_print_the_same_and_exit_the_same(
    submission: Path, extra: list[str]
) -> None:
    outputs = []
    for mode in ("fast", "typer"):
        init_case(submission, f"case-{mode}")
        argv = ["ingest", f"case-{mode}", "sub", "--source", "bag 1", "--no-process", *extra]
        code, out, err, loaded = run(mode, submission, *argv)
        outputs.append((code, out.replace(f"case-{mode}", "CASE"), err))
        if mode == "fast":
            assert loaded == []
        else:
            assert {"click", "typer"} <= set(loaded)
    assert outputs[0] == outputs[1]
    code, out, err = outputs[0]
    assert code == 3  # the links were refused; the rest is recorded
    assert "2 stored" in out or '"stored": 2' in out
    # the hostile name is shown escaped on stderr, never as escape sequences
    assert "\x1b" not in err and "\x1b" not in out
    assert "\\x1b[2J\\x1b[31mred.txt" in err


def test_errors_map_to_the_same_message_and_exit_code(tmp_path: Path) -> None:
    results = {
        mode: run(mode, tmp_path, "ingest", "no-case", "x", "--source", "s")
        for mode in ("fast", "typer")
    }
    assert results["fast"][:3] == results["typer"][:3]
    code, _, err, _ = results["fast"]
    assert code == 3
    assert err.startswith("error: no case folder at no-case\n  hint: ")


def test_a_declined_line_still_gets_typers_usage_error(tmp_path: Path) -> None:
    code, _, err, loaded = run("fast", tmp_path, "ingest", "case", "sub")
    assert code == 2
    assert "Missing option '--source'" in err
    assert {"click", "typer"} <= set(loaded)


BROKEN_PIPE = """
import sys
from cyberstalk.cli import _run_fast
def command():
    raise BrokenPipeError
code = _run_fast(command)
print("not shown")
sys.stderr.write(f"code={code}")
"""


def test_a_closed_stdout_exits_1_quietly() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BROKEN_PIPE], capture_output=True, text=True, check=True
    )
    assert result.stderr == "code=1"
    assert result.stdout == ""


GC_PROBE = """
import gc, json, sys
import cyberstalk.commands.ingest as ingest_cmds
seen = {}
def spy(*args, **kwargs):
    seen["in_command"] = gc.isenabled()  # the command's own work runs with the collector on
    return 3
ingest_cmds.run = spy
sys.argv = ["cyberstalk", "ingest", "case", "sub", "--source", "s"]
from cyberstalk.cli import main
try:
    main()
except SystemExit as exc:
    seen["code"] = exc.code
seen["after"] = gc.isenabled()
seen["typer"] = "typer" in sys.modules
print(json.dumps(seen))
"""


def test_the_collector_runs_during_a_fast_command_and_its_code_is_the_exit_code() -> None:
    """main() pauses the cyclic collector for start-up; a command run without typer turns
    it back on, as handle_errors does under typer, and exits with the code run returns."""
    result = subprocess.run(
        [sys.executable, "-c", GC_PROBE], capture_output=True, text=True, check=True
    )
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {"in_command": True, "code": 3, "after": True, "typer": False}


# --------------------------------------------------------------------------- parse

PARSE = parse_module.FAST


def parse_typer_values(argv: list[str]) -> tuple[int, dict[str, Any] | None]:
    return typer_values(argv, parse_module)


PARSE_TOKENS = st.sampled_from(
    [
        "chat.txt",
        "case",
        "a b.zip",
        "--format",
        "--format=whatsapp",
        "whatsapp",
        "-f",
        "--tz",
        "--tz=Europe/London",
        "Europe/London",
        "--date-order",
        "--date-order=DMY",
        "--date-order=mdy",
        "--date-order=dym",
        "--date-order=\u0131dm",
        "ymd",
        "Ymd",
        "--exhibit",
        "RE/1/3",
        "--map",
        "time=Date",
        "--list",
        "--json",
        "--list=1",
        "--help",
        "--",
        "-",
        "",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PARSE_TOKENS, max_size=7))
def test_every_parse_line_the_fast_parser_takes_typer_parses_the_same(argv: list[str]) -> None:
    fast = PARSE.parse(argv)
    if fast is None:
        return  # declined: typer parses it, as before
    code, values = parse_typer_values(argv)
    assert code == 0, argv
    assert values == fast, argv
    assert type(values["date_order"]) is type(fast["date_order"])  # (an enum, not a str)


@pytest.mark.parametrize(
    "argv",
    [
        ["chat.txt"],
        ["chat.txt", "--format", "whatsapp", "--tz", "Europe/London"],
        ["--format=whatsapp", "chat.txt", "--date-order", "DMY"],
        ["case", "--exhibit", "RE/1/3", "--date-order=ymd"],
        ["chat.txt", "--list", "--json"],
    ],
)
def test_ordinary_parse_lines_are_parsed_without_typer_to_typers_values(argv: list[str]) -> None:
    fast = PARSE.parse(argv)
    assert fast is not None
    assert parse_typer_values(argv) == (0, fast)
    assert isinstance(fast["target"], Path)


@pytest.mark.parametrize(
    "argv",
    [
        [],  # no target: --list alone, or typer's own message
        ["--list"],
        ["chat.txt", "--help"],
        ["chat.txt", "-f", "whatsapp"],
        ["chat.txt", "--map", "time=Date"],
        ["chat.txt", "--date-order", "dym"],  # typer's usage error names the choices
        ["chat.txt", "--date-order"],
        ["chat.txt", "--tz", "a", "--tz", "b"],
        ["chat.txt", "other.txt"],
        ["chat.txt", "--list=1"],
    ],
)
def test_unusual_parse_lines_are_left_to_typer(argv: list[str]) -> None:
    assert PARSE.parse(argv) is None


WHATSAPP = (
    "13/01/2024, 08:00 - Messages and calls are end-to-end encrypted.\n"
    "13/01/2024, 08:01 - Dylan: answer me \u00e2 caf\u00e9\n"
    "13/01/2024, 08:02 - Dylan: <script>alert(1)</script>\n"
    "13/01/2024, 08:03 - \x1b[2J\x1b[31mCarys: stop\n"
)


@pytest.mark.parametrize(
    "argv",
    [
        ["chat.txt", "--format", "whatsapp", "--tz", "Europe/London"],
        ["chat.txt"],  # detected
        ["bad.txt", "--format", "whatsapp"],  # invalid UTF-8 part-way: exit 3 after 1 record
        ["chat.txt", "--tz", "Mars/Olympus"],  # usage error: exit 2
        ["missing.txt"],
        ["notes.txt"],  # not an export
        ["chat.txt", "--list"],
    ],
)
def test_fast_and_typer_parse_runs_print_the_same_and_exit_the_same(
    tmp_path: Path, argv: list[str]
) -> None:
    (tmp_path / "chat.txt").write_text(WHATSAPP, encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(WHATSAPP.encode().replace(b"stop", b"st\xffop"))
    (tmp_path / "notes.txt").write_text("shopping list\nmilk\n", encoding="utf-8")
    results = {mode: run(mode, tmp_path, "parse", *argv) for mode in ("fast", "typer")}
    assert results["fast"][:3] == results["typer"][:3]
    assert not {"click", "typer"} & set(results["fast"][3])
    assert {"click", "typer"} <= set(results["typer"][3])
    code, out, err, _ = results["fast"]
    assert "\x1b" not in err
    if argv[0] == "chat.txt" and len(argv) > 1 and argv[1] == "--format":
        assert code == 0
        lines = [json.loads(line) for line in out.splitlines()]
        assert [r["kind"] for r in lines] == ["system", "message", "message", "message"]
        assert lines[2]["text"] == "<script>alert(1)</script>"  # kept as data
    elif argv[0] == "bad.txt":
        assert code == 3 and out.count("\n") == 3
        assert "3 record(s) parsed before the fault were written to stdout" in err
    elif "Mars/Olympus" in argv:
        assert code == 2 and "not a known IANA timezone" in err
