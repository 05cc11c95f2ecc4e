"""Ed25519 signing of the manifest.

The operator's private key lives outside the case (mode 0600), created on first use; the
public key is stored in the case under ``keys/<key_id>.pub.pem`` and registered in the
custody log. The signature is a raw 64-byte Ed25519 signature over manifest.json's bytes,
so stock OpenSSL checks it::

    openssl pkeyutl -verify -pubin -inkey keys/<key_id>.pub.pem -rawin \
        -in manifest.json -sigfile manifest.sig

Keys are PEM files in the standard forms of RFC 8410: PKCS #8 for the private key,
SubjectPublicKeyInfo for the public one. For Ed25519 both are a fixed prefix and 32 bytes,
so they are written and read here directly; anything else (a key made by another tool with
optional fields) is read by cryptography's serialization module, imported only then.
Signing is OpenSSL's, through :mod:`cyberstalk.hashing.libcrypto`; checking a signature is
cryptography's. So an ingest, which signs, imports no cryptography at all.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from cyberstalk.errors import CaseError
from cyberstalk.hashing import libcrypto
from cyberstalk.hashing.fsutil import create_once

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PKCS8_ED25519 = bytes.fromhex("302e020100300506032b657004220420")
"""DER of a PKCS #8 Ed25519 private key up to its 32-byte seed (RFC 8410 section 7)."""
SPKI_ED25519 = bytes.fromhex("302a300506032b6570032100")
"""DER of an Ed25519 SubjectPublicKeyInfo up to its 32-byte key (RFC 8410 section 4)."""


def pem(label: str, der: bytes) -> bytes:
    """One PEM block (RFC 7468): base64 in lines of 64 characters."""
    text = base64.b64encode(der).decode("ascii")
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""]).encode()


def _fixed_der(data: bytes, label: str, prefix: bytes) -> bytes | None:
    """The 32 bytes after ``prefix`` when ``data`` is exactly one PEM block of ``label``
    holding ``prefix`` and 32 bytes; else None (left to the general reader)."""
    lines = data.strip().split(b"\n")
    begin, end = f"-----BEGIN {label}-----".encode(), f"-----END {label}-----".encode()
    if len(lines) < 3 or lines[0].strip() != begin or lines[-1].strip() != end:
        return None
    try:
        der = base64.b64decode(b"".join(ln.strip() for ln in lines[1:-1]), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(der) != len(prefix) + 32 or not der.startswith(prefix):
        return None
    return der[len(prefix) :]


class PrivateKey:
    """An Ed25519 private key: its 32-byte seed (RFC 8032) and the public key of it."""

    __slots__ = ("_public", "_seed")

    def __init__(self, seed: bytes) -> None:
        self._seed = bytes(seed)  # (a bytearray too; libcrypto is given bytes)
        self._public = libcrypto.public_key(self._seed)  # (checks the length)

    @classmethod
    def generate(cls) -> PrivateKey:
        """A new key: 32 bytes from the operating system's random source."""
        return cls(os.urandom(libcrypto.SEED_BYTES))

    def private_bytes_raw(self) -> bytes:
        return self._seed

    def public_bytes_raw(self) -> bytes:
        return self._public

    def sign(self, data: bytes) -> bytes:
        """The raw 64-byte signature of ``data``."""
        return libcrypto.sign(self._seed, data)

    def __repr__(self) -> str:  # never the seed
        return f"<Ed25519 private key {key_id(self)}>"


def private_pem(key: PrivateKey) -> bytes:
    """The key as an unencrypted PKCS #8 PEM file (as ``openssl genpkey`` writes it)."""
    return pem("PRIVATE KEY", PKCS8_ED25519 + key.private_bytes_raw())


def load_private_pem(data: bytes) -> object:
    """Read an unencrypted PEM private key, of any kind: a :class:`PrivateKey` for an
    Ed25519 one, cryptography's key object for another kind; raises ValueError or
    TypeError for anything that is not one."""
    seed = _fixed_der(data, "PRIVATE KEY", PKCS8_ED25519)
    if seed is not None:
        return PrivateKey(seed)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = serialization.load_pem_private_key(data, password=None)
    return PrivateKey(key.private_bytes_raw()) if isinstance(key, Ed25519PrivateKey) else key


def load_public_pem(data: bytes) -> Ed25519PublicKey:
    """Read a PEM public key (for checking a signature); raises ValueError for anything
    that is not one, TypeError for a key of another kind."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    raw = _fixed_der(data, "PUBLIC KEY", SPKI_ED25519)
    if raw is not None:
        return Ed25519PublicKey.from_public_bytes(raw)
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise TypeError("not an Ed25519 key")
    return key


def default_key_path(initials: str) -> Path:
    """``$XDG_CONFIG_HOME/cyberstalk/keys/<initials>.ed25519.pem`` (outside any case)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "cyberstalk" / "keys" / f"{initials}.ed25519.pem"


def load_or_create_key(path: Path) -> PrivateKey:
    """Load the operator's key, creating it (mode 0600, folder 0700) on first use.

    Commands that make the key at the same moment all get the one key that stays on disk.
    """
    try:
        return _load_or_create(path)
    except libcrypto.LibcryptoError as exc:
        raise CaseError(f"cannot use the signing key {path}: {exc}") from exc


def _load_or_create(path: Path) -> PrivateKey:
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = PrivateKey.generate()
            if create_once(path, private_pem(key), mode=0o600):
                return key
        st = path.stat()
        data = path.read_bytes()
    except OSError as exc:
        raise CaseError(
            f"cannot read or create the signing key {path}: {exc.strerror}",
            advice="give a key file you can read with `cyberstalk ingest --key FILE`",
        ) from exc
    if st.st_mode & 0o077:
        raise CaseError(
            f"signing key {path} is readable by others (mode {oct(st.st_mode & 0o777)})",
            advice=f"run `chmod 600 {path}`",
        )
    try:
        loaded = load_private_pem(data)
    except (ValueError, TypeError) as exc:
        raise CaseError(f"{path} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(loaded, PrivateKey):
        raise CaseError(f"{path} is not an Ed25519 key")
    return loaded


def public_pem(key: PrivateKey) -> bytes:
    """The key's public key as a SubjectPublicKeyInfo PEM file (as ``openssl pkey
    -pubout`` writes it)."""
    return pem("PUBLIC KEY", SPKI_ED25519 + key.public_bytes_raw())


def key_id(key: PrivateKey) -> str:
    """First 16 hex digits of the SHA-256 of the raw public key."""
    return hashlib.sha256(key.public_bytes_raw()).hexdigest()[:16]


def sign(key: PrivateKey, data: bytes) -> bytes:
    return key.sign(data)


def check_signature(public_key_pem: bytes, data: bytes, signature: bytes) -> str | None:
    """None when the signature is good; otherwise a sentence saying why not."""
    from cryptography.exceptions import InvalidSignature

    try:
        pub = load_public_pem(public_key_pem)
    except ValueError as exc:
        return f"public key is not valid PEM: {exc}"
    except TypeError:
        return "public key is not an Ed25519 key"
    try:
        pub.verify(signature, data)
    except InvalidSignature:
        return "signature does not match manifest.json"
    return None
