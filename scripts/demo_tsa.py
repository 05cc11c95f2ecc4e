#!/usr/bin/env python3
"""A local RFC 3161 Time-Stamp Authority for the demo and the tests. Loopback only.

Not a production TSA: its keys are made up on the spot and thrown away. It exists so that
``make demo`` and the test suite can exercise ``cyberstalk timestamp`` with no network.

Two signing back ends:

* ``openssl`` (default): every request is answered by ``openssl ts -reply``, an
  independent, widely used TSA implementation. OpenSSL refuses to sign with a
  certificate whose extended key usage is not critical, so it cannot make bad tokens.
* ``asn1``: replies built with asn1crypto (TSTInfo, CMS SignedData with
  signing-certificate-v2). Used by the tests for tokens OpenSSL will not make: a TSA
  certificate with a non-critical EKU, a chosen genTime.

The HTTP front end can also misbehave on purpose (``mode``): answer garbage, hang,
return an HTTP error, reject the request, echo a wrong nonce or answer for a different
request. Usage for the demo::

    python scripts/demo_tsa.py --port 0 --write-url tsa.url --root-out tsa-root.pem \
        --lifetime 600 &

It prints nothing on stdout; it stops by itself after ``--lifetime`` seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from asn1crypto import cms, core, tsp
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TEST_POLICY = "1.3.6.1.4.1.55555.1.1"
"""A private, made-up policy OID for test tokens."""

MODES = (
    "ok",
    "garbage",
    "hang",
    "http-error",
    "reject",
    "wrong-nonce",
    "other-request",
    "drop",
)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cyberstalk test TSA (not for evidence)"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


@dataclass
class TsaIdentity:
    """Keys and certificates of a test TSA: a root CA and a TSA certificate it issued."""

    root_key: ec.EllipticCurvePrivateKey
    root_cert: x509.Certificate
    tsa_key: ec.EllipticCurvePrivateKey
    tsa_cert: x509.Certificate

    @property
    def root_pem(self) -> bytes:
        return self.root_cert.public_bytes(serialization.Encoding.PEM)

    @property
    def tsa_cert_pem(self) -> bytes:
        return self.tsa_cert.public_bytes(serialization.Encoding.PEM)

    @property
    def tsa_key_pem(self) -> bytes:
        return self.tsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def make_identity(
    name: str = "cyberstalk demo TSA",
    *,
    eku_critical: bool = True,
    with_eku: bool = True,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> TsaIdentity:
    """A fresh root CA and TSA certificate (EC P-256, KeyUsage digitalSignature and by
    default a critical ExtendedKeyUsage timeStamping, as RFC 3161 section 2.3 requires)."""
    now = dt.datetime.now(dt.UTC)
    start = not_before or now - dt.timedelta(days=1)
    end = not_after or now + dt.timedelta(days=365)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(f"{name} root")
    root_cert = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(start, now - dt.timedelta(days=1)) - dt.timedelta(days=30))
        .not_valid_after(max(end, now) + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, hashes.SHA256())
    )
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(root_name)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(tsa_key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
    )
    if with_eku:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=eku_critical
        )
    tsa_cert = builder.sign(root_key, hashes.SHA256())
    return TsaIdentity(root_key, root_cert, tsa_key, tsa_cert)


def build_reply_asn1(
    query: bytes,
    identity: TsaIdentity,
    *,
    gen_time: dt.datetime | None = None,
    serial: int | None = None,
    nonce_override: int | None = None,
) -> bytes:
    """An RFC 3161 TimeStampResp for ``query``, signed with asn1crypto + cryptography."""
    req = tsp.TimeStampReq.load(query)
    when = (gen_time or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    info: dict[str, Any] = {
        "version": "v1",
        "policy": TEST_POLICY,
        "message_imprint": req["message_imprint"],
        "serial_number": serial if serial is not None else secrets.randbits(63),
        "gen_time": when,
    }
    if nonce_override is not None:
        info["nonce"] = nonce_override
    elif req["nonce"].native is not None:
        info["nonce"] = req["nonce"].native
    tst_info = tsp.TSTInfo(info)
    tst_der = tst_info.dump()
    cert_der = identity.tsa_cert.public_bytes(serialization.Encoding.DER)
    a_cert = a_x509.Certificate.load(cert_der)
    a_root = a_x509.Certificate.load(identity.root_cert.public_bytes(serialization.Encoding.DER))
    signed_attrs = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
            cms.CMSAttribute(
                {"type": "message_digest", "values": [hashlib.sha256(tst_der).digest()]}
            ),
            cms.CMSAttribute(
                {
                    "type": "signing_certificate_v2",
                    "values": [{"certs": [{"cert_hash": hashlib.sha256(cert_der).digest()}]}],
                }
            ),
        ]
    )
    signature = identity.tsa_key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": a_cert.issuer,
                        "serial_number": a_cert.serial_number,
                    }
                }
            ),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": signed_attrs,
            "signature_algorithm": {"algorithm": "sha256_ecdsa"},
            "signature": signature,
        }
    )
    certificates = [a_cert]
    if req["cert_req"].native:
        certificates.append(a_root)
    # DER: the members of a SET OF are sorted by their encodings (X.690 11.6).
    certificates.sort(key=lambda c: c.dump())
    signed_data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {
                "content_type": "tst_info",
                "content": cms.ParsableOctetString(tst_der),
            },
            "certificates": certificates,
            "signer_infos": [signer_info],
        }
    )
    resp = tsp.TimeStampResp(
        {
            "status": {"status": "granted"},
            "time_stamp_token": {"content_type": "signed_data", "content": signed_data},
        }
    )
    return bytes(resp.dump())


def build_rejection(text: str = "request refused by test TSA") -> bytes:
    """A TimeStampResp with status rejection and failInfo badAlg (RFC 3161 section 2.4.2)."""
    status = tsp.PKIStatusInfo(
        {"status": "rejection", "status_string": [text], "fail_info": {"bad_alg"}}
    )
    # asn1crypto's TimeStampResp makes the (optional) token mandatory: wrap by hand.
    return bytes(core.Sequence(contents=status.dump()).dump())


_OPENSSL_CONF = """\
[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/root.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = {policy}
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


class OpensslSigner:
    """Answers queries with ``openssl ts -reply`` using a key and config in ``workdir``."""

    def __init__(self, identity: TsaIdentity, workdir: Path) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "tsa.pem").write_bytes(identity.tsa_cert_pem)
        (workdir / "root.pem").write_bytes(identity.root_pem)
        key_path = workdir / "tsa.key"
        key_path.write_bytes(identity.tsa_key_pem)
        key_path.chmod(0o600)
        (workdir / "serial").write_text("01\n")
        (workdir / "tsa.cnf").write_text(_OPENSSL_CONF.format(dir=workdir, policy=TEST_POLICY))
        self._lock = threading.Lock()

    def reply(self, query: bytes) -> bytes:
        # openssl keeps the serial number in a file: one signer at a time.
        with self._lock, tempfile.TemporaryDirectory(dir=self.workdir) as tmp:
            q = Path(tmp) / "q.tsq"
            r = Path(tmp) / "r.tsr"
            q.write_bytes(query)
            proc = subprocess.run(
                [
                    "openssl",
                    "ts",
                    "-reply",
                    "-config",
                    str(self.workdir / "tsa.cnf"),
                    "-section",
                    "tsa_config1",
                    "-queryfile",
                    str(q),
                    "-out",
                    str(r),
                ],
                capture_output=True,
                check=False,
                timeout=30,
            )
            if proc.returncode != 0 or not r.exists():
                raise RuntimeError(
                    f"openssl ts -reply failed: {proc.stderr.decode(errors='replace')}"
                )
            return r.read_bytes()


