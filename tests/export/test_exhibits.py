"""The exhibit list: CSV (formula-safe) and HTML (escaped, CSP), custody, usage errors."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

from cyberstalk.export.exhibits import COLUMNS
from helpers.cases import cli, events, ingest, make_case

HOSTILE = {
    '=HYPERLINK("x.example")': b"formula",  # no "/": it would be a folder
    "<img src=x onerror=alert(1)>.png": b"markup",
    "@SUM(A1).txt": b"at",
    "normal.txt": b"normal",
}


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8"), newline="")))


def test_csv_columns_and_values(tmp_path):
    root = make_case(tmp_path, {"IMG_0001.PNG": b"\x89PNG data", "note.txt": b"hello"})
    ingest(root, tmp_path / "again", {"copy.txt": b"hello"})  # a duplicate of note.txt
    out = tmp_path / "list.csv"
    r = cli("export", root, "--exhibits", out)
    assert r.exit_code == 0, r.output
    rows = read_csv(out)
    assert list(rows[0]) == list(COLUMNS)
    manifest = json.loads((root / "manifest.json").read_bytes())
    assert [r["Exhibit"] for r in rows] == [e["ref"] for e in manifest["exhibits"]]
    by_ref = {r["Exhibit"]: r for r in rows}
    for ex in manifest["exhibits"]:
        row = by_ref[ex["ref"]]
        assert row["SHA-256"] == ex["digests"]["sha256"]
        assert row["Size (bytes)"] == str(ex["size"])
        assert row["Original name"] == ex["original_name"]
        assert row["Received at (UTC)"] == ex["received_at"]
        assert row["Producer"] == "DC Rhian Evans"
        assert row["Source"] == "USB stick from victim"
    note = next(r for r in rows if r["Original name"] == "note.txt")
    assert note["Duplicates"] == "1 later identical copy"
    assert note["Description"] == "Text file 'note.txt'"
    [ev] = events(root, "export_written")
    assert ev["details"]["format"] == "exhibits-csv"
    assert ev["details"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()


def test_csv_cells_cannot_run_as_formulas(tmp_path):
    root = make_case(tmp_path, HOSTILE)
    out = tmp_path / "list.csv"
    assert cli("export", root, "--exhibits", out).exit_code == 0
    rows = read_csv(out)
    names = {r["Original name"] for r in rows}
    assert '\'=HYPERLINK("x.example")' in names
    assert "'@SUM(A1).txt" in names
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_html_escapes_everything_and_loads_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    root = make_case(tmp_path, HOSTILE)
    (root / "derived" / "media").mkdir(parents=True, exist_ok=True)
    (root / "derived" / "media" / "groups.json").write_text(
        json.dumps({"groups": [{"id": "G1", "kind": "near", "members": ["RE/1", "RE/2"]}]})
    )
    out = tmp_path / "list.html"
    assert cli("export", root, "--exhibits", out).exit_code == 0
    html = out.read_text("utf-8")
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in html
    assert '<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;' in html
    assert "=HYPERLINK(&#34;x.example&#34;)" in html
    assert "href=" not in html and "<script" not in html
    assert "G1 near-duplicate of RE/2" in html
    assert "generated 2026-01-01T00:00:00+00:00" in html
    again = tmp_path / "again.html"
    assert cli("export", root, "--exhibits", again).exit_code == 0
    assert again.read_bytes() == out.read_bytes()


def test_usage_errors(tmp_path):
    root = make_case(tmp_path)
    r = cli("export", root)
    assert r.exit_code == 2 and "nothing to export" in r.output
    r = cli("export", root, "--exhibits", tmp_path / "list.txt")
    assert r.exit_code == 2 and "must end in .csv or .html" in r.output
    r = cli("export", root, "--exhibits", tmp_path / "missing" / "list.csv")
    assert r.exit_code == 3 and "does not exist" in r.output
    r = cli("export", tmp_path / "nope", "--exhibits", tmp_path / "l.csv")
    assert r.exit_code == 3 and "no case folder" in r.output
    assert events(root, "export_written") == []
