"""Make a timeline report for a case: analyse, render, write atomically, record in custody.

This is the one function the ``cyberstalk timeline`` command calls.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import IO, Any

from cyberstalk.case import Case
from cyberstalk.errors import UsageError
from cyberstalk.hashing.fsutil import atomic_write
from cyberstalk.reports.timeline_common import (
    FORMATS,
    ReportMeta,
    ReportResult,
    atomic_text,
    default_path,
    file_sha256,
    meta_for,
)
from cyberstalk.reports.timeline_csv import render_csv
from cyberstalk.reports.timeline_html import render_html
from cyberstalk.reports.timeline_json import render_json
from cyberstalk.reports.timeline_timesketch import render_timesketch
from cyberstalk.timeline import Analysis, analyse
from cyberstalk.timeline.gcpause import gc_paused

TextRenderer = Callable[[Analysis, ReportMeta, IO[str]], dict[str, Any]]
TEXT_RENDERERS: dict[str, TextRenderer] = {
    "html": render_html,
    "csv": render_csv,
    "json": render_json,
    "timesketch": render_timesketch,
}


def write_report(
    case: Case, a: Analysis, fmt: str, out: Path | None = None, *, log: bool = True
) -> ReportResult:
    """Render ``a`` as ``fmt`` to ``out`` (default under ``CASE/reports/``) and record the
    report, with its SHA-256, in the custody log."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    path = out if out is not None else default_path(case, fmt, a)
    if path.exists() and path.is_dir():
        raise UsageError(f"-o {path} is a folder; give a file name")
    meta = meta_for(case)
    with case.lock("timeline"):
        if fmt == "pdf":
            from cyberstalk.reports.timeline_pdf import render_pdf

            pdf, stats = render_pdf(a, meta)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, pdf)
        else:
            with atomic_text(path) as fh, gc_paused():
                stats = TEXT_RENDERERS[fmt](a, meta, fh)
        sha, size = file_sha256(path)
        result = ReportResult(fmt, path, sha, size, stats)
        if log:
            try:
                shown = str(path.resolve().relative_to(case.root.resolve()))
            except ValueError:
                shown = str(path.resolve())
            case.log().append(
                "report_made",
                {
                    "report": "timeline",
                    "format": fmt,
                    "path": shown,
                    "sha256": sha,
                    "size": size,
                    "records": len(a.entries),
                    "person": a.person_filter,
                    "date_from": a.date_from.isoformat() if a.date_from else None,
                    "date_to": a.date_to.isoformat() if a.date_to else None,
                    "settings": a.settings.as_dict(),
                    **{k: v for k, v in stats.items() if isinstance(v, int | bool)},
                },
            )
    return result


def make_timeline_report(
    case: Case,
    fmt: str,
    out: Path | None = None,
    *,
    person: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    **overrides: Any,
) -> tuple[Analysis, ReportResult]:
    """Analyse the case and write one report."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    a = analyse(case, person=person, date_from=date_from, date_to=date_to, **overrides)
    return a, write_report(case, a, fmt, out)
