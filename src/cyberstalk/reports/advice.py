"""Safeguarding advice sheets: HTML, Markdown and PDF, in English, Welsh or both.

A sheet is for a frightened victim and may be seen by the perpetrator, so it carries only
the advice, the helplines, the force's name, a date and a reference. The reference is a
sheet id unless the officer asks for the case reference; nothing from the evidence or
about the suspect is ever printed.

The sheet is short: each topic's key steps, most urgent topic first, then the helplines
(a few A4 pages). The full text of every topic is an optional annex (``full``). The
sources the advice rests on, and its review status, go on a separate officer's copy
(``officer``), never on the victim's sheet.

A bilingual sheet is two complete sheets in one file, Welsh first; each language starts
on a new page, in the same type and the same size (Welsh Language Standards: never less
favourable).

Same topics, language, format, force and date give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from cyberstalk.case import DEFAULT_FORCE, Case, open_case
from cyberstalk.errors import ReportError, UsageError
from cyberstalk.reports.common import CSP, generated_at, html_to_pdf
from cyberstalk.safeguarding_advice.content import (
    BOLD_RE,
    LANGUAGES,
    Contact,
    Module,
    Section,
    load_contacts,
    load_modules,
)
from cyberstalk.safeguarding_advice.selection import Selection, select, select_for_case

SHEET_LANGS = ("en", "cy", "both")
FORMATS = ("html", "pdf", "md")
TEMPLATES = Path(__file__).parent / "templates"


@cache
def labels() -> dict[str, dict[str, Any]]:
    """Fixed sheet wording per language (``safeguarding_advice/labels.toml``)."""
    path = resources.files("cyberstalk.safeguarding_advice") / "labels.toml"
    data = tomllib.loads(path.read_text("utf-8"))
    keys = {lang: set(data.get(lang, {})) for lang in LANGUAGES}
    if keys["en"] != keys["cy"]:
        raise ReportError(
            f"labels.toml: English and Welsh keys differ: {sorted(keys['en'] ^ keys['cy'])}"
        )
    return {lang: dict(data[lang]) for lang in LANGUAGES}


def force_name(force: str, lang: str) -> str:
    """The force's name in ``lang`` (labels.toml ``[force_names_cy]``), else as given."""
    if lang == "cy":
        return str(_force_names_cy().get(force, force))
    return force


@cache
def _force_names_cy() -> dict[str, str]:
    path = resources.files("cyberstalk.safeguarding_advice") / "labels.toml"
    return dict(tomllib.loads(path.read_text("utf-8")).get("force_names_cy", {}))


def format_date(day: date, lang: str) -> str:
    """``29 November 2026`` / ``29 Tachwedd 2026``."""
    months = labels()[lang]["months"]
    return f"{day.day} {months[day.month - 1]} {day.year}"


@dataclass(frozen=True, slots=True)
class Part:
    """One language's half of a sheet."""

    lang: str
    """``en`` or ``cy``."""
    labels: dict[str, Any]
    """Fixed wording in this language."""
    modules: list[Module]
    """The selected modules, in sheet order."""
    contacts: list[Contact]
    """Helplines to list, in contacts-file order."""
    drafts: list[str]
    """Ids of modules whose Welsh translation is still a draft (empty for English)."""
    left_off: list[Contact]
    """Services in contacts.toml that are not verified, so are on no victim's sheet: the
    officer's copy lists them as "check before use"."""
    date_text: str
    """The sheet date written in this language."""
    force: str
    """The force's name in this language."""


@dataclass(frozen=True, slots=True)
class Sheet:
    """Everything a renderer needs: no I/O left to do."""

    lang: str
    """``en``, ``cy`` or ``both``."""
    parts: list[Part]
    """One part per language; Welsh first on a bilingual sheet."""
    force: str
    """Force name printed on the sheet."""
    reference: str
    """Sheet id, or the case reference when the officer asked for it."""
    day: date
    """The sheet date."""
    topics: list[str]
    """Topic ids on the sheet."""
    sheet_id: str
    """Deterministic id of this sheet (recorded in the custody log)."""
    full: bool = False
    """True when the full guide (every topic in full) follows the key steps."""
    reasons: dict[str, list[str]] = field(default_factory=dict)
    """Why each topic was chosen (printed on the officer's copy only)."""


