"""File typing with libmagic, and whether the extension agrees with the content."""

from __future__ import annotations

import mimetypes
import threading

import magic

_lock = threading.Lock()
_magic: magic.Magic | None = None

# Types whose content libmagic reports generically: any of these for an extension that
# names a text format is not a disagreement.
_TEXTUAL = {
    "text/plain",
    "text/csv",
    "text/xml",
    "application/xml",
    "application/json",
    "text/html",
    "application/javascript",
    "text/javascript",
    "message/rfc822",
    "application/mbox",
    "text/x-mail",
}
_EXTRA_TYPES = {
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".webp": "image/webp",
    ".mbox": "application/mbox",
    ".eml": "message/rfc822",
    ".jsonl": "application/json",
    ".opus": "audio/ogg",
}


def mime_of(head: bytes) -> str:
    """MIME type of content from its first bytes (libmagic; one shared handle, locked)."""
    global _magic
    with _lock:
        if _magic is None:
            _magic = magic.Magic(mime=True)
        return str(_magic.from_buffer(head)) if head else "application/x-empty"


def mime_from_extension(name: str) -> str | None:
    lower = name.lower()
    for ext, mime in _EXTRA_TYPES.items():
        if lower.endswith(ext):
            return mime
    guessed, _ = mimetypes.guess_type(lower, strict=False)
    return guessed


def extension_disagrees(name: str, detected: str) -> bool:
    """True when the name's extension promises a type the content is not.

    A name without a known extension never disagrees; generic textual types agree with
    any textual extension (libmagic cannot tell JSON from text in every case).
    """
    expected = mime_from_extension(name)
    if expected is None or detected in ("application/x-empty", "inode/x-empty"):
        return False
    if expected == detected:
        return False
    if expected in _TEXTUAL and (detected in _TEXTUAL or detected.startswith("text/")):
        return False
    if detected == "application/octet-stream":
        # libmagic's "don't know": only a disagreement for formats it always recognises
        return expected.split("/")[0] in ("image", "video", "audio") or expected.endswith("zip")
    exp_major, det_major = expected.split("/")[0], detected.split("/")[0]
    aliases = {
        ("image/jpg", "image/jpeg"),
        ("audio/mp4", "video/mp4"),
        ("image/heic", "image/heif"),
    }
    if (expected, detected) in aliases or (detected, expected) in aliases:
        return False
    return not (exp_major == "text" and det_major == "text")
