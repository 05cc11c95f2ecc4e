"""Image metadata: EXIF (exifread, falling back to Pillow), PNG text, capture time, GPS,
and whether the image looks like a screenshot (with the reason).

exifread is tried first because it reads the raw tags without decoding pixels; it is known
to crash on some HEIC files and to return nothing for WebP (platform.md), so any failure
or an empty result falls back to Pillow's ``getexif()`` (HEIC via pillow-heif).
"""

from __future__ import annotations

import io
import logging
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

import exifread
from PIL import Image

from cyberstalk.records import TzBasis
from cyberstalk.records.times import ZoneChoice, localise

# Pillow tag numbers (TIFF/EXIF).
_MAKE, _MODEL, _SOFTWARE, _DATETIME = 0x010F, 0x0110, 0x0131, 0x0132
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DT_ORIGINAL, _DT_DIGITIZED = 0x9003, 0x9004
_OFFSET_TIME, _OFFSET_ORIGINAL = 0x9010, 0x9011
_USER_COMMENT = 0x9286
_CAMERA_TAGS = (0x829A, 0x829D, 0x8827, 0x920A)  # exposure, f-number, ISO, focal length

_EXIFREAD_NAMES = {
    "Image Make": "make",
    "Image Model": "model",
    "Image Software": "software",
    "Image DateTime": "datetime",
    "EXIF DateTimeOriginal": "datetime_original",
    "EXIF DateTimeDigitized": "datetime_digitized",
    "EXIF OffsetTime": "offset_time",
    "EXIF OffsetTimeOriginal": "offset_time_original",
    "EXIF UserComment": "user_comment",
}
_EXIFREAD_CAMERA = ("EXIF ExposureTime", "EXIF FNumber", "EXIF ISOSpeedRatings", "EXIF FocalLength")

