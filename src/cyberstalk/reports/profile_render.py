"""The force-level profile as HTML (inline SVG charts, A4), tidy CSV and JSON.

Small-number suppression (published statistics practice): unless ``exact`` is asked for,
a count from 1 to 4 is shown as ``<5`` and a median or quartile over fewer than 5 cases
is shown as ``suppressed``, in every format. Zero is shown as 0. Charts draw a
suppressed count (or median) as a small hatched mark of one fixed size, labelled ``<5``
and named in the chart's legend, never as a bar of any height. No complementary
suppression is done: a total minus the shown months can narrow a suppressed cell, so
publish totals with that in mind.

Charts are inline SVG as wide as the printed page in points (:data:`CHART_W`), so their
text prints at the size it is given (9 pt); one colour per series, with a legend when a
chart has more than one. The same profile gives the same bytes: nothing here reads the
clock.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from cyberstalk.case import SPO_STATUSES, tool_string
from cyberstalk.errors import ReportError, UsageError
from cyberstalk.hashing.fsutil import atomic_write_many
from cyberstalk.reports.common import CSP, write_csv
from cyberstalk.reports.profile import (
    DEFINITIONS,
    FORMAT,
    FOUR_IDS,
    LABELS,
    S2A3_IDS,
    SUPPRESS_BELOW,
    Figures,
    Profile,
)
from cyberstalk.risk import GRADINGS

RENDER_FORMATS = ("html", "csv", "json")
SUPPRESSED = "suppressed"
LESS = f"<{SUPPRESS_BELOW}"


def suppression_rule(exact: bool) -> str:
    if exact:
        return "none: exact counts (not for publication)"
    return (
        f"counts from 1 to {SUPPRESS_BELOW - 1} are shown as \u201c{LESS}\u201d; medians and "
        f"quartiles over fewer than {SUPPRESS_BELOW} cases are shown as \u201csuppressed\u201d"
    )


def shown(n: int, exact: bool) -> int | str:
    """A count as published."""
    return n if exact or n == 0 or n >= SUPPRESS_BELOW else LESS


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 1)


def shown_stat(value: float | None, over: int, exact: bool) -> int | float | str | None:
    """A median or quartile over ``over`` cases, as published (None: no case to measure)."""
    if value is None:
        return None
    if not exact and over < SUPPRESS_BELOW:
        return SUPPRESSED
    return _num(value)


def group_of(ind_id: str) -> str:
    if ind_id in FOUR_IDS:
        return "FOUR"
    if ind_id in S2A3_IDS:
        return "s.2A(3)"
    return "other"


# ---------------------------------------------------------------- JSON


def _figures_dict(f: Figures, exact: bool) -> dict[str, Any]:
    d = f.days_to_report
    return {
        "cases": shown(f.cases, exact),
        "no_counted_contact": shown(f.no_counted_contact, exact),
        "platforms": {p: shown(n, exact) for p, n in f.platforms},
        "indicators": {i: shown(n, exact) for i, n in f.indicators},
        "blocked": shown(f.blocked, exact),
        "contact_after_block": shown(f.contact_after_block, exact),
        "order_served": shown(f.order_served, exact),
        "possible_order_breach": shown(f.possible_breach, exact),
        "risk_assessed": shown(f.risk_assessed, exact),
        "risk_grading": {g: shown(n, exact) for g, n in f.gradings},
        "spo_considered": shown(f.spo_considered, exact),
        "spo_latest_step": {st: shown(n, exact) for st, n in f.spo},
        "days_to_report": {
            "cases": shown(d.cases, exact),
            "median": shown_stat(d.median, d.cases, exact),
            "p25": shown_stat(d.p25, d.cases, exact),
            "p75": shown_stat(d.p75, d.cases, exact),
            "first_contact_after_report": shown(d.after_report, exact),
        },
    }


def render_json(p: Profile, *, exact: bool = False) -> bytes:
    data = {
        "format": FORMAT,
        "tool": tool_string(),
        "generated_at": p.generated_at.isoformat(timespec="seconds"),
        "generated_at_basis": p.generated_at_basis,
        "forces": list(p.forces),
        "timezones": list(p.timezones),
        "month_basis": p.month_basis,
        "month_timezone": "each case's own timezone (case.toml [case] timezone)",
        "report_time": "earliest received_at of the case's exhibits (signed manifest)",
        "first_contact": "earliest contact counted by the timeline analysis",
        "definitions": dict(DEFINITIONS),
        "suppression": {"applied": not exact, "rule": suppression_rule(exact)},
        "platforms": list(p.platforms),
        "indicators": [
            {"id": i, "label": LABELS.get(i, i), "group": group_of(i)} for i in p.indicator_ids
        ],
        "total": _figures_dict(p.total, exact),
        "cases_without_month": shown(p.without_month, exact),
        "months": [{"month": m, **_figures_dict(f, exact)} for m, f in p.months],
        "included": list(p.included),
        "excluded": [
            {"reference": e.reference, "folder": e.folder, "reasons": list(e.reasons)}
            for e in p.excluded
        ],
    }
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# ---------------------------------------------------------------- CSV


def csv_rows(p: Profile, exact: bool) -> list[tuple[object, ...]]:
    """Tidy long rows: (month_basis, month, measure, category, value); month ``total``."""
    rows: list[tuple[object, ...]] = []
    basis = p.month_basis
    for month, f in [*p.months, ("total", p.total)]:
        d = f.days_to_report

        def add(measure: str, category: str, value: object, month: str = month) -> None:
            rows.append((basis, month, measure, category, "" if value is None else value))

        add("cases", "", shown(f.cases, exact))
        add("no_counted_contact", "", shown(f.no_counted_contact, exact))
        for plat, n in f.platforms:
            add("platform", plat, shown(n, exact))
        for ind, n in f.indicators:
            add("indicator", ind, shown(n, exact))
        add("blocked", "", shown(f.blocked, exact))
        add("contact_after_block", "", shown(f.contact_after_block, exact))
        add("order_served", "", shown(f.order_served, exact))
        add("possible_order_breach", "", shown(f.possible_breach, exact))
        add("risk_assessed", "", shown(f.risk_assessed, exact))
        for g, n in f.gradings:
            add("risk_grading", g, shown(n, exact))
        add("spo_considered", "", shown(f.spo_considered, exact))
        for st, n in f.spo:
            add("spo_latest_step", st, shown(n, exact))
        add("days_to_report", "cases", shown(d.cases, exact))
        add("days_to_report", "median", shown_stat(d.median, d.cases, exact))
        add("days_to_report", "p25", shown_stat(d.p25, d.cases, exact))
        add("days_to_report", "p75", shown_stat(d.p75, d.cases, exact))
        add("days_to_report", "first_contact_after_report", shown(d.after_report, exact))
    return rows


def render_csv(p: Profile, *, exact: bool = False) -> bytes:
    header = ("month_basis", "month", "measure", "category", "value")
    return write_csv(csv_rows(p, exact), header).encode("utf-8")


# ---------------------------------------------------------------- HTML

_CSS = """
@page { size: A4; margin: 14mm 12mm; }
body { font: 10pt/1.4 "DejaVu Sans", Arial, sans-serif; color: #111; max-width: 190mm;
       margin: 0 auto; padding: 8px; }
