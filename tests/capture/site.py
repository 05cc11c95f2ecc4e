"""A synthetic website on 127.0.0.1 for capture tests: HTTP and HTTPS (a CA made here).

Nobody in it is real. Pages: public posts (OpenGraph + JSON-LD, X-style, Instagram-style,
a time with no offset, hostile markup), an image, redirects (a chain and a loop), a slow
answer, an oversized body, a gzip page and a page that changes on every fetch.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import ipaddress
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PIL import Image


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (48, 32), colour).save(out, "PNG")
    return out.getvalue()


IMAGE = png((200, 30, 30))
POST_TEXT = "I know where you park every morning"
X_ID = 1891234567890123456
"""An X post id; its Snowflake time is X_TIME."""
X_TIME = dt.datetime.fromtimestamp(((X_ID >> 22) + 1288834974657) / 1000, dt.UTC)

GENERIC = f"""<!doctype html><html><head><meta charset="utf-8"><title>A public post</title>
<meta property="og:title" content="Post by dylan.p_example">
<meta property="og:description" content="{POST_TEXT}">
<meta property="article:published_time" content="2026-03-01T21:14:00+00:00">
<script type="application/ld+json">
{{"@context": "https://schema.org", "@type": "SocialMediaPosting",
  "author": {{"@type": "Person", "name": "Dylan P", "alternateName": "dylan.p_example"}},
  "datePublished": "2026-03-01T21:14:00+00:00", "articleBody": "{POST_TEXT}"}}
</script></head>
<body><h1>dylan.p_example</h1><p>{POST_TEXT}</p><img src="/img/a.png" alt="car park"></body>
</html>""".encode()

X_PAGE = f"""<!doctype html><html><head><title>Dylan on X</title>
<meta property="og:url" content="https://x.com/dylan_p_example/status/{X_ID}">
<meta property="og:site_name" content="X (formerly Twitter)">
<meta property="og:title" content="Dylan P on X: &quot;saw you at the station&quot; / X">
<meta property="og:description" content="\u201csaw you at the station\u201d">
<meta name="twitter:card" content="summary">
</head><body><p>saw you at the station</p></body></html>""".encode()

INSTAGRAM_PAGE = b"""<!doctype html><html><head><title>Instagram</title>
<meta property="og:url" content="https://www.instagram.com/p/C0dEExAmPlE/">
<meta property="og:title" content="d.price.new_example on Instagram">
<meta property="og:description"
 content="12 likes, 3 comments - d.price.new_example on March 2, 2026: &quot;nice coat today&quot;">
</head><body>nice coat today</body></html>"""

NAIVE_PAGE = b"""<html><head>
<meta property="og:description" content="posted with no zone">
<meta property="article:published_time" content="2026-03-03T08:00:00">
<meta property="article:author" content="dylan.p_example">
</head><body>posted with no zone</body></html>"""

HOSTILE_PAGE = (
    b"""<html><head>
<meta property="og:description" content="&lt;img src=x onerror=alert(1)&gt; hello">
<meta property="article:published_time" content="2026-03-04T10:00:00Z">
<script type="application/ld+json">"""
    + (b"[" * 5000)
    + b"""</script>
<script type="application/ld+json">{"@type": "Comment", "text": NaN}</script>
<link rel="stylesheet" href="http://10.255.255.1/evil.css">
</head><body><script>document.title = 'x'</script><p>hello</p></body></html>"""
)


@dataclass
class Site:
    http: str
    """http://127.0.0.1:PORT"""
    https: str
    """https://localhost:PORT"""
    ca_pem: Path
    leaf_der: bytes
    ca_der: bytes
    hits: dict[str, int] = field(default_factory=dict)
    servers: list[ThreadingHTTPServer] = field(default_factory=list)

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def handle(self) -> None:
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the capture gave up on a slow or oversized answer

        def send(
            self,
            status: int,
            body: bytes,
            ctype: str = "text/html; charset=utf-8",
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            site.hits[path] = site.hits.get(path, 0) + 1
            pages = {
                "/post": GENERIC,
                "/x": X_PAGE,
                "/instagram": INSTAGRAM_PAGE,
                "/naive": NAIVE_PAGE,
                "/hostile": HOSTILE_PAGE,
            }
            if path in pages:
                self.send(200, pages[path])
            elif path == "/img/a.png":
                self.send(200, IMAGE, "image/png")
            elif path == "/r1":
                self.send(302, b"", headers={"Location": "/r2"})
            elif path == "/r2":
                self.send(301, b"", headers={"Location": f"{site.http}/post"})
            elif path == "/to-inside":
                inside = site.http.replace("127.0.0.1", "inside.test")
                self.send(302, b"", headers={"Location": f"{inside}/post"})
            elif path == "/loop":
                self.send(302, b"", headers={"Location": "/loop"})
            elif path == "/slow":
                time.sleep(3)
                self.send(200, b"<p>late</p>")
            elif path == "/big":  # no Content-Length: the cap must hold while reading
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Connection", "close")
                self.end_headers()
                chunk = b"x" * 65536
                try:
                    for _ in range(64):
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True
            elif path == "/declared-big":
                self.send_response(200)
                self.send_header("Content-Length", str(10 << 30))
                self.end_headers()
                self.close_connection = True
            elif path == "/gzip":
                self.send(200, gzip.compress(GENERIC), headers={"Content-Encoding": "gzip"})
            elif path == "/changing":
                n = site.hits[path]
                body = (
                    f'<html><head><meta property="og:description" content="version {n}">'
                    f'<meta property="article:published_time" content="2026-03-0{n}T12:00:00Z">'
                    f"</head><body>version {n}</body></html>"
                ).encode()
                self.send(200, body)
            else:
                self.send(404, b"not found")

    return Handler


def _certs(folder: Path) -> tuple[ssl.SSLContext, Path, bytes, bytes]:
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cyberstalk test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = folder / "ca.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain = folder / "server.pem"
    chain.write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    )
    key_path = folder / "server.key"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, key_path)
    return (
        ctx,
        ca_pem,
        leaf.public_bytes(serialization.Encoding.DER),
        ca.public_bytes(serialization.Encoding.DER),
    )


def start_site(folder: Path) -> Site:
    ctx, ca_pem, leaf_der, ca_der = _certs(folder)
    site = Site(http="", https="", ca_pem=ca_pem, leaf_der=leaf_der, ca_der=ca_der)
    handler = _handler(site)
    plain = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    secure = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    secure.socket = ctx.wrap_socket(secure.socket, server_side=True)
    for server in (plain, secure):
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        site.servers.append(server)
    site.http = f"http://127.0.0.1:{plain.server_address[1]}"
    site.https = f"https://localhost:{secure.server_address[1]}"
    return site
