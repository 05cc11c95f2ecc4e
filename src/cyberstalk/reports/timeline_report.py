"""Make a timeline report for a case: analyse, render, write atomically, record in custody.

This is the one function the ``cyberstalk timeline`` command calls.
"""

from __future__ import annotations

import re
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
from cyberstalk.reports.timeline_html import (
    Pages,
    needs_split,
    paginate,
    render_html,
    render_page,
)
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
    report, with its SHA-256, in the custody log.

    An HTML report of a large case (:func:`~cyberstalk.reports.timeline_html.needs_split`)
    is an index page at ``out`` and its chronology's pages in a folder beside it named
    after it (``timeline.html`` -> ``timeline/2026-01.html``); each page is written and
    recorded (``report_made``, with ``index`` naming the index page) before the index,
    and ``stats["pages"]`` lists them."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    path = out if out is not None else default_path(case, fmt, a)
    if path.exists() and path.is_dir():
        raise UsageError(f"-o {path} is a folder; give a file name")
    meta = meta_for(case)
    with case.lock("timeline"):
        pages = paginate(a, path.name) if fmt == "html" and needs_split(a) else None
        written: list[dict[str, Any]] = []
        if pages is not None:
            written = _write_pages(case, a, meta, path, pages, log=log)
        if fmt == "pdf":
            from cyberstalk.reports.timeline_pdf import render_pdf

            pdf, stats = render_pdf(a, meta)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, pdf)
        else:
            with atomic_text(path) as fh, gc_paused():
                if pages is not None:
                    stats = render_html(a, meta, fh, pages=pages)
                else:
                    stats = TEXT_RENDERERS[fmt](a, meta, fh)
        sha, size = file_sha256(path)
        result = ReportResult(fmt, path, sha, size, stats)
        if log:
            _log_report(case, a, fmt, path, sha, size, stats)
        if pages is not None:
            stats["pages"] = written
    return result


def _shown(case: Case, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(case.root.resolve()))
    except ValueError:
        return str(path.resolve())


def _log_report(
    case: Case,
    a: Analysis,
    fmt: str,
    path: Path,
    sha: str,
    size: int,
    stats: dict[str, Any],
    **more: Any,
) -> None:
    """The custody event of one file written: path, SHA-256, size, scope and settings."""
    case.log().append(
        "report_made",
        {
            "report": "timeline",
            "format": fmt,
            "path": _shown(case, path),
            "sha256": sha,
            "size": size,
            "records": len(a.entries),
            "person": a.person_filter,
            "date_from": a.date_from.isoformat() if a.date_from else None,
            "date_to": a.date_to.isoformat() if a.date_to else None,
            "settings": a.settings.as_dict(),
            **{k: v for k, v in stats.items() if isinstance(v, int | bool)},
            **more,
        },
    )


_PAGE_FILE = re.compile(r"(\d{4}-\d{2}|undated)(-\d+)?\.html")


def _write_pages(
    case: Case, a: Analysis, meta: ReportMeta, index: Path, pages: Pages, *, log: bool
) -> list[dict[str, Any]]:
    """Write each page of a split chronology into the folder beside ``index`` and record
    it; pages a previous report left there that this one does not have are removed (they
    would show records from another scope)."""
    folder = index.parent / pages.folder
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file: the month pages of {index.name} go there")
    out: list[dict[str, Any]] = []
    for page in pages.pages:
        path = folder / page.file
        with atomic_text(path) as fh, gc_paused():
            rows = render_page(a, meta, pages, page, fh)
        sha, size = file_sha256(path)
        if log:
            _log_report(
                case,
                a,
                "html",
                path,
                sha,
                size,
                {"rows": rows},
                page=page.key,
                index=_shown(case, index),
            )
        out.append({"page": page.key, "path": str(path), "sha256": sha, "size": size, "rows": rows})
    keep = {page.file for page in pages.pages}
    for old in folder.iterdir():
        if _PAGE_FILE.fullmatch(old.name) and old.name not in keep:
            old.unlink()
    return out


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