def sheet_id(
    topics: Sequence[str], lang: str, day: date, case_reference: str = "", full: bool = False
) -> str:
    """A short id that names the sheet without revealing the case: a hash of its inputs."""
    inputs: list[object] = [list(topics), lang, day.isoformat(), case_reference]
    if full:
        inputs.append("full")
    basis = json.dumps(inputs, ensure_ascii=False)
    return "ADV-" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:10].upper()


def build_sheet(
    topics: Sequence[str],
    lang: str,
    *,
    day: date,
    force: str = DEFAULT_FORCE,
    case_reference: str | None = None,
    show_case_reference: bool = False,
    full: bool = False,
    reasons: dict[str, list[str]] | None = None,
) -> Sheet:
    """Assemble the sheet for ``topics`` (ids, in order) in ``lang`` (en, cy or both);
    ``full`` adds the full guide; ``reasons`` are for the officer's copy."""
    if lang not in SHEET_LANGS:
        raise UsageError(f"--lang {lang!r} must be one of {', '.join(SHEET_LANGS)}")
    if show_case_reference and not case_reference:
        raise UsageError(
            "--show-case-reference needs a case folder",
            advice="give the case folder, or leave the flag off to print a sheet id",
        )
    sid = sheet_id(topics, lang, day, case_reference or "", full)
    contacts = load_contacts()
    parts = []
    for part_lang in ("cy", "en") if lang == "both" else (lang,):
        modules = load_modules(part_lang)
        missing = [t for t in topics if t not in modules]
        if missing:
            raise ReportError(f"no {part_lang} module for topics {missing}")
        chosen = [modules[t] for t in topics]
        wanted = {cid for m in chosen for cid in m.contacts}
        listed = [c for cid, c in contacts.items() if cid in wanted and c.verified]
        left_off = [c for c in contacts.values() if not c.verified]
        parts.append(
            Part(
                lang=part_lang,
                labels=labels()[part_lang],
                modules=chosen,
                contacts=listed,
                drafts=[m.id for m in chosen if part_lang == "cy" and m.draft],
                left_off=left_off,
                date_text=format_date(day, part_lang),
                force=force_name(force, part_lang),
            )
        )
    reference = case_reference if show_case_reference and case_reference else sid
    return Sheet(lang, parts, force, reference, day, list(topics), sid, full, dict(reasons or {}))


# --------------------------------------------------------------------------- renderers


def _inline(text: str) -> Markup:
    """Escape, then turn ``**bold**`` into <strong>: the only inline markup allowed."""
    escaped = str(escape(text))
    return Markup(BOLD_RE.sub(r"<strong>\1</strong>", escaped))  # noqa: S704 - escaped above


def css_string(text: str) -> str:
    """A CSS string literal that cannot end the string or the <style> element."""
    out = []
    for ch in text:
        if ch.isalnum() or ch in " .,/-_:()'":
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):x} ")
    return '"' + "".join(out) + '"'


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["inline"] = _inline
    return env


def caution_label(section: Section, labels: dict[str, Any]) -> str:
    """The title of a caution box in ``section``: none when the section's heading already
    says it ("Be careful" then a box titled "Be careful" says it twice)."""
    label = str(labels["caution"])
    return "" if section.heading.casefold().startswith(label.casefold()) else label


def shown_url(url: str) -> str:
    """A web address as a reader types it: no scheme, no trailing slash."""
    return re.sub(r"^https?://", "", url).rstrip("/")


_MARGIN_FONT = 'font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 9pt; '
_MARGIN_FONT += "color: #333333;"


def part_page_css(parts: int, totals: Sequence[int] | None = None) -> str:
    """Print rules that number each language's pages on their own ("1 / 3" in each), so
    each language of a bilingual sheet is complete by itself. Without ``totals`` (the
    HTML file, whose page count is unknown until printed) only the page number is shown.
    Empty for a sheet in one language."""
    if parts < 2:
        return ""
    rules = []
    for i in range(1, parts + 1):
        content = f'counter(page) " / {totals[i - 1]}"' if totals else "counter(page)"
        rules.append(f".part-{i} {{ page: part{i}; }}")
        rules.append(f"@page part{i} {{ @bottom-right {{ content: {content}; {_MARGIN_FONT} }} }}")
        if i > 1:
            rules.append(f"@page part{i}:nth(1 of part{i}) {{ counter-reset: page 1; }}")
    return "\n".join(rules)


