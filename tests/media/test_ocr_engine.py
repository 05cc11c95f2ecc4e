"""The OCR engine wrapper: batches give the same result as single runs, in the right
order; Otsu threshold; dark-mode inversion; missing tesseract is a clear error."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from cyberstalk.errors import MediaError
from cyberstalk.media import ocr

NAMES = (
    "Screenshot_whatsapp_late.png",
    "Screenshot_instagram_dm.png",
    "Screenshot_whatsapp_dark.png",
)


@pytest.mark.slow
def test_batched_ocr_equals_single_runs_and_keeps_order(shots: Path) -> None:
    prepared = {n: ocr.prepare(Image.open(shots / n)) for n in NAMES}
    single = {n: ocr.ocr_prepared(p, label=n) for n, p in prepared.items()}
    batched = ocr.ocr_many(list(prepared.items()), workers=2, expected=len(NAMES))
    assert ocr.batch_size_for(len(NAMES), 2) == 2  # a batch of two and a batch of one
    assert batched == single
    assert "explanation" in single[NAMES[0]]["text"]
    assert "running" in single[NAMES[1]]["text"]


def test_prepare_inverts_dark_screens_and_thresholds(shots: Path) -> None:
    dark = ocr.prepare(Image.open(shots / "Screenshot_whatsapp_dark.png"))
    light = ocr.prepare(Image.open(shots / "Screenshot_whatsapp_light.png"))
    assert dark.steps["inverted"] is True and light.steps["inverted"] is False
    assert dark.pgm.startswith(b"P5")
    img = Image.open(io.BytesIO(dark.pgm))
    hist = img.histogram()
    total = img.width * img.height
    assert hist[0] + hist[255] == total  # binary
    # Mostly light background after inversion: dark text on white, as tesseract wants.
    assert hist[255] > 0.8 * total


def test_otsu_splits_two_levels() -> None:
    hist = [0] * 256
    hist[30], hist[220] = 1000, 3000
    assert 30 <= ocr.otsu_threshold(hist) < 220


def test_missing_tesseract_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    ocr.tesseract_info.cache_clear()
    monkeypatch.setenv("PATH", "/nonexistent")
    try:
        with pytest.raises(MediaError, match="tesseract is not installed"):
            ocr.tesseract_info()
    finally:
        ocr.tesseract_info.cache_clear()


def test_parse_tsv_groups_words_into_lines() -> None:
    tsv = (
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
        "5\t1\t1\t1\t2\t1\t10\t50\t30\t20\t90.5\tsecond\n"
        "5\t1\t1\t1\t1\t1\t10\t10\t30\t20\t80\tHello\n"
        "5\t1\t1\t1\t1\t2\t50\t12\t40\t18\t70\tthere\n"
        "4\t1\t1\t1\t1\t0\t10\t10\t80\t20\t-1\t\n"
    )
    out = ocr.parse_tsv(tsv)
    assert out["text"] == "Hello there\nsecond"
    first = out["lines"][0]
    assert first["n"] == 1 and first["box"] == [10, 10, 80, 20] and first["confidence"] == 75.0
    assert out["mean_confidence"] == round((90.5 + 80 + 70) / 3, 2)
