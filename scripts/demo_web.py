#!/usr/bin/env python3
"""A synthetic public post page on 127.0.0.1 for ``make demo`` (``cyberstalk capture``).

Nobody in it is real. It serves ``/p/1`` (a post with OpenGraph and JSON-LD metadata and
an embedded image) and ``/share/1``, a redirect to it, like a platform's share link::

    python scripts/demo_web.py --port 0 --write-url web.url --timeout 120 &

It prints nothing on stdout and stops by itself after ``--timeout`` seconds.
"""

from __future__ import annotations

import argparse
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from struct import pack

POST = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>dylan.p_example: "Saw you at Bangor station again"</title>
<meta property="og:type" content="article">
<meta property="og:title" content="dylan.p_example on Example Social">
<meta property="og:description"
 content="Saw you at Bangor station again this morning. Blue coat suits you.">
<meta property="article:published_time" content="2026-02-20T07:42:00+00:00">
<meta property="article:author" content="dylan.p_example">
<script type="application/ld+json">
{"@context": "https://schema.org", "@type": "SocialMediaPosting",
 "author": {"@type": "Person", "name": "Dylan P", "alternateName": "dylan.p_example"},
 "datePublished": "2026-02-20T07:42:00+00:00",
 "articleBody": "Saw you at Bangor station again this morning. Blue coat suits you."}
</script>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}</style>
</head><body>
<h1>dylan.p_example</h1>
<p>Saw you at Bangor station again this morning. Blue coat suits you.</p>
<img src="/img/platform.png" alt="a platform sign" width="240" height="120">
<p><small>Posted 20 February 2026, 07:42 &middot; synthetic demo page, nobody is real</small></p>
</body></html>
"""


def _png(width: int, height: int) -> bytes:
    """A small two-colour PNG, made with zlib alone."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return pack(">I", len(data)) + kind + data + pack(">I", zlib.crc32(kind + data))

    top, bottom = b"\x1f\x4e\x79" * width, b"\xe0\xe0\xe0" * width
    rows = b"".join(b"\0" + (top if y < height // 2 else bottom) for y in range(height))
    header = pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


IMAGE = _png(240, 120)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/p/1":
            self._send(200, POST.encode(), "text/html; charset=utf-8", {})
        elif self.path == "/share/1":
            self._send(302, b"", "text/plain", {"Location": "/p/1"})
        elif self.path == "/img/platform.png":
            self._send(200, IMAGE, "image/png", {})
        else:
            self._send(404, b"not found", "text/plain", {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--write-url", type=Path, help="write the share link's URL here")
    parser.add_argument("--timeout", type=float, default=120.0, help="stop after this long")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    url = f"http://127.0.0.1:{server.server_address[1]}/share/1"
    if args.write_url:
        tmp = args.write_url.with_suffix(".tmp")
        tmp.write_text(url + "\n")
        tmp.replace(args.write_url)
    timer = threading.Timer(args.timeout, server.shutdown)
    timer.daemon = True
    timer.start()
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
