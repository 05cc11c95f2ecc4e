"""`cyberstalk media` and `cyberstalk search`, in process."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image

from cyberstalk.cli import app

from .conftest import write_export


def _shot_files(shots: Path) -> list[tuple[str, bytes]]:
    return [
        (n, (shots / n).read_bytes())
        for n in ("IMG_20260127_2331.jpg", "Screenshot_whatsapp_late.png")
    ]


def test_media_table_and_json(runner, make_case, shots: Path) -> None:
    case = make_case(_shot_files(shots))
    write_export(case)
    result = runner.invoke(app, ["media", str(case.root)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "REF" in out and "** GPS **" in out
    assert "GPS position 53.2274, -4.1293" in out
    assert "Screenshot_whatsapp_late.png" in out and "yes (" in out
    # capture times as every other command shows them (ISO, case zone), never EXIF's "2026:01"
    assert "2026-01-24 23:12:05 GMT (no offset: case zone)" in out
    assert "2026:01" not in out
    assert "RE/2: OCR" in result.stderr
    log = [json.loads(x) for x in case.custody_path.read_text().splitlines()]
    assert log[-1]["event"] == "media_processed"
    again = runner.invoke(app, ["media", str(case.root), "--json"])
    assert again.exit_code == 0
    rows = json.loads(again.stdout)
    assert [r["ref"] for r in rows] == ["RE/1", "RE/2"]
    assert rows[0]["gps_present"] is True and rows[1]["screenshot"] is True
    assert again.stderr == ""  # nothing to process the second time

    found = runner.invoke(app, ["search", str(case.root), "explanation"])
    assert found.exit_code == 0
    lines = found.stdout.splitlines()
    assert any(line.startswith("2026-01-24T23:10:00+00:00  RE/2 line") for line in lines)
    assert any("RE/90 line 14" in line for line in lines)
    as_json = json.loads(runner.invoke(app, ["search", str(case.root), "owe", "--json"]).stdout)
    assert {h["exhibit"] for h in as_json} >= {"RE/2", "RE/90"}


def test_media_exit_code_when_an_image_is_bad(runner, make_case) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (20, 20)).save(buf, "PNG")
    case = make_case([("ok.png", buf.getvalue()), ("broken.jpg", b"\xff\xd8\xff\xe0junk")])
    result = runner.invoke(app, ["media", str(case.root), "--ocr", "none"])
    assert result.exit_code == 1
    assert "RE/2" in result.stdout and "ERROR" in result.stdout
    assert "could not be read" in result.stderr


def test_bad_options_and_missing_case(runner, tmp_path: Path) -> None:
    assert runner.invoke(app, ["media", str(tmp_path), "--ocr", "maybe"]).exit_code == 2
    missing = runner.invoke(app, ["search", str(tmp_path / "nope"), "x"])
    assert missing.exit_code == 3 and "no case folder" in missing.stderr
    assert runner.invoke(app, ["search", "--help"]).exit_code == 0
