"""Rendering advice sheets: HTML (self-contained, accessible), Markdown and PDF."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cyberstalk.reports.advice import build_sheet, render, render_html, render_markdown
from cyberstalk.reports.common import CSP
from cyberstalk.safeguarding_advice import catalogue, load_contacts

DAY = date(2026, 11, 29)
ALL = [m.id for m in catalogue()]
SOME = ["core-reporting", "core-evidence", "whatsapp", "stalkerware"]


class Page(HTMLParser):
    """Collects what the checks need from an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[int] = []
        self.text: list[str] = []
        self.style = ""
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "style":
            self.style += data
        elif not self._in or self._in[-1] not in ("title",):
            self.text.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", " ".join(parse(html).text))


# A phone number as printed for a reader: groups of digits, 3+ digits in all, not part of
# a word, a URL or a reference. Written independently of the product's own extractor.
NUMBER_TOKEN = re.compile(r"(?<![\w/.\-])\+?\d[\d ]*\d(?![\w/\-])")


def printed_numbers(text: str) -> set[str]:
    text = re.sub(r"https?://\S+", " ", text)
    out = set()
    for token in NUMBER_TOKEN.findall(text):
        digits = token.replace(" ", "")
        if re.fullmatch(r"(19|20)\d\d", digits):  # a year
            continue
        if len(digits) >= 3:
            out.add(token.strip())
    return out


def contact_numbers() -> dict[str, list[str]]:
    """Printed form of every verified number -> the sources behind it."""
    out: dict[str, list[str]] = {}
    for contact in load_contacts().values():
        if not contact.verified:
            continue
        for number in contact.numbers:
            out.setdefault(number.value, []).extend(contact.sources)
            for part in number.value.split():
                out.setdefault(part, []).extend(contact.sources)
    return out


@pytest.mark.parametrize("lang", ["en", "cy", "both"])
@pytest.mark.parametrize("fmt", ["html", "md"])
def test_every_printed_phone_number_is_a_sourced_contact(lang: str, fmt: str) -> None:
    sheet = build_sheet(ALL, lang, day=DAY)
    rendered = render(sheet, fmt).decode("utf-8")
    text = visible_text(rendered) if fmt == "html" else rendered
    known = contact_numbers()
    found = printed_numbers(text)
    assert "0808 802 0300" in found  # the check really sees numbers
    for number in found:
        assert number in known, f"{number!r} printed on the sheet is not in contacts.toml"
        assert known[number], f"{number!r} has no source"
    assert "020 3866 4107" not in text  # Paladin: secondary sources only
    assert "4107" not in text


def test_html_is_self_contained_with_csp_and_no_scripts() -> None:
    html = render_html(build_sheet(ALL, "both", day=DAY))
    page = parse(html)
    metas = [a for t, a in page.tags if t == "meta"]
    assert {"http-equiv": "Content-Security-Policy", "content": CSP} in metas
    tags = {t for t, _ in page.tags}
    assert not tags & {"script", "img", "iframe", "link", "object", "embed", "video", "audio"}
    for tag, attrs in page.tags:
        assert "src" not in attrs, tag
        assert not any(k.startswith("on") for k in attrs), tag  # no event handlers
        if tag == "a":
            href = attrs.get("href") or ""
            assert href.startswith(("#", "https://", "http://")), href
    assert "url(" not in page.style and "@import" not in page.style
    assert "<script" not in html.lower()


def test_html_accessibility_basics() -> None:
    for lang, topics in (("en", SOME), ("cy", SOME), ("both", ALL)):
        html = render_html(build_sheet(topics, lang, day=DAY))
        page = parse(html)
        root = next(a for t, a in page.tags if t == "html")
        assert root["lang"] == ("cy" if lang in ("cy", "both") else "en")
        # one h1 per language (each language is a complete sheet with its own title),
        # then no level skipped on the way down
        assert page.headings[0] == 1 and page.headings.count(1) == (2 if lang == "both" else 1)
        for before, after in itertools.pairwise(page.headings):
            assert after <= before + 1, (lang, page.headings)
        # a skip link to the advice, whose target exists
        skips = [a for t, a in page.tags if t == "a" and a.get("class") == "skip"]
        ids = {a.get("id") for _, a in page.tags}
        assert skips and all((s.get("href") or "")[1:] in ids for s in skips)
        # every language part carries its lang attribute
        parts = [
            a for t, a in page.tags if t == "section" and "part" in (a.get("class") or "").split()
        ]
        assert [p["lang"] for p in parts] == (["cy", "en"] if lang == "both" else [lang])
        # large type on screen and in print, A4 pages, fonts set in the margin boxes
        assert re.search(r"body \{[^}]*font-size: 18px", page.style)
        assert re.search(r"@media print \{\s*body \{[^}]*font-size: 12pt", page.style)
        assert "size: A4" in page.style
        assert page.style.count("@bottom-") == page.style.count('font-family: "DejaVu Sans"') - 1


def test_bilingual_sheet_puts_welsh_first_at_equal_size() -> None:
    html = render_html(build_sheet(SOME, "both", day=DAY))
    text = visible_text(html)
    assert text.index("Sut i gael help") < text.index("How to get help")
    assert text.index("Mewn perygl nawr? Ffoniwch 999.") < text.index("In danger now? Call 999.")
    # the stylesheet has no rule that styles one language differently from the other
    assert ":lang(" not in html and '[lang="en"]' not in html and '[lang="cy"]' not in html
    assert "Heddlu Gogledd Cymru" in text and "North Wales Police" in text
    assert "29 Tachwedd 2026" in text and "29 November 2026" in text


