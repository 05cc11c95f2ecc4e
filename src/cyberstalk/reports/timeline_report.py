"""Make a timeline report for a case: analyse, render, write atomically, record in custody.

This is the one function the ``cyberstalk timeline`` command calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import IO, Any

from cyberstalk.case import Case
from cyberstalk.errors import UsageError
from cyberstalk.forked import Forked, two_cores_free
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
    Page,
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
        if fmt == "pdf":
            from cyberstalk.reports.timeline_pdf import render_pdf

            pdf, stats = render_pdf(a, meta)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, pdf)
        else:
            with atomic_text(path) as fh, gc_paused():
                if pages is None:
                    stats = TEXT_RENDERERS[fmt](a, meta, fh)
                else:
                    # the month pages first, all written and recorded before the index
                    # page takes its place (when this block ends)
                    with _PageWriter(a, meta, path, pages) as writer:
                        writer.write_mine()
                        stats = render_html(a, meta, fh, pages=pages)
                        written = writer.finish(case, log=log)
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
    case: Case, a: Analysis, fmt: str, path: Path, sha: str, size: int, stats: dict[str, Any]
) -> None:
    case.log().append(*_report_event(case, a, fmt, path, sha, size, stats))


def _report_event(
    case: Case,
    a: Analysis,
    fmt: str,
    path: Path,
    sha: str,
    size: int,
    stats: dict[str, Any],
    **more: Any,
) -> tuple[str, dict[str, Any]]:
    """The custody event of one file written: path, SHA-256, size, scope and settings."""
    return (
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


INDEX_SHARE = 3
"""The index page of a split chronology takes about as long to write as a third of its
rows on month pages: the parent, which writes it, takes that many fewer rows (at 200,000
records the two processes then finish within 0.05-0.15 s of each other; with a quarter,
the parent finished 0.25-0.4 s after the child)."""


class _PageWriter:
    """Writes the month pages of a split chronology into the folder beside the index.

    With a second core free, a forked child writes about half of them (by rows, the index
    page counted on the parent's side) while this process writes the rest and then the
    index. Each page is the same bytes whichever process writes it; a page the child did
    not write is written here. Entering starts the child, :meth:`write_mine` writes this
    process's pages, and :meth:`finish` records every page in the custody log, in page
    order, before the index is in place; leaving stops a child still running."""

    def __init__(self, a: Analysis, meta: ReportMeta, index: Path, pages: Pages) -> None:
        self.a, self.meta, self.pages = a, meta, pages
        self.index = index
        self.folder = index.parent / pages.folder
        if self.folder.exists() and not self.folder.is_dir():
            raise UsageError(f"{self.folder} is a file: the month pages of {index.name} go there")
        self.rows: dict[str, int] = {}
        self.child: Forked | None = None
        self.theirs: set[int] = set()

    def __enter__(self) -> _PageWriter:
        """Start the child on its share of the pages (none with one core, or no fork)."""
        theirs = _child_share(self.pages.pages, len(self.a.entries) // INDEX_SHARE)
        if theirs and two_cores_free():
            try:
                self.child = Forked(lambda: [[p.file, self._write(p)] for p in theirs])
                self.theirs = {p.number for p in theirs}
            except OSError:  # cannot fork now: every page here
                self.child = None
        return self

    def write_mine(self) -> None:
        """Write the pages the child does not (every page without a child)."""
        for page in self.pages.pages:
            if page.number not in self.theirs:
                self.rows[page.file] = self._write(page)

    def _write(self, page: Page) -> int:
        with atomic_text(self.folder / page.file) as fh:
            return render_page(self.a, self.meta, self.pages, page, fh)

    def __exit__(self, *exc: object) -> None:
        if self.child is not None:
            self.child.close()
            self.child = None

    def finish(self, case: Case, *, log: bool) -> list[dict[str, Any]]:
        """Wait for the child, write what it did not, record each page (in page order)
        and remove pages a previous report left that this one does not have (they would
        show records from another scope). The pages' events go into the custody log in
        one append (one write, one fsync)."""
        if self.child is not None:
            done = self.child.value()
            self.child = None
            for file, rows in done or ():
                self.rows[file] = rows
        out: list[dict[str, Any]] = []
        made: list[tuple[str, Mapping[str, Any] | None]] = []
        index = _shown(case, self.index)
        for page in self.pages.pages:
            path = self.folder / page.file
            rows = self.rows.get(page.file)
            if rows is None:
                rows = self.rows[page.file] = self._write(page)
            sha, size = file_sha256(path)
            made.append(
                _report_event(
                    case,
                    self.a,
                    "html",
                    path,
                    sha,
                    size,
                    {"rows": rows},
                    page=page.key,
                    index=index,
                )
            )
            out.append(
                {"page": page.key, "path": str(path), "sha256": sha, "size": size, "rows": rows}
            )
        if log:
            case.log().append_many(made)
        keep = {page.file for page in self.pages.pages}
        for old in self.folder.iterdir():
            if _PAGE_FILE.fullmatch(old.name) and old.name not in keep:
                old.unlink()
        return out


def _child_share(pages: list[Page], parent_extra: int) -> list[Page]:
    """The pages for a second process, about half of the rows: largest page first, each to
    the side with fewer rows so far, the parent starting with ``parent_extra``."""
    if len(pages) < 2:
        return []
    loads = [parent_extra, 0]
    theirs: list[Page] = []
    for page in sorted(pages, key=lambda p: -len(p.entries)):
        side = 0 if loads[0] <= loads[1] else 1
        loads[side] += len(page.entries)
        if side:
            theirs.append(page)
    return sorted(theirs, key=lambda p: p.number)


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