h1 { font-size: 17pt; margin: 0 0 4px; }
h2 { font-size: 12.5pt; margin: 18px 0 6px; border-bottom: 1px solid #999;
     break-after: avoid; page-break-after: avoid; }
p.meta { color: #333; margin: 0 0 8px; }
.note { background: #f3f3f3; border-left: 3px solid #666; padding: 6px 8px; font-size: 9pt; }
table { border-collapse: collapse; width: 100%; font-size: 8pt; margin: 4px 0 8px; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { border: 1px solid #bbb; padding: 2px 4px; text-align: right; vertical-align: top; }
th { background: #e8e8e8; font-weight: bold; }
th:first-child, td:first-child { text-align: left; white-space: nowrap; }
tr.total td { font-weight: bold; background: #f5f5f5; }
figure { margin: 4px 0 10px; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-size: 8.5pt; color: #333; }
svg { width: 100%; height: auto; }
svg text { font-family: "DejaVu Sans", Arial, sans-serif; }
dl { font-size: 9pt; } dt { font-weight: bold; } dd { margin: 0 0 4px 12px; }
td.reason { text-align: left; }
"""


def _cell(value: object) -> str:
    if value is None or value == "":
        return "<td>\u2013</td>"
    return f"<td>{escape(str(value))}</td>"


def _table(head: Sequence[str], rows: Sequence[Sequence[object]], total: Sequence[object]) -> str:
    out = ["<table><thead><tr>"]
    out += [f"<th>{escape(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>" + "".join(_cell(v) for v in row) + "</tr>")
    out.append('<tr class="total">' + "".join(_cell(v) for v in total) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _bar_value(n: int, exact: bool) -> tuple[float, str, bool]:
    """(height, label, suppressed) of a count bar; a suppressed count has no height."""
    s = shown(n, exact)
    if isinstance(s, str):
        return 0.0, s, True
    return float(n), str(n), False


CHART_W = 527
"""Width of every chart in SVG units: the printed width (186 mm, A4 less the margins) in
points, so a font-size of 9 prints at 9 pt (8 pt at the least, on A4)."""
FONT = 9
SMALL = 8.5
INK = "#3b5b8c"
"""The colour of a single series."""
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00")
"""One colour per series (Okabe-Ito, told apart with colour-blindness too)."""
STUB = 9.0
"""Length of the mark of a suppressed count or statistic: the same whatever the value,
so it never reads as the size of one."""


def _svg_open(title: str, height: float) -> str:
    return (
        f'<svg viewBox="0 0 {CHART_W} {height:.0f}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="DejaVu Sans, Arial, sans-serif">'
        f"<title>{escape(title)}</title>"
    )


def _nice_top(peak: float) -> float:
    """The axis top: the least of 1, 2, 2.5, 5 x 10^k at or above ``peak``."""
    if peak <= 1:
        return 1.0
    power = 10.0 ** math.floor(math.log10(peak))
    return float(next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= peak))


def _hatched(x: float, y: float, w: float, h: float, colour: str) -> str:
    """A suppressed value: a dashed outline of fixed size, hatched (SVG presentation
    attributes: WeasyPrint ignores page CSS inside SVG)."""
    parts = [
        f'<rect fill="#fff" stroke="{colour}" stroke-width="1" stroke-dasharray="2 1.5" '
        f'x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}"/>'
    ]
    t = -h
    while t < w:
        x0, y0, x1, y1 = x + t, y + h, x + t + h, y
        if x0 < x:
            y0 -= x - x0
            x0 = x
        if x1 > x + w:
            y1 += x1 - (x + w)
            x1 = x + w
        if x1 > x0:
            parts.append(
                f'<line stroke="{colour}" stroke-width="0.8" x1="{x0:.1f}" y1="{y0:.1f}" '
                f'x2="{x1:.1f}" y2="{y1:.1f}"/>'
            )
        t += 3.5
    return "".join(parts)


def _legend(entries: Sequence[tuple[str, str | None]], y: float) -> tuple[str, float]:
    """A row (or rows) of swatches: (label, colour; None for the suppressed mark). Returns
    the SVG and the height used."""
    parts: list[str] = []
    x, row = 4.0, 0
    for label, colour in entries:
        width = 18 + 0.56 * FONT * len(label) + 14
        if x + width > CHART_W and x > 4:
            x, row = 4.0, row + 1
        top = y + row * 14
        if colour is None:
            parts.append(_hatched(x, top + 1, 11, 9, INK))
        else:
            parts.append(
                f'<rect fill="{colour}" x="{x:.1f}" y="{top + 1:.1f}" width="11" height="9"/>'
            )
        parts.append(
            f'<text x="{x + 15:.1f}" y="{top + 9:.1f}" font-size="{FONT}">{escape(label)}</text>'
        )
        x += width
    return "".join(parts), (row + 1) * 14


Bar = tuple[float | None, str, bool]
"""(value or None for no bar, value label, suppressed) of one bar."""


def _vbars(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Bar]]],
    *,
    suppressed_label: str = f"{LESS} (1 to {SUPPRESS_BELOW - 1}, suppressed)",
) -> str:
    """Vertical bars over ``labels`` (months): one bar per series at each label, one colour
    per series, a legend when there is more than one series or a suppressed value, and a
    value axis. A suppressed value is a small hatched mark labelled, never a bar."""
    left, right, top, bottom = 36, 6, 14, 48
    plot_h = 150
    n = max(1, len(labels))
    step = (CHART_W - left - right) / n
    k = max(1, len(series))
    colours = [INK] if k == 1 else list(PALETTE)
    values = [v for _, bars in series for v, _, supp in bars if v is not None and not supp]
    peak = _nice_top(max([*values, 1.0]))
    any_supp = any(supp for _, bars in series for _, _, supp in bars)
    legend_entries: list[tuple[str, str | None]] = []
    if k > 1:
        legend_entries += [(name, colours[i % len(colours)]) for i, (name, _) in enumerate(series)]
    if any_supp:
        legend_entries.append((suppressed_label, None))
    legend, legend_h = _legend(legend_entries, top + plot_h + bottom) if legend_entries else ("", 0)
    height = top + plot_h + bottom + legend_h + 4
    base = top + plot_h
    parts = [_svg_open(title, height)]
    # a value axis only for values shown (all suppressed: just the baseline), in whole
    # numbers (no "0.5 cases")
    fracs = [0.0] + ([0.5, 1.0] if values else [])
    for frac in fracs:
        if frac == 0.5 and not (peak / 2).is_integer():
            continue
        y = base - plot_h * frac
        parts.append(
            f'<line stroke="{"#777" if frac == 0 else "#ddd"}" x1="{left}" y1="{y:.1f}" '
            f'x2="{CHART_W - right}" y2="{y:.1f}"/>'
            f'<text x="{left - 4}" y="{y + 3:.1f}" font-size="{FONT}" text-anchor="end">'
            f"{_num(peak * frac)}</text>"
        )
    group_w = step * 0.8
    bw = group_w / k
    for j in range(len(labels)):
        x0 = left + j * step + step * 0.1
        for i, (_, bars) in enumerate(series):
            if j >= len(bars):
                continue
            value, text, supp = bars[j]
            colour = colours[i % len(colours)]
            x = x0 + i * bw
            if supp:
                parts.append(_hatched(x + 0.5, base - STUB, max(1.0, bw - 1), STUB, colour))
                top_y = base - STUB
            elif value is not None and value > 0:
                bh = plot_h * value / peak
                parts.append(
                    f'<rect fill="{colour}" x="{x + 0.5:.1f}" y="{base - bh:.1f}" '
                    f'width="{max(1.0, bw - 1):.1f}" height="{bh:.1f}"/>'
                )
                top_y = base - bh
            else:
                continue
            if bw >= 6 * len(text) and text:
                parts.append(
                    f'<text x="{x + bw / 2:.1f}" y="{top_y - 3:.1f}" font-size="{SMALL}" '
                    f'text-anchor="middle">{escape(text)}</text>'
                )
    every = max(1, math.ceil(14 / step))
    for j, label in enumerate(labels):
        if j % every:
            continue
        cx = left + j * step + step / 2
        parts.append(
            f'<text x="{cx + 3:.1f}" y="{base + 12}" font-size="{FONT}" text-anchor="end" '
            f'transform="rotate(-45 {cx + 3:.1f} {base + 12})">{escape(label)}</text>'
        )
    parts.append(legend)
    parts.append("</svg>")
    return "".join(parts)


def _hbars(
    title: str, items: Sequence[tuple[str, float, str, bool]], scale: float | None = None
) -> str:
    """Horizontal bars: (label, value, value label, suppressed) per row, drawn against
    ``scale`` (all cases, so a bar is its share) or the largest value shown. A suppressed
    count is a small hatched mark labelled ``<5``, never a bar."""
    row, label_w = 16, 222
    span = CHART_W - label_w - 84
    shown_values = [h for _, h, _, supp in items if not supp]
    peak = max([scale or 0.0, *shown_values, 1.0])
    any_supp = any(supp for _, _, _, supp in items)
    legend, legend_h = (
        _legend(
            [(f"{LESS}: 1 to {SUPPRESS_BELOW - 1} cases, suppressed", None)],
            4 + row * len(items) + 4,
        )
        if any_supp
        else ("", 0)
    )
    height = row * len(items) + 8 + legend_h
    parts = [_svg_open(title, height)]
    parts.append(
        f'<line stroke="#777" x1="{label_w}" y1="2" x2="{label_w}" y2="{4 + row * len(items)}"/>'
    )
    for k, (label, h, text, supp) in enumerate(items):
        y = 4 + k * row
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 11.5}" font-size="{FONT}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        if supp:
            parts.append(_hatched(label_w + 0.5, y + 2.5, STUB * 1.5, row - 5, INK))
            end = label_w + STUB * 1.5
        else:
            bw = span * h / peak
            if bw > 0:
                parts.append(
                    f'<rect fill="{INK}" x="{label_w + 0.5}" y="{y + 2.5}" width="{bw:.1f}" '
                    f'height="{row - 5}"/>'
                )
            end = label_w + bw
        parts.append(
            f'<text x="{end + 4:.1f}" y="{y + 11.5}" font-size="{FONT}">{escape(text)}</text>'
        )
    parts.append(legend)
    parts.append("</svg>")
    return "".join(parts)


def _share_items(
    p: Profile, pairs: Sequence[tuple[str, int]], exact: bool
) -> list[tuple[str, float, str, bool]]:
    items = []
    for label, n in pairs:
        h, text, supp = _bar_value(n, exact)
        if not supp and p.total.cases and n:
            text = f"{n} of {p.total.cases} ({round(100 * n / p.total.cases)}%)"
        items.append((label, h, text, supp))
    return items


def render_html(p: Profile, *, exact: bool = False) -> bytes:
    def s(n: int) -> int | str:
        return shown(n, exact)

    months = list(p.months)
    tot = p.total
    basis = "report month" if p.month_basis == "report" else "month of first contact"
    first_last = f"{months[0][0]} to {months[-1][0]}" if months else "no month"
    out: list[str] = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Force-level stalking profile</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Force-level stalking profile</h1>",
        '<p class="meta">',
        escape(", ".join(p.forces) or "No force"),
        f" \u00b7 {escape(str(s(tot.cases)))} cases \u00b7 {escape(first_last)} by "
        f"{escape(basis)} \u00b7 generated {escape(p.generated_at.strftime('%Y-%m-%d %H:%M'))}"
        f" UTC ({escape(p.generated_at_basis)}) \u00b7 {escape(tool_string())}</p>",
        '<div class="note"><p>Counts are <b>cases</b>, each counted once, in the month of '
        f"its {escape(basis)} (each case's own timezone). Indicators are material the "
        "timeline flagged for an officer's judgement, never findings. No person's name, "
        "identifier or message is in this profile.</p>",
        f"<p>Small numbers: {escape(suppression_rule(exact))}.</p></div>",
    ]

    out.append("<h2>Cases per month</h2>")
    labels = [m for m, _ in months]
    per_month = [_bar_value(f.cases, exact) for _, f in months]
    out.append(
        f"<figure>{_vbars('Cases per month', labels, [('Cases', per_month)])}"
        f"<figcaption>Cases per {escape(basis)}; a hatched mark is a suppressed count "
        f"(1 to {SUPPRESS_BELOW - 1}), drawn the same size whatever the count."
        "</figcaption></figure>"
    )
    if p.without_month:
        out.append(
            f"<p>{escape(str(s(p.without_month)))} included case(s) have no counted contact "
            "and so no month of first contact: they are in the totals only.</p>"
        )

    # share bars are drawn against all cases (a full bar is every case), unless the
    # total itself is suppressed: then against the largest count shown
    scale = float(tot.cases) if isinstance(s(tot.cases), int) else None
    out.append("<h2>FOUR: fixated, obsessive, unwanted, repeated</h2>")
    four_items = _share_items(p, [(LABELS[i], tot.indicator(i)) for i in FOUR_IDS], exact)
    out.append(
        f"<figure>{_hbars('FOUR indicators, all months', four_items, scale)}"
        "<figcaption>Cases with each FOUR indicator, all months (a full bar is every case)."
        "</figcaption></figure>"
    )
    if len(months) > 1:
        four_series = [
            (LABELS[i], [_bar_value(f.indicator(i), exact) for _, f in months]) for i in FOUR_IDS
        ]
        out.append(
            f"<figure>{_vbars('FOUR indicators per month', labels, four_series)}"
            f"<figcaption>Cases with each FOUR indicator per {escape(basis)}.</figcaption>"
            "</figure>"
        )
    head = ["Month", "Cases", *(LABELS[i] for i in FOUR_IDS), "No counted contact"]

    def four(f: Figures) -> list[object]:
        return [s(f.cases), *(s(f.indicator(i)) for i in FOUR_IDS), s(f.no_counted_contact)]

    out.append(_table(head, [[m, *four(f)] for m, f in months], ["All months", *four(tot)]))

    out.append("<h2>s.2A(3) behaviours (Protection from Harassment Act 1997)</h2>")
    s2_items = _share_items(p, [(LABELS[i], tot.indicator(i)) for i in S2A3_IDS], exact)
    out.append(f"<figure>{_hbars('s.2A(3) behaviours, all months', s2_items, scale)}</figure>")
    head = ["Month", "Cases", *(LABELS[i] for i in S2A3_IDS)]

    def s2(f: Figures) -> list[object]:
        return [s(f.cases), *(s(f.indicator(i)) for i in S2A3_IDS)]

    out.append(_table(head, [[m, *s2(f)] for m, f in months], ["All months", *s2(tot)]))

    out.append("<h2>Threats, blocks and orders</h2>")
    other_ids = [
        i
        for i in p.indicator_ids
        if group_of(i) == "other" and i not in ("contact_after_block", "order_breach")
    ]
    pairs = [
        ("Blocked", tot.blocked),
        ("Contact after a block", tot.contact_after_block),
        ("Order served", tot.order_served),
        ("Possible order breach", tot.possible_breach),
        *((LABELS.get(i, i), tot.indicator(i)) for i in other_ids),
    ]
    other_items = _share_items(p, pairs, exact)
    out.append(
        f"<figure>{_hbars('Threats, blocks and orders, all months', other_items, scale)}</figure>"
    )
    head = [
        "Month",
        "Cases",
        "Blocked",
        "Contact after block",
        "Order served",
        "Possible breach",
        *(LABELS.get(i, i) for i in other_ids),
    ]

    def other(f: Figures) -> list[object]:
        return [
            s(f.cases),
            s(f.blocked),
            s(f.contact_after_block),
            s(f.order_served),
            s(f.possible_breach),
            *(s(f.indicator(i)) for i in other_ids),
        ]

    out.append(_table(head, [[m, *other(f)] for m, f in months], ["All months", *other(tot)]))

    out.append("<h2>Risk identification and Stalking Protection Orders</h2>")
    out.append(
        '<p class="muted">A case counts as risk-assessed when any S-DASH answer or grading is '
        "recorded (<code>cyberstalk risk</code>); its grading and SPO step are the latest "
        "recorded (<code>cyberstalk case order spo</code>). Recommendation 13: consider an SPO "
        "in every stalking case.</p>"
    )
    head = [
        "Month",
        "Cases",
        "Risk assessed",
        *(f"Graded {g}" for g in GRADINGS),
        "SPO considered",
        *(f"SPO {st.replace('_', ' ')}" for st in SPO_STATUSES if st != "considered"),
    ]

    def risk_row(f: Figures) -> list[object]:
        spo = dict(f.spo)
        return [
            s(f.cases),
            s(f.risk_assessed),
            *(s(n) for _, n in f.gradings),
            s(f.spo_considered),
            *(s(spo.get(st, 0)) for st in SPO_STATUSES if st != "considered"),
        ]

    out.append(_table(head, [[m, *risk_row(f)] for m, f in months], ["All months", *risk_row(tot)]))

    out.append("<h2>Platforms used</h2>")
    plat_items = _share_items(p, list(tot.platforms), exact)
    if plat_items:
        out.append(f"<figure>{_hbars('Platforms used, all months', plat_items, scale)}</figure>")
    head = ["Month", "Cases", *p.platforms]

    def plats(f: Figures) -> list[object]:
        return [s(f.cases), *(s(n) for _, n in f.platforms)]

    out.append(_table(head, [[m, *plats(f)] for m, f in months], ["All months", *plats(tot)]))

    out.append("<h2>Time from first contact to report</h2>")
    med: list[Bar] = []
    for _, f in months:
        d = f.days_to_report
        value = shown_stat(d.median, d.cases, exact)
        if isinstance(value, (int, float)):
            med.append((float(value), str(value), False))
        else:
            med.append((None, f"n{LESS}" if value == SUPPRESSED else "", value == SUPPRESSED))
    chart = _vbars(
        "Median days from first contact to report",
        labels,
        [("Median days", med)],
        suppressed_label=f"suppressed (fewer than {SUPPRESS_BELOW} cases measured)",
    )
    out.append(
        f"<figure>{chart}<figcaption>Median days per month; a hatched mark is a month with "
        f"fewer than {SUPPRESS_BELOW} cases measured (not shown unless exact counts were "
        "asked for), no mark a month with none.</figcaption></figure>"
    )
    head = [
        "Month",
        "Cases measured",
        "Median days",
        "Lower quartile",
        "Upper quartile",
        "First contact after report",
    ]

    def days(f: Figures) -> list[object]:
        d = f.days_to_report
        return [
            s(d.cases),
            shown_stat(d.median, d.cases, exact),
            shown_stat(d.p25, d.cases, exact),
            shown_stat(d.p75, d.cases, exact),
            s(d.after_report),
        ]

    out.append(_table(head, [[m, *days(f)] for m, f in months], ["All months", *days(tot)]))

    out.append("<h2>How the figures are made</h2><dl>")
    for term, text in DEFINITIONS:
        out.append(f"<dt>{escape(term)}</dt><dd>{escape(text)}</dd>")
    out.append("</dl>")

    # the included references stay in the JSON (for analysts): a published profile needs
    # only how many, and which cases were left out
    out.append(
        f"<h2>Cases</h2><p>Included: {len(p.included)} case(s) (their references are in "
        "the JSON profile).</p>"
    )
    out.append(f"<p>Excluded: {len(p.excluded)} case(s).</p>")
    if p.excluded:
        rows = "".join(
            f"<tr><td>{escape(e.reference or '(unreadable case.toml)')}</td>"
            f"<td>{escape(e.folder)}</td>"
            f'<td class="reason">{escape("; ".join(e.reasons))}</td></tr>'
            for e in p.excluded
        )
        out.append(
            "<table><thead><tr><th>Reference</th><th>Folder</th><th>Why excluded</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
    out.append("</body></html>\n")
    return "".join(out).encode("utf-8")


def render(p: Profile, fmt: str, *, exact: bool = False) -> bytes:
    if fmt == "html":
        return render_html(p, exact=exact)
    if fmt == "csv":
        return render_csv(p, exact=exact)
    if fmt == "json":
        return render_json(p, exact=exact)
    raise ValueError(f"unknown profile format {fmt!r}")


def write_profile(
    p: Profile, out: Path, fmt: str = "all", *, exact: bool = False
) -> list[tuple[Path, str, int]]:
    """Write the profile; returns (path, SHA-256, size) of each file written.

    ``fmt="all"``: ``out`` is a folder (made if missing) that gets ``profile.html``,
    ``profile.csv`` and ``profile.json``. One format: ``out`` is that file. Every file is
    rendered first and replaced atomically, so a failure leaves nothing half written.
    """
    if fmt == "all":
        if out.exists() and not out.is_dir():
            raise UsageError(
                f"-o {out} is a file; with every format -o names a folder",
                advice="give a folder, or pick one format with --format html|csv|json",
            )
        targets = [(out / f"profile.{f}", f) for f in RENDER_FORMATS]
    elif fmt in RENDER_FORMATS:
        if out.is_dir():
            raise UsageError(
                f"-o {out} is a folder; with --format {fmt} -o names the file to write",
                advice=f"e.g. -o {out / ('profile.' + fmt)}",
            )
        targets = [(out, fmt)]
    else:
        raise UsageError(f"--format {fmt!r} is not one of all, {', '.join(RENDER_FORMATS)}")
    rendered = [(path, render(p, f, exact=exact)) for path, f in targets]
    try:
        for path, _ in rendered:
            path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_many([(path, data, 0o644) for path, data in rendered])
    except OSError as exc:
        raise ReportError(f"cannot write the profile to {out}: {exc.strerror}") from exc
    return [(path, hashlib.sha256(data).hexdigest(), len(data)) for path, data in rendered]
