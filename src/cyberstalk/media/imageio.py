"""Reading an image exhibit safely: hash before decode, refuse bombs, name every fault.

The order matters (custody.md, "Bad inputs"): the stored bytes are read once and their
SHA-256 compared with the manifest *before* any decoder sees them, so a decoder fault can
never be blamed on a file that changed after ingest. Pillow's ``MAX_IMAGE_PIXELS`` is kept
as shipped; between 1x and 2x that limit Pillow only *warns*
(``DecompressionBombWarning``), so the warning is turned into an error here.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import warnings
from pathlib import Path

from PIL import Image, ImageFile, UnidentifiedImageError

from cyberstalk.errors import MediaError

try:  # HEIC/HEIF through libheif; registering is idempotent.
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a hard dependency
    pass

MAX_FILE_BYTES = 200 * 1024 * 1024
"""Refuse to read image exhibits larger than this into memory (no phone image is)."""


def read_verified(path: Path, expected_sha256: str | None, *, label: str) -> bytes:
    """Read a stored exhibit (regular file only) and check it against its manifest digest."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise MediaError(
            f"{label}: stored file {path} is missing",
            advice="run `cyberstalk verify` on the case: evidence must never disappear",
        ) from None
    except OSError as exc:
        raise MediaError(
            f"{label}: cannot open stored file {path}: {exc.strerror}",
            advice="check the case folder's permissions (and that the file is not a symlink)",
        ) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise MediaError(f"{label}: {path} is not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise MediaError(
                f"{label}: {info.st_size} bytes is larger than the {MAX_FILE_BYTES} byte limit "
                "for images",
                advice="examine this file with a dedicated tool",
            )
        with os.fdopen(os.dup(fd), "rb") as fh:
            data = fh.read()
    finally:
        os.close(fd)
    if expected_sha256 is not None:
        found = hashlib.sha256(data).hexdigest()
        if found != expected_sha256.lower():
            raise MediaError(
                f"{label}: SHA-256 of {path} is {found}, the manifest says {expected_sha256}",
                advice="stop and run `cyberstalk verify`: the stored evidence no longer matches",
            )
    return data


def decode(data: bytes, *, label: str) -> Image.Image:
    """Decode image bytes fully, turning every decoder complaint into a MediaError."""
    if not data:
        raise MediaError(
            f"{label}: zero-byte file, there is no image to read",
            advice="ask the victim for the original file again",
        )
    # WeasyPrint sets this process-wide flag to True when imported (weasyprint/images.py),
    # which would make Pillow silently pad a truncated image. Evidence must never be padded.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            img.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise MediaError(
            f"{label}: refused as a possible decompression bomb ({exc})",
            advice="the declared pixel count is implausible for a photo or screenshot; "
            "examine it with a dedicated tool",
        ) from None
    except UnidentifiedImageError:
        raise MediaError(
            f"{label}: no image decoder recognises these {len(data)} bytes "
            f"(first bytes {data[:8].hex()})",
            advice="the file is corrupt or not an image despite its name",
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Pillow reports truncation as OSError("image file is truncated ...").
        raise MediaError(
            f"{label}: image is truncated or corrupt ({exc})",
            advice="ask for the original file again; a partial copy cannot be read reliably",
        ) from None
    return img
