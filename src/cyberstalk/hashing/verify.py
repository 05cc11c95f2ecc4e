"""Verification of a case folder: every problem, not only the first.

Checks, in order: the custody log's hash chain; the manifest against the manifest the log
implies (byte for byte); exhibit events the manifest does not show yet; the checksum file;
the signature and the key it names; every stored exhibit re-hashed (size, SHA-256 and, on
request, the legacy digests), its file type and mode; files in ``evidence/`` that nothing
records; and any stored RFC 3161 timestamps against the current manifest.

Success returns a report; failure raises :class:`~cyberstalk.errors.VerificationError`
carrying every problem. An empty or unsigned manifest is a failure, never a pass.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cyberstalk.errors import VerificationError
from cyberstalk.hashing import signing
from cyberstalk.hashing.copier import default_workers
from cyberstalk.hashing.custody import check_chain, events, read_lines
from cyberstalk.hashing.digest import hash_path
from cyberstalk.hashing.manifest import (
    DUPLICATE_EVENTS,
    EXHIBIT_EVENTS,
    FORMAT,
    build_manifest,
    manifest_bytes,
    sha256sum_text,
)

TimestampCheck = Callable[[Path, bytes], list[str]]


@dataclass
class VerifyReport:
    """What verification looked at and what it found."""

    exhibits: int = 0
    """Exhibits re-hashed."""
    bytes_hashed: int = 0
    seconds: float = 0.0
    log_lines: int = 0
    timestamps: int = 0
    """Stored timestamp tokens checked."""
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "exhibits": self.exhibits,
            "bytes_hashed": self.bytes_hashed,
            "seconds": round(self.seconds, 3),
            "log_lines": self.log_lines,
            "timestamps": self.timestamps,
            "problems": self.problems,
            "notes": self.notes,
        }


def check_case(
    root: Path,
    *,
    all_digests: bool = False,
    workers: int | None = None,
    timestamp_check: TimestampCheck | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Run every check and return the report (problems listed, nothing raised).

    Stored copies are re-hashed by ``workers`` threads (default: one per core, at most
    four); hashlib releases the GIL, so several files are hashed at once.
    """
    if workers is None:
        workers = default_workers()
    started = time.perf_counter()
    report = VerifyReport()
    problems = report.problems

    # 1. the custody log
    log_path = root / "custody.jsonl"
    lines = read_lines(log_path)
    report.log_lines = len(lines)
    if not lines:
        problems.append("custody.jsonl is missing or empty")
    problems.extend(check_chain(lines))
    evs = events(lines)
    if evs and evs[0].get("event") != "case_created":
        problems.append("custody.jsonl line 1 is not the case_created event")

    # 2. the manifest against the log
    manifest_path = root / "manifest.json"
    manifest: dict[str, Any] | None = None
    raw_manifest = b""
    try:
        raw_manifest = manifest_path.read_bytes()
        import json

        loaded = json.loads(raw_manifest)
        if isinstance(loaded, dict) and loaded.get("format") == FORMAT:
            manifest = loaded
        else:
            problems.append(f"manifest.json is not a {FORMAT} manifest")
    except FileNotFoundError:
        problems.append("manifest.json is missing (nothing has been ingested and sealed)")
    except ValueError as exc:
        problems.append(f"manifest.json is not valid JSON ({exc})")

    exhibits: list[dict[str, Any]] = []
    if manifest is not None:
        exhibits = [e for e in manifest.get("exhibits") or [] if isinstance(e, dict)]
        if not exhibits:
            problems.append("manifest.json lists no exhibits: an empty manifest proves nothing")
        covered = int((manifest.get("custody_log") or {}).get("lines") or 0)
        if covered > len(lines):
            problems.append(
                f"manifest.json covers {covered} custody log lines but the log has {len(lines)}: "
                "log lines were removed"
            )
        else:
            expected = manifest_bytes(build_manifest(lines[:covered], manifest.get("signer")))
            if expected != raw_manifest:
                problems.extend(_manifest_differences(manifest, expected))
            later = [
                ev
                for ev in evs[covered:]
                if ev.get("event") in (*EXHIBIT_EVENTS, *DUPLICATE_EVENTS)
            ]
            for ev in later:
                d = ev.get("details") or {}
                problems.append(
                    f"custody log line {ev.get('seq')} records {d.get('ref') or d.get('of')} "
                    f"({d.get('original_path')!r}) but the manifest was not re-sealed after it: "
                    "an ingest was interrupted; re-run it to complete the case"
                )
        # 3. the checksum file
        try:
            if (root / "manifest-sha256.txt").read_bytes() != sha256sum_text(exhibits):
                problems.append(
                    "manifest-sha256.txt does not match manifest.json (altered, or a seal was "
                    "interrupted)"
                )
        except FileNotFoundError:
            problems.append("manifest-sha256.txt is missing")
        except (KeyError, TypeError, AttributeError) as exc:
            problems.append(f"manifest.json exhibit entries are malformed ({exc!r})")
        # 4. the signature
        problems.extend(_check_signature(root, manifest, raw_manifest, evs))

    # 5. the evidence itself
    recorded = {str(e.get("stored_as")) for e in exhibits}
    report.exhibits, report.bytes_hashed = _check_evidence(
        root, exhibits, problems, all_digests=all_digests, workers=workers, on_bytes=on_bytes
    )
    problems.extend(_extra_files(root, recorded))

    # 6. timestamps
    if timestamp_check is not None and raw_manifest:
        tsdir = root / "timestamps"
        report.timestamps = len(list(tsdir.glob("*.tsr"))) if tsdir.is_dir() else 0
        problems.extend(timestamp_check(root, raw_manifest))
    report.seconds = time.perf_counter() - started
    return report


