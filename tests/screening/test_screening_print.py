"""The screening report prints on A4 landscape: nothing past the printable area, no
header word or rule code broken, a sensible number of pages for the demo's record set
(fixtures/crime_records.py, 298 records of which about 130 are flagged)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cyberstalk.cli import app
from cyberstalk.screening.lexicon import RULES
from helpers.fixture_scripts import load_fixture
from helpers.printcheck import (
    broken_header_words,
    html_to_pdf,
    outside_printable_area,
    pages,
    table_headers,
)

MAP = ["--map", "id=CrimeRef", "--map", "text=Summary", "--map", "date=Recorded",
       "--map", "offence=Offence"]  # fmt: skip


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    tmp = tmp_path_factory.mktemp("screen-print")
    csv_path, _ = load_fixture("crime_records").generate(tmp / "set")
    out = tmp / "screening.html"
    result = CliRunner().invoke(app, ["screen", str(csv_path), *MAP, "-o", str(out)])
    assert result.exit_code == 1, result.output  # records flagged for review
    return out.read_text("utf-8"), html_to_pdf(out, tmp / "screening.pdf")


def test_prints_on_a4_with_nothing_cut_off(printed: tuple[str, Path]) -> None:
    html, pdf = printed
    assert "@page { size: A4 landscape" in html  # the table needs the width
    assert outside_printable_area(pdf) == []
    assert broken_header_words(pdf, table_headers(html)) == []


def test_a_sensible_number_of_pages(printed: tuple[str, Path]) -> None:
    html, pdf = printed
    flagged = len(re.findall(r"<tr>\s*<td>", html))
    assert flagged > 100
    sheets = pages(pdf)
    assert all(p.width > p.height for p in sheets)
    # about a dozen flagged records a page (it was 41 pages, portrait, cut off)
    # a flag by the scorer carries a line of features: at least seven rows a page
    assert len(sheets) <= flagged // 7 + 2


def test_rule_codes_are_never_broken(printed: tuple[str, Path]) -> None:
    _, pdf = printed
    words = [w.text for p in pages(pdf) for w in p.words]
    codes = set(RULES)
    # every piece of text that starts like a rule code is a whole one
    pieces = [w for w in words if w.startswith(("s2A3-", "FOUR-"))]
    assert pieces
    assert all(w.strip('",.;:()') in codes for w in pieces), sorted(
        {w for w in pieces if w.strip('",.;:()') not in codes}
    )
    # and no line of a cell ends with a bare fragment of one ("s2A3-a-", "FOUR-o")
    fragments = {c[:n] for c in codes for n in range(5, len(c))} - codes
    assert not [w for w in words if w in fragments]
