"""``cyberstalk ingest``: take a submission into a case.

The command line is declared twice: for typer (with its help), and as :data:`FAST`, which
``cyberstalk.cli.main`` parses without importing typer (see
:mod:`cyberstalk.commands.fastpath`); both call :func:`run`. A test holds the two to the
same values for every line the fast parser takes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cyberstalk.case import open_case
from cyberstalk.commands._output import byte_progress, echo, err, print_json, print_table
from cyberstalk.commands.fastpath import Signature
from cyberstalk.errors import ExitCode

if TYPE_CHECKING:
    import typer

FAST = Signature(
    positionals=("directory", "paths"),
    variadic=True,
    options={
        "--source": "source",
        "--received-from": "received_from",
        "--operator": "operator",
        "--key": "key",
    },
    flags={
        "--legacy-digests": ("legacy", True),
        "--no-legacy-digests": ("legacy", False),
        "--process": ("process", True),
        "--no-process": ("process", False),
        "--json": ("as_json", True),
    },
    defaults={
        "received_from": None,
        "operator": None,
        "legacy": None,
        "key": None,
        "process": True,
        "as_json": False,
    },
    paths=frozenset({"directory", "paths", "key"}),
)


def run(
    directory: Path,
    paths: list[Path],
    *,
    source: str,
    received_from: str | None,
    operator: str | None,
    legacy: bool | None,
    key: Path | None,
    process: bool,
    as_json: bool,
) -> int:
    """Ingest ``paths`` into the case at ``directory``, print the summary, and return the
    exit code (0, or 3 when any item was refused or could not be read)."""
    from cyberstalk.intake.ingest import IngestOptions, ingest  # heavy: only when run

    case = open_case(directory)
    settings = case.config.settings
    options = IngestOptions(
        source=source,
        operator=operator or case.config.officer,
        received_from=received_from,
        legacy_digests=bool(settings.get("legacy_digests", False)) if legacy is None else legacy,
        key_path=key,
    )
    with byte_progress("ingest") as bar:
        task = bar.add_task("ingest", total=None)

        def progress(kind: str, info: dict[str, Any]) -> None:
            if kind == "start":
                bar.update(task, total=info["total_bytes"])
            elif kind == "bytes":
                bar.advance(task, info["n"])
            elif kind == "recovered":
                err(f"recovery: {info['message']}")
            elif kind == "item" and info["result"].status == "refused":
                err(f"refused: {info['result'].message}")

        summary = ingest(case, paths, options, progress)
    processed: dict[str, Any] = {}
    if process and summary.stored:
        from cyberstalk.workflow import process_case

        # exports parsed before from the same inputs keep their records
        processed = process_case(case.reload(), progress=lambda m: err(m), reuse=True)
    if as_json:
        print_json({**summary.as_dict(), "processed": processed})
    else:
        rows = [
            (r.status, r.ref or "", r.path, r.size, r.mime or "", r.message or "")
            for r in summary.results
        ]
        print_table(
            f"ingest into {case.config.reference}",
            ("status", "exhibit", "item", "bytes", "type", "note"),
            rows,
        )
        counts = summary.as_dict()["counts"]
        echo(", ".join(f"{v} {k}" for k, v in counts.items()) or "nothing to ingest")
        for line in processed.get("messages", []):
            echo(line)
    unreadable = bool(processed) and bool(
        processed["parse"]["errors"] or processed.get("media", {}).get("errors")
    )
    # everything that could be taken is recorded; exit 3 says some input was not
    return int(ExitCode.INPUT) if summary.refused or unreadable else int(ExitCode.OK)


def register(app: typer.Typer) -> None:
    import typer

    from cyberstalk.commands._options import json_option
    from cyberstalk.commands._output import handle_errors

    @handle_errors
    def ingest_cmd(
        directory: Path = typer.Argument(
            ..., help="Case folder (made with `cyberstalk case init`)."
        ),
        paths: list[Path] = typer.Argument(
            ..., help="Files, folders and zip archives of the submission."
        ),
        source: str = typer.Option(
            ...,
            "--source",
            help="How the material arrived, e.g. 'USB stick from victim, bag SB123'.",
        ),
        received_from: str | None = typer.Option(
            None, "--received-from", help="Who handed the material over."
        ),
        operator: str | None = typer.Option(
            None, "--operator", help="Who is doing the ingest (default: the officer in case.toml)."
        ),
        legacy: bool | None = typer.Option(
            None,
            "--legacy-digests/--no-legacy-digests",
            help="Also compute SHA-1 and MD5 (default from case.toml [settings] legacy_digests).",
        ),
        key: Path | None = typer.Option(
            None,
            "--key",
            help="Ed25519 private key (PEM) to sign the manifest. Default: "
            "~/.config/cyberstalk/keys/XX.ed25519.pem, created on first use with mode 0600.",
        ),
        process: bool = typer.Option(
            True,
            "--process/--no-process",
            help="After storing, parse recognised exports and read images into derived/.",
        ),
        as_json: bool = json_option("Print the summary as JSON."),
    ) -> None:
        """Copy and hash each file into evidence/, record it in the custody log, re-seal the
        signed manifest. Archive members become sub-exhibits (XX/1/3). Links, FIFOs and devices
        are refused; content already in the case is recorded as a duplicate, not stored twice.

        Exit 0 when every item was taken and read, 3 when any was refused or an export or image
        could not be read (everything else is still recorded).
        """
        code = run(
            directory,
            paths,
            source=source,
            received_from=received_from,
            operator=operator,
            legacy=legacy,
            key=key,
            process=process,
            as_json=as_json,
        )
        if code:
            raise typer.Exit(code)

    app.command("ingest")(ingest_cmd)
