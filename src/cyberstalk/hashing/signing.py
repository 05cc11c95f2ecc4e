"""Ed25519 signing of the manifest.

The operator's private key lives outside the case (mode 0600), created on first use; the
public key is stored in the case under ``keys/<key_id>.pub.pem`` and registered in the
custody log. The signature is a raw 64-byte Ed25519 signature over manifest.json's bytes,
so stock OpenSSL checks it::

    openssl pkeyutl -verify -pubin -inkey keys/<key_id>.pub.pem -rawin \
        -in manifest.json -sigfile manifest.sig
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cyberstalk.errors import CaseError
from cyberstalk.hashing.fsutil import atomic_write


def default_key_path(initials: str) -> Path:
    """``$XDG_CONFIG_HOME/cyberstalk/keys/<initials>.ed25519.pem`` (outside any case)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "cyberstalk" / "keys" / f"{initials}.ed25519.pem"


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """Load the operator's key, creating it (mode 0600, folder 0700) on first use."""
    if path.exists():
        st = path.stat()
        if st.st_mode & 0o077:
            raise CaseError(
                f"signing key {path} is readable by others (mode {oct(st.st_mode & 0o777)})",
                advice=f"run `chmod 600 {path}`",
            )
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise CaseError(f"{path} is not an unencrypted PEM private key: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise CaseError(f"{path} is not an Ed25519 key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    atomic_write(path, pem, mode=0o600)
    return key


def public_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """First 16 hex digits of the SHA-256 of the raw public key."""
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    return key.sign(data)


def check_signature(public_key_pem: bytes, data: bytes, signature: bytes) -> str | None:
    """None when the signature is good; otherwise a sentence saying why not."""
    try:
        pub = serialization.load_pem_public_key(public_key_pem)
    except ValueError as exc:
        return f"public key is not valid PEM: {exc}"
    if not isinstance(pub, Ed25519PublicKey):
        return "public key is not an Ed25519 key"
    try:
        pub.verify(signature, data)
    except InvalidSignature:
        return "signature does not match manifest.json"
    return None
