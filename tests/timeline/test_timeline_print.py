"""Screenshot lines resolve to people and show the export they corroborate; the timeline
prints on A4 with nothing cut off and no word broken; the chart reads at print size."""

from __future__ import annotations

import io
import re
import shutil
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from timeline_helpers import config, rec

from cyberstalk.case import open_case
from cyberstalk.records import Locator, RecordKind
from cyberstalk.reports.timeline_common import ReportMeta, meta_for
from cyberstalk.reports.timeline_html import LEFT, RIGHT, W, _ticks, chart_svg, render_html
from cyberstalk.reports.timeline_pdf import render_pdf
from cyberstalk.timeline import analyse, analyse_records
from helpers.printcheck import (
    broken_header_words,
    outside_printable_area,
    table_headers,
)


def _shot(sender: str, path: str, corroborates: list[str] | None = None, text: str = "hi"):
    r = rec(
        "2026-01-05 18:00",
        sender,
        text,
        platform="screenshot",
        kind=RecordKind.SCREENSHOT_TEXT,
        subtype="incoming",
        extra={"corroborates": corroborates} if corroborates else {},
        exhibit="T/9",
    )
    return replace(r, locator=Locator(exhibit="T/9", path=path, line_start=4))


def test_screenshot_names_resolve_through_platform_hints() -> None:
    """'Sam' is Sam Suspect's WhatsApp display name: a screenshot line from 'Sam' is his
    when the image's name says WhatsApp, or when the line matches a WhatsApp export."""
    export = rec("2026-01-05 18:00", "Sam", "hi", platform="whatsapp")
    export_id = export.id
    by_name = _shot("Sam", "Screenshot_whatsapp_1.png")
    by_match = _shot("Sam", "IMG_0001.png", corroborates=[export_id])
    any_platform = _shot("sam_x", "IMG_0002.png")  # his Instagram username, no hint at all
    records = [export, by_name, by_match, any_platform]
    a = analyse_records(records, config(), ids=[r.id for r in records])
    people = {e.id: e.person for e in a.entries}
    assert people[by_name.id] == "Sam Suspect"
    assert people[by_match.id] == "Sam Suspect"
    assert people[any_platform.id] == "Sam Suspect"
    assert not a.unresolved


def test_a_name_two_people_share_on_different_platforms_stays_unresolved() -> None:
    people = config(
        people="""
[[people]]
name = "Vic Tim"
role = "victim"
identifiers = [{ type = "display_name", value = "Alex", platform = "whatsapp" }]
[[people]]
name = "Sam Suspect"
role = "suspect"
identifiers = [{ type = "display_name", value = "Alex", platform = "instagram" }]
"""
    )
    shot = _shot("Alex", "IMG_0003.png")
    hinted = _shot("Alex", "Screenshot_instagram.png")
    a = analyse_records([shot, hinted], people, ids=[shot.id, hinted.id])
    who = {e.id: e.person for e in a.entries}
    assert who[shot.id] is None  # ambiguous across platforms: never guessed
    assert who[hinted.id] == "Sam Suspect"


def test_rows_show_the_corroboration_both_ways() -> None:
    export = rec("2026-01-05 18:00", "Sam", "You looked tired", platform="whatsapp")
    shot = _shot("Sam", "Screenshot_1.png", corroborates=[export.id], text="You looked tired")
    a = analyse_records([export, shot], config(), ids=[export.id, shot.id])
    assert a.corroborated_by == {export.id: (shot.id,)}
    out = io.StringIO()
    render_html(a, meta_for_config(), out)
    html = out.getvalue()
    rows = {m.group(1): m.group(0) for m in re.finditer(r'<tr id="(r-[0-9a-f]+)".*?</tr>', html)}
    shot_row = re.sub(r"<[^>]+>", "", rows[shot.id])
    export_row = re.sub(r"<[^>]+>", "", rows[export.id])
    assert f"shows the exported message {export.locator.describe()}" in shot_row
    assert f"also on screenshot {shot.locator.describe()}" in export_row
    assert f'href="#{export.id}"' in rows[shot.id] and f'href="#{shot.id}"' in rows[export.id]


def meta_for_config() -> ReportMeta:
    return ReportMeta(
        generated_at=datetime(2026, 3, 21, tzinfo=UTC),
        tool="cyberstalk test",
        reference="T/1",
        officer="DC Test",
        force="Test Police",
    )


