"""Advice content as data: topic modules (``en/*.md``, ``cy/*.md``) and ``contacts.toml``.

A module is a small Markdown file with TOML front matter between ``+++`` lines::

    +++
    id = "whatsapp"
    kind = "platform"            # core, platform or behaviour
    title = "WhatsApp"
    language = "en"              # must match the folder
    platforms = ["whatsapp"]     # applies-to: platform ids
    behaviours = []              # applies-to: behaviour ids
    contacts = []                # contacts.toml ids listed in "Who can help"
    sources = ["https://..."]    # where the facts come from
    last_reviewed = 2026-11-29   # date the facts were last checked against the sources
    status = "draft"             # draft or reviewed (for Welsh: the translation review)
    key_steps = ["...", "..."]   # the short form: 1-5 plain steps for the victim's sheet
    key_steps_status = "draft"   # review status of key_steps (they were written later)
    +++
    ## A heading
    A paragraph of short sentences.
    - a list item
    > a caution, shown in a box

The victim's sheet prints only each module's ``key_steps`` (the most important, actionable
steps, most urgent first), so that it stays short; the body is the full guide, printed
only when the officer asks for it (``--full``). The ``sources`` go on the officer's copy,
never on the victim's sheet.

Only that subset of Markdown is accepted (``**bold**`` inline), so that the structure of
an English module and its Welsh twin can be compared block by block. Phone numbers may
appear in the text only if ``contacts.toml`` holds them as verified facts with a source:
the loader refuses anything else, so an unchecked number never reaches a victim's sheet.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from cyberstalk.errors import ReportError

LANGUAGES = ("en", "cy")
KINDS = ("core", "platform", "behaviour")
STATUSES = ("draft", "reviewed")
MAX_KEY_STEPS = 5
"""At most this many key steps per topic: the victim's sheet must stay short."""
ID_RE = re.compile(r"^[a-z][a-z0-9-]*$")
BOLD_RE = re.compile(r"\*\*(.+?)\*\*")

# A phone number as a victim would dial it: a UK number (0 or +44 then 9-10 digits, spaces
# allowed) or a short code of 3-5 digits starting 1 or 9 (999, 112, 101, 18000, 18001).
# Digits inside words, URLs, dates or references (e.g. ``ADV-0123``) are not numbers.
PHONE_RE = re.compile(r"(?<![\w/.:\-])(\+?\d(?:[ \u00a0]?\d)+)(?![\w/\-]|\.\w)")


class AdviceContentError(ReportError):
    """An advice module or the contacts file is malformed. Names the file and line."""


def phone_numbers(text: str) -> list[str]:
    """Every phone-number-like string in ``text``, normalised to digits (``+`` kept)."""
    found: list[str] = []
    for match in PHONE_RE.finditer(text):
        digits = re.sub(r"[ \u00a0]", "", match.group(1))
        if _is_phone(digits):
            found.append(digits)
        else:  # "18001 101": a prefix and a number, each dialled
            found += [part for part in re.split(r"[ \u00a0]", match.group(1)) if _is_phone(part)]
    return found


def _is_phone(digits: str) -> bool:
    bare = digits.lstrip("+")
    uk_number = digits.startswith("+44") or (bare.startswith("0") and 10 <= len(bare) <= 11)
    short_code = 3 <= len(bare) <= 5 and bare[0] in "19"
    return uk_number or short_code


# --------------------------------------------------------------------------- contacts


@dataclass(frozen=True, slots=True)
class Number:
    """One number of a contact and how to use it."""

    value: str
    """As printed, e.g. ``0808 802 0300``."""
    how_en: str
    """What to do with it, in English (``Call``, ``Text``)."""
    how_cy: str
    """The same in Welsh."""

    def how(self, lang: str) -> str:
        return self.how_cy if lang == "cy" else self.how_en