def _html(sheet: Sheet, template: str, totals: Sequence[int] | None = None) -> str:
    env = _environment()
    css = (TEMPLATES / "advice.css").read_text("utf-8")
    forces = " / ".join(dict.fromkeys(part.force for part in sheet.parts))
    footer = css_string(f"{forces} · {sheet.reference}")
    css = css.replace("/*FOOTER*/", footer)
    css = css.replace("/*PARTS*/", part_page_css(len(sheet.parts), totals))
    first = sheet.parts[0]
    return env.get_template(template).render(
        sheet=sheet,
        first=first,
        bilingual=len(sheet.parts) > 1,
        css=Markup(css),  # noqa: S704 - our own stylesheet; the only variable part is escaped
        csp=CSP,
        all_labels=labels(),
        caution_label=caution_label,
        shown_url=shown_url,
        format_date=format_date,
    )


def render_html(sheet: Sheet, totals: Sequence[int] | None = None) -> str:
    """The victim's sheet: one self-contained, accessible HTML file (inline CSS, no
    scripts, nothing loaded). One complete sheet per language, Welsh first. ``totals``:
    each language's page count, for the page footers of a PDF."""
    return _html(sheet, "advice.html.j2", totals)


def render_officer_html(sheet: Sheet, totals: Sequence[int] | None = None) -> str:
    """The officer's copy of ``sheet``: why each topic was chosen, the sources behind it,
    its review status, and the helplines' sources. Never for the victim."""
    return _html(sheet, "advice-officer.html.j2", totals)


def part_page_counts(html: str, sheet: Sheet) -> list[int]:
    """How many printed pages each language part of ``html`` takes (a first layout pass:
    each part's ``title-LANG`` anchor says on which page it starts)."""
    import weasyprint  # slow import: only when a PDF is asked for

    def refuse(url: str, *args: object, **kwargs: object) -> dict[str, object]:
        raise ReportError(f"report tried to load {url!r}; reports must be self-contained")

    try:
        pages = weasyprint.HTML(string=html, url_fetcher=refuse).render().pages
    except ReportError:
        raise
    except Exception as exc:  # WeasyPrint raises a wide range of errors
        raise ReportError(f"PDF rendering failed: {exc}") from exc
    starts = []
    for part in sheet.parts:
        anchor = f"title-{part.lang}"
        starts.append(next(i for i, page in enumerate(pages) if anchor in page.anchors))
    ends = [*starts[1:], len(pages)]
    return [end - start for start, end in zip(starts, ends, strict=True)]


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


def _md_header(sheet: Sheet, part: Part, title: str) -> list[str]:
    lab = part.labels
    return [
        f"# {title}",
        "",
        f"{lab['from']}: {_md_escape(part.force)} · {lab['date']}: {part.date_text} · "
        f"{lab['reference']}: {_md_escape(sheet.reference)}",
        "",
    ]


def _md_contacts(part: Part) -> list[str]:
    lab = part.labels
    lines = [f"## {lab['who_can_help']}", ""]
    for contact in part.contacts:
        lines += [f"### {contact.name(part.lang)}", ""]
        if contact.note(part.lang):
            lines += [contact.note(part.lang), ""]
        for number in contact.numbers:
            lines.append(f"- {number.how(part.lang)} **{number.value}**")
        if contact.hours(part.lang):
            lines.append(f"- {lab['hours']}: {contact.hours(part.lang)}")
        if contact.link(part.lang):
            lines.append(f"- {lab['website']}: {shown_url(contact.link(part.lang))}")
        if contact.email:
            lines.append(f"- {lab['email']}: {contact.email}")
        lines.append("")
    return lines


def _md_full_guide(part: Part) -> list[str]:
    lab = part.labels
    lines = [f"## {lab['full_guide']}", ""]
    for module in part.modules:
        tag = f" ({lab['draft_tag']})" if module.id in part.drafts else ""
        lines += [f"### {module.title}{tag}", ""]
        for section in module.sections:
            lines += [f"#### {section.heading}", ""]
            for block in section.blocks:
                if block.type == "list":
                    lines += [f"- {item}" for item in block.items]
                elif block.type == "caution":
                    label = caution_label(section, lab)
                    lead = f"**{label}:** " if label else ""
                    lines.append(f"> {lead}{block.items[0]}")
                else:
                    lines.append(block.items[0])
                lines.append("")
    return lines


