"""Safeguarding advice sheets: HTML, Markdown and PDF, in English, Welsh or both.

A sheet is for a frightened victim and may be seen by the perpetrator, so it carries only
the advice, the helplines, the force's name, a date and a reference. The reference is a
sheet id unless the officer asks for the case reference; nothing from the evidence or
about the suspect is ever printed. The bilingual sheet puts Welsh first, in the same type
and the same size as the English (Welsh Language Standards: never less favourable).

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


def sheet_id(topics: Sequence[str], lang: str, day: date, case_reference: str = "") -> str:
    """A short id that names the sheet without revealing the case: a hash of its inputs."""
    basis = json.dumps([list(topics), lang, day.isoformat(), case_reference], ensure_ascii=False)
    return "ADV-" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:10].upper()


def build_sheet(
    topics: Sequence[str],
    lang: str,
    *,
    day: date,
    force: str = DEFAULT_FORCE,
    case_reference: str | None = None,
    show_case_reference: bool = False,
) -> Sheet:
    """Assemble the sheet for ``topics`` (ids, in order) in ``lang`` (en, cy or both)."""
    if lang not in SHEET_LANGS:
        raise UsageError(f"--lang {lang!r} must be one of {', '.join(SHEET_LANGS)}")
    if show_case_reference and not case_reference:
        raise UsageError(
            "--show-case-reference needs a case folder",
            advice="give the case folder, or leave the flag off to print a sheet id",
        )
    sid = sheet_id(topics, lang, day, case_reference or "")
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
        parts.append(
            Part(
                lang=part_lang,
                labels=labels()[part_lang],
                modules=chosen,
                contacts=listed,
                drafts=[m.id for m in chosen if part_lang == "cy" and m.status == "draft"],
                date_text=format_date(day, part_lang),
                force=force_name(force, part_lang),
            )
        )
    reference = case_reference if show_case_reference and case_reference else sid
    return Sheet(lang, parts, force, reference, day, list(topics), sid)


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


def render_html(sheet: Sheet) -> str:
    """One self-contained, accessible HTML file (inline CSS, no scripts, nothing loaded)."""
    env = _environment()
    css = (TEMPLATES / "advice.css").read_text("utf-8")
    forces = " / ".join(dict.fromkeys(part.force for part in sheet.parts))
    footer = css_string(f"{forces} · {sheet.reference}")
    css = css.replace("/*FOOTER*/", footer)
    first = sheet.parts[0]
    return env.get_template("advice.html.j2").render(
        sheet=sheet,
        first=first,
        bilingual=len(sheet.parts) > 1,
        css=Markup(css),  # noqa: S704 - our own stylesheet; the only variable part is escaped
        csp=CSP,
        all_labels=labels(),
    )


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


def render_markdown(sheet: Sheet) -> str:
    """The sheet as Markdown (for pasting into email or a case system)."""
    lines: list[str] = []
    bilingual = len(sheet.parts) > 1
    title = " / ".join(p.labels["sheet_title"] for p in sheet.parts)
    lines += [f"# {title}", ""]
    for part in sheet.parts:
        lab = part.labels
        lines.append(
            f"{lab['from']}: {_md_escape(part.force)} · {lab['date']}: {part.date_text} · "
            f"{lab['reference']}: {_md_escape(sheet.reference)}  "
        )
    lines.append("")
    lines += [f"> **{' / '.join(p.labels['danger'] for p in sheet.parts)}**", ""]
    if not bilingual:
        lab = sheet.parts[0].labels
        lines += [f"{lab['other_language']} {lab['other_language_alt']}", ""]
    for part in sheet.parts:
        lab = part.labels
        h = "#" if bilingual else ""
        if bilingual:
            lines += [f"## {lab['sheet_title']} ({lab['language_name']})", ""]
        if part.drafts:
            en, cy = labels()["en"], labels()["cy"]
            lines += [f"> **{cy['draft_note']}**", ">", f"> **{en['draft_note']}**", ""]
        lines += [lab["keep_safe"], ""]
        for module in part.modules:
            tag = f" ({lab['draft_tag']})" if module.id in part.drafts else ""
            lines += [f"{h}## {module.title}{tag}", ""]
            for section in module.sections:
                lines += [f"{h}### {section.heading}", ""]
                for block in section.blocks:
                    if block.type == "list":
                        lines += [f"- {item}" for item in block.items]
                    elif block.type == "caution":
                        lines.append(f"> **{lab['caution']}:** {block.items[0]}")
                    else:
                        lines.append(block.items[0])
                    lines.append("")
        lines += [f"{h}## {lab['who_can_help']}", ""]
        for contact in part.contacts:
            lines += [f"{h}### {contact.name(part.lang)}", ""]
            if contact.note(part.lang):
                lines += [contact.note(part.lang), ""]
            for number in contact.numbers:
                lines.append(f"- {number.how(part.lang)} **{number.value}**")
            if contact.hours(part.lang):
                lines.append(f"- {lab['hours']}: {contact.hours(part.lang)}")
            if contact.link(part.lang):
                lines.append(f"- {lab['website']}: <{contact.link(part.lang)}>")
            if contact.email:
                lines.append(f"- {lab['email']}: {contact.email}")
            lines.append("")
        lines += [f"{h}## {lab['sources']}", ""]
        for module in part.modules:
            checked = format_date(module.last_reviewed, part.lang)
            lines.append(f"- {module.title} ({lab['facts_checked']}: {checked}):")
            lines += [f"  <{url}>" for url in module.sources]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def render(sheet: Sheet, fmt: str) -> bytes:
    """The sheet in ``fmt`` (html, md or pdf) as bytes."""
    if fmt == "html":
        return render_html(sheet).encode("utf-8")
    if fmt == "md":
        return render_markdown(sheet).encode("utf-8")
    if fmt == "pdf":
        return html_to_pdf(render_html(sheet))
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet_id": self.sheet.sheet_id,
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
) -> SheetResult:
    """A sheet without a case, for the topics the officer names."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} must be one of {', '.join(FORMATS)}")
    selection = select(platforms=platforms, behaviours=behaviours, add=add, exclude=exclude)
    sheet = build_sheet(selection.topics, lang, day=day or today(), force=force)
    return SheetResult(selection, sheet, render(sheet, fmt))


def default_output(case: Case, lang: str, fmt: str) -> Path:
    return case.reports_dir / f"advice-sheet-{lang}.{fmt}"


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
) -> SheetResult:
    """A sheet for a case: topics from its evidence and timeline, plus and minus the
    officer's flags; written to ``CASE/reports/`` (or ``out``) and recorded in the
    custody log with the SHA-256 of the file, under the case lock."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} must be one of {', '.join(FORMATS)}")
    case = open_case(case_dir)
    selection = select_for_case(
        case, platforms=platforms, behaviours=behaviours, add=add, exclude=exclude
    )
    target = out or default_output(case, lang, fmt)
    with case.lock("advice"):
        day = generated_at(case.custody_path).date()
        sheet = build_sheet(
            selection.topics,
            lang,
            day=day,
            force=case.config.force,
            case_reference=case.config.reference,
            show_case_reference=show_case_reference,
        )
        content = render(sheet, fmt)
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
    return SheetResult(selection, sheet, content, outputs)


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