@dataclass(frozen=True, slots=True)
class Contact:
    """A helpline or service, with the source of every fact printed about it."""

    id: str
    """Stable id used by modules' ``contacts`` lists."""
    name_en: str
    """Name in English."""
    name_cy: str
    """Name in Welsh."""
    numbers: tuple[Number, ...]
    """Phone and text numbers (verified only)."""
    hours_en: str
    """Opening hours in English, or empty when not verified."""
    hours_cy: str
    """Opening hours in Welsh, or empty when not verified."""
    note_en: str
    """One plain sentence on what the service does, in English."""
    note_cy: str
    """The same in Welsh."""
    url: str
    """Web address (printed as text and a plain link), or empty."""
    url_cy: str
    """Welsh-language web address, when the service has one (else ``url`` is used)."""
    email: str
    """Email address, or empty."""
    sources: tuple[str, ...]
    """Where the number, hours and address were read."""
    source_dates: tuple[str, ...]
    """Dates shown on those sources (``undated`` when none)."""
    checked: date
    """When these facts were last checked against the sources."""
    verified: bool
    """False keeps the contact off every victim's sheet."""

    def name(self, lang: str) -> str:
        return self.name_cy if lang == "cy" else self.name_en

    def hours(self, lang: str) -> str:
        return self.hours_cy if lang == "cy" else self.hours_en

    def note(self, lang: str) -> str:
        return self.note_cy if lang == "cy" else self.note_en

    def link(self, lang: str) -> str:
        return self.url_cy if lang == "cy" and self.url_cy else self.url

    def digits(self) -> set[str]:
        """The contact's numbers (and each space-separated part) as bare digits."""
        out: set[str] = set()
        for number in self.numbers:
            out.add(number.value.replace(" ", ""))
            out.update(part for part in number.value.split() if part.isdigit())
        return out


