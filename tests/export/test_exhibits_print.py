"""The exhibit list prints on A4 landscape: nothing past the printable area, no header
word broken, one row per exhibit with the whole SHA-256 in two halves, archive members
under their archive, one header per ingest (who from, producer, source, when)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.cases import cli
from helpers.printcheck import (
    broken_header_words,
    html_to_pdf,
    outside_printable_area,
    pages,
    table_headers,
)

ROOT = Path(__file__).resolve().parents[2]
LONG_DIR = "Downloads/Messages exported from the old phone (before the factory reset)"
LONG_NAME = "WhatsApp Image 2026-01-12 at 23.59.10_a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6.jpeg"


@pytest.fixture(scope="module")
def demo_like(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's submission (every export format, screenshots, a WhatsApp zip with
    members) ingested from the victim, then a second ingest from a friend holding a
    duplicate and a deep path with a long name; image groups as media processing makes."""
    tmp = tmp_path_factory.mktemp("exhibits-print")
    fx = tmp / "fixtures"
    subprocess.run(
        [sys.executable, str(ROOT / "fixtures" / "make_fixtures.py"), str(fx)],
        check=True,
        capture_output=True,
    )
    root = tmp / "case"
    r = cli(
        "case", "init", root, "--ref", "NWP/2026/0142", "--officer", "DC Rhian Evans",
        "--initials", "RE",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    r = cli(
        "ingest", root, fx / "submission", "--no-process", "--received-from", "Carys Hughes",
        "--source", "Victim's phone exports and screenshots on USB stick, bag NWP-SB-0142",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    second = tmp / "second" / "submission"
    (second / LONG_DIR).mkdir(parents=True)
    (second / LONG_DIR / LONG_NAME).write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    (second / "copy of Inbox.mbox").write_bytes((fx / "submission/Email/Inbox.mbox").read_bytes())
    r = cli(
        "ingest", root, second, "--no-process", "--received-from", "Sioned Parry (friend)",
        "--source", "Email attachments forwarded to DC Evans",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    manifest = json.loads((root / "manifest.json").read_bytes())
    images = [e["ref"] for e in manifest["exhibits"] if str(e.get("mime")).startswith("image/")]
    (root / "derived" / "media").mkdir(parents=True, exist_ok=True)
    (root / "derived" / "media" / "groups.json").write_text(
        json.dumps({"groups": [{"id": "N1", "kind": "near", "members": images[:3]}]})
    )
    return root


@pytest.fixture(scope="module")
def printed(demo_like: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp("exhibits-out") / "exhibits.html"
    r = cli("export", demo_like, "--exhibits", out)
    assert r.exit_code == 0, r.output
    return out.read_text("utf-8"), html_to_pdf(out, out.with_suffix(".pdf"))


def test_prints_on_a4_landscape_with_nothing_cut_off(printed: tuple[str, Path]) -> None:
    html, pdf = printed
    assert "@page { size: A4 landscape" in html
    assert outside_printable_area(pdf) == []
    assert broken_header_words(pdf, table_headers(html)) == []
    sheets = pages(pdf)
    assert all(p.width > p.height for p in sheets)  # landscape
    assert len(sheets) <= 3  # ~20 exhibits: one readable row each


def test_every_hash_is_whole_in_two_halves(demo_like: Path, printed: tuple[str, Path]) -> None:
    html, pdf = printed
    manifest = json.loads((demo_like / "manifest.json").read_bytes())
    text = "\n".join(w.text for p in pages(pdf) for w in p.words)
    for ex in manifest["exhibits"]:
        sha = ex["digests"]["sha256"]
        assert f"<span>{sha[:32]}</span><span>{sha[32:]}</span>" in html
        # printed as two words of 32 characters: never broken anywhere else
        assert sha[:32] in text.split() and sha[32:] in text.split()


def test_one_row_per_exhibit_members_under_their_archive(
    demo_like: Path, printed: tuple[str, Path]
) -> None:
    html, _ = printed
    manifest = json.loads((demo_like / "manifest.json").read_bytes())
    shown = re.findall(r'<tr class="(d\d)( sub)?">\s*<td class="ref">([^<]+)</td>', html)
    assert sorted(ref for _, _, ref in shown) == sorted(e["ref"] for e in manifest["exhibits"])
    order = [ref for _, _, ref in shown]
    members = [e for e in manifest["exhibits"] if e.get("parent")]
    assert members, "the WhatsApp zip's members are exhibits"
    for m in members:
        # right under the parent (or a sibling member), indented
        at = order.index(m["ref"])
        assert order[at - 1] in (m["parent"], *(x["ref"] for x in members))
        assert shown[at][0] == "d1" and shown[at][1] == " sub"
        assert order.index(m["parent"]) < at
    assert f"Path in archive {members[0]['parent']}" in html
    assert LONG_DIR in html and LONG_NAME in html  # the original path in full


def test_secondary_facts_in_one_header_per_ingest(printed: tuple[str, Path]) -> None:
    html, _ = printed
    heads = re.findall(r'<th class="group"[^>]*>(.*?)</th>', html, re.S)
    assert len(heads) == 2
    assert "received from Carys Hughes" in heads[0] and "producer DC Rhian Evans" in heads[0]
    assert "bag NWP-SB-0142" in heads[0]
    assert "received from Sioned Parry (friend)" in heads[1]
    assert "Email attachments forwarded to DC Evans" in heads[1]
    assert "Ingest 2: 1 exhibit<" in heads[1]  # the copy is a duplicate, not an exhibit
    # on screen: six columns, not fourteen
    assert len(table_headers(html)) == 6 + 2
    assert "1 later identical copy" in html
    assert "N1 near-duplicate of" in html
