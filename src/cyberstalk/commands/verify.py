"""``cyberstalk verify``: re-hash and check everything a case records."""

from __future__ import annotations

import contextlib
from pathlib import Path

import typer

from cyberstalk.case import open_case
from cyberstalk.commands._options import json_option
from cyberstalk.commands._output import byte_progress, err, handle_errors, print_json
from cyberstalk.errors import CaseError, ExitCode


@handle_errors
def verify_cmd(
    directory: Path = typer.Argument(..., help="Case folder."),
    all_digests: bool = typer.Option(
        False, "--all-digests", help="Also re-check the legacy SHA-1 and MD5 values."
    ),
    as_json: bool = json_option("Print the report as JSON."),
    record: bool = typer.Option(
        True, "--record/--no-record", help="Record the verify run in the custody log."
    ),
) -> None:
    """Re-hash every exhibit and check the custody log's hash chain, the manifest against
    the log, the checksum file, the signature, file modes, files nothing records, and
    stored timestamps. Reports every problem. Exit 0 only when all holds, 1 otherwise."""
    from cyberstalk.hashing.verify import check_case, timestamp_check  # heavy: on use

    case = open_case(directory)
    with byte_progress("verify") as bar:
        task = bar.add_task("verify", total=None)
        report = check_case(
            case.root,
            timestamp_check=timestamp_check,
            all_digests=all_digests,
            on_bytes=lambda n: bar.advance(task, n),
        )
    if record:
        try:
            with case.lock("verify"):
                case.log().append(
                    "verify_run",
                    {
                        "ok": report.ok,
                        "problems": len(report.problems),
                        "exhibits": report.exhibits,
                        "bytes_hashed": report.bytes_hashed,
                    },
                )
        except CaseError as exc:
            report.notes.append(f"verify run not recorded in the custody log: {exc.message}")
    if as_json:
        print_json(report.as_dict())
    else:
        status = "OK" if report.ok else "FAILED"
        typer.echo(
            f"verify {status}: {report.exhibits} exhibits, {report.bytes_hashed} bytes re-hashed "
            f"in {report.seconds:.2f} s, {report.log_lines} custody log lines, "
            f"{report.timestamps} timestamp tokens"
        )
        for problem in report.problems:
            typer.echo(f"  problem: {problem}")
    for note in report.notes:
        err(f"note: {note}")
    if not report.ok:
        with contextlib.suppress(Exception):
            err(f"{len(report.problems)} problem(s) found")
        raise typer.Exit(int(ExitCode.FINDINGS))


def register(app: typer.Typer) -> None:
    app.command("verify")(verify_cmd)
