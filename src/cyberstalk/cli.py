"""The ``cyberstalk`` command line: a thin typer app.

Each command lives in :mod:`cyberstalk.commands` and only parses arguments, calls one
library function and prints the result. Errors are mapped to exit codes here, in one
place (:func:`handle_errors`): a :class:`~cyberstalk.errors.CyberstalkError` becomes a
message on stderr and its exit code; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import gc
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from cyberstalk import __version__
from cyberstalk.errors import CyberstalkError, ExitCode, VerificationError

P = ParamSpec("P")
R = TypeVar("R")


def _new_app() -> typer.Typer:
    return typer.Typer(
        name="cyberstalk",
        help=(
            "Evidence intake, chain of custody, course-of-conduct timelines and safeguarding "
            "advice for digital stalking cases.\n\n"
            "Exit codes: 0 success; 1 verification failed or findings need attention; "
            "2 usage error; 3 input could not be processed; 4 internal fault."
        ),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )


def err(message: str) -> None:
    """Write a message to stderr (results go to stdout)."""
    typer.echo(message, err=True)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Map toolkit errors to a message and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        _started()
        try:
            return func(*args, **kwargs)
        except VerificationError as exc:
            err(f"error: {exc.message}")
            for problem in exc.problems:
                err(f"  - {problem}")
            if exc.advice:
                err(f"  hint: {exc.advice}")
            raise typer.Exit(int(exc.exit_code)) from None
        except CyberstalkError as exc:
            err(f"error: {exc}")
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            err("interrupted: recorded events are intact; re-run the command to complete it")
            raise typer.Exit(130) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cyberstalk {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Evidence intake, chain of custody, timelines and safeguarding advice."""


def build_app(only: str | None = None) -> typer.Typer:
    """The typer app with every command, or with only the commands of module ``only``.

    Each command module is imported when its commands are added, so a run that names its
    command imports that one module and not all of them: the start-up of a short
    ``cyberstalk ingest`` or ``parse`` is then a third shorter.
    """
    from cyberstalk.commands import register_all, register_one

    new = _new_app()
    new.callback()(_root)
    if only is None:
        register_all(new)
    else:
        register_one(new, only)
    return new


def _invoked(argv: list[str]) -> str | None:
    """The command module a command line names, or None (help, --version, a typo: then
    every command is loaded, so that help lists them all and click can suggest one)."""
    from cyberstalk.commands import MODULES

    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in MODULES else None
        if arg in ("--help", "--version"):
            return None
    return None


def __getattr__(name: str) -> typer.Typer:
    # ``cyberstalk.cli.app``, the full app, is built on first use (tests, typer's tools)
    if name == "app":
        full = build_app()
        globals()["app"] = full
        return full
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _started() -> None:
    """Start-up is over (the command's own work begins): what was made so far (modules,
    the app) lives until exit, so it is moved out of the collector's way, and collection
    resumes. Harmless where the collector was never paused (tests, library use)."""
    gc.freeze()
    gc.enable()


def main() -> None:
    """Console-script entry point.

    The cyclic garbage collector is paused during start-up, which allocates only objects
    that live until exit (imports, the typer app), and everything left at the end is
    frozen, so that the collection at exit has nothing to walk: together ~20 ms of every
    command line (``python -X importtime``, benchmarks/bench_custody.py).
    """
    if sys.argv[1:] == ["--version"]:  # answered before any command is loaded
        print(f"cyberstalk {__version__}")
        return
    gc.disable()
    try:
        build_app(_invoked(sys.argv[1:]))()
    except SystemExit:
        raise
    except Exception:  # a bug: keep the traceback, exit 4
        import traceback

        traceback.print_exc()
        err("internal error: this is a bug in cyberstalk; please report it with the trace above")
        sys.exit(int(ExitCode.INTERNAL))
    finally:
        gc.freeze()  # nothing is collected at exit any more
        gc.enable()
