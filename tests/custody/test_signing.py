"""Signing keys: the PEM files written and read directly are the bytes cryptography's
serialization module writes, keys from stock OpenSSL load, and other keys are refused
with a clear message."""

from __future__ import annotations

import os
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
    theirs = Ed25519PrivateKey.generate()
    key = signing.PrivateKey(theirs.private_bytes_raw())
    assert key.public_bytes_raw() == theirs.public_key().public_bytes_raw()
    assert signing.private_pem(key) == theirs.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assert signing.public_pem(key) == theirs.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    loaded = signing.load_private_pem(signing.private_pem(key))
    assert isinstance(loaded, signing.PrivateKey)
    assert loaded.private_bytes_raw() == theirs.private_bytes_raw()
    public = signing.load_public_pem(signing.public_pem(key))
    assert public.public_bytes_raw() == theirs.public_key().public_bytes_raw()


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 4096, 1 << 20])
def test_signatures_are_cryptographys(size: int) -> None:
    """Ed25519 gives a key and a message one signature (RFC 8032): OpenSSL's, through
    ctypes, must be byte for byte the one cryptography makes, and check with it."""
    for _ in range(8):
        theirs = Ed25519PrivateKey.generate()
        key = signing.PrivateKey(theirs.private_bytes_raw())
        data = os.urandom(size)
        sig = signing.sign(key, data)
        assert sig == theirs.sign(data)
        assert len(sig) == 64
        theirs.public_key().verify(sig, data)
        assert signing.check_signature(signing.public_pem(key), data, sig) is None


def test_rfc8032_test_vector() -> None:
    """RFC 8032 section 7.1, TEST 2: a fixed key, its public key and a signature."""
    seed = bytes.fromhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
    key = signing.PrivateKey(seed)
    assert key.public_bytes_raw().hex() == (
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
    )
    assert signing.sign(key, bytes.fromhex("72")).hex() == (
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
    )
    assert "4ccd" not in repr(key)  # the seed is never shown


def test_a_seed_of_another_length_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes, not 31"):
        signing.PrivateKey(b"x" * 31)
    seed = bytearray(range(32))
    key = signing.PrivateKey(seed)  # a bytearray is taken, and copied
    seed[0] = 99
    assert key.private_bytes_raw() == bytes(range(32))
    assert key.sign(b"m") == Ed25519PrivateKey.from_private_bytes(bytes(range(32))).sign(b"m")


def test_no_libcrypto_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without OpenSSL's libcrypto the key cannot be used: a CaseError that says what to
    install, not a traceback."""
    import ctypes.util

    from cyberstalk.hashing import libcrypto

    monkeypatch.setattr(libcrypto, "_lib", None)
    monkeypatch.setattr(libcrypto, "LIBRARY_NAMES", ("libcrypto-not-here.so.9",))
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    with pytest.raises(CaseError, match="apt install openssl") as info:
        signing.load_or_create_key(tmp_path / "keys" / "RE.ed25519.pem")
    assert "cannot use the signing key" in str(info.value)


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
    key = signing.PrivateKey.generate()
    crlf = signing.private_pem(key).replace(b"\n", b"\r\n")
    loaded = signing.load_private_pem(crlf)
    assert isinstance(loaded, signing.PrivateKey)
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


def test_ingest_does_not_import_cryptography(tmp_path: Path) -> None:
    """The point of the fixed forms and of signing by libcrypto: a whole ingest, which
    makes the key, then loads it, and signs, imports no part of cryptography."""
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
print(sorted(m for m in sys.modules if m.split(".")[0] == "cryptography"))
"""
    out = subprocess.run(
        [__import__("sys").executable, "-c", code], check=True, capture_output=True, text=True
    )
    assert out.stdout.strip() == "[]"


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