def test_welsh_draft_note_is_shown_in_both_languages_only_with_welsh() -> None:
    note_cy = "Drafft yw'r cyfieithiad Cymraeg hwn."
    note_en = "This Welsh translation is a draft."
    for lang in ("cy", "both"):
        for fmt in ("html", "md"):
            out = render(build_sheet(SOME, lang, day=DAY), fmt).decode()
            text = visible_text(out) if fmt == "html" else out
            assert note_cy in text and note_en in text, (lang, fmt)
    english = visible_text(render_html(build_sheet(SOME, "en", day=DAY)))
    assert note_en not in english and note_cy not in english
    # an English sheet says a Welsh version exists, in both languages
    assert "also available in Welsh" in english and "ar gael yn Gymraeg" in english


def test_reference_is_a_sheet_id_unless_the_case_reference_is_asked_for() -> None:
    hidden = build_sheet(SOME, "en", day=DAY, case_reference="NWP/2026/0142")
    assert hidden.reference.startswith("ADV-")
    assert "NWP/2026/0142" not in render_html(hidden)
    shown = build_sheet(
        SOME, "en", day=DAY, case_reference="NWP/2026/0142", show_case_reference=True
    )
    assert "NWP/2026/0142" in visible_text(render_html(shown))
    # the id changes with the case, so two victims' sheets are told apart in the log
    other = build_sheet(SOME, "en", day=DAY, case_reference="NWP/2026/0999")
    assert other.sheet_id != hidden.sheet_id


def test_everything_is_escaped() -> None:
    force = 'Evil</style><script>alert(1)</script> "Force" & <b>'
    html = render_html(build_sheet(SOME, "en", day=DAY, force=force))
    assert "<script>" not in html and "</style><script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # in the body text
    page = parse(html)
    # The footer is a CSS string: markup characters are CSS-escaped, so it cannot close
    # the <style> element, and the quote cannot end the string.
    assert "<" not in page.style and ">" not in page.style
    assert "\\3c /script\\3e" in page.style and "\\22 Force\\22" in page.style
    md = render_markdown(build_sheet(SOME, "en", day=DAY, force=force))
    assert "<script>" not in md


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_same_inputs_same_bytes(fmt: str) -> None:
    one = render(build_sheet(SOME, "both", day=DAY), fmt)
    two = render(build_sheet(SOME, "both", day=DAY), fmt)
    assert one == two
    later = render(build_sheet(SOME, "both", day=date(2026, 12, 1)), fmt)
    assert later != one


def test_markdown_structure() -> None:
    # The sheet has each topic's key steps only; the sections are in the full guide.
    md = render_markdown(build_sheet(SOME, "en", day=DAY))
    assert md.startswith("# Staying safe online\n")
    assert "\n## How to get help\n" in md and "If you are in danger now" not in md
    assert "- **Do not remove it yet.** Removing a spy app can warn the person." in md
    assert "\n## Who can help\n" in md and "- Call **0808 802 0300**" in md
    full = render_markdown(build_sheet(SOME, "en", day=DAY, full=True))
    assert "\n## The full guide\n\n### How to get help\n" in full
    assert "\n#### If you are in danger now\n" in full
    assert "> **Be careful:** Removing a spy app can warn the person." in full
    for text in (md, full, render_markdown(build_sheet(SOME, "both", day=DAY, full=True))):
        levels = [len(m) for m in re.findall(r"^(#+) ", text, flags=re.M)]
        assert all(b <= a + 1 for a, b in itertools.pairwise(levels))


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdf_has_the_text_in_both_languages(tmp_path: Path) -> None:
    pdf = render(build_sheet(SOME, "both", day=DAY), "pdf")
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    flat = re.sub(r"\s+", " ", text)
    for needle in (
        "Mewn perygl nawr? Ffoniwch 999.",
        "In danger now? Call 999.",
        "Removing a spy app can warn the person.",
        "Gall tynnu ap ysbïo rybuddio'r person.",
        "0808 802 0300",
        "Gwnewch yn siŵr",  # ŵ survives font embedding and extraction
        "Drafft yw'r cyfieithiad Cymraeg hwn.",
    ):
        assert needle in flat, needle
    # page numbers in the margin box, counted in each language ("1 / N" twice)
    assert len(re.findall(r"\b1 ?/ ?\d\b", flat)) == 2
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    assert "A4" in info


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_colours_meet_wcag_aa_contrast() -> None:
    css = parse(render_html(build_sheet(SOME, "en", day=DAY))).style

    def rule(selector: str) -> dict[str, str]:
        body = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", css)
        assert body is not None, selector
        return dict(
            (k.strip(), v.strip())
            for k, v in (d.split(":", 1) for d in body.group(1).split(";") if ":" in d)
        )

    page_bg = rule("body")["background"]
    pairs = [
        (rule("body")["color"], page_bg),
        (rule("h1, h2, h3, h4")["color"], page_bg),
        (rule("a")["color"], page_bg),
        (rule(".danger")["color"], rule(".danger")["background"]),
        (rule("body")["color"], rule(".draft")["background"]),
        (rule(".tag")["color"], rule(".draft")["background"]),
        (rule("body")["color"], rule(".caution")["background"]),
    ]
    for fg, bg in pairs:
        assert contrast(fg, bg) >= 7.0, (fg, bg, contrast(fg, bg))  # WCAG AAA for body text
