"""Writing a capture's HTTP exchanges as a WARC 1.1 file (gzip per record) with warcio.

Each exchange is a ``response`` record (status line, headers and the body exactly as
received) and a ``request`` record (``WARC-Concurrent-To`` the response), both with the
address connected to in ``WARC-IP-Address``. The body is de-chunked by the HTTP client,
so a ``Transfer-Encoding`` header is kept as ``X-Archive-Orig-Transfer-Encoding`` (the
usual archive convention): a reader then does not try to de-chunk it again.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders  # type: ignore[import-untyped]
from warcio.warcwriter import WARCWriter  # type: ignore[import-untyped]

from cyberstalk.capture.fetch import Exchange


@dataclass(frozen=True)
class Placed:
    """Where one exchange's response record sits in the WARC file."""

    url: str
    offset: int
    """Byte offset of the record (its gzip member) in the file."""
    length: int
    """Bytes of the record (its gzip member)."""
    record_id: str


def _warc_date(exchange: Exchange) -> str:
    return exchange.started.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _response_headers(exchange: Exchange) -> list[tuple[str, str]]:
    out = []
    for key, value in exchange.response_headers:
        if key.lower() == "transfer-encoding":
            key = "X-Archive-Orig-Transfer-Encoding"
        out.append((key, value))
    return out


def write_warc(
    path: Path, exchanges: Sequence[Exchange], info: dict[str, Any]
) -> dict[int, Placed]:
    """Write ``exchanges`` (in order) to ``path``; ``info`` goes in the warcinfo record.
    Returns, by position in ``exchanges``, where each response record was written."""
    placed: dict[int, Placed] = {}
    with path.open("xb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="WARC/1.1")
        writer.write_record(writer.create_warcinfo_record(path.name, info))
        for index, ex in enumerate(exchanges):
            common = {"WARC-Date": _warc_date(ex), "WARC-IP-Address": ex.ip}
            version = {"HTTP/2": "HTTP/2", "HTTP/1.0": "HTTP/1.0"}.get(ex.http_version, "HTTP/1.1")
            response = writer.create_warc_record(
                ex.url,
                "response",
                payload=io.BytesIO(ex.raw),
                length=len(ex.raw),
                http_headers=StatusAndHeaders(
                    f"{ex.status} {ex.reason}".strip(),
                    _response_headers(ex),
                    protocol=version,
                ),
                warc_headers_dict=dict(common),
            )
            record_id = response.rec_headers.get_header("WARC-Record-ID")
            offset = fh.tell()
            writer.write_record(response)
            placed[index] = Placed(ex.url, offset, fh.tell() - offset, record_id)
            request = writer.create_warc_record(
                ex.url,
                "request",
                payload=io.BytesIO(b""),
                length=0,
                http_headers=StatusAndHeaders(
                    f"GET {ex.request_target} {version}",
                    ex.request_headers,
                    is_http_request=True,
                ),
                warc_headers_dict={**common, "WARC-Concurrent-To": record_id},
            )
            writer.write_record(request)
        fh.flush()
    return placed
