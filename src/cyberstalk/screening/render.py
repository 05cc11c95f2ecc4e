"""Screen results as a table, JSON, CSV or a self-contained HTML page.

Every output is deterministic (no clock: same file and version, same bytes). Summaries were
written about, and often quote, members of the public: CSV cells are protected against
formula injection and HTML escapes everything (Jinja2 autoescape, a CSP that loads nothing
and runs nothing).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

import jinja2

from cyberstalk.reports.common import CSP, write_csv
from cyberstalk.screening import NOTICE, Finding, ScreenResult
from cyberstalk.screening.lexicon import RULES, load_screen_lexicons

CSV_COLUMNS = (
    "record_id",
    "position",
    "date",
    "offence",
    "rules",
    "matched_words",
    "set_aside",
    "reason",
)


def title(result: ScreenResult) -> str:
    return (
        f"{len(result.findings)} of {result.screened} records show possible stalking "
        "behaviour for review (a flag is not a finding)"
    )


def _matched(f: Finding) -> str:
    out = "; ".join(f"{m.rule} {m.quoted()}" for m in f.assessment.matches)
    if f.flagged_by == ("model",):
        feats = ", ".join(f'{x["kind"]} "{x["value"]}" {x["weight"]:+.2f}' for x in f.features())
        score = f.screened.score if f.screened is not None else 0.0
        out = f"{out}; " if out else ""
        out += f"scorer {score:.2f}: {feats}"
    return out


def _rules(f: Finding, sep: str) -> str:
    names = list(f.rules)
    if f.flagged_by == ("model",):
        names.append("model")
    return sep.join(names)


def _set_aside(f: Finding) -> str:
    return "; ".join(
        f'{s.match.rule} {s.match.quoted()} (after "{s.cue}")' for s in f.assessment.set_aside
    )


def table_rows(result: ScreenResult) -> list[list[object]]:
    """One row per flagged record: id, offence, rules, matched words with their place."""
    return [
        [f.record.id, f.record.offence or "", _rules(f, ", "), _matched(f)] for f in result.findings
    ]


def to_json(result: ScreenResult) -> bytes:
    return (json.dumps(result.as_dict(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def to_csv(result: ScreenResult) -> bytes:
    rows = [
        [
            f.record.id,
            f.record.position,
            f.record.date or "",
            f.record.offence or "",
            ";".join(f.rules),
            _matched(f),
            _set_aside(f),
            f.reason(),
        ]
        for f in result.findings
    ]
    return write_csv(rows, CSV_COLUMNS).encode("utf-8")


@dataclass(frozen=True, slots=True)
class _Piece:
    text: str
    rule: str | None


def _pieces(text: str, f: Finding) -> Sequence[_Piece]:
    """The summary cut into plain and matched pieces (overlapping matches merged)."""
    spans = sorted((m.start, m.end, m.rule) for m in f.assessment.matches)
    out: list[_Piece] = []
    at = 0
    for start, end, rule in spans:
        if start < at:  # overlaps the previous mark ("40 unwanted messages" / "messages")
            continue
        if start > at:
            out.append(_Piece(text[at:start], None))
        out.append(_Piece(text[start:end], rule))
        at = end
    if at < len(text):
        out.append(_Piece(text[at:], None))
    return out


PRINT_CSS = """
@page { size: A4 landscape; margin: 12mm 12mm 14mm;
        @bottom-right { content: "Page " counter(page) " of " counter(pages);
                        font: 8pt "DejaVu Sans", Arial, sans-serif; color: #444; } }
body { font: 9.5pt/1.35 "DejaVu Sans", system-ui, Arial, sans-serif;
       max-width: 290mm; margin: 1.5em auto; padding: 0 1em; }
h1 { font-size: 15pt; margin: 0 0 6px; }
h2 { font-size: 12pt; margin: 16px 0 6px; break-after: avoid; page-break-after: avoid; }
p { margin: 0 0 6px; }
.notice { padding: 0.4em 0.8em; }
code { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 0.85em;
       overflow-wrap: anywhere; }
table { table-layout: fixed; font-size: 8.5pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { padding: 3px 4px; }
th:nth-child(1) { width: 28mm; } th:nth-child(2) { width: 19mm; }
th:nth-child(3) { width: 31mm; } th:nth-child(4) { width: 32mm; }
th:nth-child(6) { width: 88mm; }
td:nth-child(1), td:nth-child(2) { white-space: nowrap; }
td:nth-child(1) small { color: #555; }
td:nth-child(3) { overflow-wrap: break-word; }
td:nth-child(4) code, td:nth-child(6) code { white-space: nowrap; overflow-wrap: normal; }
td:nth-child(6) { font-size: 8pt; }
td:nth-child(6) ul { margin: 0; padding-left: 1.1em; }
td:nth-child(6) li { margin: 0; }
dl { font-size: 9pt; } dd { margin: 0 0 4px 14px; }
@media print { body { max-width: none; margin: 0; padding: 0; } }
"""
"""Added after the template's own styles: A4 landscape when printed (six columns that fit
the page, each rule code on one line, rows never split across pages), readable on screen.
Fixed column widths (the table's first row) keep a long summary from squeezing the
record, date and rule columns."""


def to_html(result: ScreenResult) -> bytes:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    data = result.as_dict()
    findings = [
        {
            "record": f.record,
            "assessment": f.assessment,
            "rules": f.rules,
            "flagged_by": f.flagged_by,
            "score": f.screened.score if f.screened is not None else None,
            "features": f.features(),
            "pieces": _pieces(f.record.text, f),
        }
        for f in result.findings
    ]
    template = resources.files("cyberstalk.screening") / "screen.html.j2"
    page = env.from_string(template.read_text("utf-8")).render(
        csp=CSP,
        notice=NOTICE,
        title=title(result),
        source=data["source"],
        tool=data["tool"],
        lexicons=[
            {"language": lex.language, "status": lex.status, "entries": lex.size}
            for lex in load_screen_lexicons()
        ],
        notes=list(result.source.notes),
        findings=findings,
        rules=RULES,
        scorer=data["scorer"],
    )
    head, sep, rest = page.partition("</head>")
    if not sep:
        raise ValueError("screen.html.j2 has no </head>: the print styles have nowhere to go")
    return f"{head}<style>{PRINT_CSS}</style>\n{sep}{rest}".encode()


RENDERERS = {"json": to_json, "csv": to_csv, "html": to_html}
