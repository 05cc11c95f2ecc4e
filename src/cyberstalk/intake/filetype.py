"""File typing with libmagic, and whether the extension agrees with the content.

libmagic is called through ctypes directly (four functions), loaded by its usual file
names first: python-magic, the usual wrapper, finds the library by running ``ldconfig -p``
when it is imported, a subprocess at the start of every ingest. The flags are the ones
python-magic uses for ``mime=True``, and the tests compare the two on the fixtures.
"""

from __future__ import annotations

import mimetypes
import threading
from typing import Any

MAGIC_MIME_TYPE = 0x10
"""libmagic flag: report the MIME type only (``text/plain``, no charset)."""
MAGIC_PARAM_NAME_MAX = 1
"""libmagic parameter: how many named-rule recursions a file may use (raised to 64, as
python-magic does, because some valid files exceed libmagic's default)."""
LIBRARY_NAMES = ("libmagic.so.1", "libmagic.1.dylib", "libmagic.dylib")
"""Names to load libmagic by, before asking ``ctypes.util.find_library``."""


class Libmagic:
    """One libmagic handle for MIME types. libmagic handles are not thread-safe: calls are
    serialised by a lock."""

    def __init__(self) -> None:
        import ctypes

        lib = _load_library(ctypes)
        lib.magic_open.restype = ctypes.c_void_p
        lib.magic_open.argtypes = [ctypes.c_int]
        lib.magic_load.restype = ctypes.c_int
        lib.magic_load.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.magic_buffer.restype = ctypes.c_char_p
        lib.magic_buffer.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
        lib.magic_error.restype = ctypes.c_char_p
        lib.magic_error.argtypes = [ctypes.c_void_p]
        lib.magic_close.restype = None
        lib.magic_close.argtypes = [ctypes.c_void_p]
        self._lib = lib
        self._lock = threading.Lock()
        self._cookie = lib.magic_open(MAGIC_MIME_TYPE)
        if not self._cookie:
            raise OSError("libmagic could not make a handle (out of memory?)")
        if lib.magic_load(self._cookie, None) != 0:  # None: the system's default database
            raise OSError(f"libmagic could not load its database: {self._error()}")
        if hasattr(lib, "magic_setparam"):  # libmagic >= 5.21
            lib.magic_setparam.restype = ctypes.c_int
            lib.magic_setparam.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
            limit = ctypes.c_size_t(64)
            lib.magic_setparam(self._cookie, MAGIC_PARAM_NAME_MAX, ctypes.byref(limit))

    def __del__(self) -> None:
        # a handle per thread: one made by a thread that has ended is freed with it
        cookie, self._cookie = getattr(self, "_cookie", None), None
        if cookie:
            self._lib.magic_close(cookie)

    def _error(self) -> str:
        message = self._lib.magic_error(self._cookie)
        return message.decode("utf-8", "replace") if message else "no message"

    def mime(self, data: bytes) -> str:
        """libmagic's MIME type of ``data``."""
        with self._lock:
            found = self._lib.magic_buffer(self._cookie, data, len(data))
            if found is None:
                raise OSError(f"libmagic could not type the content: {self._error()}")
            return str(found.decode("utf-8", "replace"))


def _load_library(ctypes: Any) -> Any:
    for name in LIBRARY_NAMES:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    import ctypes.util

    found = ctypes.util.find_library("magic")
    if found is None:
        raise OSError("libmagic is not installed (Debian: apt install libmagic1)")
    return ctypes.CDLL(found)


_handles = threading.local()
"""Each thread's own handle, made on its first use (in ingest, on the finisher threads
while the first files are being copied): a handle serialises its callers, and libmagic
spends 0.5-3 ms on 64 KiB of text or random data, so one shared handle would hold a
many-file ingest to one core."""

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
    """MIME type of content from its first bytes (libmagic; a handle per thread)."""
    if not head:
        return "application/x-empty"
    handle: Libmagic | None = getattr(_handles, "magic", None)
    if handle is None:
        handle = _handles.magic = Libmagic()
    return handle.mime(head)


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
