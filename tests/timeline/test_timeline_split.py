"""A case too large for one page: ``cyberstalk timeline`` writes an index page and the
chronology in month pages beside it, each under 10 MB, every record on exactly one page,
every page linked from the index and recorded in the custody log with its SHA-256; the
PDF of such a case prints the analysis and the records per month.

The thresholds are lowered for a case of a few thousand records (the same code runs at
200,000: benchmarks/bench_timeline.py)."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cyberstalk.records.store import iter_records
from cyberstalk.reports import timeline_html
from helpers.cases import cli, events
from helpers.printcheck import html_to_pdf, is_a4, outside_printable_area, pages

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_timeline import build_case

TEN_MB = 10_000_000


@pytest.fixture
def big_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """2,000 records over two years, with the split thresholds lowered to fit."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1774051200")
    monkeypatch.setattr(timeline_html, "SPLIT_ROWS", 500)
    monkeypatch.setattr(timeline_html, "PAGE_ROWS", 60)
    return build_case(tmp_path / "case", 2000)


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr id="(r-[0-9a-f]{16})"', html)


def test_large_case_writes_index_and_month_pages(big_case: Path) -> None:
    r = cli("timeline", big_case)
    assert r.exit_code == 0, r.output
    index = big_case / "reports" / "timeline.html"
    folder = big_case / "reports" / "timeline"
    files = sorted(folder.glob("*.html"))
    assert "pages in" in r.output and len(files) > 24  # 25 months, busy ones on two pages
    assert all(p.stat().st_size <= TEN_MB for p in [index, *files])
    assert {f.name for f in files} >= {"2024-06.html", "2026-05.html"}
    assert any(re.fullmatch(r"\d{4}-\d{2}-2\.html", f.name) for f in files)

    page = index.read_text("utf-8")
    assert _rows(page) == []  # the index holds no chronology rows
    linked = re.findall(r'<a href="timeline/([0-9a-z-]+\.html)">', page)
    assert linked == [f.name for f in sorted(files, key=lambda f: linked.index(f.name))]
    assert sorted(linked) == [f.name for f in files]

    # every record on exactly one page, and nothing else
    where: dict[str, str] = {}
    for f in files:
        for rid in _rows(f.read_text("utf-8")):
            assert rid not in where, f"{rid} on {where[rid]} and {f.name}"
            where[rid] = f.name
    assert set(where) == {rid for _, rid in iter_records(big_case / "derived")}

    # the index's links to records go to the page that holds the row
    for target, rid in re.findall(r'href="timeline/([0-9a-z-]+\.html)#(r-[0-9a-f]{16})"', page):
        assert where[rid] == target
    assert re.search(r'href="timeline/[0-9a-z-]+\.html#r-', page)
    # a month page's occasion links go back to the index, which has them
    month = (folder / "2025-01.html").read_text("utf-8")
    occ = re.findall(r'href="\.\./timeline\.html#(occ-\d+)"', month)
    assert occ and all(f'id="{o}"' in page for o in occ)
    assert 'href="../timeline.html"' in month and "Content-Security-Policy" in month

    # each file in the custody log with its digest; the index last, naming its pages
    made = events(big_case, "report_made")
    logged = {e["details"]["path"]: e["details"] for e in made}
    for f in [index, *files]:
        data = logged[str(f.relative_to(big_case))]
        assert data["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()
        assert data["size"] == f.stat().st_size
    assert made[-1]["details"]["path"] == "reports/timeline.html"
    assert made[-1]["details"]["pages"] == len(files)
    assert {logged[str(f.relative_to(big_case))]["index"] for f in files} == {
        "reports/timeline.html"
    }


def test_pages_split_by_size_and_stale_pages_go(
    big_case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timeline_html, "PAGE_ROWS", 10_000)
    monkeypatch.setattr(timeline_html, "PAGE_BYTES", 20_000)
    assert cli("timeline", big_case).exit_code == 0
    folder = big_case / "reports" / "timeline"
    small = sorted(folder.glob("*.html"))
    # the estimate is generous: each page stays under its byte budget plus one row
    assert all(p.stat().st_size <= 20_000 + 2_000 for p in small if "-" in p.stem[5:])
    monkeypatch.setattr(timeline_html, "PAGE_BYTES", 10**9)
    assert cli("timeline", big_case).exit_code == 0
    fewer = sorted(folder.glob("*.html"))
    assert len(fewer) == 25 < len(small)  # one a month; the extra pages were removed


def test_small_case_stays_one_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1774051200")
    case = build_case(tmp_path / "case", 400)
    assert cli("timeline", case).exit_code == 0
    assert not (case / "reports" / "timeline").exists()
    assert len(_rows((case / "reports" / "timeline.html").read_text("utf-8"))) == 400


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_index_and_month_page_print_on_a4(big_case: Path, tmp_path: Path) -> None:
    assert cli("timeline", big_case).exit_code == 0
    for name in ("timeline.html", "timeline/2025-02.html"):
        pdf = html_to_pdf(big_case / "reports" / name, tmp_path / (name.replace("/", "-") + ".pdf"))
        assert outside_printable_area(pdf) == []
        assert all(is_a4(p) for p in pages(pdf))


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdf_of_a_large_case_prints_records_per_month(
    big_case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timeline_html, "PDF_CITED_ROWS", 100)
    toml = big_case / "case.toml"
    toml.write_text(
        toml.read_text("utf-8").replace("[settings]\n", "[settings]\npdf_max_rows = 100\n", 1),
        "utf-8",
    )
    r = cli("timeline", big_case, "-f", "pdf")
    assert r.exit_code == 0, r.output
    pdf = big_case / "reports" / "timeline.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout
    words = text.decode()
    assert "Counted contacts" in words and "2025-01.html" in words and "January 2025" in words
    assert "more than a PDF can usefully print" in words
    assert outside_printable_area(pdf) == []


def test_records_read_for_the_timeline_equal_their_lines(tmp_path: Path) -> None:
    """``iter_records`` (shared strings, no dataclass __init__) gives what
    ``Record.from_dict`` gives for each line, and the id the record hashes to."""
    import json

    from cyberstalk.records import Record, iter_record_dicts

    case = build_case(tmp_path / "case", 400)
    read = list(iter_records(case / "derived"))
    expected = [Record.from_dict(d) for d in iter_record_dicts(case / "derived")]
    assert [r for r, _ in read] == expected
    assert [rid for _, rid in read] == [r.id for r in expected]
    line = next((case / "derived" / "records").glob("*.jsonl")).read_text("utf-8").splitlines()[0]
    assert read[0][0].as_dict() == {**json.loads(line), "id": read[0][1]}


def test_a_report_name_with_markup_is_escaped_in_every_link(big_case: Path) -> None:
    """The month pages link back to the index by its file name, which the officer chose
    with -o: a name holding markup stays an attribute value, never markup."""
    out = big_case / "reports" / 'a"b<i>&c.html'
    r = cli("timeline", big_case, "-o", out)
    assert r.exit_code == 0, r.output
    folder = big_case / "reports" / 'a"b<i>&c'
    page = sorted(folder.glob("*.html"))[0].read_text("utf-8")
    assert re.search(r'href="\.\./a&#34;b&lt;i&gt;&amp;c\.html#occ-\d+"', page)  # a row's
    assert 'a"b<i>' not in page
