"""The ``cyberstalk`` command line: a thin typer app.

Each command lives in :mod:`cyberstalk.commands` and only parses arguments, calls one
library function and prints the result. Errors are mapped to exit codes in one place
(:func:`cyberstalk.commands._output.report_error`, through
:func:`~cyberstalk.commands._output.handle_errors` under typer): a
:class:`~cyberstalk.errors.CyberstalkError` becomes a message on stderr and its exit code;
anything else is a bug and keeps its traceback. ``cli`` imports ``commands``; no command
module imports ``cli``.

typer (with click, a quarter of a short ingest's time) is imported only when a command
line goes through it: ``cyberstalk ingest``, the command whose start-up counts against a
plain copy, is parsed without it where its command line is an ordinary one (see
:mod:`cyberstalk.commands.fastpath`), with the same results, output and exit codes.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from cyberstalk import __version__
from cyberstalk.commands._output import _started, err, report_error
from cyberstalk.errors import CyberstalkError, ExitCode

if TYPE_CHECKING:
    import typer

__all__ = ["build_app", "main"]


def _new_app() -> typer.Typer:
    import typer

    def show_version(value: bool) -> None:
        if value:
            typer.echo(f"cyberstalk {__version__}")
            raise typer.Exit()

    def root(
        version: bool = typer.Option(
            False,
            "--version",
            callback=show_version,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ) -> None:
        """Evidence intake, chain of custody, timelines and safeguarding advice."""

    app = typer.Typer(
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
        # click 8.2+ suggests a command for a typo itself; typer's own suggestion printed
        # "Did you mean 'timeline'?" a second time
        suggest_commands=False,
    )
    app.callback()(root)
    return app


def build_app(only: str | None = None) -> typer.Typer:
    """The typer app with every command, or with only the commands of module ``only``.

    Each command module is imported when its commands are added, so a run that names its
    command imports that one module and not all of them: the start-up of a short
    ``cyberstalk ingest`` or ``parse`` is then a third shorter.
    """
    from cyberstalk.commands import register_all, register_one

    new = _new_app()
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


def _run_fast(command: Callable[[], int]) -> int:
    """Run a command parsed without typer, as :func:`handle_errors` and click's standalone
    mode run one under typer: the same messages and exit codes."""
    _started()
    try:
        return command()
    except (CyberstalkError, KeyboardInterrupt) as exc:
        return report_error(exc)
    except BrokenPipeError:
        # the reader of stdout went away (`| head`): as click does, exit 1 quietly, with
        # stdout pointed at /dev/null so that the flush at exit cannot fail again
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
        return 1


def main() -> None:
    """Console-script entry point.

    The cyclic garbage collector is paused during start-up, which allocates only objects
    that live until exit (imports, the typer app), and everything left at the end is
    frozen, so that the collection at exit has nothing to walk: together ~20 ms of every
    command line (``python -X importtime``, benchmarks/bench_custody.py).
    """
    argv = sys.argv[1:]
    if argv == ["--version"]:  # answered before any command is loaded
        print(f"cyberstalk {__version__}")
        return
    gc.disable()
    try:
        from cyberstalk.commands.fastpath import fast_command

        fast = fast_command(argv)
        if fast is not None:
            sys.exit(_run_fast(fast))
        build_app(_invoked(argv))()
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
