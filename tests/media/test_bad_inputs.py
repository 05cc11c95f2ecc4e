"""Bad images: each gets a clear per-exhibit error and the rest continues."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from cyberstalk.errors import MediaError
from cyberstalk.media import imageio, overview, process_case


def _png(size: tuple[int, int] = (60, 100), mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, "PNG")
    return buf.getvalue()


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 10, 10)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture
def bad_case(make_case):
    good = _jpeg()
    files = [
        ("empty.jpg", b""),
        ("truncated.png", _png((400, 400))[:300]),
        ("notes.jpg", b"this is a text file, not a photo\n" * 20),
        ("really_png.jpg", _png()),
        ("bomb.png", _png((10_000, 9_500), mode="1")),  # 95 Mpx: Pillow would only warn
        ("good.jpg", good),
    ]
    case = make_case(files)
    return case


def test_each_bad_image_is_reported_and_the_rest_continue(bad_case) -> None:
    summary = process_case(bad_case, ocr_mode="none")
    errors = {e.ref: e for e in summary.errors}
    assert set(errors) == {"RE/1", "RE/2", "RE/3", "RE/5"}
    assert "zero-byte" in errors["RE/1"].message
    assert "truncated or corrupt" in errors["RE/2"].message
    assert "libmagic says the content is text/" in errors["RE/3"].message
    assert "decompression bomb" in errors["RE/5"].message
    for e in errors.values():
        assert e.message.startswith(f"{e.ref} (") and e.advice  # names the exhibit, advises
    assert summary.processed == ["RE/4", "RE/6"]
    warnings = dict(summary.warnings)
    assert "extension is wrong" in warnings["RE/4"]
    rows = {r["ref"]: r for r in overview(bad_case)}
    assert rows["RE/1"]["error"] and rows["RE/6"]["error"] is None


def test_hash_is_checked_before_decoding(make_case) -> None:
    case = make_case([("a.jpg", _jpeg())])
    manifest = json.loads(case.manifest_path.read_text())
    manifest["exhibits"][0]["digests"]["sha256"] = hashlib.sha256(b"other").hexdigest()
    case.manifest_path.write_text(json.dumps(manifest))
    summary = process_case(case, ocr_mode="none")
    (problem,) = summary.errors
    assert "the manifest says" in problem.message
    assert "cyberstalk verify" in (problem.advice or "")


def test_decompression_bomb_error_over_twice_the_limit() -> None:
    with pytest.raises(MediaError, match="decompression bomb"):
        imageio.decode(_png((15_000, 13_000), mode="1"), label="big")


def test_symlinked_evidence_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "real.jpg"
    target.write_bytes(_jpeg())
    link = tmp_path / "link.jpg"
    link.symlink_to(target)
    with pytest.raises(MediaError, match="symlink"):
        imageio.read_verified(link, None, label="RE/1")


def test_changed_settings_or_bytes_mean_reading_again(make_case) -> None:
    case = make_case([("a.jpg", _jpeg())])
    first = process_case(case, ocr_mode="none")
    assert first.unchanged == 0 and first.processed == ["RE/1"]
    assert process_case(case, ocr_mode="none").unchanged == 1
    assert process_case(case, ocr_mode="auto").unchanged == 0  # another OCR mode
    assert process_case(case, ocr_mode="auto").unchanged == 1
    assert process_case(case, ocr_mode="auto", force=True).unchanged == 0


def test_truncated_image_is_refused_even_after_weasyprint_is_imported(bad_case) -> None:
    import weasyprint  # noqa: F401 - its import sets ImageFile.LOAD_TRUNCATED_IMAGES = True

    summary = process_case(bad_case, ocr_mode="none", force=True)
    assert "RE/2" in {e.ref for e in summary.errors}
