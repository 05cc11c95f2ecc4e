"""Signing keys: the PEM files written and read directly are the bytes cryptography's
serialization module writes, keys from stock OpenSSL load, and other keys are refused
with a clear message."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cyberstalk.errors import CaseError
from cyberstalk.hashing import signing


@pytest.mark.parametrize("_round", range(20))
def test_pem_bytes_are_cryptographys(_round: int) -> None:
    key = Ed25519PrivateKey.generate()
    assert signing.private_pem(key) == key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assert signing.public_pem(key) == key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    loaded = signing.load_private_pem(signing.private_pem(key))
    assert isinstance(loaded, Ed25519PrivateKey)
    assert loaded.private_bytes_raw() == key.private_bytes_raw()
    public = signing.load_public_pem(signing.public_pem(key))
    assert public.public_bytes_raw() == key.public_key().public_bytes_raw()


def test_created_key_round_trips_and_signs(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "RE.ed25519.pem"
    key = signing.load_or_create_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    again = signing.load_or_create_key(path)
    assert again.private_bytes_raw() == key.private_bytes_raw()
    data = b'{"exhibits": []}'
    sig = signing.sign(key, data)
    assert signing.check_signature(signing.public_pem(key), data, sig) is None
    assert signing.check_signature(signing.public_pem(key), data + b" ", sig) == (
        "signature does not match manifest.json"
    )


def test_openssl_keys_load_and_verify(tmp_path: Path) -> None:
    """A key made by stock OpenSSL is accepted, and OpenSSL checks our signature with the
    public key file we write."""
    key_file = tmp_path / "k.pem"
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(key_file)], check=True
    )
    key_file.chmod(0o600)
    key = signing.load_or_create_key(key_file)
    pub = subprocess.run(
        ["openssl", "pkey", "-in", str(key_file), "-pubout"], check=True, capture_output=True
    ).stdout
    assert pub == signing.public_pem(key)
    (tmp_path / "pub.pem").write_bytes(signing.public_pem(key))
    (tmp_path / "data").write_bytes(b"manifest")
    (tmp_path / "sig").write_bytes(signing.sign(key, b"manifest"))
    subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"),
         "-rawin", "-in", str(tmp_path / "data"), "-sigfile", str(tmp_path / "sig")],
        check=True,
        capture_output=True,
    )  # fmt: skip


def test_general_forms_are_read_by_cryptography(tmp_path: Path) -> None:
    """PEM with CRLF line ends is not the fixed form; it still loads (the general path)."""
    key = Ed25519PrivateKey.generate()
    crlf = signing.private_pem(key).replace(b"\n", b"\r\n")
    loaded = signing.load_private_pem(crlf)
    assert isinstance(loaded, Ed25519PrivateKey)
    assert loaded.private_bytes_raw() == key.private_bytes_raw()


def test_other_keys_are_refused(tmp_path: Path) -> None:
    ec_key = tmp_path / "ec.pem"
    ec_key.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ec_key.chmod(0o600)
    with pytest.raises(CaseError, match="is not an Ed25519 key"):
        signing.load_or_create_key(ec_key)
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    junk.chmod(0o600)
    with pytest.raises(CaseError, match="not an unencrypted PEM private key"):
        signing.load_or_create_key(junk)
    encrypted = tmp_path / "enc.pem"
    encrypted.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    encrypted.chmod(0o600)
    with pytest.raises(CaseError, match="not an unencrypted PEM private key"):
        signing.load_or_create_key(encrypted)
    ec_pub = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = ec_pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert signing.check_signature(pem, b"x", b"y") == "public key is not an Ed25519 key"
    assert signing.check_signature(b"nonsense", b"x", b"y").startswith(
        "public key is not valid PEM"
    )


def test_ingest_does_not_import_the_serialization_module(tmp_path: Path) -> None:
    """The point of the fixed forms: a whole ingest without cryptography's serialization
    (SSH, ciphers, bcrypt) being imported."""
    code = f"""
import sys
from pathlib import Path
from cyberstalk.case import init_case
from cyberstalk.intake.ingest import IngestOptions, ingest
case = init_case(Path({str(tmp_path / "case")!r}), reference="R", officer="O", initials="RE")
f = Path({str(tmp_path / "a.txt")!r}); f.write_text("hello")
key = Path({str(tmp_path / "k.pem")!r})
ingest(case, [f], IngestOptions(source="s", operator="O", key_path=key))  # creates the key
ingest(case, [f], IngestOptions(source="t", operator="O", key_path=key))  # loads it
print("cryptography.hazmat.primitives.serialization" in sys.modules)
"""
    out = subprocess.run(
        [__import__("sys").executable, "-c", code], check=True, capture_output=True, text=True
    )
    assert out.stdout.strip() == "False"


def _create_side_by_side(path: Path, n: int) -> list[bytes | BaseException]:
    """``n`` threads make the key at ``path`` at the same moment (as a refused ingest's
    key thread and the next ingest's can); what each got back, or raised."""
    barrier = threading.Barrier(n)
    got: list[bytes | BaseException] = [b""] * n

    def make(i: int) -> None:
        barrier.wait()
        try:
            got[i] = signing.load_or_create_key(path).private_bytes_raw()
        except BaseException as exc:  # reported by the test
            got[i] = exc

    threads = [threading.Thread(target=make, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return got


@pytest.mark.parametrize("_round", range(10))
def test_keys_made_at_once_are_one_key(tmp_path: Path, _round: int) -> None:
    path = tmp_path / "keys" / "RE.ed25519.pem"
    got = _create_side_by_side(path, 8)
    assert [g for g in got if isinstance(g, BaseException)] == []
    on_disk = signing.load_or_create_key(path).private_bytes_raw()
    # every caller signs with the key that stays on disk; none made a key that was lost
    assert got == [on_disk] * 8
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_keys_made_by_processes_at_once_are_one_key(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "RE.ed25519.pem"
    script = (
        "import sys, time; from pathlib import Path\n"
        "from cyberstalk.hashing import signing\n"
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
        "print(signing.load_or_create_key(Path(sys.argv[1])).private_bytes_raw().hex())\n"
    )
    start = time.time() + 1.5
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(path), str(start)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    keys = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0] * 4
    assert keys == [signing.load_or_create_key(path).private_bytes_raw().hex()] * 4


def test_a_key_that_cannot_be_read_or_made_is_a_clear_error(tmp_path: Path) -> None:
    dangling = tmp_path / "gone.pem"
    dangling.symlink_to(tmp_path / "nowhere.pem")
    under_a_file = tmp_path / "file" / "RE.ed25519.pem"
    under_a_file.parent.write_bytes(b"not a folder")
    for path in (dangling, under_a_file):
        with pytest.raises(CaseError, match="cannot read or create the signing key") as info:
            signing.load_or_create_key(path)
        assert "cyberstalk ingest --key FILE" in (info.value.advice or "")
    assert not (tmp_path / "nowhere.pem").exists()