def render_markdown(sheet: Sheet) -> str:
    """The victim's sheet as Markdown (for pasting into email or a case system): one
    complete sheet per language, Welsh first, separated by a rule."""
    lines: list[str] = []
    bilingual = len(sheet.parts) > 1
    en, cy = labels()["en"], labels()["cy"]
    for i, part in enumerate(sheet.parts):
        lab = part.labels
        if i:
            lines += ["---", ""]
        lines += _md_header(sheet, part, lab["sheet_title"])
        lines += [f"> **{lab['danger']}**", ""]
        if part.drafts:
            lines += [f"> **{cy['draft_note']}**", ">", f"> **{en['draft_note']}**", ""]
        if not bilingual:
            lines += [f"{lab['other_language']} {lab['other_language_alt']}", ""]
        lines += [lab["keep_safe"], ""]
        if not sheet.full:
            lines += [lab["key_steps_note"], ""]
        for module in part.modules:
            tag = f" ({lab['draft_tag']})" if module.id in part.drafts else ""
            lines += [f"## {module.title}{tag}", ""]
            lines += [f"- {step}" for step in module.key_steps]
            lines.append("")
        lines += _md_contacts(part)
        if sheet.full:
            lines += _md_full_guide(part)
    return "\n".join(lines).rstrip("\n") + "\n"


def _status(module: Module, lab: dict[str, Any]) -> str:
    return (
        f"{lab['full_label']}: {lab['status_' + module.status]} · "
        f"{lab['key_steps_label']}: {lab['status_' + module.key_steps_status]}"
    )


def render_officer_markdown(sheet: Sheet) -> str:
    """The officer's copy as Markdown."""
    lines: list[str] = []
    for i, part in enumerate(sheet.parts):
        lab = part.labels
        if i:
            lines += ["---", ""]
        lines += _md_header(sheet, part, lab["officer_title"])
        lines += [f"> **{lab['officer_banner']}**", ""]
        lines += [f"{lab['officer_sheet']}: {sheet.sheet_id}", ""]
        lines += [f"## {lab['officer_topics']}", ""]
        for module in part.modules:
            lines += [f"### {module.title} ({module.id})", ""]
            why = sheet.reasons.get(module.id)
            if why:
                lines.append(f"- {lab['officer_why']}: {_md_escape('; '.join(why))}")
            lines.append(f"- {lab['officer_status']}: {_status(module, lab)}")
            lines.append(
                f"- {lab['facts_checked']}: {format_date(module.last_reviewed, part.lang)}"
            )
            lines.append(f"- {lab['sources']}:")
            lines += [f"  - <{url}>" for url in module.sources]
            lines.append("")
        lines += [f"## {lab['officer_contacts']}", ""]
        for contact in part.contacts:
            lines += _md_officer_contact(contact, part)
        lines += [f"## {lab['officer_left_off']}", "", lab["officer_check"], ""]
        for contact in part.left_off:
            lines += _md_officer_contact(contact, part)
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_officer_contact(contact: Contact, part: Part) -> list[str]:
    lab = part.labels
    numbers = ", ".join(n.value for n in contact.numbers)
    lines = [f"### {contact.name(part.lang)}" + (f": {numbers}" if numbers else ""), ""]
    lines.append(f"- {lab['contacts_checked']}: {format_date(contact.checked, part.lang)}")
    for url, when in zip(contact.sources, contact.source_dates, strict=False):
        lines.append(f"- <{url}> ({lab['source_dates']}: {when})")
    lines.append("")
    return lines


def render(sheet: Sheet, fmt: str, *, officer: bool = False) -> bytes:
    """The sheet (or, with ``officer``, its officer's copy) in ``fmt`` (html, md or pdf)."""
    html = render_officer_html if officer else render_html
    if fmt == "html":
        return html(sheet).encode("utf-8")
    if fmt == "md":
        md = render_officer_markdown if officer else render_markdown
        return md(sheet).encode("utf-8")
    if fmt == "pdf":
        first = html(sheet)
        if len(sheet.parts) < 2:
            return html_to_pdf(first)
        # Two passes: lay out once to count each language's pages, then print "1 / N"
        # per language, so that each language stands as a complete sheet.
        return html_to_pdf(html(sheet, part_page_counts(first, sheet)))
    raise UsageError(f"--format {fmt!r} must be one of {', '.join(FORMATS)}")


# --------------------------------------------------------------------------- entry points


