"""Does a report print on A4? Poppler's word boxes say where every word landed.

``pdftotext -bbox-layout`` gives each word's box on each page. A report prints on A4
when every page is A4 (portrait or landscape), every word lies inside the printable area
(the page less a margin printers cannot reach), and every word of every table header
appears whole (a header squeezed into a narrow column is broken mid-word: "Contac ts").

HTML reports are checked through the PDF WeasyPrint prints from them (:func:`html_to_pdf`),
which applies the page's ``@page`` and ``@media print`` rules as a browser's print does.
"""

from __future__ import annotations

import html
import re
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

A4_PT = (595.276, 841.89)
"""A4 in PostScript points (210 x 297 mm)."""
PRINTER_MARGIN_PT = 12.0
"""About 4 mm: the edge most printers cannot print."""
_NS = "{http://www.w3.org/1999/xhtml}"


@dataclass(frozen=True)
class Word:
    page: int
    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float


@dataclass(frozen=True)
class Page:
    number: int
    width: float
    height: float
    words: tuple[Word, ...]


def pages(pdf: Path) -> list[Page]:
    """Every page of ``pdf`` with its size and word boxes."""
    out = subprocess.run(
        ["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, check=True
    ).stdout
    # poppler writes XHTML; entities other than the XML ones do not occur
    root = ElementTree.fromstring(out)
    result = []
    for n, page in enumerate(root.iter(f"{_NS}page"), start=1):
        words = tuple(
            Word(
                n,
                w.text or "",
                float(w.get("xMin", 0)),
                float(w.get("yMin", 0)),
                float(w.get("xMax", 0)),
                float(w.get("yMax", 0)),
            )
            for w in page.iter(f"{_NS}word")
        )
        result.append(Page(n, float(page.get("width", 0)), float(page.get("height", 0)), words))
    return result


def is_a4(page: Page) -> bool:
    size = sorted((page.width, page.height))
    return abs(size[0] - A4_PT[0]) < 2 and abs(size[1] - A4_PT[1]) < 2


def outside_printable_area(pdf: Path, margin: float = PRINTER_MARGIN_PT) -> list[str]:
    """Problems: pages that are not A4, and words (page, text, box) beyond the margin."""
    problems = []
    for page in pages(pdf):
        if not is_a4(page):
            problems.append(f"page {page.number} is {page.width:.0f}x{page.height:.0f} pt")
        for w in page.words:
            if (
                w.x_min < margin - 0.5
                or w.y_min < margin - 0.5
                or w.x_max > page.width - margin + 0.5
                or w.y_max > page.height - margin + 0.5
            ):
                problems.append(
                    f"page {page.number}: {w.text!r} at x {w.x_min:.0f}-{w.x_max:.0f}, "
                    f"y {w.y_min:.0f}-{w.y_max:.0f} (page {page.width:.0f}x{page.height:.0f})"
                )
    return problems


class _Headers(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.current: list[str] = []
        self.headers: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "th":
            self.depth += 1
            self.current = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "th" and self.depth:
            self.depth -= 1
            self.headers.append("".join(self.current))

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.current.append(data)


def table_headers(report_html: str) -> list[str]:
    """The text of every ``<th>`` in an HTML report (soft hyphens removed)."""
    parser = _Headers()
    parser.feed(report_html)
    return [html.unescape(h).replace("\u00ad", "") for h in parser.headers]


def broken_header_words(pdf: Path, headers: list[str]) -> list[str]:
    """Words of ``headers`` (table headers, or any cell text) that the PDF prints in
    pieces: a run of two or three words stacked one line below the other at about the same
    left edge (as a word wrapped inside a narrow column is), whose joined text holds the
    word while no single piece does. ``screenshot_t`` over ``ext`` breaks "text"."""
    wanted = {
        w.replace("\u00ad", "")
        for header in headers
        for w in re.findall(r"[A-Za-z0-9\u00c0-\u024f+]+", header)
    }
    wanted = {w for w in wanted if len(w) >= 4}
    found: set[str] = set()
    for page in pages(pdf):
        words = sorted(page.words, key=lambda w: (w.y_min, w.x_min))
        for i, first in enumerate(words):
            chain = [first]
            for _ in range(2):
                last = chain[-1]
                below = [
                    w
                    for w in words[i + 1 :]
                    if 0 < w.y_min - last.y_min <= 2.2 * (last.y_max - last.y_min)
                    and abs(w.x_min - first.x_min) < 6
                ]
                if not below:
                    break
                chain.append(below[0])
                pieces = [w.text.rstrip("-\u2010\u00ad") for w in chain]
                joined = "".join(pieces)
                for word in wanted:
                    if any(word in p for p in pieces):
                        continue
                    # whole in the joined text: not glued to letters on either side
                    if re.search(rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])", joined):
                        found.add(word)
    return sorted(found)


def html_to_pdf(html_path: Path, pdf_path: Path) -> Path:
    """Print an HTML report to PDF with WeasyPrint, as a browser's print would."""
    from weasyprint import HTML

    HTML(filename=str(html_path), base_url=str(html_path.parent)).write_pdf(str(pdf_path))
    return pdf_path
