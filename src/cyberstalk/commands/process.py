"""``cyberstalk process``: rebuild derived/ from the stored exhibits, and record an
officer's decision on a chat's date order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from cyberstalk.case import open_case
from cyberstalk.commands._options import json_option
from cyberstalk.commands._output import err, handle_errors, print_json
from cyberstalk.errors import ExitCode, UsageError
from cyberstalk.parsers.textutil import DateOrder


@handle_errors
def process_cmd(
    directory: Path = typer.Argument(..., help="Case folder."),
    exhibit: str | None = typer.Option(
        None, "--exhibit", help="The exhibit a --date-order decision is about, e.g. RE/1/2."
    ),
    date_order: DateOrder | None = typer.Option(
        None,
        "--date-order",
        help="The order the exhibit's dates are written in (day/month/year, month/day/year "
        "or year/month/day), as established by the officer. Recorded in the custody log "
        "and used by every later parse of the exhibit.",
    ),
    reason: str | None = typer.Option(
        None,
        "--reason",
        help="How the order was established (required with --date-order), e.g. "
        "'phone's date settings seen: dd/mm/yy' or 'victim confirms the 3 March message'.",
    ),
    operator: str | None = typer.Option(
        None, "--operator", help="Who decides (default: the officer in case.toml)."
    ),
    as_json: bool = json_option("Print the result as JSON."),
) -> None:
    """Re-parse the case's exports and re-read its images into derived/ (which can always
    be deleted and rebuilt: the evidence is never touched).

    With --exhibit REF --date-order ORDER --reason TEXT: when a chat's dates fit more than
    one day/month/year order (ingest says so and names this command), record the
    officer's decision in the custody log, then re-parse the exports with it. The
    timeline marks every entry so dated (flag date_order_chosen) and lists the decision.
    An order the file itself rules out is refused and nothing is recorded.

    Exit 0 when everything was read, 3 when an export or image could not be read (or a
    chat's date order still needs a decision).
    """
    from cyberstalk import workflow

    case = open_case(directory)
    if date_order is not None or reason is not None:
        if exhibit is None or date_order is None:
            raise UsageError(
                "--date-order and --reason go with --exhibit",
                advice="e.g. cyberstalk process CASE --exhibit RE/1/2 --date-order dmy "
                "--reason 'phone settings seen'",
            )
        result: dict[str, Any] = workflow.decide_date_order(
            case,
            exhibit,
            date_order.value,
            reason or "",
            operator=operator,
            progress=err,
        )
        decision = result["decision"]["details"]
        lines = [
            f"recorded: {decision['exhibit']} dates read as {decision['order']} "
            f"(custody event {result['decision']['seq']}, by {result['decision']['actor']})",
            f"derived: {sum(v['records'] for v in result['parsed'].values())} records from "
            f"{len(result['parsed'])} exports",
        ]
        problems = result["errors"]
    else:
        if exhibit is not None:
            raise UsageError(
                "--exhibit goes with --date-order and --reason",
                advice="to rebuild everything: cyberstalk process CASE",
            )
        result = workflow.process_case(case, progress=err)
        lines = list(result["messages"])
        problems = result["parse"]["errors"] + result["media"]["errors"]
    if as_json:
        print_json(result)
    else:
        for line in lines:
            typer.echo(line)
    if problems:
        raise typer.Exit(int(ExitCode.INPUT))


def register(app: typer.Typer) -> None:
    app.command("process")(process_cmd)