def verify_case(root: Path, **kwargs: Any) -> VerifyReport:
    """check_case, raising VerificationError (every problem) when anything fails."""
    report = check_case(root, **kwargs)
    if report.problems:
        raise VerificationError(
            report.problems,
            advice="do not rely on this case until each problem is explained; "
            "an interrupted ingest is completed by re-running it",
        )
    return report


def _manifest_differences(manifest: dict[str, Any], expected_bytes: bytes) -> list[str]:
    import json

    expected = json.loads(expected_bytes)
    found = {e.get("ref"): e for e in manifest.get("exhibits") or [] if isinstance(e, dict)}
    wanted = {e.get("ref"): e for e in expected.get("exhibits") or []}
    out = []
    for ref in sorted(set(found) | set(wanted), key=str):
        if ref not in found:
            out.append(f"manifest.json lacks exhibit {ref}, which the custody log records")
        elif ref not in wanted:
            out.append(f"manifest.json lists exhibit {ref}, which the custody log does not record")
        elif found[ref] != wanted[ref]:
            keys = sorted(
                k
                for k in set(found[ref]) | set(wanted[ref])
                if found[ref].get(k) != wanted[ref].get(k)
            )
            out.append(
                f"manifest.json entry for {ref} differs from the custody log in: {', '.join(keys)}"
            )
    for key in ("case", "custody_log", "duplicates", "format"):
        if manifest.get(key) != expected.get(key):
            out.append(f"manifest.json '{key}' differs from what the custody log implies")
    if not out:
        out.append("manifest.json bytes differ from the manifest the custody log implies")
    return out


def _check_signature(
    root: Path, manifest: dict[str, Any], raw: bytes, evs: list[dict[str, Any]]
) -> list[str]:
    signer = manifest.get("signer") or {}
    kid = signer.get("key_id")
    sig_path = root / "manifest.sig"
    if not kid:
        return ["manifest.json names no signer: an unsigned manifest is a failure"]
    try:
        signature = sig_path.read_bytes()
    except FileNotFoundError:
        return ["manifest.sig is missing: an unsigned manifest is a failure"]
    registered = [
        e["details"]
        for e in evs
        if e.get("event") == "key_registered" and (e.get("details") or {}).get("key_id") == kid
    ]
    if not registered:
        return [f"manifest is signed by key {kid}, which the custody log never registered"]
    pem_logged = str(registered[0].get("public_key_pem", "")).encode("ascii")
    problems = []
    key_file = root / "keys" / f"{kid}.pub.pem"
    try:
        if key_file.read_bytes() != pem_logged:
            problems.append(f"{key_file.relative_to(root)} differs from the key the log registered")
    except FileNotFoundError:
        problems.append(f"public key {key_file.relative_to(root)} is missing")
    why = signing.check_signature(pem_logged, raw, signature)
    if why:
        problems.append(
            f"manifest.sig: {why} (key {kid}): the manifest was altered, or a seal was "
            "interrupted (re-running the ingest re-seals)"
        )
    return problems