def test_chart_has_a_colour_per_platform_a_legend_and_print_size_labels(story_case) -> None:
    a = analyse(open_case(story_case))
    svg = chart_svg(a)
    platforms = sorted({e.record.platform for e in a.entries if e.contact})
    assert len(platforms) >= 3
    swatch = r'<rect x="[\d.]+" y="4" width="10" height="10" fill="(#\w+)"/>'
    legend = re.findall(swatch + r"\s*<text[^>]*>([^<]+)</text>", svg)
    fills = {platform: colour for colour, platform in legend}
    assert sorted(fills) == platforms and len(set(fills.values())) == len(platforms)
    # every bar is drawn in its platform's colour, and the bars add up to the contacts
    bars = re.findall(r'fill="(#\w+)"><title>[\d-]+: (\d+) (\w+)</title>', svg)
    assert bars and all(fills[p] == colour for colour, _, p in bars)
    assert sum(int(n) for _, n, _ in bars) == sum(ps.contacts for ps in a.summary.persons)
    # 188 mm of A4 text width for W units: every label at 8 pt or more when printed
    sizes = [float(x) for x in re.findall(r'<text[^>]*font-size="([\d.]+)"', svg)]
    assert sizes and min(sizes) * 188 / W * 72 / 25.4 >= 8.0


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_timeline_pdf_prints_on_a4_with_no_word_broken(story_case, tmp_path: Path) -> None:
    case = open_case(story_case)
    a = analyse(case)
    pdf_bytes, _ = render_pdf(a, meta_for(case))
    pdf = tmp_path / "timeline.pdf"
    pdf.write_bytes(pdf_bytes)
    assert outside_printable_area(pdf) == []
    out = io.StringIO()
    render_html(a, meta_for(case), out, for_print=True)
    html = out.getvalue()
    cells = [
        *table_headers(html),
        *(e.record.platform for e in a.entries),
        *(e.record.kind.value.replace("_", " ") for e in a.entries),
        *(e.record.sender or "" for e in a.entries),
        *(e.record.locator.describe() for e in a.entries),
    ]
    assert broken_header_words(pdf, cells) == []
    # indicators cite records by where they are, not by bare hash ids
    text = re.sub(r"<[^>]+>", "", html.partition('id="chronology"')[0])
    assert not re.search(r"\bin r-[0-9a-f]{16}\b", text)


def test_printed_chart_draws_the_same_bars_as_paths(story_case) -> None:
    a = analyse(open_case(story_case))
    screen, printed = chart_svg(a), chart_svg(a, for_print=True)
    bars = re.findall(
        r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" '
        r'fill="(#\w+)"><title>',
        screen,
    )
    assert bars and "<title>" not in printed.split("</desc>", 1)[1]
    drawn = []
    for fill, d in re.findall(r'<path d="([^"]+)" fill="(#\w+)"/>', printed):
        for x, y, w, h in re.findall(r"M([\d.]+) ([\d.]+)h([\d.]+)v([\d.]+)h-[\d.]+z", fill):
            drawn.append((x, y, w, h, d))
    assert sorted(drawn) == sorted(bars)
    ticks = screen.count('fill="#7a1f5c"><title>')
    assert ticks == len(a.occasions) and printed.count(" l-3 6 h6 z") == ticks


def test_axis_labels_do_not_run_into_each_other() -> None:

    width = W - LEFT - RIGHT
    # two years from 1 June: the first quarter label is a month in, too near for "1 Jun"
    ticks = _ticks(date(2024, 6, 1), date(2026, 5, 31), width)
    assert ticks[0] == (date(2024, 7, 1), "Jul 2024")
    # half a year from 3 January: a month is room enough for the first day's label
    ticks = _ticks(date(2026, 1, 3), date(2026, 6, 30), width)
    assert ticks[:2] == [(date(2026, 1, 3), "3 Jan"), (date(2026, 2, 1), "Feb 2026")]
    for span in ((date(2024, 6, 1), date(2026, 5, 31)), (date(2025, 11, 20), date(2026, 4, 2))):
        xs = [
            (d - span[0]).days * width / ((span[1] - span[0]).days + 1)
            for d, _ in _ticks(*span, width)
        ]
        labels = [label for _, label in _ticks(*span, width)]
        for (x1, label), x2 in zip(zip(xs, labels), xs[1:]):
            assert x2 - x1 >= 6.6 * len(label), (label, x2 - x1)
