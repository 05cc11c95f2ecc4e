"""Timeline as one self-contained HTML file (and the content of the PDF).

The message text was written by the suspect: every string is escaped (Jinja autoescape
for the template, :func:`html.escape` for the streamed chronology), nothing loads from
anywhere, and the Content-Security-Policy forbids scripts. The chart is inline SVG.
The chronology is streamed row by row; above ``html_collapse_rows`` records its month
sections start collapsed (``<details>``), so a 200,000-record case still opens.
"""

from __future__ import annotations

import functools
import itertools
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

import jinja2
import markupsafe
from markupsafe import Markup

from cyberstalk.records import Locator, RecordKind
from cyberstalk.reports.common import CSP
from cyberstalk.reports.timeline_common import (
    DIRECTION_LABELS,
    MadeOnce,
    ReportMeta,
    local_text,
    risk_summary,
    sender_label,
)
from cyberstalk.timeline import Analysis, Direction, Entry
from cyberstalk.timeline.indicators import day as day_text
from cyberstalk.timeline.settings import SETTING_HELP

MARKER = "<!--CHRONOLOGY-->"
LINKS_PER_INDICATOR = 200
MATCHES_SHOWN = 500
PRINT_MATCHES_SHOWN = 100
PRINT_LINKS_SHOWN = 50
"""Records the PDF of a case too large to print lists under each indicator (HTML: 200)."""
"""Lexicon matches the PDF of a case too large to print lists (the HTML lists 500)."""
DETAILS_SHOWN = 100
"""An indicator's detail lines shown (a victim who asked 20,000 times to stop gets the
first hundred, then a count)."""

_ENV: jinja2.Environment | None = None


def _markupsafe_escape(value: str) -> str:
    return str(markupsafe.escape(value))


try:  # the C function behind markupsafe.escape, without building a Markup object
    from markupsafe._speedups import _escape_inner as _escape_str
except ImportError:  # pragma: no cover - pure-Python markupsafe
    _escape_str = _markupsafe_escape


def escape(value: str) -> str:
    """HTML-escape with markupsafe's C speedups (same five characters as html.escape)."""
    return _escape_str(value) if type(value) is str else str(markupsafe.escape(value))


