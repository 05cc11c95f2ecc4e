"""Sealing: rewrite manifest.json, manifest-sha256.txt and manifest.sig from the log."""

from __future__ import annotations

from pathlib import Path

from cyberstalk.hashing import signing
from cyberstalk.hashing.custody import CustodyLog, events
from cyberstalk.hashing.fsutil import atomic_write, atomic_write_many
from cyberstalk.hashing.manifest import (
    build_manifest,
    covered_lines,
    manifest_bytes,
    sha256sum_text,
)


def register_key(root: Path, log: CustodyLog, key: signing.PrivateKey) -> str:
    """Store the public key in ``keys/`` and register it in the log (once). Returns key id."""
    kid = signing.key_id(key)
    pem = signing.public_pem(key)
    rel = f"keys/{kid}.pub.pem"
    registered = any(
        e.get("event") == "key_registered" and e.get("details", {}).get("key_id") == kid
        for e in events(log.lines())
    )
    target = root / rel
    if not target.exists() or target.read_bytes() != pem:
        target.parent.mkdir(exist_ok=True)
        atomic_write(target, pem)
    if not registered:
        log.append(
            "key_registered",
            {"key_id": kid, "public_key": rel, "public_key_pem": pem.decode("ascii")},
        )
    return kid


def seal(root: Path, log: CustodyLog, key: signing.PrivateKey) -> bytes:
    """Rebuild and sign the manifest from the log as it is now. Returns manifest bytes.

    Order matters for crash safety: the manifest first, then its checksum file, then the
    signature. A crash in between leaves a signature that does not match, which verify
    names, and the next write command re-seals.
    """
    kid = register_key(root, log, key)
    lines = covered_lines(log.lines())
    manifest = build_manifest(lines, {"key_id": kid, "public_key": f"keys/{kid}.pub.pem"})
    data = manifest_bytes(manifest)
    atomic_write_many(
        [
            (root / "manifest.json", data, 0o644),
            (root / "manifest-sha256.txt", sha256sum_text(manifest["exhibits"]), 0o644),
            (root / "manifest.sig", signing.sign(key, data), 0o644),
        ]
    )
    return data