def _req(table: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = table.get(key)
    if not isinstance(value, kind):
        raise AdviceContentError(
            f"{where}: '{key}' must be a {kind.__name__}, found {value!r}",
            advice="fix the entry; see the docstring of cyberstalk.safeguarding_advice.content",
        )
    return value


def _str_list(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AdviceContentError(f"{where}: '{key}' must be a list of strings, found {value!r}")
    return tuple(value)


def _data_root() -> Traversable:
    return resources.files("cyberstalk.safeguarding_advice")


def parse_contacts(text: str, where: str = "contacts.toml") -> dict[str, Contact]:
    """Parse and validate the contacts file; every contact needs https sources and a date."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AdviceContentError(f"{where}: invalid TOML: {exc}") from exc
    out: dict[str, Contact] = {}
    for i, raw in enumerate(data.get("contact", [])):
        at = f"{where} contact[{i}]"
        cid = _req(raw, "id", str, at)
        at = f"{where} contact {cid!r}"
        if not ID_RE.match(cid) or cid in out:
            raise AdviceContentError(f"{at}: id must be unique, lower-case letters and hyphens")
        numbers = []
        for j, num in enumerate(raw.get("numbers", [])):
            value = _req(num, "value", str, f"{at} numbers[{j}]")
            if not re.fullmatch(r"\+?\d[\d ]*\d", value):
                raise AdviceContentError(f"{at} numbers[{j}]: {value!r} is not a phone number")
            numbers.append(
                Number(
                    value,
                    _req(num, "how_en", str, f"{at} numbers[{j}]"),
                    _req(num, "how_cy", str, f"{at} numbers[{j}]"),
                )
            )
        sources = _str_list(raw, "sources", at)
        if not sources or not all(s.startswith(("https://", "http://")) for s in sources):
            raise AdviceContentError(
                f"{at}: needs at least one source URL",
                advice="every contact fact must say where it was read, so it can be re-checked",
            )
        checked = raw.get("checked")
        if not isinstance(checked, date):
            raise AdviceContentError(f"{at}: 'checked' must be a TOML date, found {checked!r}")
        out[cid] = Contact(
            id=cid,
            name_en=_req(raw, "name_en", str, at),
            name_cy=_req(raw, "name_cy", str, at),
            numbers=tuple(numbers),
            hours_en=str(raw.get("hours_en", "")),
            hours_cy=str(raw.get("hours_cy", "")),
            note_en=str(raw.get("note_en", "")),
            note_cy=str(raw.get("note_cy", "")),
            url=str(raw.get("url", "")),
            url_cy=str(raw.get("url_cy", "")),
            email=str(raw.get("email", "")),
            sources=sources,
            source_dates=_str_list(raw, "source_dates", at),
            checked=checked,
            verified=bool(_req(raw, "verified", bool, at)),
        )
    return out


@cache
def load_contacts() -> dict[str, Contact]:
    """The packaged contacts file."""
    path = _data_root() / "contacts.toml"
    return parse_contacts(path.read_text("utf-8"))


def verified_numbers(contacts: dict[str, Contact]) -> set[str]:
    """Every number (digits) that a sheet may print."""
    out: set[str] = set()
    for contact in contacts.values():
        if contact.verified:
            out |= contact.digits()
    return out


# --------------------------------------------------------------------------- modules


@dataclass(frozen=True, slots=True)
class Block:
    """One block of a section."""

    type: str
    """``para``, ``list`` or ``caution``."""
    items: tuple[str, ...]
    """The text: one item for a paragraph or caution, one per list item."""


@dataclass(frozen=True, slots=True)
class Section:
    """A headed section of a module."""

    heading: str
    """The section heading."""
    blocks: tuple[Block, ...]
    """Its paragraphs, lists and cautions, in order."""


@dataclass(frozen=True, slots=True)
class Module:
    """One advice topic in one language."""

    id: str
    """Topic id, the same in every language (``whatsapp``, ``stalkerware``)."""
    kind: str
    """``core`` (always on a sheet), ``platform`` or ``behaviour``."""
    title: str
    """Title shown as the module's heading."""
    language: str
    """``en`` or ``cy``."""
    platforms: tuple[str, ...]
    """Applies-to: platform ids."""
    behaviours: tuple[str, ...]
    """Applies-to: behaviour ids."""
    contacts: tuple[str, ...]
    """Contacts listed under "Who can help" when this module is on a sheet."""
    sources: tuple[str, ...]
    """Source URLs of the facts in the module."""
    last_reviewed: date
    """When the facts were last checked against the sources."""
    status: str
    """``draft`` or ``reviewed`` (for Welsh: whether a translator has reviewed it)."""
    key_steps: tuple[str, ...]
    """The short form printed on the victim's sheet: the most important steps, in order."""
    key_steps_status: str
    """``draft`` or ``reviewed``: the review status of ``key_steps`` on their own."""
    sections: tuple[Section, ...]
    """The body."""
    path: str
    """Where the module was read from (for error messages)."""

    def structure(self) -> tuple[tuple[tuple[str, int], ...], ...]:
        """Shape of the body (block types and item counts per section) for parity checks."""
        return tuple(tuple((b.type, len(b.items)) for b in s.blocks) for s in self.sections)

    def text(self) -> str:
        """All prose of the module (headings excluded), one block item per line."""
        lines: list[str] = []
        for section in self.sections:
            for block in section.blocks:
                lines.extend(BOLD_RE.sub(r"\1", item) for item in block.items)
        return "\n".join(lines)

    def key_text(self) -> str:
        """The key steps as prose (``**`` removed), one step per line."""
        return "\n".join(BOLD_RE.sub(r"\1", step) for step in self.key_steps)

    @property
    def draft(self) -> bool:
        """True when any of the module's text (body or key steps) is still a draft."""
        return "draft" in (self.status, self.key_steps_status)


def _split_front_matter(text: str, where: str) -> tuple[dict[str, Any], list[str], int]:
    lines = text.split("\n")
    if not lines or lines[0].strip() != "+++":
        raise AdviceContentError(
            f"{where} line 1: expected '+++' opening the TOML front matter, found {lines[0][:40]!r}"
        )
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "+++")
    except StopIteration:
        raise AdviceContentError(f"{where}: front matter is not closed by a '+++' line") from None
    try:
        meta = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as exc:
        raise AdviceContentError(f"{where}: invalid TOML front matter: {exc}") from exc
    return meta, lines[end + 1 :], end + 2


def _parse_body(lines: list[str], first_line: int, where: str) -> tuple[Section, ...]:
    sections: list[Section] = []
    heading: str | None = None
    blocks: list[Block] = []
    current: tuple[str, list[str]] | None = None

    def flush_block() -> None:
        nonlocal current
        if current is not None:
            kind, items = current
            if kind in ("para", "caution"):
                items = [" ".join(items)]
            blocks.append(Block(kind, tuple(items)))
            current = None

    def flush_section() -> None:
        nonlocal blocks
        flush_block()
        if heading is not None:
            if not blocks:
                raise AdviceContentError(f"{where}: section {heading!r} is empty")
            sections.append(Section(heading, tuple(blocks)))
        blocks = []

    for offset, raw in enumerate(lines):
        line = raw.rstrip()
        number = first_line + offset
        if not line:
            flush_block()
            continue
        if line.startswith("## "):
            flush_section()
            heading = line[3:].strip()
            continue
        if line.startswith("#"):
            raise AdviceContentError(
                f"{where} line {number}: only '## ' headings are allowed, found {line[:30]!r}",
                advice="the module title comes from the front matter; sections use '## '",
            )
        if heading is None:
            raise AdviceContentError(f"{where} line {number}: text before the first '## ' heading")
        if line.startswith("- "):
            if current is None or current[0] != "list":
                flush_block()
                current = ("list", [])
            current[1].append(line[2:].strip())
        elif line.startswith("> ") or line == ">":
            if current is None or current[0] != "caution":
                flush_block()
                current = ("caution", [])
            current[1].append(line[1:].strip())
        else:
            if current is not None and current[0] == "list" and raw.startswith("  "):
                current[1][-1] += " " + line.strip()  # continuation of a list item
                continue
            if current is None or current[0] != "para":
                flush_block()
                current = ("para", [])
            current[1].append(line.strip())
    flush_section()
    if not sections:
        raise AdviceContentError(f"{where}: no sections ('## ' headings) found")
    return tuple(sections)


def parse_module(
    text: str, where: str, language: str, contacts: dict[str, Contact] | None = None
) -> Module:
    """Parse one module file and check it against the contacts file."""
    contacts = load_contacts() if contacts is None else contacts
    meta, body, first = _split_front_matter(text, where)
    mid = _req(meta, "id", str, where)
    if not ID_RE.match(mid):
        raise AdviceContentError(f"{where}: id {mid!r} must be lower-case letters and hyphens")
    kind = _req(meta, "kind", str, where)
    if kind not in KINDS:
        raise AdviceContentError(f"{where}: kind {kind!r} is not one of {KINDS}")
    if meta.get("language") != language:
        raise AdviceContentError(
            f"{where}: language is {meta.get('language')!r} but the file is in the "
            f"{language!r} folder"
        )
    status = _req(meta, "status", str, where)
    if status not in STATUSES:
        raise AdviceContentError(f"{where}: status {status!r} is not one of {STATUSES}")
    reviewed = meta.get("last_reviewed")
    if not isinstance(reviewed, date):
        raise AdviceContentError(f"{where}: last_reviewed must be a TOML date, found {reviewed!r}")
    sources = _str_list(meta, "sources", where)
    if not sources or not all(s.startswith(("https://", "http://")) for s in sources):
        raise AdviceContentError(f"{where}: needs at least one source URL in 'sources'")
    key_steps = _str_list(meta, "key_steps", where)
    if not 1 <= len(key_steps) <= MAX_KEY_STEPS or not all(k.strip() for k in key_steps):
        raise AdviceContentError(
            f"{where}: 'key_steps' must hold 1 to {MAX_KEY_STEPS} steps, found {len(key_steps)}",
            advice="the victim's sheet prints only the key steps: keep them few and plain",
        )
    key_steps_status = meta.get("key_steps_status", status)
    if key_steps_status not in STATUSES:
        raise AdviceContentError(
            f"{where}: key_steps_status {key_steps_status!r} is not one of {STATUSES}"
        )
    contact_ids = _str_list(meta, "contacts", where)
    for cid in contact_ids:
        if cid not in contacts:
            raise AdviceContentError(f"{where}: contact {cid!r} is not in contacts.toml")
        if not contacts[cid].verified:
            raise AdviceContentError(
                f"{where}: contact {cid!r} is not verified",
                advice="only verified contacts may reach a victim's sheet; remove it",
            )
    module = Module(
        id=mid,
        kind=kind,
        title=_req(meta, "title", str, where),
        language=language,
        platforms=_str_list(meta, "platforms", where),
        behaviours=_str_list(meta, "behaviours", where),
        contacts=contact_ids,
        sources=sources,
        last_reviewed=reviewed,
        status=status,
        key_steps=key_steps,
        key_steps_status=str(key_steps_status),
        sections=_parse_body(body, first, where),
        path=where,
    )
    allowed = verified_numbers(contacts)
    headings = "\n".join(s.heading for s in module.sections)
    everything = "\n".join((module.title, headings, module.text(), module.key_text()))
    for number in phone_numbers(everything):
        if number.lstrip("+") not in allowed:
            raise AdviceContentError(
                f"{where}: phone number {number} is not a verified number in contacts.toml",
                advice="add it to contacts.toml with its source, or take it out of the text",
            )
    return module


@cache
def load_modules(language: str) -> dict[str, Module]:
    """Every packaged module of one language, by id (sorted by file name)."""
    if language not in LANGUAGES:
        raise AdviceContentError(f"language {language!r} is not one of {LANGUAGES}")
    folder = _data_root() / language
    out: dict[str, Module] = {}
    for item in sorted(folder.iterdir(), key=lambda t: t.name):
        if not item.name.endswith(".md"):
            continue
        where = f"safeguarding_advice/{language}/{item.name}"
        module = parse_module(item.read_text("utf-8"), where, language)
        if f"{module.id}.md" != item.name:
            raise AdviceContentError(f"{where}: id {module.id!r} does not match the file name")
        out[module.id] = module
    return out
