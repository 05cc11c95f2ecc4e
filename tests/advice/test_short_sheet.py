"""The victim's sheet is short and printable; the rest goes elsewhere.

- A case with two platforms and three behaviours prints on at most 4 A4 pages per
  language, in en, cy and both, with nothing outside the printable area.
- ``--lang both`` is two complete sheets, Welsh first, each starting on a new page, in
  the same type, each numbered on its own.
- The sheet has the key steps only; ``--full`` adds the full guide.
- No source URL is ever on the victim's sheet; the officer's copy has them all.
- No heading is repeated as the title of the box under it.
- Without a case or a topic, the command prints a usage message, never an HTML page.
"""

from __future__ import annotations

import html as html_module
import itertools
import json
import re
import shutil
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cyberstalk.cli import app
from cyberstalk.hashing.custody import events, read_lines
from cyberstalk.reports.advice import build_sheet, labels, render
from cyberstalk.safeguarding_advice import load_contacts, load_modules
from helpers.printcheck import (
    broken_header_words,
    html_to_pdf,
    outside_printable_area,
    pages,
    table_headers,
)

runner = CliRunner()
DAY = "2026-11-29"
MAX_PAGES = 4
# Two platforms and three behaviours: a usual case, and the heaviest one (the longest key
# steps and the most helplines: intimate images adds two).
SELECTIONS = {
    "usual": (["whatsapp", "instagram"], ["repeated-contact", "stalkerware", "location-tracking"]),
    "heaviest": (["x", "tiktok"], ["intimate-images", "location-tracking", "account-compromise"]),
}
TITLE = {"en": "Staying safe online", "cy": "Aros yn ddiogel ar-lein"}
needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils not installed"
)


def selection_args(name: str) -> list[str]:
    platforms, behaviours = SELECTIONS[name]
    return [*(a for p in platforms for a in ("-p", p)), *(a for b in behaviours for a in ("-b", b))]


