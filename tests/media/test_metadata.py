"""Metadata extraction against what the fixture script wrote (real exifread, Pillow, libheif)."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image

from cyberstalk.media import imageio, metadata
from cyberstalk.records.times import choose_zone

ZONE = choose_zone(None, "Europe/London")


def _extract(path: Path, mime: str = "image/png") -> dict[str, Any]:
    data = path.read_bytes()
    img = imageio.decode(data, label=path.name)
    return metadata.extract(data, img, name=path.name, mime=mime, zone=ZONE)


def test_camera_jpeg_exif_offset_and_gps(shots: Path, expected: dict[str, Any]) -> None:
    want = expected["IMG_20260127_2331.jpg"]
    meta = _extract(shots / "IMG_20260127_2331.jpg", "image/jpeg")
    assert meta["exif_source"].startswith("exifread")
    assert (meta["make"], meta["model"]) == (want["make"], want["model"])
    assert [meta["width"], meta["height"]] == want["dimensions"]
    cap = meta["capture_time"]
    assert cap["tag"] == "EXIF DateTimeOriginal"
    assert cap["tz_basis"] == "explicit_offset"
    assert cap["offset"] == want["offset"]
    assert datetime.fromisoformat(cap["utc"]) == datetime.fromisoformat(want["capture_time_utc"])
    assert meta["gps_present"] is True
    lat, lon = want["gps"]
    assert abs(meta["gps"]["latitude"] - lat) < 1e-4
    assert abs(meta["gps"]["longitude"] - lon) < 1e-4
    assert meta["screenshot"]["is_screenshot"] is False
    assert any("camera data" in r for r in meta["screenshot"]["reasons"])


def test_heic_falls_back_to_pillow_and_reads_zone_less_time(
    shots: Path, expected: dict[str, Any]
) -> None:
    want = expected["IMG_0420.heic"]
    meta = _extract(shots / "IMG_0420.heic", "image/heic")
    assert meta["format"] == "HEIF"
    assert meta["make"] == want["make"]
    assert meta["model"] == want["model"]
    assert meta["gps_present"] is False and meta["gps"] is None
    cap = meta["capture_time"]
    assert cap["offset"] is None
    assert cap["tz_basis"] == "case_timezone"
    assert "no offset" in cap["note"]
    assert datetime.fromisoformat(cap["utc"]) == datetime.fromisoformat(want["capture_time_utc"])
    if meta["exif_source"] == "pillow":  # exifread's HEIC parser crashed (platform.md)
        assert any("fell back to Pillow" in w for w in meta["warnings"])


def test_png_screenshot_software_chunk(shots: Path, expected: dict[str, Any]) -> None:
    meta = _extract(shots / "Screenshot_whatsapp_light.png")
    assert meta["png_text"]["Software"] == expected["Screenshot_whatsapp_light.png"]["software"]
    verdict = meta["screenshot"]
    assert verdict["is_screenshot"] is True
    assert any("PNG Software" in r for r in verdict["reasons"])
    assert meta["capture_time"] is None


def test_png_exif_chunk_capture_time_and_user_comment(shots: Path) -> None:
    meta = _extract(shots / "Screenshot_whatsapp_late.png")
    assert meta["user_comment"] == "Screenshot"
    cap = meta["capture_time"]
    assert cap["raw"] == "2026:01:24 23:12:05"
    assert cap["tz_basis"] == "case_timezone"
    assert cap["local_date"] == "2026-01-24"


def test_webp_exif_via_pillow_fallback() -> None:
    img = Image.new("RGB", (64, 64), (10, 200, 30))
    exif = Image.Exif()
    exif[0x010F] = "WebCam"
    exif.get_ifd(0x8769)[0x9003] = "2026:07:01 12:00:00"
    buf = io.BytesIO()
    img.save(buf, "WEBP", exif=exif.tobytes())
    data = buf.getvalue()
    meta = metadata.extract(
        data, imageio.decode(data, label="w"), name="x.webp", mime="image/webp", zone=ZONE
    )
    assert meta["make"] == "WebCam"
    # BST: 12:00 wall clock in July is 11:00 UTC.
    assert meta["capture_time"]["utc"] == "2026-07-01T11:00:00+00:00"


def test_zone_less_time_in_clock_change_gap_is_flagged() -> None:
    img = Image.new("RGB", (32, 32))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2026:03:29 01:30:00"  # does not exist in London
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    data = buf.getvalue()
    meta = metadata.extract(
        data, imageio.decode(data, label="g"), name="g.jpg", mime="image/jpeg", zone=ZONE
    )
    assert meta["capture_time"]["flags"] == ["dst_nonexistent"]


def test_malformed_exif_values_become_warnings() -> None:
    img = Image.new("RGB", (32, 32))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "0000:00:00 00:00:00"
    exif.get_ifd(0x8769)[0x9011] = "+99:99"
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    data = buf.getvalue()
    meta = metadata.extract(
        data, imageio.decode(data, label="m"), name="m.jpg", mime="image/jpeg", zone=ZONE
    )
    assert meta["capture_time"] is None
    assert any("not a real date-time" in w for w in meta["warnings"])


def test_screenshot_by_aspect_ratio_without_camera_data() -> None:
    verdict = metadata.screenshot_verdict(
        name="IMG_1.png", width=1170, height=2532, exif={}, png_text={}
    )
    assert verdict["is_screenshot"] is True
    assert "phone-screen aspect ratio" in verdict["reasons"][0]
    photo = metadata.screenshot_verdict(
        name="IMG_2.jpg", width=4032, height=3024, exif={"make": "X"}, png_text={}
    )
    assert photo["is_screenshot"] is False
