"""The one error a capture raises: it names the step that failed."""

from __future__ import annotations

from cyberstalk.errors import CyberstalkError


class CaptureError(CyberstalkError):
    """A capture could not be made; nothing of it was stored.

    ``step`` names what failed: ``url``, ``resolve``, ``address check``, ``connect``,
    ``tls``, ``http``, ``size limit``, ``time limit``, ``redirect limit``, ``decode``,
    ``browser``.
    """

    def __init__(self, step: str, message: str, *, advice: str | None = None) -> None:
        super().__init__(f"{step}: {message}", advice=advice)
        self.step = step