def _tamper_nonce(query: bytes) -> bytes:
    req = tsp.TimeStampReq.load(query)
    nonce = req["nonce"].native or 0
    fields = {k: req[k] for k in ("version", "message_imprint", "cert_req")}
    return bytes(tsp.TimeStampReq({**fields, "nonce": nonce + 1}).dump())


def _other_request(query: bytes) -> bytes:
    req = tsp.TimeStampReq.load(query)
    imprint = req["message_imprint"]
    other = {
        "hash_algorithm": imprint["hash_algorithm"],
        "hashed_message": hashlib.sha256(b"some other document").digest(),
    }
    new: dict[str, Any] = {
        "version": req["version"],
        "message_imprint": other,
        "cert_req": req["cert_req"],
    }
    if req["nonce"].native is not None:
        new["nonce"] = req["nonce"].native
    return bytes(tsp.TimeStampReq(new).dump())


@dataclass
class LocalTsa:
    """A TSA HTTP server on 127.0.0.1. ``mode`` and ``signer`` may be changed while it runs."""

    identity: TsaIdentity
    workdir: Path
    backend: str = "openssl"
    mode: str = "ok"
    fail_first: int = 0
    """Answer this many requests with HTTP 503 before behaving (for retry tests)."""
    gen_time: dt.datetime | None = None
    """asn1 back end only: the genTime to put in tokens."""
    hang_seconds: float = 30.0
    requests: list[bytes] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._openssl = OpensslSigner(self.identity, self.workdir / "openssl")

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/tsr"

    @property
    def root_pem(self) -> bytes:
        return self.identity.root_pem

    def sign(self, query: bytes) -> bytes:
        if self.mode == "wrong-nonce":
            query = _tamper_nonce(query)
        elif self.mode == "other-request":
            query = _other_request(query)
        if self.mode == "reject":
            return build_rejection()
        if self.backend == "asn1":
            return build_reply_asn1(query, self.identity, gen_time=self.gen_time)
        return self._openssl.reply(query)

    def start(self, port: int = 0) -> LocalTsa:
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _send(self, code: int, body: bytes, ctype: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                tsa.requests.append(body)
                tsa.content_types.append(self.headers.get("Content-Type", ""))
                if tsa.fail_first > 0:
                    tsa.fail_first -= 1
                    self._send(503, b"busy, try again", "text/plain")
                    return
                if self.headers.get("Content-Type") != "application/timestamp-query":
                    self._send(415, b"expected application/timestamp-query", "text/plain")
                    return
                mode = tsa.mode
                if mode == "hang":
                    tsa._stop.wait(tsa.hang_seconds)
                    return
                if mode == "drop":
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(2)
                    return
                if mode == "http-error":
                    self._send(500, b"internal error", "text/plain")
                    return
                if mode == "garbage":
                    self._send(200, b"<html>not a timestamp</html>", "application/timestamp-reply")
                    return
                try:
                    reply = tsa.sign(body)
                except Exception as exc:  # a bad query: answer like a TSA would
                    self._send(400, f"bad request: {exc}".encode(), "text/plain")
                    return
                self._send(200, reply, "application/timestamp-reply")

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def start_tsa(
    workdir: Path, *, backend: str = "openssl", port: int = 0, **identity: Any
) -> LocalTsa:
    """Make an identity and start a TSA serving on 127.0.0.1."""
    return LocalTsa(make_identity(**identity), workdir, backend=backend).start(port)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--write-url", type=Path, help="write the TSA URL to this file")
    parser.add_argument("--root-out", type=Path, help="write the root certificate (PEM) here")
    parser.add_argument(
        "--lifetime",
        "--timeout",
        dest="lifetime",
        type=float,
        default=900.0,
        help="stop after this many seconds (default 900)",
    )
    parser.add_argument("--backend", choices=("openssl", "asn1"), default="openssl")
    args = parser.parse_args(argv)

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # leave through the finally: stop serving, delete the keys

    signal.signal(signal.SIGTERM, on_term)
    with tempfile.TemporaryDirectory(prefix="demo-tsa-") as tmp:
        tsa = start_tsa(Path(tmp), backend=args.backend, port=args.port)
        try:
            if args.root_out:
                _write_atomic(args.root_out, tsa.root_pem)
            if args.write_url:
                _write_atomic(args.write_url, tsa.url.encode() + b"\n")
            print(f"demo TSA at {tsa.url} for {args.lifetime:.0f}s", file=sys.stderr)
            deadline = time.monotonic() + args.lifetime
            with contextlib.suppress(KeyboardInterrupt):
                while time.monotonic() < deadline:
                    time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        finally:
            tsa.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
