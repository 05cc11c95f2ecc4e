"""Loading a system C library for ctypes: libmagic (file typing) and OpenSSL's libcrypto
(Ed25519 signing).

A library is looked for by its usual file names first, then by
``ctypes.util.find_library``, which runs ``ldconfig -p`` (a subprocess: tens of
milliseconds, so only when the usual names fail).
"""

from __future__ import annotations

import ctypes


def load_library(names: tuple[str, ...], short_name: str, missing: str) -> ctypes.CDLL:
    """The first of ``names`` that loads, else the library ``find_library(short_name)``
    finds; OSError with ``missing`` (what to install) when there is none."""
    for name in names:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    from ctypes.util import find_library

    found = find_library(short_name)
    if found is None:
        raise OSError(missing)
    return ctypes.CDLL(found)
