"""scripts/demo_tsa.py as `make demo` runs it: a background process that serves a real
TSA on 127.0.0.1, writes its URL and root, and stops by itself."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from cryptography import x509

from cyberstalk.hashing.timestamps import TsaSpec, request_token

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "demo_tsa.py"


def start(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str, bytes]:
    url_file, root, log = tmp_path / "url", tmp_path / "root.pem", tmp_path / "tsa.log"
    args = ["--port", "0", "--write-url", str(url_file), "--root-out", str(root), *extra]
    with log.open("wb") as errors:
        proc = subprocess.Popen([sys.executable, str(SCRIPT), *args], stderr=errors)
    deadline = time.monotonic() + 20
    while not url_file.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert url_file.exists(), log.read_text()
    return proc, url_file.read_text().strip(), root.read_bytes()


def test_demo_tsa_serves_then_stops_by_itself(tmp_path):
    proc, url, root = start(tmp_path, "--timeout", "3")
    try:
        assert url.startswith("http://127.0.0.1:")
        x509.load_pem_x509_certificate(root)
        got = request_token(b"demo manifest", TsaSpec(url, root, "root.pem"))
        assert got.info.tsa_subject.startswith("CN=cyberstalk demo TSA")
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_demo_tsa_stops_on_sigterm(tmp_path):
    proc, _url, _root = start(tmp_path, "--backend", "asn1")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
