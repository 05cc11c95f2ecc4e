"""Timeline as PDF: the HTML report's content rendered offline by WeasyPrint (A4)."""

from __future__ import annotations

import io
from typing import Any

from cyberstalk.reports.common import html_to_pdf
from cyberstalk.reports.timeline_common import ReportMeta
from cyberstalk.reports.timeline_html import render_html
from cyberstalk.timeline import Analysis


def render_pdf(a: Analysis, meta: ReportMeta) -> tuple[bytes, dict[str, Any]]:
    buf = io.StringIO()
    stats = render_html(a, meta, buf, for_print=True)
    return html_to_pdf(buf.getvalue()), stats
