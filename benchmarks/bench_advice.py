"""Benchmark: advice sheets, ours against the plainest page with the same words.

For a full sheet (every topic) in English and bilingually, measures in the same run:

- baseline: the same words as bare ``<p>`` paragraphs (no template, no CSS, no checks),
  rendered to PDF by the same offline WeasyPrint call;
- ours: ``build_sheet`` + ``render`` (template, accessible structure, A4 CSS with margin
  boxes, contacts and sources) for html, md and pdf.

Prints seconds per sheet, PDF pages and bytes, and the ratios ours/baseline. The content
load (parsing and checking all modules and contacts) is timed once, separately.
Usage: ``python benchmarks/bench_advice.py [--quick]``.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cyberstalk.reports.advice import build_sheet, render, render_markdown
from cyberstalk.reports.common import html_to_pdf
from cyberstalk.safeguarding_advice import catalogue, load_contacts, load_modules

DAY = date(2026, 11, 29)


def best_of(n: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def pages(pdf: bytes) -> str:
    """Page count from poppler's pdfinfo (object streams hide /Type /Page from a regex)."""
    if shutil.which("pdfinfo") is None:
        return "?"
    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
        fh.write(pdf)
        fh.flush()
        out = subprocess.run(["pdfinfo", fh.name], capture_output=True, text=True).stdout
    found = re.search(r"^Pages:\s+(\d+)", out, flags=re.M)
    return found.group(1) if found else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repetition instead of three")
    args = parser.parse_args()
    reps = 1 if args.quick else 3

    t0 = time.perf_counter()
    load_contacts()
    load_modules("en")
    load_modules("cy")
    topics = [m.id for m in catalogue()]
    print(f"content load + checks: {time.perf_counter() - t0:.3f} s ({len(topics)} topics x 2)")
    html_to_pdf("<p>warm-up</p>")  # WeasyPrint's first call loads fonts

    print(f"{'sheet':8} {'format':6} {'ours s':>8} {'base s':>8} {'ratio':>6}  size")
    for lang in ("en", "both"):
        sheet = build_sheet(topics, lang, day=DAY)
        words = render_markdown(sheet)
        plain = "".join(f"<p>{html.escape(line)}</p>" for line in words.splitlines() if line)
        base_html = f"<!DOCTYPE html><html><body>{plain}</body></html>"
        for fmt in ("html", "md"):
            ours = best_of(reps, lambda fmt=fmt, sheet=sheet: render(sheet, fmt))
            size = len(render(sheet, fmt))
            print(f"{lang:8} {fmt:6} {ours:8.3f} {'-':>8} {'-':>6}  {size} bytes")
        ours_pdf = render(sheet, "pdf")
        base_pdf = html_to_pdf(base_html)
        ours = best_of(reps, lambda sheet=sheet: render(sheet, "pdf"))
        base = best_of(reps, lambda h=base_html: html_to_pdf(h))
        print(
            f"{lang:8} {'pdf':6} {ours:8.3f} {base:8.3f} {ours / base:6.2f}  "
            f"{len(ours_pdf)} bytes, {pages(ours_pdf)} pages (baseline {pages(base_pdf)} pages)"
        )


if __name__ == "__main__":
    main()