EXIF_TIME_RE = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
OFFSET_RE = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
PNG_TIME_RE = re.compile(
    r"^(\d{4})[-:](\d{2})[-:](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)
SCREENSHOT_WORD = re.compile(r"screen ?shot|sgrinlun", re.IGNORECASE)

# Portrait phone screens run from 16:9 (1.78) to about 9:21.5 (2.39).
PHONE_ASPECT = (1.70, 2.40)

_TEXT_LIMIT = 2000

# exifread logs "File format not recognized" / "no exif data" at warning level for every
# image without EXIF; results and failures are reported in our own warnings instead.
logging.getLogger("exifread").setLevel(logging.ERROR)


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        # EXIF UserComment starts with an 8-byte character-code prefix.
        if value[:8] in (b"ASCII\x00\x00\x00", b"UNICODE\x00", b"\x00" * 8):
            value = value[8:]
        value = value.decode("utf-8", "replace")
    text = str(value).replace("\x00", "").strip()
    return text[:_TEXT_LIMIT] or None


def _ratio_float(value: Any) -> float:
    if hasattr(value, "num") and hasattr(value, "den"):
        return float(value.num) / float(value.den)
    return float(value)


def _exifread_tags(data: bytes) -> tuple[dict[str, Any], str | None]:
    """Raw tags via exifread; (tags, error). exifread raises assorted exceptions."""
    try:
        tags = exifread.process_file(io.BytesIO(data), details=False)
    except Exception as exc:  # third-party parser: any failure means fallback
        return {}, f"exifread failed: {type(exc).__name__}: {exc}"
    return dict(tags), None


def _from_exifread(tags: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, name in _EXIFREAD_NAMES.items():
        if key in tags:
            tag = tags[key]
            raw = bytes(tag.values) if name == "user_comment" else tag.printable
            out[name] = _clean(raw)
    out["camera_tags"] = any(k in tags for k in _EXIFREAD_CAMERA)
    gps: dict[str, Any] = {}
    for ref_key, val_key, name in (
        ("GPS GPSLatitudeRef", "GPS GPSLatitude", "lat"),
        ("GPS GPSLongitudeRef", "GPS GPSLongitude", "lon"),
    ):
        if val_key in tags:
            try:
                gps[name] = [_ratio_float(v) for v in tags[val_key].values]
            except (TypeError, ValueError, ZeroDivisionError):
                gps[name + "_error"] = str(tags[val_key].printable)
            if ref_key in tags:
                gps[name + "_ref"] = _clean(tags[ref_key].printable)
    if any(k.startswith("GPS ") for k in tags):
        gps["present"] = True
    out["gps_raw"] = gps
    return out


def _from_pillow(img: Image.Image) -> tuple[dict[str, Any], str | None]:
    try:
        exif = img.getexif()
        exif_ifd = exif.get_ifd(_EXIF_IFD)
        gps_ifd = exif.get_ifd(_GPS_IFD)
    except Exception as exc:  # malformed EXIF must not stop the exhibit
        return {}, f"Pillow getexif failed: {type(exc).__name__}: {exc}"
    if not exif and not exif_ifd and not gps_ifd:
        return {}, None
    out: dict[str, Any] = {
        "make": _clean(exif.get(_MAKE)),
        "model": _clean(exif.get(_MODEL)),
        "software": _clean(exif.get(_SOFTWARE)),
        "datetime": _clean(exif.get(_DATETIME)),
        "datetime_original": _clean(exif_ifd.get(_DT_ORIGINAL)),
        "datetime_digitized": _clean(exif_ifd.get(_DT_DIGITIZED)),
        "offset_time": _clean(exif_ifd.get(_OFFSET_TIME)),
        "offset_time_original": _clean(exif_ifd.get(_OFFSET_ORIGINAL)),
        "user_comment": _clean(exif_ifd.get(_USER_COMMENT)),
        "camera_tags": any(t in exif_ifd for t in _CAMERA_TAGS),
    }
    gps: dict[str, Any] = {}
    if gps_ifd:
        gps["present"] = True
        for ref_tag, val_tag, name in ((1, 2, "lat"), (3, 4, "lon")):
            if val_tag in gps_ifd:
                try:
                    gps[name] = [_ratio_float(v) for v in gps_ifd[val_tag]]
                except (TypeError, ValueError, ZeroDivisionError):
                    gps[name + "_error"] = str(gps_ifd[val_tag])
            if ref_tag in gps_ifd:
                gps[name + "_ref"] = _clean(gps_ifd[ref_tag])
    out["gps_raw"] = gps
    return {k: v for k, v in out.items() if v is not None}, None


def _decimal(parts: list[float], ref: str | None, negative: str) -> float | None:
    if len(parts) != 3:
        return None
    value = parts[0] + parts[1] / 60 + parts[2] / 3600
    if ref and ref.upper().startswith(negative):
        value = -value
    return round(value, 6)


def gps_position(raw: dict[str, Any]) -> dict[str, Any] | None:
    """Decimal latitude/longitude from EXIF GPS parts, or None when there is no position."""
    if not raw.get("present"):
        return None
    lat = _decimal(raw.get("lat", []), raw.get("lat_ref"), "S")
    lon = _decimal(raw.get("lon", []), raw.get("lon_ref"), "W")
    out: dict[str, Any] = {"latitude": lat, "longitude": lon}
    if lat is None or lon is None or not (-90 <= lat <= 90) or not (-180 <= lon <= 180):
        out["note"] = "GPS tags present but no usable position"
        out["latitude"] = out["longitude"] = None
    return out


def _offset(text: str | None) -> timezone | None:
    if not text:
        return None
    m = OFFSET_RE.match(text.strip())
    if not m:
        return None
    sign = -1 if m.group(1) == "-" else 1
    delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
    if delta > timedelta(hours=14):
        return None
    return timezone(sign * delta)


def capture_time(
    exif: dict[str, Any], png_text: dict[str, str], zone: ZoneChoice
) -> tuple[dict[str, Any] | None, list[str]]:
    """The capture time: DateTimeOriginal (+ OffsetTimeOriginal), else DateTime, else PNG
    ``Creation Time``. Returns (capture dict or None, warnings)."""
    warnings: list[str] = []
    candidates: list[tuple[str, str | None, str | None, str | None]] = [
        ("EXIF DateTimeOriginal", exif.get("datetime_original"),
         exif.get("offset_time_original"), "OffsetTimeOriginal"),
        ("EXIF DateTime", exif.get("datetime"), exif.get("offset_time"), "OffsetTime"),
    ]  # fmt: skip
    for tag, raw, offset_raw, offset_tag in candidates:
        if not raw:
            continue
        m = EXIF_TIME_RE.match(raw)
        if not m:
            warnings.append(f"{tag} {raw!r} is not a valid EXIF date-time; ignored")
            continue
        try:
            y, mo, d, hh, mi, ss = (int(g) for g in m.groups())
            naive = datetime(y, mo, d, hh, mi, ss)  # noqa: DTZ001 - localised below
        except ValueError:
            warnings.append(f"{tag} {raw!r} is not a real date-time; ignored")
            continue
        tz = _offset(offset_raw)
        if offset_raw and tz is None:
            warnings.append(f"{offset_tag} {offset_raw!r} is not a valid offset; ignored")
        return _capture(tag, raw, naive, tz, offset_raw if tz else None, offset_tag, zone), warnings
    raw_png = png_text.get("Creation Time")
    if raw_png:
        m2 = PNG_TIME_RE.match(raw_png.strip())
        if not m2:
            warnings.append(f"PNG Creation Time {raw_png!r} is not a date-time we read; ignored")
            return None, warnings
        try:
            y, mo, d, hh, mi, ss = (int(g) for g in m2.groups()[:6])
            naive = datetime(y, mo, d, hh, mi, ss)  # noqa: DTZ001
        except ValueError:
            warnings.append(f"PNG Creation Time {raw_png!r} is not a real date-time; ignored")
            return None, warnings
        off = m2.group(7)
        tz = UTC if off == "Z" else _offset(off)
        return _capture("PNG Creation Time", raw_png, naive, tz, off, "PNG Creation Time", zone), (
            warnings
        )
    return None, warnings


def _capture(
    tag: str,
    raw: str,
    naive: datetime,
    tz: tzinfo | None,
    offset_raw: str | None,
    offset_tag: str | None,
    zone: ZoneChoice,
) -> dict[str, Any]:
    if tz is not None:
        utc = naive.replace(tzinfo=tz).astimezone(UTC)
        return {
            "tag": tag,
            "raw": raw,
            "offset": offset_raw,
            "utc": utc.isoformat(),
            "local_date": naive.date().isoformat(),
            "tz_basis": TzBasis.EXPLICIT_OFFSET.value,
            "flags": [],
            "note": f"{tag} with its explicit offset ({offset_tag} {offset_raw})",
        }
    utc, flags = localise(naive, zone.zone)
    return {
        "tag": tag,
        "raw": raw,
        "offset": None,
        "utc": utc.isoformat(),
        "local_date": naive.date().isoformat(),
        "tz_basis": zone.basis.value,
        "flags": sorted(flags),
        "note": f"{tag} has no offset: read as wall-clock time in {zone.zone.key} "
        f"({zone.basis.value.replace('_', ' ')}); the device's own zone is unknown",
    }


def png_text_chunks(img: Image.Image) -> dict[str, str]:
    """tEXt/zTXt/iTXt chunks of a PNG (empty for other formats)."""
    text = getattr(img, "text", None)
    if not isinstance(text, dict):
        return {}
    return {str(k): (_clean(v) or "") for k, v in sorted(text.items())}


def screenshot_verdict(
    *, name: str, width: int, height: int, exif: dict[str, Any], png_text: dict[str, str]
) -> dict[str, Any]:
    """Is this a screenshot? Decided from software tags, comments, name, camera data and
    aspect ratio; every reason is kept so an officer can disagree."""
    reasons: list[str] = []
    strong = False
    for label, value in (
        ("EXIF Software", exif.get("software")),
        ("PNG Software", png_text.get("Software")),
        ("EXIF UserComment", exif.get("user_comment")),
        ("PNG Description", png_text.get("Description")),
    ):
        if value and SCREENSHOT_WORD.search(value):
            reasons.append(f"{label} {value!r} names a screenshot")
            strong = True
    if SCREENSHOT_WORD.search(name):
        reasons.append(f"file name {name!r} says screenshot")
        strong = True
    camera = bool(exif.get("make") or exif.get("model") or exif.get("camera_tags"))
    long_side, short_side = max(width, height), max(1, min(width, height))
    aspect = long_side / short_side
    phone_shape = PHONE_ASPECT[0] <= aspect <= PHONE_ASPECT[1]
    if camera:
        reasons.append(
            "camera data present (make/model or exposure tags)"
            + ("" if strong else ": a photo, not a screenshot")
        )
    elif phone_shape:
        reasons.append(f"no camera data and a phone-screen aspect ratio ({aspect:.2f}:1)")
    else:
        reasons.append(f"no camera data; aspect ratio {aspect:.2f}:1 is not a phone screen's")
    is_shot = strong or (not camera and phone_shape)
    return {"is_screenshot": is_shot, "reasons": reasons, "aspect_ratio": round(aspect, 3)}


def extract(
    data: bytes, img: Image.Image, *, name: str, mime: str | None, zone: ZoneChoice
) -> dict[str, Any]:
    """Everything we read about one decoded image, as a JSON-ready dict."""
    warnings: list[str] = []
    tags, error = _exifread_tags(data)
    exif: dict[str, Any] = {}
    source: str | None = None
    if tags:
        exif = _from_exifread(tags)
        source = "exifread"
        # exifread without `details` skips UserComment (iOS writes "Screenshot" there):
        # fill fields it left empty from Pillow, and say so.
        pil, _ = _from_pillow(img)
        filled = sorted(k for k, v in pil.items() if v and not exif.get(k) and k != "gps_raw")
        for key in filled:
            exif[key] = pil[key]
        if filled:
            source = f"exifread + pillow ({', '.join(filled)})"
    else:
        if error:
            warnings.append(error + "; fell back to Pillow getexif()")
        exif, pil_error = _from_pillow(img)
        if pil_error:
            warnings.append(pil_error)
        source = "pillow" if exif else None
    png_text = png_text_chunks(img)
    width, height = img.size
    capture, time_warnings = capture_time(exif, png_text, zone)
    warnings.extend(time_warnings)
    gps = gps_position(exif.get("gps_raw", {}))
    fmt = img.format or "unknown"
    return {
        "format": fmt,
        "mime": mime,
        "width": width,
        "height": height,
        "mode": img.mode,
        "exif_source": source,
        "make": exif.get("make"),
        "model": exif.get("model"),
        "software": exif.get("software") or png_text.get("Software"),
        "user_comment": exif.get("user_comment"),
        "png_text": png_text,
        "capture_time": capture,
        "gps": gps,
        "gps_present": gps is not None,
        "screenshot": screenshot_verdict(
            name=name, width=width, height=height, exif=exif, png_text=png_text
        ),
        "warnings": warnings,
    }
