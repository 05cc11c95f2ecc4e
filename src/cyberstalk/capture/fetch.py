"""HTTP fetching for captures: every hop's addresses checked, then connected to.

Each hop (the URL and every redirect) is resolved here, every address it resolves to is
checked (private, loopback, link-local and other non-public addresses are refused unless
``allow_private``), and the connection is made to a checked address: the host name is
never resolved a second time, so a DNS answer that changes between the check and the
connect (DNS rebinding) cannot steer the request. The Host header and the TLS server
name (SNI and certificate check) stay the URL's host name.

The body is kept exactly as it came off the wire (``raw``, content-encoding included) for
the WARC, and decoded (``body``) for the browser and the post reader. One deadline, one
byte budget and one redirect cap hold for the whole capture of one URL.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from cyberstalk.capture.errors import CaptureError

REDIRECTS = frozenset({301, 302, 303, 307, 308})
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_BYTES = 50 << 20
DEFAULT_MAX_REDIRECTS = 10


@dataclass(frozen=True)
class Limits:
    """Caps for the capture of one URL (the page, its redirects and what it embeds)."""

    timeout: float = DEFAULT_TIMEOUT
    """Seconds for the whole capture of one URL."""
    max_bytes: int = DEFAULT_MAX_BYTES
    """Most bytes received, over every response of the capture (raw and decoded)."""
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    """Most redirects followed from one URL."""


@dataclass
class Exchange:
    """One HTTP request and its response, as sent and received."""

    url: str
    """The URL asked for (host name form, as the page or the officer gave it)."""
    started: datetime
    """UTC time the request was sent (machine clock)."""
    ip: str
    """The address connected to."""
    port: int
    addresses: list[str]
    """Every address the host resolved to (all of them were checked)."""
    request_target: str
    request_headers: list[tuple[str, str]]
    http_version: str
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    raw: bytes
    """The body as received (content-encoding still applied)."""
    body: bytes | None
    """The body decoded (None when its content-encoding is not one we decode)."""
    cert_chain_sha256: list[str] = field(default_factory=list)
    """SHA-256 fingerprints of the server's certificate chain, leaf first (HTTPS)."""
    cert_chain_basis: str | None = None
    """Which chain: ``verified`` (as the TLS check built it) or ``peer`` (leaf only)."""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.response_headers:
            if key.lower() == lowered:
                return value
        return None

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()

    def summary(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "time_utc": self.started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "ip": self.ip,
            "port": self.port,
            "resolved": self.addresses,
            "status": self.status,
            "content_type": self.content_type or None,
            "bytes": len(self.raw),
            "tls_chain_sha256": self.cert_chain_sha256,
            "tls_chain_basis": self.cert_chain_basis,
        }


def address_problem(ip: str) -> str | None:
    """Why ``ip`` is not a public address (None when it is)."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    for test, what in (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_private", "private"),
        ("is_multicast", "multicast"),
        ("is_reserved", "reserved"),
    ):
        if getattr(addr, test):
            return what
    if not addr.is_global:
        return "not globally routable"
    return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (in resolver order, no repeats)."""
    if _is_ip(host):
        return [host]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise CaptureError("resolve", f"{host} could not be resolved: {exc.strerror}") from None
    out: list[str] = []
    for info in infos:
        ip = str(info[4][0])
        if ip not in out:
            out.append(ip)
    if not out:
        raise CaptureError("resolve", f"{host} resolved to no address")
    return out


def _decode(raw: bytes, encoding: str | None, cap: int) -> bytes | None:
    enc = (encoding or "identity").strip().lower()
    if enc in ("", "identity", "none"):
        return raw
    if enc in ("gzip", "x-gzip", "deflate"):
        wbits = 16 + zlib.MAX_WBITS if enc != "deflate" else zlib.MAX_WBITS
        for bits in (wbits, -zlib.MAX_WBITS) if enc == "deflate" else (wbits,):
            try:
                d = zlib.decompressobj(bits)
                out = d.decompress(raw, cap + 1)
            except zlib.error:
                continue
            if len(out) > cap or d.unconsumed_tail:
                raise CaptureError("size limit", f"decoded body is over {cap} bytes")
            return out
        raise CaptureError("decode", f"body says Content-Encoding {enc} but does not decode")
    return None


def _tls_chain(stream: Any) -> tuple[list[str], str | None]:
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    if ssl_object is None:
        return [], None
    import hashlib

    inner = getattr(ssl_object, "_sslobj", None)  # Python 3.11: the chain is on the C object
    getter = getattr(ssl_object, "get_verified_chain", None) or getattr(
        inner, "get_verified_chain", None
    )
    if getter is not None:
        try:
            chain = getter()
            ders = [c.public_bytes(ssl._ssl.ENCODING_DER) for c in chain]  # type: ignore[attr-defined]
            if ders:
                return [hashlib.sha256(d).hexdigest() for d in ders], "verified"
        except (AttributeError, ValueError, ssl.SSLError):
            pass
    der = ssl_object.getpeercert(binary_form=True)
    return ([hashlib.sha256(der).hexdigest()] if der else []), "peer"