def today() -> date:
    """The date of a sheet made without a case: pinned by SOURCE_DATE_EPOCH, else today (UTC)."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return generated_at().date()
    return datetime.now(UTC).date()


@dataclass(slots=True)
class SheetResult:
    """What was made: the selection, the sheet and (for a case) the files written."""

    selection: Selection
    """Topics and the reasons they were chosen."""
    sheet: Sheet
    """The assembled sheet."""
    content: bytes
    """The rendered bytes."""
    outputs: list[dict[str, str]] = field(default_factory=list)
    """Files written: ``{"path", "sha256"}``."""
    officer_copy: bool = False
    """True when ``content`` is the officer's copy rather than the victim's sheet."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet_id": self.sheet.sheet_id,
            "copy": "officer" if self.officer_copy else "victim",
            "full": self.sheet.full,
            "lang": self.sheet.lang,
            "date": self.sheet.day.isoformat(),
            "outputs": self.outputs,
            **self.selection.as_dict(),
        }


def make_sheet(
    *,
    platforms: Sequence[str] = (),
    behaviours: Sequence[str] = (),
    add: Sequence[str] = (),
    exclude: Sequence[str] = (),
    lang: str = "both",
    fmt: str = "html",
    force: str = DEFAULT_FORCE,
    day: date | None = None,
    full: bool = False,
    officer_copy: bool = False,
) -> SheetResult:
    """A sheet (or its officer's copy) without a case, for the topics the officer names."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} must be one of {', '.join(FORMATS)}")
    selection = select(platforms=platforms, behaviours=behaviours, add=add, exclude=exclude)
    sheet = build_sheet(
        selection.topics,
        lang,
        day=day or today(),
        force=force,
        full=full,
        reasons=selection.reasons,
    )
    content = render(sheet, fmt, officer=officer_copy)
    return SheetResult(selection, sheet, content, officer_copy=officer_copy)


def default_output(case: Case, lang: str, fmt: str, officer_copy: bool = False) -> Path:
    """``CASE/reports/advice-sheet-LANG.FMT``, or ``advice-officer-copy-LANG.FMT``."""
    kind = "officer-copy" if officer_copy else "sheet"
    return case.reports_dir / f"advice-{kind}-{lang}.{fmt}"


def make_case_sheet(
    case_dir: Path,
    *,
    platforms: Sequence[str] = (),
    behaviours: Sequence[str] = (),
    add: Sequence[str] = (),
    exclude: Sequence[str] = (),
    lang: str = "both",
    fmt: str = "html",
    out: Path | None = None,
    show_case_reference: bool = False,
    full: bool = False,
    officer_copy: bool = False,
) -> SheetResult:
    """A sheet (or its officer's copy) for a case: topics from its evidence and timeline,
    plus and minus the officer's flags; written to ``CASE/reports/`` (or ``out``) and
    recorded in the custody log with the SHA-256 of the file, under the case lock."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} must be one of {', '.join(FORMATS)}")
    case = open_case(case_dir)
    selection = select_for_case(
        case, platforms=platforms, behaviours=behaviours, add=add, exclude=exclude
    )
    target = out or default_output(case, lang, fmt, officer_copy)
    with case.lock("advice"):
        day = generated_at(case.custody_path).date()
        sheet = build_sheet(
            selection.topics,
            lang,
            day=day,
            force=case.config.force,
            case_reference=case.config.reference,
            show_case_reference=show_case_reference,
            full=full,
            reasons=selection.reasons,
        )
        content = render(sheet, fmt, officer=officer_copy)
        write_output(target, content)
        digest = hashlib.sha256(content).hexdigest()
        try:
            shown = str(target.resolve().relative_to(case.root.resolve()))
        except ValueError:
            shown = str(target.resolve())
        outputs = [{"path": shown, "sha256": digest}]
        case.log().append(
            "advice_sheet_made",
            {
                "sheet_id": sheet.sheet_id,
                "copy": "officer" if officer_copy else "victim",
                "full": full,
                "lang": lang,
                "format": fmt,
                "date": day.isoformat(),
                "topics": selection.topics,
                "reasons": {k: v for k, v in sorted(selection.reasons.items())},
                "unmatched": selection.unmatched,
                "timeline_used": selection.timeline_used,
                "case_reference_shown": show_case_reference,
                "outputs": outputs,
            },
        )
    return SheetResult(selection, sheet, content, outputs, officer_copy)


def write_output(path: Path, content: bytes) -> None:
    """Write the file whole or not at all (a half-written sheet is worse than none)."""
    from cyberstalk.hashing.fsutil import atomic_write

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, content)
    except OSError as exc:
        raise ReportError(
            f"cannot write advice sheet {path}: {exc.strerror}",
            advice="choose a writable place with -o",
        ) from exc