def _check_evidence(
    root: Path,
    exhibits: list[dict[str, Any]],
    problems: list[str],
    *,
    all_digests: bool,
    workers: int,
    on_bytes: Callable[[int], None] | None,
) -> tuple[int, int]:
    def check(ex: dict[str, Any]) -> tuple[list[str], int]:
        ref = ex.get("ref")
        rel = str(ex.get("stored_as"))
        path = root / rel
        found: list[str] = []
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return [f"{ref}: {rel} is missing"], 0
        if not stat.S_ISREG(st.st_mode):
            return [f"{ref}: {rel} is no longer a regular file"], 0
        if st.st_mode & 0o222:
            found.append(
                f"{ref}: {rel} is writable (mode {stat.filemode(st.st_mode)}); "
                "stored evidence must be read-only"
            )
        if st.st_size != ex.get("size"):
            found.append(f"{ref}: {rel} size is {st.st_size}, manifest says {ex.get('size')}")
        try:
            digests, size = hash_path(path, legacy=all_digests)
        except OSError as exc:
            return [*found, f"{ref}: {rel} cannot be read: {exc.strerror}"], 0
        if on_bytes:
            on_bytes(size)
        raw_want = ex.get("digests")
        want: dict[str, Any] = raw_want if isinstance(raw_want, dict) else {}
        if digests.sha256 != want.get("sha256"):
            found.append(
                f"{ref}: {rel} SHA-256 is {digests.sha256}, manifest says {want.get('sha256')} "
                "(the stored copy changed)"
            )
        if all_digests:
            for name in ("sha1", "md5"):
                value = getattr(digests, name)
                if want.get(name) and value != want.get(name):
                    found.append(f"{ref}: {rel} {name.upper()} differs from the manifest")
        return found, size

    # Largest first, so that a big file is not left to run alone on one core at the end;
    # problems are still reported in manifest order.
    def size_of(ex: dict[str, Any]) -> int:
        size = ex.get("size")
        return size if isinstance(size, int) else 0

    order = sorted(range(len(exhibits)), key=lambda i: -size_of(exhibits[i]))
    results: list[tuple[list[str], int]] = [([], 0)] * len(exhibits)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {i: pool.submit(check, exhibits[i]) for i in order}
        for i, future in futures.items():
            results[i] = future.result()
    total = 0
    for found, size in results:
        problems.extend(found)
        total += size
    return len(exhibits), total


def _extra_files(root: Path, recorded: set[str]) -> list[str]:
    evidence = root / "evidence"
    if not evidence.is_dir():
        return ["evidence/ folder is missing"]
    out = []
    for dirpath, dirnames, filenames in os.walk(evidence):
        dirnames.sort()
        for name in sorted(filenames):
            rel = Path(dirpath, name).relative_to(root).as_posix()
            if rel.startswith("evidence/.incoming/"):
                out.append(f"{rel} is a partial copy left by an interrupted ingest")
            elif rel not in recorded:
                out.append(
                    f"{rel} is in evidence/ but no exhibit records it (stored by an interrupted "
                    "ingest before it could be recorded, or put there by hand)"
                )
    return out


def timestamp_check(root: Path, manifest_bytes: bytes) -> list[str]:
    """Problems with the case's stored RFC 3161 tokens for ``manifest_bytes`` (empty when
    the case was never timestamped): what ``check_case(timestamp_check=...)`` takes, for
    ``cyberstalk verify`` and the force profile alike."""
    tsdir = root / "timestamps"
    has_files = tsdir.is_dir() and any(tsdir.iterdir())
    if not has_files and b'"event":"timestamp"' not in (root / "custody.jsonl").read_bytes():
        return []  # never timestamped: nothing to check (and no token can be missing)
    # imported on use: the RFC 3161 stack (asn1crypto, rfc3161-client) is slow to load
    from cyberstalk.hashing.timestamps import verify_stored_tokens

    return verify_stored_tokens(root, manifest_bytes)
