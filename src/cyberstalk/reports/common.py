"""Helpers every report shares: a deterministic generated-at time, safe CSV, HTML→PDF."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from cyberstalk.errors import ReportError
from cyberstalk.hashing.custody import events, read_lines

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""Content-Security-Policy for self-contained HTML reports: nothing loads from anywhere,
no script runs (the message text in a report was written by the suspect)."""


OUTPUT_EVENTS = frozenset({"report_made", "advice_sheet_made", "export_written", "verify_run"})
"""Custody events that only record an output or a check: they do not move the generated-at
time, so making one report does not change the bytes of the next."""


def generated_at(custody_path: Path | None = None) -> datetime:
    """The time a report says it was generated: deterministic for the same case.

    ``SOURCE_DATE_EPOCH`` pins it (reproducible builds convention); otherwise it is the time
    of the last custody event that changed the case (not one in :data:`OUTPUT_EVENTS`), so
    the same case state gives the same bytes.
    """
    pinned = os.environ.get("SOURCE_DATE_EPOCH")
    if pinned:
        try:
            return datetime.fromtimestamp(int(pinned), UTC)
        except ValueError as exc:
            raise ReportError(f"SOURCE_DATE_EPOCH={pinned!r} is not an integer") from exc
    if custody_path is not None:
        evs = [e for e in events(read_lines(custody_path)) if e.get("event") not in OUTPUT_EVENTS]
        if evs:
            return datetime.fromisoformat(evs[-1]["time"]).astimezone(UTC)
    return datetime(1970, 1, 1, tzinfo=UTC)


def csv_cell(value: object) -> str:
    """One CSV cell, protected against formula injection (OWASP): a cell that a
    spreadsheet would run as a formula gets a leading apostrophe. Raw values stay in JSON."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def write_csv(rows: Iterable[Sequence[object]], header: Sequence[str]) -> str:
    """RFC 4180 CSV (CRLF, quoted as needed) with every cell protected."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return buf.getvalue()


def html_to_pdf(html: str, out: Path | None = None) -> bytes:
    """Render self-contained HTML to PDF with WeasyPrint. Never fetches anything: a URL
    fetcher that refuses every request keeps the renderer offline whatever the HTML says.
    Returns the PDF bytes (and writes them to ``out`` when given)."""
    import weasyprint  # slow import: only when a PDF is asked for

    def refuse(url: str, *args: object, **kwargs: object) -> dict[str, object]:
        raise ReportError(f"report tried to load {url!r}; reports must be self-contained")

    # WeasyPrint (70) does not break lines at <wbr>: a zero-width space is the same break
    # opportunity (narrow columns then wrap handles and locators at "_", ".", "/")
    html = html.replace("<wbr>", "\u200b")
    try:
        pdf = weasyprint.HTML(string=html, url_fetcher=refuse).write_pdf()
    except ReportError:
        raise
    except Exception as exc:  # WeasyPrint raises a wide range of errors
        raise ReportError(f"PDF rendering failed: {exc}") from exc
    if pdf is None:  # pragma: no cover - write_pdf() without a target returns bytes
        raise ReportError("PDF rendering produced nothing")
    if out is not None:
        out.write_bytes(pdf)
    return bytes(pdf)
