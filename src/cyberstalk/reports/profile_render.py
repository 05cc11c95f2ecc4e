"""The force-level profile as HTML (inline SVG charts, A4), tidy CSV and JSON.

Small-number suppression (published statistics practice): unless ``exact`` is asked for,
a count from 1 to 4 is shown as ``<5`` and a median or quartile over fewer than 5 cases
is shown as ``suppressed``, in every format. Zero is shown as 0. Charts draw a
suppressed count as an outline up to 4, never at its true height. No complementary
suppression is done: a total minus the shown months can narrow a suppressed cell, so
publish totals with that in mind.

The same profile gives the same bytes: nothing here reads the clock.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from cyberstalk.case import tool_string
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
    """(height, label, suppressed) of a count bar."""
    s = shown(n, exact)
    if isinstance(s, str):
        return float(SUPPRESS_BELOW - 1), s, True
    return float(n), str(n), False


def _paint(suppressed: bool) -> str:
    """SVG presentation attributes (renderers such as WeasyPrint ignore page CSS in SVG)."""
    if suppressed:
        return 'fill="none" stroke="#3b5b8c" stroke-dasharray="3 2"'
    return 'fill="#3b5b8c"'


def _vbars(title: str, items: Sequence[tuple[str, float | None, str, bool]]) -> str:
    """Vertical bars: (x label, height or None, value label, suppressed) per item."""
    width, height, left, bottom, top = 680, 210, 40, 40, 16
    plot_h = height - bottom - top
    n = max(1, len(items))
    step = (width - left - 8) / n
    peak = max([h for _, h, _, _ in items if h is not None] + [1.0])
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for frac in (0.5, 1.0):
        y = top + plot_h * (1 - frac)
        parts.append(
            f'<line stroke="#ddd" x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}"/>'
            f'<text x="{left - 4}" y="{y + 3:.1f}" font-size="9" text-anchor="end">'
            f"{_num(peak * frac)}</text>"
        )
    base = top + plot_h
    parts.append(f'<line stroke="#777" x1="{left}" y1="{base}" x2="{width - 8}" y2="{base}"/>')
    every = max(1, math.ceil(40 / step))
    for k, (label, h, text, supp) in enumerate(items):
        x = left + k * step
        bw = max(1.0, step * 0.7)
        if h is not None:
            bh = plot_h * h / peak
            parts.append(
                f'<rect {_paint(supp)} x="{x + step * 0.15:.1f}" y="{base - bh:.1f}" '
                f'width="{bw:.1f}" height="{bh:.1f}"/>'
            )
            if step >= 14:
                parts.append(
                    f'<text x="{x + step / 2:.1f}" y="{base - bh - 3:.1f}" font-size="8" '
                    f'text-anchor="middle">{escape(text)}</text>'
                )
        if k % every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{base + 12}" font-size="8" '
                f'text-anchor="end" transform="rotate(-40 {x + step / 2:.1f} {base + 12})">'
                f"{escape(label)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _hbars(title: str, items: Sequence[tuple[str, float, str, bool]]) -> str:
    """Horizontal bars: (label, height, value label, suppressed) per row."""
    row, label_w, width = 17, 250, 680
    height = row * len(items) + 10
    peak = max([h for _, h, _, _ in items] + [1.0])
    span = width - label_w - 90
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for k, (label, h, text, supp) in enumerate(items):
        y = 5 + k * row
        bw = span * h / peak
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 11}" font-size="9" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect {_paint(supp)} x="{label_w}" y="{y + 2}" width="{bw:.1f}" height="{row - 5}"/>'
            f'<text x="{label_w + bw + 4:.1f}" y="{y + 11}" font-size="9">{escape(text)}</text>'
        )
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
    vb: list[tuple[str, float | None, str, bool]] = []
    for m, f in months:
        h, text, supp = _bar_value(f.cases, exact)
        vb.append((m, h if f.cases else None, text, supp))
    out.append(
        f"<figure>{_vbars('Cases per month', vb)}<figcaption>Cases per {escape(basis)}; "
        f"a dashed outline is a suppressed count (1 to {SUPPRESS_BELOW - 1}).</figcaption>"
        "</figure>"
    )
    if p.without_month:
        out.append(
            f"<p>{escape(str(s(p.without_month)))} included case(s) have no counted contact "
            "and so no month of first contact: they are in the totals only.</p>"
        )

    out.append("<h2>FOUR: fixated, obsessive, unwanted, repeated</h2>")
    four_items = _share_items(p, [(LABELS[i], tot.indicator(i)) for i in FOUR_IDS], exact)
    out.append(
        f"<figure>{_hbars('FOUR indicators, all months', four_items)}"
        "<figcaption>Cases with each FOUR indicator, all months.</figcaption></figure>"
    )
    head = ["Month", "Cases", *(LABELS[i] for i in FOUR_IDS), "No counted contact"]

    def four(f: Figures) -> list[object]:
        return [s(f.cases), *(s(f.indicator(i)) for i in FOUR_IDS), s(f.no_counted_contact)]

    out.append(_table(head, [[m, *four(f)] for m, f in months], ["All months", *four(tot)]))

    out.append("<h2>s.2A(3) behaviours (Protection from Harassment Act 1997)</h2>")
    s2_items = _share_items(p, [(LABELS[i], tot.indicator(i)) for i in S2A3_IDS], exact)
    out.append(f"<figure>{_hbars('s.2A(3) behaviours, all months', s2_items)}</figure>")
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
    out.append(
        f"<figure>{_hbars('Threats, blocks and orders, all months', _share_items(p, pairs, exact))}"
        "</figure>"
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

    out.append("<h2>Platforms used</h2>")
    plat_items = _share_items(p, list(tot.platforms), exact)
    if plat_items:
        out.append(f"<figure>{_hbars('Platforms used, all months', plat_items)}</figure>")
    head = ["Month", "Cases", *p.platforms]

    def plats(f: Figures) -> list[object]:
        return [s(f.cases), *(s(n) for _, n in f.platforms)]

    out.append(_table(head, [[m, *plats(f)] for m, f in months], ["All months", *plats(tot)]))

    out.append("<h2>Time from first contact to report</h2>")
    med: list[tuple[str, float | None, str, bool]] = []
    for m, f in months:
        d = f.days_to_report
        value = shown_stat(d.median, d.cases, exact)
        if isinstance(value, (int, float)):
            med.append((m, float(value), str(value), False))
        else:
            med.append((m, None, "", False))
    out.append(
        f"<figure>{_vbars('Median days from first contact to report', med)}"
        "<figcaption>Median days per month (months with fewer than "
        f"{SUPPRESS_BELOW} cases measured are not drawn unless exact counts were asked "
        "for).</figcaption></figure>"
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
