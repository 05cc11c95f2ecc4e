"""`make demo`'s every report prints on A4: nothing outside the printable area, no table
header word broken. Runs scripts/demo.sh itself, in a copy of the scripts and fixtures,
then reads each PDF (and each HTML report printed through WeasyPrint) with poppler."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.printcheck import (
    broken_header_words,
    html_to_pdf,
    is_a4,
    outside_printable_area,
    pages,
    table_headers,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    work = tmp_path_factory.mktemp("demo")
    for folder in ("scripts", "fixtures"):
        shutil.copytree(
            ROOT / folder, work / folder, ignore=shutil.ignore_patterns("out", "__pycache__")
        )
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    result = subprocess.run(
        ["bash", "scripts/demo.sh", "demo-case"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return work / "demo-case" / "reports", result.stdout


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_every_report_of_the_demo_prints_on_a4(demo: tuple[Path, str], tmp_path: Path) -> None:
    reports, listing = demo
    found = sorted(
        p for p in reports.rglob("*") if p.suffix in (".pdf", ".html") and "bag" not in p.parts
    )
    names = {p.relative_to(reports).as_posix() for p in found}
    # the reports the issue names, each checked (the demo's final list names them all)
    for wanted in (
        "timeline.pdf",
        "timeline.html",
        "exhibits.html",
        "panel-pack.pdf",
        "panel-pack.html",
        "advice-en.pdf",
        "advice-cy.pdf",
        "advice-both.pdf",
        "profile/profile.html",
        "screening.html",
    ):
        assert wanted in names, wanted
        assert f"demo-case/reports/{wanted}" in listing, f"{wanted} missing from the list"
    problems: dict[str, list[str]] = {}
    for path in found:
        name = path.relative_to(reports).as_posix()
        html_path = path if path.suffix == ".html" else path.with_suffix(".html")
        if path.suffix == ".html":
            pdf = html_to_pdf(path, tmp_path / (name.replace("/", "_") + ".print.pdf"))
        else:
            pdf = path
        headers = table_headers(html_path.read_text("utf-8")) if html_path.exists() else []
        found_problems = outside_printable_area(pdf) + [
            f"header word broken: {w}" for w in broken_header_words(pdf, headers)
        ]
        assert all(is_a4(page) for page in pages(pdf)), name
        if found_problems:
            problems[name] = found_problems[:5]
    assert problems == {}