class Fetcher:
    """Fetches URLs for one capture, under one deadline and one byte budget."""

    def __init__(
        self,
        limits: Limits,
        *,
        allow_private: bool,
        user_agent: str,
        ca_bundle: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        self.allow_private = allow_private
        self.user_agent = user_agent
        self.clock = clock
        self.deadline = clock() + limits.timeout
        self.received = 0
        ctx = ssl.create_default_context()
        try:
            import certifi

            ctx.load_verify_locations(certifi.where())
        except ImportError:  # pragma: no cover - httpx brings certifi
            pass
        if ca_bundle is not None:
            try:
                ctx.load_verify_locations(str(ca_bundle))
            except (OSError, ssl.SSLError) as exc:
                raise CaptureError("tls", f"cannot read CA bundle {ca_bundle}: {exc}") from None
        # no pooled connections: every request is a fresh connection to its checked address
        self._client = httpx.Client(
            verify=ctx,
            trust_env=False,
            follow_redirects=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    def close(self) -> None:
        self._client.close()

    def remaining(self, step: str = "time limit") -> float:
        left = self.deadline - self.clock()
        if left <= 0:
            raise CaptureError(
                step, f"the capture took longer than {self.limits.timeout:g} s", advice=_ADVICE
            )
        return left

    def fetch(
        self, url: str, *, referer: str | None = None, wait: float | None = None
    ) -> list[Exchange]:
        """GET ``url``, following redirects: every hop's exchange, the final one last.
        ``wait``: most seconds to wait on any one answer (default: the whole deadline)."""
        hops: list[Exchange] = []
        current = url
        while True:
            exchange = self._one(current, referer, wait)
            hops.append(exchange)
            location = exchange.header("location")
            if exchange.status not in REDIRECTS or not location:
                return hops
            if len(hops) > self.limits.max_redirects:
                raise CaptureError(
                    "redirect limit",
                    f"{url} redirected more than {self.limits.max_redirects} times",
                    advice="raise --max-redirects if the chain is genuine",
                )
            try:
                current = str(httpx.URL(current).join(location))
            except (httpx.InvalidURL, ValueError):
                raise CaptureError("redirect", f"{current} redirects to {location!r}") from None

    def _one(self, url: str, referer: str | None, wait: float | None) -> Exchange:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError) as exc:
            raise CaptureError("url", f"{url!r} is not a URL: {exc}") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise CaptureError("url", f"{url!r}: only http:// and https:// URLs are captured")
        host = parsed.host
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        addresses = resolve(host, port)
        for ip in addresses:
            problem = address_problem(ip)
            if problem and not self.allow_private:
                raise CaptureError(
                    "address check",
                    f"{host} resolves to {ip}, a {problem} address: refused",
                    advice="only public addresses are captured; --allow-private lets a "
                    "capture reach private, loopback and link-local addresses",
                )
        netloc = parsed.netloc.decode("ascii")
        is_ip = _is_ip(host)
        headers = [
            ("Host", netloc),
            ("User-Agent", self.user_agent),
            ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            ("Accept-Encoding", "gzip, deflate"),
        ]
        if referer:
            headers.append(("Referer", referer))
        last: Exception | None = None
        for ip in addresses:
            try:
                return self._connect(url, parsed, ip, port, addresses, headers, is_ip, wait)
            except httpx.ConnectError as exc:
                if "CERTIFICATE_VERIFY_FAILED" in str(exc) or "SSL" in str(exc):
                    raise CaptureError("tls", f"{host}: {exc}") from None
                last = exc
        raise CaptureError("connect", f"{host} ({', '.join(addresses)}): {last}")

    def _connect(
        self,
        url: str,
        parsed: httpx.URL,
        ip: str,
        port: int,
        addresses: list[str],
        headers: list[tuple[str, str]],
        is_ip: bool,
        wait: float | None,
    ) -> Exchange:
        left = self.remaining() if wait is None else min(wait, self.remaining())
        target = parsed.copy_with(host=ip.split("%", 1)[0])
        extensions: dict[str, Any] = {} if is_ip else {"sni_hostname": parsed.host}
        started = datetime.now(UTC)
        request = self._client.build_request(
            "GET", target, headers=headers, extensions=extensions, timeout=httpx.Timeout(left)
        )
        cap = self.limits.max_bytes
        try:
            response = self._client.send(request, stream=True)
        except httpx.TimeoutException:
            raise CaptureError(
                "time limit", f"{url}: no answer within {left:g} s", advice=_ADVICE
            ) from None
        except httpx.ConnectError:
            raise
        except httpx.HTTPError as exc:
            raise CaptureError("http", f"{url}: {exc}") from None
        try:
            chain, basis = _tls_chain(response.extensions.get("network_stream"))
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and self.received + int(declared) > cap:
                raise CaptureError(
                    "size limit",
                    f"{url} says its body is {declared} bytes; the capture's limit is {cap}",
                    advice="raise --max-bytes if the page is genuinely that large",
                )
            raw = bytearray()
            try:
                for chunk in response.iter_raw():
                    raw.extend(chunk)
                    self.received += len(chunk)
                    if self.received > cap:
                        raise CaptureError(
                            "size limit",
                            f"{url}: more than {cap} bytes received",
                            advice="raise --max-bytes if the page is genuinely that large",
                        )
                    self.remaining()
            except httpx.TimeoutException:
                raise CaptureError(
                    "time limit", f"{url}: body not received within the limit", advice=_ADVICE
                ) from None
            except httpx.HTTPError as exc:
                raise CaptureError("http", f"{url}: {exc}") from None
        finally:
            response.close()
        body = _decode(bytes(raw), response.headers.get("content-encoding"), cap)
        if body is not None and body is not raw:
            self.received += max(0, len(body) - len(raw))
            if self.received > cap:
                raise CaptureError("size limit", f"{url}: more than {cap} bytes once decoded")
        return Exchange(
            url=url,
            started=started,
            ip=ip,
            port=port,
            addresses=addresses,
            request_target=parsed.raw_path.decode("ascii"),
            request_headers=[
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw
            ],
            http_version=response.http_version,
            status=response.status_code,
            reason=response.reason_phrase,
            response_headers=[
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw
            ],
            raw=bytes(raw),
            body=body,
            cert_chain_sha256=chain,
            cert_chain_basis=basis,
        )


_ADVICE = "try again later, or raise --timeout if the site is slow"