def env() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        _ENV = jinja2.Environment(
            loader=jinja2.PackageLoader("cyberstalk.reports", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        _ENV.filters["wbr"] = lambda value: Markup(breakable(str(value)))  # noqa: S704 - escaped
    return _ENV


def _short(entry: Entry | None, rid: str) -> str:
    if entry is None or entry.local is None:
        return rid
    return f"{entry.local:%d %b %Y %H:%M} {entry.record.platform}"


# --------------------------------------------------------------------------- chart

W, H = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 34, 8, 46, 56
"""The chart's viewBox: 720 units span the A4 text width (about 188 mm), so the 11-unit
labels print at about 8 pt and read at about the same size on screen."""

PLATFORM_COLOURS = {
    "whatsapp": "#009e73",
    "sms": "#0072b2",
    "instagram": "#cc79a7",
    "telegram": "#56b4e9",
    "email": "#e69f00",
    "facebook": "#3b3b98",
    "messenger": "#3b3b98",
    "snapchat": "#b8a000",
    "calls": "#d55e00",
    "phone": "#d55e00",
}
"""One colour per platform (Okabe-Ito, safe for colour-blind readers); others take
:data:`_SPARE_COLOURS` in name order."""
_SPARE_COLOURS = ("#882255", "#44aa99", "#999933", "#661100", "#6699cc", "#555555")


def platform_colours(platforms: Iterable[str]) -> dict[str, str]:
    """A colour for each platform: fixed for the common ones, the rest in name order."""
    out: dict[str, str] = {}
    spare = iter(_SPARE_COLOURS * 4)
    for platform in sorted(set(platforms)):
        out[platform] = PLATFORM_COLOURS.get(platform) or next(spare, "#555555")
    return out


def chart_svg(a: Analysis, *, for_print: bool = False) -> str:
    """Bars of contacts per day (all persons of interest), stacked by platform with a
    legend, occasion starts as ticks, order service and block events as vertical lines.
    Every label is escaped. In a browser each bar and tick is an element with its count
    as a tooltip; ``for_print`` draws the same shapes as one path per colour (a printed
    page has no tooltips, and thousands of elements slow the PDF down)."""
    zone = ZoneInfo(a.timezone)
    # counted contacts (from persons of interest to the victim) per local day and platform:
    # the per-day totals are the summary's (a test holds them equal)
    by_platform: dict[date, Counter[str]] = {}
    pairs = Counter((e.local.date(), e.record.platform) for e in a.entries if e.contact and e.local)
    for (day, platform), count in pairs.items():
        counts = by_platform.get(day)
        if counts is None:
            counts = by_platform[day] = Counter()
        counts[platform] = count
    per_day = Counter({d: counts.total() for d, counts in by_platform.items()})
    if not per_day:
        return "<p>No contacts from a person of interest are in scope, so there is no chart.</p>"
    colours = platform_colours(p for c in by_platform.values() for p in c)
    marks: list[tuple[datetime, str, str]] = []
    for b in a.breaches:
        marks.append((b.served.astimezone(zone), f"{b.order_kind} served", "order"))
    for e in a.blocks:
        if e.local is not None and e.record.subtype == "block":
            marks.append((e.local, f"block ({e.record.platform})", "block"))
    first = min(per_day)
    last = max(per_day)
    for when, _, _ in marks:
        first, last = min(first, when.date()), max(last, when.date())
    ndays = (last - first).days + 1
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    bw = pw / ndays
    top = max(per_day.values())

    def x_of(d: date, frac: float = 0.0) -> float:
        return LEFT + ((d - first).days + frac) * bw

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="100%" '
        f'role="img" aria-labelledby="chart-title chart-desc">',
        '<title id="chart-title">Contacts per day</title>',
        f'<desc id="chart-desc">{escape(_chart_desc(a, per_day, first, last))}</desc>',
        f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#999"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end" font-size="11">{top}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + ph}" text-anchor="end" font-size="11">0</text>',
    ]
    width = f"{max(bw * 0.85, 0.5):.2f}"
    shapes: dict[str, list[str]] = {fill: [] for fill in colours.values()}
    for d, counts in sorted(by_platform.items()):
        y = float(TOP + ph)
        for platform in sorted(counts):
            h = ph * counts[platform] / top
            y -= h
            fill = colours[platform]
            if for_print:
                shapes[fill].append(f"M{x_of(d):.2f} {y:.2f}h{width}v{h:.2f}h-{width}z")
                continue
            label = f"{d.isoformat()}: {counts[platform]} {platform}"
            out.append(
                f'<rect x="{x_of(d):.2f}" y="{y:.2f}" width="{width}" '
                f'height="{h:.2f}" fill="{fill}"><title>{escape(label)}</title></rect>'
            )
    ticks: list[str] = []
    for o in a.occasions:
        d = o.start.astimezone(zone).date()
        cx = x_of(d, 0.5)
        y = TOP + ph + 3
        if for_print:
            ticks.append(f"M{cx:.2f} {y} l-3 6 h6 z")
            continue
        out.append(
            f'<path d="M{cx:.2f} {y} l-3 6 h6 z" fill="#7a1f5c"><title>{escape(o.id)} '
            f"{escape(o.person)}</title></path>"
        )
    if for_print:
        out += [f'<path d="{"".join(d)}" fill="{fill}"/>' for fill, d in shapes.items() if d]
        if ticks:
            out.append(f'<path d="{"".join(ticks)}" fill="#7a1f5c"/>')
    for i, (when, label, kind) in enumerate(sorted(marks)):
        frac = (when.hour * 3600 + when.minute * 60 + when.second) / 86400
        x = x_of(when.date(), frac)
        colour = "#b00020" if kind == "order" else "#666"
        dash = "" if kind == "order" else ' stroke-dasharray="4 3"'
        ly = 26 + (i % 2) * 12
        out.append(
            f'<line x1="{x:.2f}" y1="{TOP - 4}" x2="{x:.2f}" y2="{TOP + ph}" stroke="{colour}" '
            f'stroke-width="1.5"{dash}/>'
        )
        anchor = "end" if x > W * 0.75 else "start"
        out.append(
            f'<text x="{x + (-3 if anchor == "end" else 3):.2f}" y="{ly}" font-size="11" '
            f'fill="{colour}" text-anchor="{anchor}">{escape(label)} {when:%d %b}</text>'
        )
    # legend: one swatch per platform, on the top line
    lx = float(LEFT)
    for platform, fill in colours.items():
        out.append(f'<rect x="{lx:.1f}" y="4" width="10" height="10" fill="{fill}"/>')
        out.append(f'<text x="{lx + 13:.1f}" y="13" font-size="11">{escape(platform)}</text>')
        lx += 22 + 6.6 * len(platform)
    for d, label in _ticks(first, last, pw):
        x = x_of(d)
        out.append(
            f'<line x1="{x:.2f}" y1="{TOP + ph}" x2="{x:.2f}" y2="{TOP + ph + 14}" stroke="#999"/>'
        )
        out.append(f'<text x="{x + 2:.2f}" y="{TOP + ph + 26}" font-size="11">{label}</text>')
    out.append(
        f'<text x="{LEFT}" y="{H - 18}" font-size="11" fill="#444">Bars: contacts per day '
        f"({escape(a.timezone)}), coloured by platform. ▲ start of an occasion.</text>"
    )
    out.append(
        f'<text x="{LEFT}" y="{H - 5}" font-size="11" fill="#444">Solid red line: order '
        "served. Dashed line: block.</text>"
    )
    out.append("</svg>")
    return "\n".join(out)


def _chart_desc(a: Analysis, per_day: Counter[date], first: date, last: date) -> str:
    busiest = max(per_day.items(), key=lambda kv: (kv[1], -kv[0].toordinal()))
    return (
        f"{sum(per_day.values())} contacts on {len(per_day)} days between {first} and {last}; "
        f"most on {busiest[0]} ({busiest[1]}); {len(a.occasions)} occasions; "
        f"{len(a.breaches)} orders served; {sum(1 for b in a.blocks)} block events."
    )


def _ticks(first: date, last: date, width: float) -> list[tuple[date, str]]:
    """Axis labels: weeks, months, quarters or years by the span; the first day is
    labelled too when the first label is far enough from it (``width``: the plot's width
    in chart units) not to run into it."""
    ndays = (last - first).days + 1
    ticks: list[tuple[date, str]] = []
    d = first
    if ndays <= 45:
        step = 7
        while d <= last:
            ticks.append((d, f"{d.day} {d:%b}"))
            d += timedelta(days=step)
        return ticks
    month = date(first.year, first.month, 1)
    while month <= last:
        if month >= first and (
            ndays <= 400 or (ndays <= 800 and month.month % 3 == 1) or month.month == 1
        ):
            ticks.append((month, f"{month:%b %Y}" if ndays <= 800 else str(month.year)))
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    start = f"{first.day} {first:%b}"
    room = (ticks[0][0] - first).days * width / ndays if ticks else width
    if room >= 7 * (len(start) + 1):  # 11-unit text is about 6.6 units a character
        ticks.insert(0, (first, start))
    return ticks


# --------------------------------------------------------------------------- context


_RECORD_ID = re.compile(r"\br-[0-9a-f]{16}\b")


def _cite(by_id: dict[str, Entry], text: str, href: Callable[[str], str]) -> Markup:
    """An indicator's detail line with each record id shown as a link naming where the
    record is (exhibit and line) and when: a bare hash id tells a reader nothing, and
    broke across lines in print."""

    def link(m: re.Match[str]) -> str:
        rid = m.group(0)
        entry = by_id.get(rid)
        if entry is None:
            return rid
        when = f", {entry.local:%d %b %H:%M}" if entry.local else ""
        return f'<a href="{escape(href(rid))}">{_where(entry)}{when}</a>'

    out: list[str] = []
    last = 0
    for m in _RECORD_ID.finditer(text):
        out += [escape(text[last : m.start()]), link(m)]
        last = m.end()
    out.append(escape(text[last:]))
    return Markup("".join(out))  # noqa: S704 - every part escaped


def _risk_context(
    a: Analysis, meta: ReportMeta, links_shown: int = LINKS_PER_INDICATOR
) -> dict[str, Any]:
    """The risk summary with each evidence line's records as links (labelled by time and
    platform, as the indicators' are)."""
    data = risk_summary(a, meta)
    for q in data["questions"]:
        for ev in q["evidence"]:
            records = ev.get("records", [])
            ev["links"] = [
                {"id": rid, "label": _short(a.by_id.get(rid), rid)}
                for rid in records[:links_shown]
                if rid in a.by_id
            ]
            ev["more"] = max(0, len(records) - links_shown)
    return data


def _join(items: Iterable[tuple[str, int]]) -> str:
    return ", ".join(f"{k} ({n})" for k, n in items) or "none"


def same_page(rid: str) -> str:
    """The link to a record's row in a one-page report."""
    return "#" + rid


def scope_text(a: Analysis) -> str:
    scope = []
    if a.person_filter:
        scope.append(f"records involving {a.person_filter}")
    else:
        scope.append("all records")
    if a.date_from or a.date_to:
        scope.append(
            f"from {a.date_from.isoformat() if a.date_from else 'the start'} to "
            f"{a.date_to.isoformat() if a.date_to else 'the end'} ({a.timezone} dates)"
        )
    scope.append("persons of interest: " + (", ".join(a.persons_of_interest) or "none"))
    return "; ".join(scope)


def context(
    a: Analysis,
    meta: ReportMeta,
    rec_href: Callable[[str], str] = same_page,
    *,
    matches_shown: int = MATCHES_SHOWN,
    links_shown: int = LINKS_PER_INDICATOR,
    for_print: bool = False,
) -> dict[str, Any]:
    """The template's values; ``rec_href`` gives the link to a record's row (its page
    when the chronology is split); ``matches_shown``: lexicon matches listed;
    ``links_shown``: records listed under each indicator and risk evidence line;
    ``for_print``: the chart as drawn for the PDF."""
    zone = ZoneInfo(a.timezone)
    by_id = a.by_id

    def when(dt: datetime | None) -> str:
        return local_text(dt.astimezone(zone)) if dt else ""

    victim_label = a.victim or "the victim"
    ind_anchor: dict[int, str] = {}
    indicators = []
    for n, ind in enumerate(a.indicators, start=1):
        ind_anchor[n] = f"ind-{n}"
        links = [
            {"id": rid, "label": _short(by_id.get(rid), rid)} for rid in ind.records[:links_shown]
        ]
        indicators.append(
            {
                "anchor": f"ind-{n}",
                "id": ind.id,
                "title": ind.title,
                "person": ind.person,
                "group": ind.group,
                "rule": ind.rule,
                "details": [_cite(by_id, d, rec_href) for d in ind.details[:DETAILS_SHOWN]]
                + (
                    [
                        f"and {len(ind.details) - DETAILS_SHOWN} more of the same kind "
                        "(the JSON report lists every one)"
                    ]
                    if len(ind.details) > DETAILS_SHOWN
                    else []
                ),
                "links": links,
                "count": len(ind.records),
                "more": max(0, len(ind.records) - links_shown),
            }
        )
    persons = []
    for ps in a.summary.persons:
        weeks = [n for _, n in ps.per_week]
        persons.append(
            {
                "person": ps.person,
                "contacts": ps.contacts,
                "first": when(ps.first),
                "last": when(ps.last),
                "span_days": ps.span_days,
                "active_days": ps.active_days,
                "occasions": ps.occasions,
                "channels": _join(ps.channels),
                "per_day": (
                    f"{ps.contacts / ps.active_days:.1f} on average on days with contact; most "
                    f"{ps.busiest_day[1]} on {day_text(ps.busiest_day[0])}"
                    if ps.busiest_day and ps.active_days
                    else "none"
                ),
                "per_week": (
                    f"{ps.contacts / len(weeks):.1f} on average in weeks with contact; most "
                    f"{max(weeks)} ({ps.per_week[weeks.index(max(weeks))][0]})"
                    if weeks
                    else "none"
                ),
                "streak": (
                    f"{ps.longest_streak[2]} days ({day_text(ps.longest_streak[0])} to "
                    f"{day_text(ps.longest_streak[1])})"
                    if ps.longest_streak
                    else "none"
                ),
                "night": len(ps.night_contacts),
                "unanswered": (
                    f"{len(ps.unanswered_runs)} runs of {a.settings.unanswered_run_min} or more "
                    f"contacts with no reply; longest {len(ps.longest_unanswered.records)} "
                    f"({day_text(ps.longest_unanswered.start, zone)} to "
                    f"{day_text(ps.longest_unanswered.end, zone)})"
                    if ps.longest_unanswered
                    else "none"
                ),
                "attempts": ps.attempts,
                "indicators": [
                    {"anchor": ind_anchor[n], "title": ind.title}
                    for n, ind in enumerate(a.indicators, start=1)
                    if ind.person == ps.person
                ],
            }
        )
    orders = []
    for n, b in enumerate(a.breaches):
        anchor = next(
            (
                ind_anchor[i]
                for i, ind in enumerate(a.indicators, start=1)
                if ind.id == "order_breach" and ind.records == b.records and b.records
            ),
            None,
        )
        orders.append(
            {
                "kind": b.order_kind,
                "subject": b.subject,
                "made": day_text(b.made) if b.made else "not recorded",
                "served": when(b.served),
                "conditions": b.conditions,
                "count": len(b.records),
                "anchor": anchor,
                "n": n,
            }
        )
    blocks = [
        {
            "record": b.block_record,
            "time": when(b.block_time),
            "person": b.person,
            "platform": b.platform,
            "count": len(b.contacts),
            "new": [
                {"identifier": k, "record": r, "label": _short(by_id.get(r), r)}
                for k, r in b.new_identifiers
            ],
        }
        for b in a.after_block
    ]
    occasions = [
        {
            "id": o.id,
            "first": o.records[0],
            "person": o.person,
            "number": o.number,
            "start": when(o.start),
            "end": when(o.end),
            "count": len(o.records),
            "channels": ", ".join(o.channels),
        }
        for o in a.occasions
    ]
    identities = [
        {
            "name": p.name,
            "role": p.role,
            "rows": [
                {
                    "key": u.key,
                    "shown": u.shown,
                    "platform": u.platform,
                    "count": u.count,
                    "first": when(u.first),
                    "last": when(u.last),
                    "first_record": u.first_record,
                    "last_record": u.last_record,
                }
                for u in p.identifiers
            ],
        }
        for p in a.identities
    ]
    unresolved = [
        {
            "raw": u.raw,
            "key": u.key,
            "platforms": ", ".join(u.platforms),
            "count": u.count,
            "to_victim": u.to_victim,
            "first": when(u.first),
            "last": when(u.last),
            "example": u.example,
            "note": u.note,
        }
        for u in a.unresolved
    ]
    matches = [
        {
            "record": m.record,
            "label": _short(by_id.get(m.record), m.record),
            "category": m.category,
            "language": "English" if m.language == "en" else "Welsh (draft)",
            "entry": m.entry,
            "found": m.found,
        }
        for m in a.matches[:matches_shown]
    ]
    return {
        "csp": CSP,
        "rec_href": rec_href,
        "meta": meta,
        "page_ref": re.sub(r"[^A-Za-z0-9/ ._-]", "", meta.reference),
        "a": a,
        "s": a.summary,
        "scope": scope_text(a),
        "generated": local_text(meta.generated_at.astimezone(zone)),
        "victim_label": victim_label,
        "persons": persons,
        "platforms": _join(a.summary.platforms),
        "gap": f"{a.settings.occasion_gap_hours:g}",
        "night": f"{a.settings.night_start:%H:%M} to {a.settings.night_end:%H:%M}",
        "chart": Markup(chart_svg(a, for_print=for_print)),  # noqa: S704 - escaped parts only
        "indicators": indicators,
        "orders": orders,
        "blocks": blocks,
        "occasions": occasions,
        "occasions_collapsed": len(occasions) > 500,
        "occasions_summary": "",
        "identities": identities,
        "unresolved": unresolved,
        "settings": [(k, v, SETTING_HELP.get(k, "")) for k, v in a.settings.describe()],
        "lexicons": [
            f"{'English' if lang == 'en' else 'Welsh'} {f} ({n} entries)"
            for lang, f, n in a.lexicon_info
        ],
        "matches": matches,
        "matches_more": max(0, len(a.matches) - matches_shown),
        "risk": _risk_context(a, meta, links_shown),
    }


# --------------------------------------------------------------------------- chronology

_COLS = (
    '<colgroup><col class="c-time"><col class="c-plat"><col class="c-dir"><col class="c-from">'
    '<col class="c-text"><col class="c-loc"><col class="c-occ"><col class="c-ind"></colgroup>'
    "<thead><tr><th>Time</th><th>Platform</th><th>To / from</th><th>From</th><th>Text</th>"
    '<th>Exhibit and position</th><th><abbr title="Occasion">Occ.</abbr></th>'
    "<th>Indicators, flags</th></tr></thead>"
)


_MEMO: dict[tuple[str, str], str] = {}


def _memo(kind: str, value: str, make: Callable[[str], str]) -> str:
    """``make(value)`` for a short, often repeated string (platform, kind, indicator id),
    made once per ``kind`` of cell."""
    hit = _MEMO.get((kind, value))
    if hit is None:
        if len(_MEMO) > 10_000:
            _MEMO.clear()
        hit = _MEMO[kind, value] = make(value)
    return hit


def _esc_small(value: str) -> str:
    return _memo("esc", value, escape)


_INDICATOR_CELLS = MadeOnce(lambda ids: "<br>".join(_esc_small(i.replace("_", " ")) for i in ids))
"""The indicators of a row, by its tuple of indicator ids (few distinct combinations)."""


_CLASSES = {
    (d.value, c): f"d-{d.value}" + (" c" if c else "") for d in Direction for c in (False, True)
}


_BREAK_AFTER = {ord(c): c + "<wbr>" for c in "/_.[@:"}
"""Characters a long token may wrap after (paths, JSON paths, handles, kinds); none of
them occurs in the entities escape() writes."""


def breakable(value: str) -> str:
    """Escaped ``value`` with a ``<wbr>`` after ``/ _ . [ @ :``, so that a narrow column
    wraps a locator, a handle or a kind at those points, never inside a word."""
    return escape(value).translate(_BREAK_AFTER)


def _where(entry: Entry) -> str:
    """Where a record sits, as HTML: the exhibit reference kept on one line (``RE/14/1``
    broke as ``R`` / ``E/14/1`` in print), then its position, wrappable."""
    return where_html(entry.record.locator)


def where_html(loc: Locator) -> str:
    """``locator_html(loc.describe())``, without escaping and wrapping a position that has
    nothing to escape or wrap (``line 12``, ``lines 3-4``: nearly every row's)."""
    ref = loc.exhibit or loc.path
    if " " in ref:  # (the described form is split at the reference's own space)
        return locator_html(loc.describe())
    span = _REF_SPANS[ref]
    where = loc.position()
    if not where:
        return span
    return f"{span} {where if _PLAIN(where) else breakable(where)}"


_PLAIN = re.compile(r"[a-z0-9 -]*").fullmatch
"""A position :func:`breakable` leaves as it is: no character to escape or wrap after."""
_REF_SPANS = MadeOnce(lambda ref: f'<span class="nw">{escape(ref)}</span>')
"""The exhibit reference of :func:`where_html`, kept on one line."""


def locator_html(described: str) -> str:
    ref, sep, rest = described.partition(" ")
    return f'<span class="nw">{escape(ref)}</span>{sep}{breakable(rest)}'


def _corroboration(a: Analysis, e: Entry, href: Callable[[str], str]) -> str:
    """The other half of a screenshot/export pair, both ways, as links to its row."""
    rec = e.record
    links: list[str] = []
    if rec.kind is RecordKind.SCREENSHOT_TEXT:
        ids = rec.extra.get("corroborates")
        for rid in ids if isinstance(ids, list) else ():
            other = a.by_id.get(rid) if isinstance(rid, str) else None
            if other is not None:
                links.append(
                    f'shows the exported message <a href="{escape(href(other.id))}">'
                    f"{_where(other)}</a>"
                )
    else:
        for rid in a.corroborated_by.get(e.id, ()):
            other = a.by_id.get(rid)
            if other is not None:
                links.append(
                    f'also on screenshot <a href="{escape(href(other.id))}">{_where(other)}</a>'
                )
    return "".join(f'<br><span class="corr">{link}</span>' for link in links)


_SCREENSHOT_TEXT = RecordKind.SCREENSHOT_TEXT  # (once: read off its class for every row)

_TIME_NOTES = {"time_conflict": "time conflict", "edited_time_conflict": "edit time conflict"}
"""Notes a parser leaves when a record's own time fields disagree: shown in the row, since
the officer must see both values and which one was used, not only the flag."""


def row_html(a: Analysis, e: Entry, pages: Pages | None = None) -> str:
    """One chronology row; ``pages``: the row is on a page of a split chronology (its
    occasion links to the index page, its corroboration to the other record's page)."""
    rec = e.record
    esc = escape
    direction = e.direction._value_
    text = esc(rec.text)
    if rec.attachments:
        names = ", ".join(esc(att.name) for att in rec.attachments)
        text += f'<br><span class="muted">attachments: {names}</span>'
    if rec.recipients and direction != "to_victim":
        text += f'<br><span class="muted">to: {esc("; ".join(rec.recipients))}</span>'
    extra = rec.extra
    if "time_conflict" in extra or "edited_time_conflict" in extra:
        for key, label in _TIME_NOTES.items():
            note = extra.get(key)
            if isinstance(note, str):
                text += f'<br><span class="warn">{label}: {esc(note)}</span>'
    ind_ids = a.indicators_by_record.get(e.id)
    inds = _INDICATOR_CELLS[ind_ids] if ind_ids else ""
    flags = " ".join(f"<em>{breakable(f)}</em>" for f in sorted(rec.flags)) if rec.flags else ""
    occ = _OCCASION_LINKS[e.occasion, pages.index_href if pages else ""] if e.occasion else ""
    if e.local:
        stamp = local_text(e.local)  # 2026-01-05 18:02:11 GMT +00:00: digits, then the zone
        when = f"{stamp[:10]}<br>{stamp[11:19]}{_esc_small(stamp[19:])}"
    else:
        when = "no time"
    rid = esc(e.id)
    corr = (
        _corroboration(a, e, pages.href if pages else same_page)
        if rec.kind is _SCREENSHOT_TEXT or a.corroborated_by
        else ""
    )
    return (
        f'<tr id="{rid}" class="{_CLASSES[direction, e.contact]}"><td>{when}</td>'
        f"<td>{_PLATFORM_CELLS[rec.platform, rec.kind, rec.subtype]}</td>"
        f"<td>{DIRECTION_LABELS[direction]}</td>"
        f"<td>{_sender_cell(e)}</td>"
        f'<td class="x">{text}</td>'
        f'<td class="loc">{where_html(rec.locator)}{corr}<br>'
        f'<span class="rid">{rid}</span></td>'
        f"<td>{occ}</td><td>{inds}{'<br>' if inds and flags else ''}{flags}</td></tr>\n"
    )


def _occasion_link(key: tuple[str, str]) -> str:
    """The link of a row to its occasion (``key``: the occasion, and the page it is on)."""
    occasion, page = key
    o = escape(occasion)
    return f'<a href="{escape(page)}#{o}">{o}</a>'


_OCCASION_LINKS = MadeOnce(_occasion_link)


def _platform_cell(key: tuple[str, RecordKind, str | None]) -> str:
    """``whatsapp<br>message``: the platform and the kind, with its subtype."""
    platform, kind, subtype = key
    label = f"{kind.value}/{subtype}" if subtype else kind.value
    return f"{_esc_small(platform)}<br>{_kind_label(label)}"


_PLATFORM_CELLS = MadeOnce(_platform_cell)


def _kind_label(kind: str) -> str:
    """``screenshot_text/incoming`` as ``screenshot text`` / ``incoming``, wrappable."""
    return _memo("kind", kind, lambda k: breakable(k.replace("_", " ")))


def _sender_cell(e: Entry) -> str:
    """The person on one line and the identifier as written on the next (a number in
    brackets beside a name was broken across lines in narrow print columns)."""
    person, sender = e.person, e.record.sender
    if person and sender and sender != person:
        return _SENDER_CELLS[person, sender]
    return _memo("label", sender_label(e), breakable)


def _two_line_sender(key: tuple[str, str]) -> str:
    person, sender = key
    return f'{escape(person)}<br><span class="sid">{breakable(sender)}</span>'


_SENDER_CELLS = MadeOnce(_two_line_sender)


_BATCH = 2000
"""Rows per write of the chronology."""


def _month(e: Entry) -> tuple[int, int] | None:
    return (e.local.year, e.local.month) if e.local else None


def write_chronology(
    a: Analysis,
    fh: IO[str],
    *,
    collapse: bool,
    only: set[str] | None = None,
    page: Page | None = None,
    pages: Pages | None = None,
) -> int:
    """Stream the chronology table(s); month sections in ``<details>`` when ``collapse``;
    with ``page`` (of ``pages``), that page's rows of a split chronology."""
    written = 0
    current: tuple[int, int] | bool | None = False  # False: no section yet
    opened = False
    if page is not None:
        rows: Sequence[Entry] = page.entries
    else:
        rows = a.entries if only is None else [e for e in a.entries if e.id in only]
    counts: Counter[tuple[int, int] | None] = Counter(map(_month, rows)) if collapse else Counter()
    out: list[str] = []  # written in batches: one write per row costs more than the row
    for e in rows:
        if collapse:
            month = _month(e)
            if month != current:
                if opened:
                    out.append("</tbody></table></details>\n")
                title = f"{e.local:%B %Y}" if e.local else "Records without a time"
                out.append(
                    f"<details><summary>{escape(title)} ({counts[month]} records)</summary>"
                    f'<table class="chron">{_COLS}<tbody>\n'
                )
                opened = True
                current = month
        elif not opened:
            out.append(f'<table class="chron">{_COLS}<tbody>\n')
            opened = True
        out.append(row_html(a, e, pages))
        written += 1
        if len(out) >= _BATCH:
            fh.write("".join(out))
            out.clear()
    fh.write("".join(out))
    if opened:
        fh.write("</tbody></table>" + ("</details>" if collapse else "") + "\n")
    else:
        fh.write("<p>No records in scope.</p>\n")
    return written


def cited_records(a: Analysis) -> set[str]:
    """Every record another section of the report links to."""
    only = {rid for ind in a.indicators for rid in ind.records}
    only |= {b.block_record for b in a.after_block}
    only |= {o.records[0] for o in a.occasions}
    only |= {u.example for u in a.unresolved}
    for p in a.identities:
        only |= {r for u in p.identifiers for r in (u.first_record, u.last_record) if r}
    from cyberstalk.risk import evidence_for

    only |= {r for q in evidence_for(a) for r in q.records}
    return only


# --------------------------------------------------------------------------- split

SPLIT_ROWS = 20_000
"""Above this many records the HTML chronology is split into pages (see :func:`paginate`)."""
SPLIT_BYTES = 10_000_000
"""... or when the one page would be larger than this (estimated by :func:`row_bytes`)."""
PDF_CITED_ROWS = 3000
"""The PDF of a case over ``pdf_max_rows`` prints the records the report cites; when they
are more than this, it prints records and counted contacts per month instead."""
PAGE_ROWS = 10_000
"""At most this many rows on one page of a split chronology."""
PAGE_BYTES = 9_000_000
"""At most this many bytes (estimated, generously) on one page of a split chronology:
a busier month continues on a second page, so every file stays under 10 MB."""


def row_bytes(e: Entry) -> int:
    """A generous estimate of the bytes of a record's row: the fixed markup, then each
    character of the text and names as if it were escaped (``"`` becomes ``&#34;``)."""
    rec = e.record
    n = 700 + 6 * len(rec.text) + 2 * len(rec.sender or "")
    if rec.recipients:
        n += 6 * sum(len(r) for r in rec.recipients)
    if rec.attachments:
        n += sum(40 + 6 * len(att.name) for att in rec.attachments)
    if rec.extra:
        n += 6 * sum(len(v) for v in rec.extra.values() if isinstance(v, str))
    return n


def needs_split(a: Analysis) -> bool:
    """Whether the HTML report is an index page with the chronology in month pages: more
    than :data:`SPLIT_ROWS` records, or an estimated page over :data:`SPLIT_BYTES`."""
    if len(a.entries) > SPLIT_ROWS:
        return True
    return sum(map(row_bytes, a.entries)) > SPLIT_BYTES


@dataclass
class Page:
    """One page of a split chronology: a month, or part of a busy one."""

    key: str
    """``2026-01``, ``2026-01-2`` (a month's second page) or ``undated``."""
    title: str
    number: int
    entries: list[Entry] = field(default_factory=list)
    contacts: int = 0

    @property
    def file(self) -> str:
        return f"{self.key}.html"


@dataclass
class Pages:
    """Where each record's row is when the chronology is split: the index page (the
    report's path) and its month pages in a folder beside it named after it
    (``reports/timeline.html`` -> ``reports/timeline/2026-01.html``)."""

    folder: str
    index_name: str
    pages: list[Page]
    current: str = ""
    """The page being written (links within it stay on it)."""

    @functools.cached_property
    def page_of(self) -> dict[str, str]:
        """Record id -> its page's file, made when a link first needs it (the index page's
        links; a month page's only to corroborate a screenshot)."""
        out: dict[str, str] = {}
        for page in self.pages:
            out.update(dict.fromkeys([e.id for e in page.entries], page.file))
        return out

    @functools.cached_property
    def index_href(self) -> str:
        return f"../{self.index_name}"

    def from_index(self, rid: str) -> str:
        page = self.page_of.get(rid)
        return f"{self.folder}/{page}#{rid}" if page else f"#{rid}"

    def href(self, rid: str) -> str:
        page = self.page_of.get(rid)
        if page is None:
            return f"{self.index_href}#{rid}"
        return f"#{rid}" if page == self.current else f"{page}#{rid}"


def paginate(a: Analysis, index_name: str) -> Pages:
    """The pages of a split chronology: one per month (case timezone), a month over
    :data:`PAGE_ROWS` rows or :data:`PAGE_BYTES` estimated bytes continuing on more pages,
    records without a time last. Every record is on exactly one page."""
    folder = index_name.removesuffix(".html")
    pages: list[Page] = []
    for _, group in itertools.groupby(a.entries, key=_month):  # (a.entries: in time order)
        rows = list(group)
        first = rows[0].local
        key = f"{first.year:04d}-{first.month:02d}" if first else "undated"
        title = f"{first:%B %Y}" if first else "Records without a time"
        # A page takes the month's rows until one would take it past PAGE_ROWS rows or
        # PAGE_BYTES estimated bytes, and at least one row.
        upto = list(itertools.accumulate(map(row_bytes, rows)))  # bytes up to each row
        start = 0
        part = 1
        while start < len(rows):
            room = (upto[start - 1] if start else 0) + PAGE_BYTES
            end = min(bisect_right(upto, room, start + 1), start + PAGE_ROWS, len(rows))
            page = Page(
                f"{key}-{part}" if part > 1 else key,
                f"{title} ({part})" if part > 1 else title,
                len(pages) + 1,
                rows[start:end],
            )
            page.contacts = [e.contact for e in page.entries].count(True)
            pages.append(page)
            start = end
            part += 1
    return Pages(folder, index_name, pages)


def write_page_list(pages: Pages, fh: IO[str]) -> None:
    """The index page's chronology: a table of the pages, each linked."""
    out = [
        '<table class="small"><thead><tr><th>Page</th><th>Records</th><th>Counted contacts'
        "</th><th>First record</th><th>Last record</th></tr></thead><tbody>\n"
    ]
    for page in pages.pages:
        first, last = page.entries[0], page.entries[-1]
        out.append(
            f'<tr><td><a href="{escape(pages.folder)}/{page.file}">{escape(page.title)}</a>'
            f"</td><td>{len(page.entries)}</td><td>{page.contacts}</td>"
            f"<td>{escape(local_text(first.local))}</td>"
            f"<td>{escape(local_text(last.local))}</td></tr>\n"
        )
    out.append("</tbody></table>\n")
    fh.write("".join(out))


def write_month_overview(a: Analysis, fh: IO[str]) -> None:
    """The PDF's chronology of a case too large to print: records and counted contacts
    per month."""
    records: Counter[tuple[int, int] | None] = Counter()
    contacts: Counter[tuple[int, int] | None] = Counter()
    for e in a.entries:
        m = _month(e)
        records[m] += 1
        contacts[m] += e.contact
    zone = ZoneInfo(a.timezone)
    starts: Counter[tuple[int, int] | None] = Counter()
    for o in a.occasions:
        local = o.start.astimezone(zone)
        starts[local.year, local.month] += 1
    out = [
        '<table class="small"><thead><tr><th>Month</th><th>Records</th>'
        "<th>Counted contacts</th><th>Occasions starting</th><th>HTML page</th></tr>"
        "</thead><tbody>\n"
    ]
    for m in sorted(records, key=lambda k: (k is None, k or (0, 0))):
        key = f"{m[0]:04d}-{m[1]:02d}" if m else "undated"
        title = date(m[0], m[1], 1).strftime("%B %Y") if m else "Records without a time"
        out.append(
            f"<tr><td>{title}</td><td>{records[m]}</td><td>{contacts[m]}</td>"
            f"<td>{starts[m]}</td><td>{key}.html</td></tr>\n"
        )
    out.append("</tbody></table>\n")
    fh.write("".join(out))


def render_html(
    a: Analysis,
    meta: ReportMeta,
    fh: IO[str],
    *,
    for_print: bool = False,
    pages: Pages | None = None,
) -> dict[str, Any]:
    """Write the HTML report, or with ``pages`` the index page of a split one (the month
    pages are :func:`render_page`'s). ``for_print`` (the PDF) never collapses; above
    ``pdf_max_rows`` it prints only the records the indicators, orders and blocks cite,
    and when those too are more than ``pdf_max_rows``, records and contacts per month."""
    total = len(a.entries)
    only: set[str] | None = None
    collapse = False
    overview = False
    if pages is not None:
        note = (
            f"{total} records: more than one page can hold for a browser to open quickly "
            f"(above {SPLIT_ROWS} records, or about {SPLIT_BYTES // 1_000_000} MB), so the "
            f"chronology is in {len(pages.pages)} pages in the folder {pages.folder}/ beside "
            f"this file, one per month (a month of more than {PAGE_ROWS} records continues "
            "on a further page). Every record is on exactly one page; the links above go to "
            "the record's row on its page."
        )
    elif for_print and total > a.settings.pdf_max_rows:
        only = cited_records(a)
        if len(only) > PDF_CITED_ROWS:
            overview = True
            note = (
                f"This case has {total} records, and the sections above cite {len(only)}: "
                f"more than a PDF can usefully print ({PDF_CITED_ROWS}). "
                "The PDF gives the records and counted contacts per month; the HTML report "
                "lists every record (one page per month, named below), as do the CSV and "
                "JSON reports."
            )
        else:
            note = (
                f"This case has {total} records, more than the PDF limit of "
                f"{a.settings.pdf_max_rows} (setting pdf_max_rows): the PDF lists the "
                f"{len(only)} records cited above. The HTML, CSV and JSON reports hold every "
                "record."
            )
    elif not for_print and total > a.settings.html_collapse_rows:
        collapse = True
        note = (
            f"{total} records, grouped by month; open a month to read it (sections start "
            f"collapsed above {a.settings.html_collapse_rows} records). Each row gives the "
            "exhibit and the position of the record in it."
        )
    else:
        note = (
            f"{total} records in time order. Each row gives the exhibit and the position of "
            "the record in it; rows marked on the left are counted contacts."
        )
    ctx = context(
        a,
        meta,
        pages.from_index if pages else same_page,
        matches_shown=PRINT_MATCHES_SHOWN if overview else MATCHES_SHOWN,
        links_shown=PRINT_LINKS_SHOWN if overview else LINKS_PER_INDICATOR,
        for_print=for_print,
    )
    ctx["chron_note"] = note
    if overview and a.occasions:
        ctx["occasions_summary"] = (
            f"{len(a.occasions)} occasions: too many to print here. The chronology below "
            "gives the occasions starting in each month; the HTML report lists every one "
            "(on its index page), as do the CSV and JSON reports."
        )
    page = env().get_template("timeline.html.j2").render(ctx)
    head, marker, tail = page.partition(MARKER)
    del page, ctx
    if not marker:  # pragma: no cover - the template always has it
        raise RuntimeError("timeline template lost its chronology marker")
    fh.write(head)
    if pages is not None:
        write_page_list(pages, fh)
        written = 0
    elif overview:
        write_month_overview(a, fh)
        written = 0
    else:
        written = write_chronology(a, fh, collapse=collapse, only=only)
    fh.write(tail)
    stats: dict[str, Any] = {"records": total, "rows": written, "collapsed": collapse}
    if pages is not None:
        stats["pages"] = len(pages.pages)
    return stats


def render_page(a: Analysis, meta: ReportMeta, pages: Pages, page: Page, fh: IO[str]) -> int:
    """Write one page of a split chronology; returns its rows."""
    zone = ZoneInfo(a.timezone)
    n = page.number - 1
    ctx = {
        "csp": CSP,
        "meta": meta,
        "page_ref": re.sub(r"[^A-Za-z0-9/ ._-]", "", meta.reference),
        "a": a,
        "scope": scope_text(a),
        "generated": local_text(meta.generated_at.astimezone(zone)),
        "total": len(a.entries),
        "pages": len(pages.pages),
        "page": {
            "title": page.title,
            "rows": len(page.entries),
            "contacts": page.contacts,
            "number": page.number,
        },
        "prev": pages.pages[n - 1] if n > 0 else None,
        "next": pages.pages[n + 1] if n + 1 < len(pages.pages) else None,
        "index_href": pages.index_href,
    }
    head, _, tail = env().get_template("timeline_month.html.j2").render(ctx).partition(MARKER)
    fh.write(head)
    pages.current = page.file
    rows = write_chronology(a, fh, collapse=False, page=page, pages=pages)
    fh.write(tail)
    return rows
