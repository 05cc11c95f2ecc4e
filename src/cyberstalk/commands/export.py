"""``cyberstalk export``: BagIt bag, CASE/UCO JSON-LD and the exhibit list."""

from __future__ import annotations

from pathlib import Path

import typer

from cyberstalk.case import open_case
from cyberstalk.commands._options import json_option
from cyberstalk.commands._output import handle_errors, print_json


@handle_errors
def export_cmd(
    directory: Path = typer.Argument(..., help="Case folder."),
    bagit: Path | None = typer.Option(
        None,
        "--bagit",
        help="Write a BagIt 1.0 bag (RFC 8493, SHA-256 and SHA-512) of the evidence to this "
        "new folder, with the signed manifest, custody log and timestamps as tag files.",
    ),
    case_uco: Path | None = typer.Option(
        None,
        "--case-uco",
        help="Write the custody graph as CASE/UCO JSON-LD to this file (e.g. case.jsonld).",
    ),
    exhibits: Path | None = typer.Option(
        None,
        "--exhibits",
        help="Write the exhibit list to this file; .csv (formula-safe) or .html picks the format.",
    ),
    actor: str | None = typer.Option(
        None, "--operator", help="Who is exporting (default: the officer in case.toml)."
    ),
    as_json: bool = json_option("Print what was written as JSON."),
) -> None:
    """Export the case in formats other tools validate. Each output is built beside its
    destination and moved into place only when complete, then recorded in the custody
    log with its SHA-256 (for a bag: of tagmanifest-sha256.txt, which pins every file).
    An existing bag folder is never overwritten; list files are replaced."""
    from cyberstalk.export import export_case  # heavy: only when run

    case = open_case(directory)
    results = export_case(case, bagit=bagit, case_uco=case_uco, exhibits=exhibits, actor=actor)
    if as_json:
        print_json(
            [
                {
                    "format": r.format,
                    "path": str(r.path),
                    "sha256": r.sha256,
                    "exhibits": r.exhibits,
                    **r.details,
                }
                for r in results
            ]
        )
        return
    for r in results:
        typer.echo(f"{r.format:<14} {r.path}  ({r.exhibits} exhibits, sha256 {r.sha256})")


def register(app: typer.Typer) -> None:
    app.command("export")(export_cmd)