def make(tmp: Path, name: str, lang: str, fmt: str, *extra: str) -> Path:
    out = tmp / f"advice-{name}-{lang}.{fmt}"
    args = ["advice", *selection_args(name), "--lang", lang, "-f", fmt, "--date", DAY]
    result = runner.invoke(app, [*args, "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    return out


def page_texts(pdf: Path) -> list[str]:
    return [" ".join(w.text for w in page.words) for page in pages(pdf)]


def language_runs(texts: list[str]) -> list[tuple[str, int]]:
    """(language, pages) of each sheet in a PDF: a sheet starts on the page whose first
    words are its title."""
    starts = [(i, lang) for i, t in enumerate(texts) for lang in TITLE if t.startswith(TITLE[lang])]
    ends = [i for i, _ in starts[1:]] + [len(texts)]
    return [(lang, end - i) for (i, lang), end in zip(starts, ends, strict=True)]


# --------------------------------------------------------------------------- print


@needs_poppler
@pytest.mark.parametrize("name", sorted(SELECTIONS))
@pytest.mark.parametrize("lang", ["en", "cy", "both"])
def test_sheet_is_at_most_four_a4_pages_per_language(tmp_path: Path, name: str, lang: str) -> None:
    pdf = make(tmp_path, name, lang, "pdf")
    texts = page_texts(pdf)
    runs = language_runs(texts)
    assert [r[0] for r in runs] == (["cy", "en"] if lang == "both" else [lang])
    assert sum(n for _, n in runs) == len(texts)  # every page belongs to a sheet
    for sheet_lang, count in runs:
        assert count <= MAX_PAGES, (name, lang, sheet_lang, count)
        # each language's pages are numbered on their own: "1 / N" ... "N / N"
        start = next(i for i, t in enumerate(texts) if t.startswith(TITLE[sheet_lang]))
        for k in range(count):
            assert texts[start + k].endswith(f"{k + 1} / {count}"), texts[start + k][-20:]
    assert outside_printable_area(pdf) == []
    # Printed from the HTML file (as a browser prints it), it fits A4 too.
    html = make(tmp_path, name, lang, "html")
    printed = html_to_pdf(html, tmp_path / "printed.pdf")
    assert outside_printable_area(printed) == []
    assert broken_header_words(printed, table_headers(html.read_text("utf-8"))) == []
    assert broken_header_words(pdf, table_headers(html.read_text("utf-8"))) == []


@needs_poppler
def test_both_is_two_complete_sheets_welsh_first_of_equal_prominence(tmp_path: Path) -> None:
    pdf = make(tmp_path, "usual", "both", "pdf")
    texts = page_texts(pdf)
    (cy_lang, cy_pages), (en_lang, _) = language_runs(texts)
    assert (cy_lang, en_lang) == ("cy", "en")
    welsh, english = " ".join(texts[:cy_pages]), " ".join(texts[cy_pages:])
    # each is complete: title, danger box, the core steps, the platform steps, helplines
    for text, needles in (
        (welsh, ["Mewn perygl nawr? Ffoniwch 999.", "Sut i gael help", "WhatsApp", "Pwy all helpu",
                 "0808 802 0300", "Gan: Heddlu Gogledd Cymru"]),
        (english, ["In danger now? Call 999.", "How to get help", "WhatsApp", "Who can help",
                   "0808 802 0300", "From: North Wales Police"]),
    ):  # fmt: skip
        for needle in needles:
            assert needle in text, needle
    # and in one language only (the bilingual draft note belongs to the Welsh sheet)
    assert "Who can help" not in welsh and "Pwy all helpu" not in english
    assert "Staying safe online" not in welsh and "Aros yn ddiogel" not in english
    # the same type: the titles and the body text are the same size in both
    sheet_pages = pages(pdf)

    def height(page: int, word: str) -> float:
        w = next(w for w in sheet_pages[page].words if w.text == word)
        return w.y_max - w.y_min

    assert height(0, "Aros") == pytest.approx(height(cy_pages, "Staying"), abs=0.2)
    assert height(0, "Pesychwch") == pytest.approx(height(cy_pages, "Cough"), abs=0.2)


@needs_poppler
def test_pdf_of_both_is_the_same_bytes_twice(tmp_path: Path) -> None:
    one = make(tmp_path, "usual", "both", "pdf").read_bytes()
    two = make(tmp_path, "usual", "both", "pdf").read_bytes()
    assert one == two


# --------------------------------------------------------------------------- content


def visible_blocks(html: str) -> list[tuple[str, str]]:
    """(tag, text) of every heading, list item, paragraph and box title, in order."""

    class Blocks(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.out: list[tuple[str, str]] = []
            self.stack: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in ("h1", "h2", "h3", "h4", "li", "p", "strong"):
                self.out.append((tag, ""))
            self.stack.append(tag)

        def handle_endtag(self, tag: str) -> None:
            if self.stack and self.stack[-1] == tag:
                self.stack.pop()

        def handle_data(self, data: str) -> None:
            if self.out and self.stack and self.stack[-1] not in ("style", "title"):
                tag, text = self.out[-1]
                self.out[-1] = (tag, text + data)

    parser = Blocks()
    parser.feed(html)
    return [(t, re.sub(r"\s+", " ", x).strip()) for t, x in parser.out]


@pytest.mark.parametrize("lang", ["en", "cy", "both"])
def test_no_heading_is_followed_by_a_box_with_the_same_title(lang: str) -> None:
    topics = ["core-reporting", "core-evidence", "tiktok", "stalkerware"]
    sheet = build_sheet(topics, lang, day=date(2026, 11, 29), full=True)
    html = render(sheet, "html").decode()
    boxes = re.findall(r"<h(\d)>([^<]+)</h\1>\s*<div class=\"caution\"[^>]*>(.*?)</div>", html)
    assert len(boxes) >= 3 * len(sheet.parts)  # "Be careful", "Be careful when…", stalkerware
    for _, heading, box in boxes:
        title = re.match(r"<strong>([^<]+)</strong>", box)
        if title:
            assert not heading.casefold().startswith(title.group(1).casefold()), heading
    # the stalkerware box keeps its title: its heading ("Do not remove it yet") is another
    assert sum(1 for _, _, box in boxes if box.startswith("<strong>")) == len(sheet.parts)
    blocks = [text for tag, text in visible_blocks(html) if tag != "li"]
    for before, after in itertools.pairwise(blocks):
        assert before.casefold() != after.casefold() or not before, before
    md = render(sheet, "md").decode()
    assert not re.search(r"^#+ Be careful[^\n]*\n\n> \*\*Be careful", md, flags=re.M)
    assert not re.search(r"^#+ Byddwch yn ofalus[^\n]*\n\n> \*\*Byddwch yn ofalus", md, re.M)


@pytest.mark.parametrize("lang", ["en", "cy", "both"])
def test_sheet_has_the_key_steps_and_full_adds_the_guide(lang: str) -> None:
    topics = ["core-reporting", "core-evidence", "whatsapp", "repeated-contact"]
    short = render(build_sheet(topics, lang, day=date(2026, 11, 29)), "html").decode()
    full = render(build_sheet(topics, lang, day=date(2026, 11, 29), full=True), "html").decode()
    for part_lang in ("cy", "en") if lang == "both" else (lang,):
        modules = load_modules(part_lang)
        guide = labels()[part_lang]["full_guide"]
        assert guide not in short and guide in full
        for tid in topics:
            for step in modules[tid].key_steps:  # the key steps are on both
                step_html = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", step)
                step_html = step_html.replace("'", "&#39;")
                assert step_html in short and step_html in full, step
            for section in modules[tid].sections:  # the sections only on the full one
                heading = section.heading.replace("'", "&#39;")
                assert f">{heading}</h" not in short, heading
                assert f">{heading}</h" in full, heading
    assert short.count("<li>") * 2 < full.count("<li>")


def bare(url: str) -> str:
    return re.sub(r"^https?://", "", url).rstrip("/")


def module_sources() -> set[str]:
    return {url for lang in ("en", "cy") for m in load_modules(lang).values() for url in m.sources}


def helpline_sites() -> set[str]:
    return {u for c in load_contacts().values() if c.verified for u in (c.url, c.url_cy) if u}


@pytest.mark.parametrize("lang", ["en", "cy", "both"])
@pytest.mark.parametrize("full", [False, True])
def test_no_source_is_on_the_victims_sheet(lang: str, full: bool) -> None:
    every = [m.id for m in load_modules("en").values()]
    sheet = build_sheet(every, lang, day=date(2026, 11, 29), full=full)
    html = render(sheet, "html").decode()
    md = render(sheet, "md").decode()
    # the only web addresses on the sheet are the helplines' own sites
    links = set(re.findall(r'href="(https?://[^"]+)"', html))
    assert links and links <= helpline_sites()
    assert "http" not in md
    for url in module_sources() - helpline_sites():
        assert url not in html and bare(url) not in md, url
    for part_lang in ("en", "cy"):
        assert labels()[part_lang]["sources"] not in html + md
        assert labels()[part_lang]["facts_checked"] not in html + md


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_officer_copy_has_every_source_reason_and_unverified_service(
    tmp_path: Path, fmt: str
) -> None:
    out = make(tmp_path, "usual", "both", fmt, "--officer-copy")
    text = out.read_text("utf-8")
    if fmt == "html":
        text = html_module.unescape(text)
    platforms, behaviours = SELECTIONS["usual"]
    chosen = ["core-reporting", "core-evidence", *platforms, *behaviours]
    en = load_modules("en")
    for tid in chosen:
        for url in en[tid].sources:
            assert url in text, url
    assert "officer: --platform whatsapp" in text and "core: always included" in text
    assert "For the officer. Do not give this to the victim." in text
    assert "I'r swyddog. Peidiwch â rhoi hwn i'r dioddefwr." in text
    # the services left off the sheet, marked for checking, with their sources
    assert "Paladin" in text and "020 3866 4107" in text
    assert "Check before use." in text
    assert "https://www.arun.gov.uk/stalking" in text
    # review status: the Welsh key steps are drafts waiting for a Welsh speaker
    assert "camau pwysicaf: drafft" in text and "key steps: draft" in text
    sheet = out.with_name("victim." + fmt)
    args = ["advice", *selection_args("usual"), "--lang", "both", "-f", fmt, "--date", DAY]
    assert runner.invoke(app, [*args, "-o", str(sheet)]).exit_code == 0
    victim = html_module.unescape(sheet.read_text("utf-8"))
    assert "Paladin" not in victim and "020 3866 4107" not in victim
    # the copy names the sheet it goes with
    sheet_id = re.search(r"ADV-[0-9A-F]{10}", victim)
    assert sheet_id and sheet_id.group(0) in text


@needs_poppler
def test_officer_copy_prints_on_a4(tmp_path: Path) -> None:
    pdf = make(tmp_path, "heaviest", "both", "pdf", "--officer-copy")
    assert outside_printable_area(pdf) == []


def test_case_officer_copy_is_written_beside_the_sheet_and_logged(case_dir: Path) -> None:
    result = runner.invoke(app, ["advice", str(case_dir), "--lang", "en", "--officer-copy"])
    assert result.exit_code == 0, result.output
    out = case_dir / "reports" / "advice-officer-copy-en.html"
    assert "reports/advice-officer-copy-en.html  sha256:" in result.stdout
    assert "https://" in out.read_text("utf-8")
    result = runner.invoke(app, ["advice", str(case_dir), "--lang", "en", "--full"])
    assert result.exit_code == 0, result.output
    made = [e["details"] for e in events(read_lines(case_dir / "custody.jsonl"))]
    made = [d for d in made if "copy" in d]
    assert [(d["copy"], d["full"]) for d in made] == [("officer", False), ("victim", True)]
    sheet = (case_dir / "reports" / "advice-sheet-en.html").read_text("utf-8")
    assert "The full guide" in sheet and made[1]["sheet_id"] in sheet


# --------------------------------------------------------------------------- CLI


@pytest.mark.parametrize("args", [[], ["--lang", "en"], ["--lang", "cy", "--format", "html"]])
def test_no_case_and_no_topic_is_a_usage_message_not_a_page(args: list[str]) -> None:
    result = runner.invoke(app, ["advice", *args])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "nothing to make" in result.stderr and "--platform" in result.stderr
    assert len(result.stderr.splitlines()) <= 4  # short


def test_html_or_pdf_never_goes_to_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cyberstalk.commands.advice._stdout_is_terminal", lambda: True)
    for args in (["-p", "whatsapp"], ["-p", "whatsapp", "-o", "-"], ["-o", "-", "-f", "pdf"]):
        result = runner.invoke(app, ["advice", *args])
        assert result.exit_code == 2, (args, result.output)
        assert "not printed on a terminal" in result.stderr and result.stdout == ""
    result = runner.invoke(app, ["advice", "-p", "whatsapp", "-f", "md", "--lang", "en"])
    assert result.exit_code == 0 and result.stdout.startswith("# Staying safe online")


def test_dash_o_dash_sends_the_sheet_down_a_pipe(tmp_path: Path) -> None:
    result = runner.invoke(app, ["advice", "-o", "-", "--lang", "en", "--date", DAY])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert not (tmp_path / "-").exists() and not Path("-").exists()
    result = runner.invoke(app, ["advice", "-p", "x", "-o", "-", "-f", "pdf", "--date", DAY])
    assert result.exit_code == 0 and result.stdout_bytes.startswith(b"%PDF-")


def test_dash_o_dash_with_a_case_is_refused(case_dir: Path) -> None:
    result = runner.invoke(app, ["advice", str(case_dir), "-o", "-"])
    assert result.exit_code == 2
    assert "written to a file" in result.stderr


def test_full_sheet_has_its_own_id(tmp_path: Path) -> None:
    short = make(tmp_path, "usual", "en", "md")
    out = tmp_path / "full.md"
    result = runner.invoke(
        app, ["advice", *selection_args("usual"), "--lang", "en", "-f", "md", "--date", DAY,
              "--full", "-o", str(out), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["full"] is True and summary["copy"] == "victim"
    assert summary["sheet_id"] in out.read_text("utf-8")
    assert summary["sheet_id"] not in short.read_text("utf-8")


def test_help_explains_the_short_sheet_full_officer_copy_and_pipe() -> None:
    result = runner.invoke(app, ["advice", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    flat = re.sub(r"[\s│|]+", " ", result.stdout)
    for needle in ("--full", "--officer-copy", "-o -", "usage message and exits 2"):
        assert needle in flat, needle


# --------------------------------------------------------------------------- readability


@pytest.mark.parametrize("name", sorted(SELECTIONS))
def test_english_sheet_reading_ease_is_at_least_60(name: str, textstat_offline: object) -> None:
    import textstat

    platforms, behaviours = SELECTIONS[name]
    topics = ["core-reporting", "core-evidence", *platforms, *behaviours]
    html = render(build_sheet(topics, "en", day=date(2026, 11, 29)), "html").decode()
    main = html[html.index("<main>") :]
    # every heading, step, note and helpline line as a sentence of its own
    lines = [t if t.endswith((".", "?", "!")) else t + "." for _, t in visible_blocks(main) if t]
    score = textstat.flesch_reading_ease(" ".join(lines))
    assert score >= 60, f"{name}: the English sheet's Flesch reading ease is {score}"
