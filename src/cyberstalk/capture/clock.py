"""The machine clock's synchronisation state, as the kernel reports it (adjtimex).

A capture's time comes from the machine clock; this says whether that clock was being
kept in sync (by NTP or similar) when the capture was made. ``adjtimex`` with no
modes only reads; when it cannot be read the state is ``unknown``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import struct
import sys
from typing import Any

TIME_ERROR = 5
STA_UNSYNC = 0x0040
_STATUS_OFFSET = 40
"""Offset of ``int status`` in struct timex on 64-bit Linux (after modes and 4 longs)."""
_MAXERROR_OFFSET = 24


def clock_sync_state() -> dict[str, Any]:
    """``{"synchronised": bool|"unknown", "source": ..., "maxerror_us": ...}``."""
    if not sys.platform.startswith("linux") or struct.calcsize("P") != 8:
        return {"synchronised": "unknown", "source": "not read on this platform"}
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        buf = ctypes.create_string_buffer(512)  # larger than struct timex; modes = 0
        state = int(libc.adjtimex(buf))
    except (OSError, AttributeError):
        return {"synchronised": "unknown", "source": "adjtimex unavailable"}
    if state < 0:
        return {"synchronised": "unknown", "source": f"adjtimex failed ({ctypes.get_errno()})"}
    status = int.from_bytes(buf.raw[_STATUS_OFFSET : _STATUS_OFFSET + 4], sys.byteorder)
    maxerror = int.from_bytes(
        buf.raw[_MAXERROR_OFFSET : _MAXERROR_OFFSET + 8], sys.byteorder, signed=True
    )
    synced = state != TIME_ERROR and not status & STA_UNSYNC
    return {
        "synchronised": synced,
        "source": "adjtimex (kernel clock discipline)",
        "clock_state": state,
        "status_flags": status,
        "maxerror_us": maxerror,
    }
