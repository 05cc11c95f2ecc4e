"""A hostile submission end to end: every bad item gets a clear error or is neutralised,
the rest is recorded, nothing recorded is lost, and the reports stay safe to open."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from cyberstalk.case import Identifier, add_person, init_case
from cyberstalk.cli import app

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE smses [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<smses count="1"><sms protocol="0" address="+447700900789" date="1769400000000" type="1"
 body="&c;" read="1" status="-1" /></smses>
"""

CHAT = (
    "26/01/2026, 21:00 - Dylan: <script>alert('x')</script>\n"
    '26/01/2026, 21:01 - Dylan: =HYPERLINK("http://example.invalid","click")\n'
    "26/01/2026, 21:02 - Carys: Please stop contacting me\n"
)


def cli(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_hostile_submission(tmp_path: Path) -> None:
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / "sms-20260126000000.xml").write_bytes(BOMB)
    (sub / "WhatsApp Chat with Dylan.txt").write_text(CHAT, encoding="utf-8")
    hostile = '"><img src=x onerror=alert(1)>.txt'
    (sub / hostile).write_bytes(b"note")
    (sub / "=cmd|' -C calc'!A0.txt").write_bytes(b"formula name")
    broken = sub / "broken.zip"
    with zipfile.ZipFile(broken, "w") as zf:
        zf.writestr("a.txt", b"x" * 1000)
    broken.write_bytes(broken.read_bytes()[:-40])

    case = init_case(tmp_path / "case", reference="R/1", officer="DC T", initials="RE")
    add_person(
        case,
        name="Carys Hughes",
        role="victim",
        identifiers=[Identifier("display_name", "Carys", "whatsapp")],
    )
    add_person(
        case,
        name="Dylan Price",
        role="suspect",
        identifiers=[Identifier("display_name", "Dylan", "whatsapp")],
    )

    result = cli("ingest", case.root, sub, "--source", "test")
    assert result.exit_code == 3, result.output
    # the XML bomb: refused by the parser, never expanded; the file itself is kept
    assert "forbidden" in result.stderr
    # the corrupt zip: kept whole, its members refused with a reason
    assert "not a readable zip archive" in result.stderr
    manifest = json.loads((case.root / "manifest.json").read_bytes())
    names = {e["original_name"] for e in manifest["exhibits"]}
    assert {
        "sms-20260126000000.xml",
        "WhatsApp Chat with Dylan.txt",
        hostile,
        "broken.zip",
    } <= names
    assert cli("verify", case.root).exit_code == 0

    html_out = tmp_path / "timeline.html"
    assert cli("timeline", case.root, "--format", "html", "-o", html_out).exit_code == 0
    html = html_out.read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    csv_out = tmp_path / "timeline.csv"
    assert cli("timeline", case.root, "--format", "csv", "-o", csv_out).exit_code == 0
    assert "'=HYPERLINK" in csv_out.read_text(encoding="utf-8")

    exhibits_html = tmp_path / "exhibits.html"
    assert cli("export", case.root, "--exhibits", exhibits_html).exit_code == 0
    listing = exhibits_html.read_text(encoding="utf-8")
    assert "<img src=x" not in listing and "&lt;img src=x onerror=alert(1)&gt;" in listing
    exhibits_csv = tmp_path / "exhibits.csv"
    assert cli("export", case.root, "--exhibits", exhibits_csv).exit_code == 0
    assert "'=cmd|" in exhibits_csv.read_text(encoding="utf-8")
    # everything recorded before is still there and still verifies
    assert cli("verify", case.root).exit_code == 0
