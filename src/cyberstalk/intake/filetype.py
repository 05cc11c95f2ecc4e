"""File typing with libmagic, and whether the extension agrees with the content.

libmagic is called through ctypes directly (four functions), loaded by its usual file
names first: python-magic, the usual wrapper, finds the library by running ``ldconfig -p``
when it is imported, a subprocess at the start of every ingest. The flags are the ones
python-magic uses for ``mime=True``, and the tests compare the two on the fixtures.

What an extension promises comes from :data:`EXTENSION_TYPES`, this module's own table, not
from :mod:`mimetypes`: that reads the host's ``/etc/mime.types`` (if there is one), so the
``mime_from_extension`` and ``extension_mismatch`` recorded in custody would differ from one
machine to the next (``.m4a``, ``.docx`` and ``.mkv`` are unknown without it, ``.xml`` is
``text/xml`` with it and ``application/xml`` without).
"""

from __future__ import annotations

import os
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

        from cyberstalk.native import load_library

        lib: Any = load_library(
            LIBRARY_NAMES, "magic", "libmagic is not installed (Debian: apt install libmagic1)"
        )
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
EXTENSION_TYPES = {
    # images, screenshots
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".jpe": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".avif": "image/avif",
    ".svg": "image/svg+xml",
    ".ico": "image/vnd.microsoft.icon",
    # video
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".3gp": "video/3gpp",
    ".3g2": "video/3gpp2",
    ".avi": "video/x-msvideo",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
    ".wmv": "video/x-ms-wmv",
    ".mpg": "video/mpeg",
    ".mpeg": "video/mpeg",
    ".flv": "video/x-flv",
    # audio, voice notes
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".amr": "audio/AMR",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".wav": "audio/x-wav",
    ".flac": "audio/flac",
    ".wma": "audio/x-ms-wma",
    # documents and text
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".text": "text/plain",
    ".md": "text/markdown",
    ".rtf": "application/rtf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    # exports, messages, web pages
    ".json": "application/json",
    ".jsonl": "application/json",
    ".xml": "application/xml",
    ".html": "text/html",
    ".htm": "text/html",
    ".xhtml": "application/xhtml+xml",
    ".js": "text/javascript",
    ".css": "text/css",
    ".eml": "message/rfc822",
    ".mht": "message/rfc822",
    ".mhtml": "message/rfc822",
    ".mbox": "application/mbox",
    ".msg": "application/vnd.ms-outlook",
    ".vcf": "text/vcard",
    ".ics": "text/calendar",
    ".sqlite": "application/vnd.sqlite3",
    ".sqlite3": "application/vnd.sqlite3",
    # archives, as libmagic names them
    ".zip": "application/zip",
    ".apk": "application/vnd.android.package-archive",
    ".tar": "application/x-tar",
    ".gz": "application/gzip",
    ".tgz": "application/gzip",
    ".bz2": "application/x-bzip2",
    ".xz": "application/x-xz",
    ".7z": "application/x-7z-compressed",
    ".rar": "application/vnd.rar",
}
"""Extension (lower case) -> the type it promises, for the kinds of file a submission
holds. An extension not here (``.dat``, ``.db``, ``.key``: no one type) promises nothing,
so it never disagrees with the content."""


def mime_of(head: bytes) -> str:
    """MIME type of content from its first bytes (libmagic; a handle per thread)."""
    if not head:
        return "application/x-empty"
    handle: Libmagic | None = getattr(_handles, "magic", None)
    if handle is None:
        handle = _handles.magic = Libmagic()
    return handle.mime(head)


def mime_from_extension(name: str) -> str | None:
    """The type ``name``'s last extension promises (:data:`EXTENSION_TYPES`), or None."""
    return EXTENSION_TYPES.get(os.path.splitext(name)[1].lower())  # noqa: PTH122 - a name


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
        ("video/3gpp", "audio/3gpp"),
        ("video/3gpp2", "audio/3gpp2"),
    }
    if (expected, detected) in aliases or (detected, expected) in aliases:
        return False
    return not (exp_major == "text" and det_major == "text")
