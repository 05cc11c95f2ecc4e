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

TABLE_COLUMNS = ("Record", "Offence", "Rules", "Matched words")
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
    return "; ".join(f"{m.rule} {m.quoted()}" for m in f.assessment.matches)


def _set_aside(f: Finding) -> str:
    return "; ".join(
        f'{s.match.rule} {s.match.quoted()} (after "{s.cue}")' for s in f.assessment.set_aside
    )


def table_rows(result: ScreenResult) -> list[list[object]]:
    """One row per flagged record: id, offence, rules, matched words with their place."""
    return [
        [f.record.id, f.record.offence or "", ", ".join(f.assessment.rules), _matched(f)]
        for f in result.findings
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
            ";".join(f.assessment.rules),
            _matched(f),
            _set_aside(f),
            f.assessment.reason(),
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


def to_html(result: ScreenResult) -> bytes:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    data = result.as_dict()
    findings = [
        {"record": f.record, "assessment": f.assessment, "pieces": _pieces(f.record.text, f)}
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
    )
    return page.encode("utf-8")


RENDERERS = {"json": to_json, "csv": to_csv, "html": to_html}
