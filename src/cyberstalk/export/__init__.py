"""Evidence leaving the toolkit in formats other tools already validate.

- :mod:`~cyberstalk.export.bagit`: a BagIt 1.0 bag (RFC 8493) of the evidence, with the
  case's manifest, signature, custody log and timestamp tokens as tag files;
- :mod:`~cyberstalk.export.case_uco`: the custody graph as CASE/UCO JSON-LD;
- :mod:`~cyberstalk.export.exhibits`: the exhibit list (CSV or HTML) a case file needs.

:func:`export_case` runs any of them under the case lock. Each output is written beside
its destination and renamed into place only once complete, and each is recorded in the
custody log (``export_written``) with the SHA-256 of what was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cyberstalk.case import Case
from cyberstalk.errors import ReportError, UsageError

EVENT = "export_written"
"""Custody event recording one export."""


@dataclass(frozen=True, slots=True)
class ExportResult:
    """One export written."""

    format: str
    """bagit, case-uco, exhibits-csv or exhibits-html."""
    path: Path
    """Where it was written (a folder for a bag)."""
    sha256: str
    """SHA-256 of the file; for a bag, of its tagmanifest-sha256.txt (which pins the rest)."""
    exhibits: int
    """Exhibits it covers."""
    details: dict[str, Any] = field(default_factory=dict)
    """Format-specific facts recorded in the custody event (files, bytes, ...)."""


def export_case(
    case: Case,
    *,
    bagit: Path | None = None,
    case_uco: Path | None = None,
    exhibits: Path | None = None,
    actor: str | None = None,
) -> list[ExportResult]:
    """Write each requested export and record it in the custody log."""
    # Imported here: the submodules import ExportResult from this package.
    from cyberstalk.export.bagit import write_bag
    from cyberstalk.export.case_uco import write_case_uco
    from cyberstalk.export.exhibits import write_exhibit_list

    if bagit is None and case_uco is None and exhibits is None:
        raise UsageError(
            "nothing to export",
            advice="give at least one of --bagit DIR, --case-uco FILE.jsonld, "
            "--exhibits FILE.csv|FILE.html",
        )
    if exhibits is not None and exhibits.suffix.lower() not in (".csv", ".html", ".htm"):
        raise UsageError(
            f"--exhibits {exhibits}: the name must end in .csv or .html (it picks the format)"
        )
    results: list[ExportResult] = []
    with case.lock("export"):
        log = case.log(actor)
        jobs: list[tuple[Path | None, Any]] = [
            (exhibits, write_exhibit_list),
            (case_uco, write_case_uco),
            (bagit, write_bag),
        ]
        for target, writer in jobs:
            if target is None:
                continue
            result: ExportResult = writer(case, target)
            log.append(
                EVENT,
                {
                    "format": result.format,
                    "path": str(result.path.resolve()),
                    "sha256": result.sha256,
                    "exhibits": result.exhibits,
                    **result.details,
                },
            )
            results.append(result)
    return results


def check_output_parent(path: Path) -> None:
    """The folder an output goes in must exist (we do not guess where evidence should go)."""
    parent = path.resolve().parent
    if not parent.is_dir():
        raise ReportError(
            f"cannot write {path}: folder {parent} does not exist",
            advice="create the folder first, or choose another output path",
        )


__all__ = ["EVENT", "ExportResult", "check_output_parent", "export_case"]
