"""process_case end to end on the fixture screenshots: real tesseract (eng+cym), real
libmagic, records checked against what the fixture script drew, links to an export."""

from __future__ import annotations

import difflib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cyberstalk.media import load_groups, process_case
from cyberstalk.media.link import normalise
from cyberstalk.records import Record, load_records

from .conftest import build_case, whatsapp_export_records, write_export

SCREENS = (
    "Screenshot_whatsapp_light.png",
    "Screenshot_whatsapp_dark.png",
    "Screenshot_whatsapp_late.png",
    "Screenshot_instagram_dm.png",
    "whatsapp_light_cropped.jpg",
    "IMG_20260127_2331.jpg",
    "IMG_0420.heic",
)


@pytest.fixture(scope="module")
def processed(shots: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("ocrcase") / "case"
    case = build_case(root, [(n, (shots / n).read_bytes()) for n in SCREENS])
    write_export(case)
    summary = process_case(case)
    refs = {n: f"RE/{i}" for i, n in enumerate(SCREENS, 1)}
    records = [r for r in load_records(case.derived_dir) if r.parser == "media.screenshot"]
    return {"case": case, "summary": summary, "refs": refs, "records": records}


def _by_ref(processed: dict[str, Any], name: str) -> list[Record]:
    ref = processed["refs"][name]
    return sorted(
        (r for r in processed["records"] if r.locator.exhibit == ref),
        key=lambda r: r.locator.line_start or 0,
    )


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, normalise(a), normalise(b)).ratio()


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        "Screenshot_whatsapp_light.png",
        "Screenshot_whatsapp_dark.png",
        "Screenshot_instagram_dm.png",
    ],
)
def test_chat_lines_match_what_was_drawn(
    processed: dict[str, Any], expected: dict[str, Any], name: str
) -> None:
    drawn = [d for d in expected[name]["drawn"] if "text" in d]
    got = _by_ref(processed, name)
    assert len(got) == len(drawn)
    for want, rec in zip(drawn, got, strict=True):
        assert _similar(rec.text, want["text"]) >= 0.9, (rec.text, want["text"])
        assert rec.subtype == want["direction"]
        if want["direction"] == "incoming":
            assert rec.sender == expected[name]["conversation"]
        sent = datetime.fromisoformat(want["sent"])
        # Minute precision: the screen shows the minute the message was sent in.
        assert rec.time_utc == sent.replace(second=0).astimezone(UTC)
        assert rec.tz_basis.value == "case_timezone"
        assert "ocr" in rec.flags
        assert 0.5 < rec.extra["confidence"] <= 1.0
        assert rec.extra["date_source"] == expected[name]["date_source"]
        assert rec.kind.value == "screenshot_text"
        x, y, w, h = rec.extra["region"]
        bx, by, bw, bh = want["box"]
        assert bx <= x and by <= y and x + w <= bx + bw and y + h <= by + bh  # inside its bubble


@pytest.mark.slow
def test_dark_mode_welsh_text_survives(processed: dict[str, Any]) -> None:
    texts = " ".join(r.text for r in _by_ref(processed, "Screenshot_whatsapp_dark.png"))
    assert "chysylltu" in texts and "Paid" in texts


@pytest.mark.slow
def test_date_from_metadata_when_no_header(processed: dict[str, Any]) -> None:
    (rec,) = _by_ref(processed, "Screenshot_whatsapp_late.png")
    assert rec.extra["date_source"] == "image metadata (EXIF DateTimeOriginal)"
    assert rec.time_utc == datetime(2026, 1, 24, 23, 10, tzinfo=UTC)
    assert _similar(rec.text, "You owe me an explanation") >= 0.9


@pytest.mark.slow
def test_screenshots_corroborate_the_export(processed: dict[str, Any]) -> None:
    exports = {r.text: r.id for r in whatsapp_export_records()}
    whatsapp = [
        r
        for n in ("Screenshot_whatsapp_light.png", "Screenshot_whatsapp_dark.png",
                  "Screenshot_whatsapp_late.png")
        for r in _by_ref(processed, n)
    ]  # fmt: skip
    for rec in whatsapp:
        best = max(exports, key=lambda t: _similar(t, rec.text))
        assert rec.extra["corroborates"] == [exports[best]], rec.text
        assert rec.extra["corroboration"][0]["time_difference_s"] in range(0, 60)
    # Instagram lines have no Instagram export in this case: nothing to corroborate.
    assert all(
        "corroborates" not in r.extra for r in _by_ref(processed, "Screenshot_instagram_dm.png")
    )
    assert processed["summary"].corroborated == len(whatsapp) + len(
        _by_ref(processed, "whatsapp_light_cropped.jpg")
    )


@pytest.mark.slow
def test_derived_files_and_summary(processed: dict[str, Any]) -> None:
    case, summary, refs = processed["case"], processed["summary"], processed["refs"]
    assert summary.errors == []
    assert summary.gps == [refs["IMG_20260127_2331.jpg"]]
    assert summary.ocr_done == 5  # the two camera photos are not OCR'd
    ocr = json.loads((case.derived_dir / "ocr" / "RE-1.json").read_text("utf-8"))
    assert ocr["languages"] == "eng+cym" and ocr["psm"] == 4
    assert ocr["lines"][0]["words"][0]["confidence"] > 0
    assert all(len(ln["box"]) == 4 for ln in ocr["lines"])
    dark = json.loads((case.derived_dir / "ocr" / "RE-2.json").read_text("utf-8"))
    assert dark["preprocessing"]["inverted"] is True
    media = json.loads((case.derived_dir / "media" / "RE-6.json").read_text("utf-8"))
    assert media["metadata"]["gps_present"] is True
    assert media["phash"]["method"].startswith("phash-256")
    groups = load_groups(case)
    assert [g["members"] for g in groups] == [[refs["Screenshot_whatsapp_light.png"],
                                              refs["whatsapp_light_cropped.jpg"]]]  # fmt: skip


@pytest.mark.slow
def test_rerun_is_byte_identical(processed: dict[str, Any]) -> None:
    case = processed["case"]
    before = {p: p.read_bytes() for p in sorted(case.derived_dir.rglob("*.json*"))}
    summary = process_case(
        case, refs=[processed["refs"]["Screenshot_whatsapp_late.png"]], force=True
    )
    assert summary.ocr_done == 1 and summary.unchanged == 0
    after = {p: p.read_bytes() for p in sorted(case.derived_dir.rglob("*.json*"))}
    assert before == after


@pytest.mark.slow
def test_second_run_keeps_current_results(processed: dict[str, Any]) -> None:
    case = processed["case"]
    again = process_case(case)
    assert again.ocr_done == 0 and again.unchanged == len(SCREENS)
    assert again.gps == processed["summary"].gps
    assert again.corroborated == processed["summary"].corroborated
