"""The ``cyberstalk`` command line: a thin typer app.

Each command lives in :mod:`cyberstalk.commands` and only parses arguments, calls one
library function and prints the result. Errors are mapped to exit codes in one place
(:func:`cyberstalk.commands._output.report_error`, through
:func:`~cyberstalk.commands._output.handle_errors`): a
:class:`~cyberstalk.errors.CyberstalkError` becomes a message on stderr and its exit code;
anything else is a bug and keeps its traceback. ``cli`` imports ``commands``; no command
module imports ``cli``.

The commands are loaded lazily: the app's click group imports a command module only when
its command is looked up, so a command line that names its command imports that one
module and not the others (nor rich, jinja2, weasyprint or the screening models they
use). ``--help`` and a mistyped command load them all, to list them or suggest one.

typer (with click, the largest part of a short ingest's start-up) is imported only when
a command line goes through it: ``cyberstalk ingest`` and ``parse``, whose start-up counts
against their peers, are parsed without it where the command line is an ordinary one
(see :mod:`cyberstalk.commands.fastpath`), with the same results, output and exit codes.
"""

from __future__ import annotations

import functools
import gc
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from cyberstalk import __version__
from cyberstalk.commands import MODULES, module_app
from cyberstalk.commands._output import _started, end_without_freeing, err, exit_kept, report_error
from cyberstalk.errors import CyberstalkError, ExitCode

if TYPE_CHECKING:
    import click
    import typer
    from typer.core import TyperGroup

__all__ = ["main", "new_app"]

HELP = (
    "Evidence intake, chain of custody, course-of-conduct timelines and safeguarding "
    "advice for digital stalking cases.\n\n"
    "Exit codes: 0 success; 1 verification failed or findings need attention; "
    "2 usage error; 3 input could not be processed; 4 internal fault."
)


@functools.cache
def _lazy_group() -> type[TyperGroup]:
    """The app's click group class (made on first use: typer is imported with it)."""
    import typer.main
    from typer.core import TyperGroup

    class LazyGroup(TyperGroup):
        """A group whose commands are the modules of :data:`MODULES`, each imported
        when its command is first looked up."""

        def list_commands(self, ctx: click.Context) -> list[str]:
            return list(MODULES)

        def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
            if cmd_name not in self.commands:
                # an unknown name loads everything: click then suggests the nearest
                for name in (cmd_name,) if cmd_name in MODULES else MODULES:
                    if name not in self.commands:
                        self.add_command(typer.main.get_group(module_app(name)).commands[name])
            return self.commands.get(cmd_name)

    return LazyGroup


def new_app() -> typer.Typer:
    """The typer app: the root options, and every command, loaded when it is looked up."""
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
        cls=_lazy_group(),
        help=HELP,
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


def __getattr__(name: str) -> typer.Typer:
    # ``cyberstalk.cli.app`` is made on first use (tests, typer's tools): ``main`` for
    # ``--version`` needs no typer at all
    if name == "app":
        made = new_app()
        globals()["app"] = made
        return made
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
    that live until exit (imports, the typer app): the command unpauses it when its own
    work begins (:func:`~cyberstalk.commands._output.handle_errors`), and what is left at
    the end is frozen, so that the collection at exit has nothing to walk.
    """
    argv = sys.argv[1:]
    if argv == ["--version"]:  # answered before any command is loaded
        print(f"cyberstalk {__version__}")
        return
    gc.disable()
    end_without_freeing()  # a command may keep its result: see keep_until_exit
    try:
        from cyberstalk.commands.fastpath import fast_command

        fast = fast_command(argv)
        if fast is not None:
            sys.exit(_run_fast(fast))
        new_app()()
    except SystemExit as done:
        exit_kept(done.code)
        raise
    except Exception:  # a bug: keep the traceback, exit 4
        import traceback

        traceback.print_exc()
        err("internal error: this is a bug in cyberstalk; please report it with the trace above")
        sys.exit(int(ExitCode.INTERNAL))
    finally:
        gc.freeze()  # nothing is collected at exit any more
        gc.enable()
