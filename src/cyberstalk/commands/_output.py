"""Small output helpers shared by command modules: JSON to stdout, tables, progress, and
messages and exit codes for errors. None of them needs typer, so that a command run
without it (see ``cyberstalk.cli.main``) prints exactly what it prints under typer."""

from __future__ import annotations

import functools
import gc
import json
import os
import sys
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, Protocol, TypeVar

from cyberstalk.errors import CyberstalkError, VerificationError

P = ParamSpec("P")
R = TypeVar("R")


def err(message: str) -> None:
    """Write a message to stderr (results go to stdout). Control and format characters (a
    hostile file name may carry terminal escape sequences) are shown escaped, line by
    line, never sent to the terminal."""
    sys.stderr.write("\n".join(safe_text(line) for line in message.split("\n")) + "\n")
    sys.stderr.flush()


def echo(line: str) -> None:
    """Write one line of results to stdout, control characters escaped."""
    sys.stdout.write(safe_text(line) + "\n")


def report_error(exc: CyberstalkError | KeyboardInterrupt) -> int:
    """Tell the user what stopped a command, on stderr, and return its exit code: the one
    mapping from toolkit errors to exit codes (ARCHITECTURE.md), for every command."""
    if isinstance(exc, KeyboardInterrupt):
        err("interrupted: recorded events are intact; re-run the command to complete it")
        return 130
    if isinstance(exc, VerificationError):
        err(f"error: {exc.message}")
        for problem in exc.problems:
            err(f"  - {problem}")
        if exc.advice:
            err(f"  hint: {exc.advice}")
    else:
        err(f"error: {exc}")
    return int(exc.exit_code)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain aligned table on stdout: greppable, and fast for thousands of rows (rich is
    not). Control and format characters in cells (a file name may hold
    escape sequences or a right-to-left override) are shown escaped, never interpreted."""
    cells = [[safe_text("" if v is None else str(v)) for v in row] for row in rows]
    header = [safe_text(c) for c in columns]
    widths = [
        max([display_width(header[i]), *(display_width(r[i]) for r in cells)])
        for i in range(len(header))
    ]

    def line(values: Sequence[str]) -> str:
        padded = (v + " " * (w - display_width(v)) for v, w in zip(values, widths, strict=True))
        return "  ".join(padded).rstrip()

    out = [safe_text(title), line(header), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    sys.stdout.write("\n".join(out) + "\n")


def safe_text(text: str) -> str:
    """``text`` with control (Cc), format (Cf) and line/paragraph separator (Zl, Zp)
    characters escaped as \\xNN / \\uNNNN."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def display_width(text: str) -> int:
    """Terminal cells ``text`` takes: wide (East Asian, most emoji) characters take two."""
    if text.isascii():
        return len(text)
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


class ByteProgress(Protocol):
    """What commands use of a progress bar (rich's ``Progress`` has it)."""

    def __enter__(self) -> ByteProgress: ...

    def __exit__(self, *exc: Any) -> Any: ...

    def add_task(self, description: str, *, total: float | None = ...) -> Any: ...

    def update(self, task_id: Any, *, total: float | None = ...) -> None: ...

    def advance(self, task_id: Any, advance: float = ...) -> None: ...


class _QuietProgress:
    """What :func:`byte_progress` gives when stderr is not a terminal: the same calls,
    nothing drawn, and rich left unimported (a fifth of a small ingest's start-up)."""

    def __enter__(self) -> _QuietProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, description: str, *, total: float | None = None) -> int:
        return 0

    def update(self, task_id: Any, *, total: float | None = None) -> None:
        return None

    def advance(self, task_id: Any, advance: float = 1) -> None:
        return None


def byte_progress(description: str) -> ByteProgress:
    """A progress bar on stderr, drawn only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return _QuietProgress()
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr),
        transient=True,
    )


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Map toolkit errors to a message and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        _started()
        try:
            return func(*args, **kwargs)
        except (CyberstalkError, KeyboardInterrupt) as exc:
            import typer

            raise typer.Exit(report_error(exc)) from None

    return wrapper


_KEPT: list[object] | None = None
"""What :func:`keep_until_exit` holds, once :func:`end_without_freeing` allows it."""


def end_without_freeing() -> None:
    """Allow commands to :func:`keep_until_exit` (the console script's ``main`` only,
    which then ends the process with :func:`exit_kept`)."""
    global _KEPT
    _KEPT = []


def keep_until_exit(value: object) -> None:
    """Hold ``value`` (a command's result, such as a timeline's analysis) until the process
    ends, which then ends without freeing it: at 200,000 records that is about two million
    objects, a quarter of a second of freeing memory the process gives back anyway, after
    everything is written. A no-op for a caller other than the console script (tests, a
    library), where the value is freed as usual."""
    if _KEPT is not None:
        _KEPT.append(value)


def exit_kept(code: object) -> None:
    """If a command kept something, end the process now, with ``code`` (as ``sys.exit``
    takes it), after flushing stdout and stderr: no freeing of objects, no atexit
    handlers (the toolkit registers none, and a command that keeps something has
    closed and synced every file it wrote). Otherwise return."""
    if not _KEPT:
        return
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        sys.stderr.write(f"{code}\n")
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # the reader went away (`| head`): 1, as click exits
            status = status or 1
    os._exit(status)


def _started() -> None:
    """Start-up is over (the command's own work begins): what was made so far (modules,
    the app) lives until exit, so it is moved out of the collector's way, and collection
    resumes. Harmless where the collector was never paused (tests, library use)."""
    gc.freeze()
    gc.enable()
