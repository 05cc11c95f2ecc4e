"""The profile prints on A4 and its charts read at print size: a suppressed count is a
fixed small hatched mark (never a bar the size of a value), chart text is at least 8 pt
on paper, one colour per series with a legend when there are several."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from profile_helpers import case_dirs, mc
from typer.testing import CliRunner

from cyberstalk.cli import app
from cyberstalk.reports.profile_render import CHART_W, PALETTE
from helpers.printcheck import broken_header_words, html_to_pdf, outside_printable_area, pages
from helpers.printcheck import table_headers as headers

PRINTED_WIDTH_PT = (210 - 2 * 12) / 25.4 * 72  # A4 less the page's 12 mm side margins
HATCHED = re.compile(r'<rect fill="#fff" stroke="[^"]+" stroke-width="1" stroke-dasharray')


def profile_html(out: Path, *cases: Path, by: str = "report") -> str:
    r = CliRunner().invoke(
        app, ["profile", *map(str, cases), "-o", str(out), "-f", "html", "--by", by]
    )
    assert r.exit_code == 0, r.output
    return out.read_text("utf-8")


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """40 synthetic cases whose first contacts span six months (as ``make demo`` makes
    them), profiled by month of first contact and printed."""
    tmp = tmp_path_factory.mktemp("many-print")
    mc.generate(40, tmp / "cases", workers=2, first_day=date(2025, 8, 1), days=180)
    html = profile_html(tmp / "profile.html", *case_dirs(tmp / "cases"), by="first-contact")
    return html, html_to_pdf(tmp / "profile.html", tmp / "profile.pdf")


def svgs(html: str) -> list[str]:
    return re.findall(r"<svg .*?</svg>", html, re.S)


def test_prints_on_a4_with_nothing_cut_off(many: tuple[str, Path]) -> None:
    html, pdf = many
    assert outside_printable_area(pdf) == []
    assert broken_header_words(pdf, headers(html)) == []
    assert len(pages(pdf)) <= 6
    months = re.findall(r"<tr><td>(20\d\d-\d\d)</td>", html)
    assert len(set(months)) >= 5  # the monthly chart has months to show


def test_chart_text_is_at_least_8pt_on_paper(many: tuple[str, Path]) -> None:
    html, _ = many
    for svg in svgs(html):
        width = float(re.search(r'viewBox="0 0 (\d+)', svg).group(1))  # type: ignore[union-attr]
        assert width == CHART_W
        scale = PRINTED_WIDTH_PT / width  # svg { width: 100% } of the printed column
        sizes = [float(s) for s in re.findall(r'font-size="([\d.]+)"', svg)]
        assert sizes and min(sizes) * scale >= 8.0, (min(sizes), scale)


def test_one_colour_per_series_and_a_legend(many: tuple[str, Path]) -> None:
    html, _ = many
    [four] = [s for s in svgs(html) if "FOUR indicators per month" in s]
    fills = set(re.findall(r'<rect fill="(#[0-9a-f]{6})"', four)) - {"#fff"}
    assert fills == set(PALETTE[:4])
    for label in ("Fixated", "Obsessive", "Unwanted", "Repeated"):
        assert f">{label}</text>" in four  # the legend names each series
    [cases] = [s for s in svgs(html) if "<title>Cases per month" in s]
    assert len(set(re.findall(r'<rect fill="(#[0-9a-f]{6})"', cases)) - {"#fff"}) <= 1


def test_a_suppressed_count_is_a_mark_not_a_bar(known: Path, tmp_path: Path) -> None:
    # six cases, one or two a month: nearly every count is 1 to 4, so suppressed; the
    # old charts drew each as a full-width outline, as large as the largest value
    html = profile_html(tmp_path / "p.html", *case_dirs(known), by="first-contact")
    pdf = html_to_pdf(tmp_path / "p.html", tmp_path / "p.pdf")
    assert outside_printable_area(pdf) == []
    assert broken_header_words(pdf, headers(html)) == []
    [s2] = [s for s in svgs(html) if "<title>s.2A(3) behaviours" in s]
    marks = re.findall(HATCHED.pattern + r'="[^"]+" x="[\d.]+" y="[\d.]+" width="([\d.]+)"', s2)
    *bars, _legend = marks  # the legend's swatch comes last
    assert bars, "suppressed counts are drawn as hatched marks"
    assert len(set(bars)) == 1 and float(bars[0]) < CHART_W / 20  # one small size
    assert "&lt;5" in s2 and "1 to 4 cases, suppressed" in s2  # labelled, and in a legend
    assert not re.search(r'<rect fill="#3b5b8c"', s2)  # no filled bar for a suppressed count
    [per_month] = [s for s in svgs(html) if "<title>Cases per month" in s]
    heights = re.findall(HATCHED.pattern + r'="[^"]+" x="[\d.]+" y="[\d.]+" width="[\d.]+" '
                         r'height="([\d.]+)"', per_month)  # fmt: skip
    *bar_heights, _legend = heights
    assert bar_heights and {float(h) for h in bar_heights} == {9.0}
