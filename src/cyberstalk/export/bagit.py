"""A BagIt 1.0 bag (RFC 8493) of a case's evidence, and a validator for any name.

Layout of the bag::

    OUT/bagit.txt  bag-info.txt
        manifest-sha256.txt  manifest-sha512.txt        (every payload file)
        tagmanifest-sha256.txt  tagmanifest-sha512.txt  (every tag file)
        data/<SAFE-REF>/<original path>                 (one folder per exhibit)
        cyberstalk/manifest.json manifest.sig manifest-sha256.txt custody.jsonl
                   keys/*.pub.pem  timestamps/*  exhibits.json

Each exhibit goes under a folder named after its reference, keeping the name (and the
relative path) it had in the submission, so names cannot collide and the recipient sees
what the victim handed over. The case's signed manifest, custody log and RFC 3161 tokens
travel as tag files so the recipient can check them; ``cyberstalk/exhibits.json`` maps
each reference to its payload path.

RFC 8493 2.1.3: in manifest lines a path's ``%``, CR and LF (only those) are
percent-encoded. bagit-python 1.9 does not encode ``%`` (it writes and reads such names
raw), so bags with ``%`` in a name validate with :func:`validate_bag` but not with it.

Unlike ``bagit.make_bag``, nothing is moved or followed: evidence is copied from
``evidence/`` (regular files only, never through a symlink), each copy's SHA-256 must
equal the manifest's, and the bag is built in a temporary folder beside ``OUT`` that is
renamed into place only when complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cyberstalk.case import Case, tool_string
from cyberstalk.errors import ReportError
from cyberstalk.export import ExportResult, check_output_parent
from cyberstalk.hashing.digest import open_regular
from cyberstalk.hashing.fsutil import fsync_dir, temp_beside
from cyberstalk.hashing.manifest import load_manifest
from cyberstalk.reports.common import generated_at

ALGORITHMS = ("sha256", "sha512")
CHUNK = 1 << 20
MAX_COMPONENT_BYTES = 255
TAG_DIR = "cyberstalk"


# --------------------------------------------------------------------------- names


def encode_path(path: str) -> str:
    """A path as written in a manifest line (RFC 8493 2.1.3): ``%`` → ``%25``,
    CR → ``%0D``, LF → ``%0A``; nothing else."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


_DECODE_RE = re.compile(r"%(25|0[dD]|0[aA])")


def decode_path(text: str) -> str:
    """Inverse of :func:`encode_path` (case-insensitive hex, single pass)."""
    return _DECODE_RE.sub(lambda m: {"25": "%", "0D": "\r", "0A": "\n"}[m.group(1).upper()], text)


def _safe_component(part: str) -> str | None:
    """A path component usable in the bag, or None when it must go.

    ``..``, ``.`` and empty components would leave or confuse the payload folder; NUL
    cannot be in a POSIX name; a component longer than 255 bytes cannot be created.
    """
    if part in ("", ".", ".."):
        return None
    part = part.replace("\x00", "_")
    raw = part.encode("utf-8", "surrogateescape")
    if len(raw) > MAX_COMPONENT_BYTES:
        digest = hashlib.sha256(raw).hexdigest()[:16]
        keep = raw[: MAX_COMPONENT_BYTES - 18].decode("utf-8", "ignore")
        part = f"{keep}~{digest}"
    return part


def payload_path(exhibit: Mapping[str, Any]) -> tuple[str, str | None]:
    """(path under ``data/``, a note when the original name had to be changed)."""
    ref_dir = str(exhibit["ref"]).replace("/", "-")
    stored_name = Path(str(exhibit["stored_as"])).name
    if exhibit.get("original_name_b64"):
        return f"{ref_dir}/{stored_name}", "original name is not valid UTF-8; see manifest.json"
    if exhibit.get("parent") and exhibit.get("member_name"):
        original = str(exhibit["member_name"])
    else:
        original = str(exhibit.get("original_path") or exhibit.get("original_name") or "")
    try:
        original.encode("utf-8")
    except UnicodeEncodeError:
        return f"{ref_dir}/{stored_name}", "original name is not valid UTF-8; see manifest.json"
    parts = [_safe_component(p) for p in original.split("/")]
    kept = [p for p in parts if p is not None]
    if not kept:
        return f"{ref_dir}/{stored_name}", f"original path {original!r} is unusable"
    note = None
    if kept != original.split("/"):
        note = f"original path {original!r} sanitised"
    return f"{ref_dir}/{'/'.join(kept)}", note


# --------------------------------------------------------------------------- writing


def _copy_hashed(src: Path, dst: Path) -> tuple[dict[str, str], int]:
    try:
        fd, _st = open_regular(src)
    except (OSError, ValueError) as exc:
        raise ReportError(
            f"cannot read evidence file {src}: {exc}",
            advice="run `cyberstalk verify` on the case; evidence files must be regular files",
        ) from exc
    hashers = {alg: hashlib.new(alg) for alg in ALGORITHMS}
    size = 0
    dst.parent.mkdir(parents=True, exist_ok=True)
    out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "rb") as fh:
            while chunk := fh.read(CHUNK):
                for h in hashers.values():
                    h.update(chunk)
                view = memoryview(chunk)
                while view:
                    view = view[os.write(out, view) :]
                size += len(chunk)
    finally:
        os.close(out)
    dst.chmod(0o444)  # evidence stays read-only in the bag too
    return {alg: h.hexdigest() for alg, h in hashers.items()}, size


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        fh.write(data)


def _manifest_text(entries: Iterable[tuple[str, str]]) -> bytes:
    lines = [f"{digest}  {encode_path(path)}\n" for path, digest in entries]
    return "".join(sorted(lines, key=lambda line: line.split("  ", 1)[1])).encode("utf-8")


def _tag_sources(case: Case, manifest: Mapping[str, Any]) -> list[tuple[str, Path]]:
    """Case files that travel with the bag as tag files (``cyberstalk/...``)."""
    root = case.root
    out = [
        ("manifest.json", case.manifest_path),
        ("manifest.sig", case.signature_path),
        ("manifest-sha256.txt", case.manifest_sha256_path),
        ("custody.jsonl", case.custody_path),
    ]
    signer = manifest.get("signer") or {}
    if isinstance(signer, Mapping) and isinstance(signer.get("public_key"), str):
        out.append((signer["public_key"], root / signer["public_key"]))
    if case.timestamps_dir.is_dir():
        for p in sorted(case.timestamps_dir.iterdir()):
            if p.is_file() and not p.is_symlink() and not p.name.startswith("."):
                out.append((f"timestamps/{p.name}", p))
    return [(name, path) for name, path in out if path.is_file()]


def _bag_info(case: Case, manifest: Mapping[str, Any], oxum: str, count: int) -> bytes:
    cfg = case.config
    when = generated_at(case.custody_path)
    manifest_sha = hashlib.sha256(case.manifest_path.read_bytes()).hexdigest()
    fields = [
        ("Source-Organization", cfg.force),
        ("Contact-Name", cfg.officer),
        ("External-Identifier", cfg.reference),
        (
            "External-Description",
            f"Evidence of case {cfg.reference}: {count} exhibit{'s' if count != 1 else ''}, "
            f"each under data/<exhibit reference>/ with its original name. The case's signed "
            f"manifest, custody log and RFC 3161 timestamps are in {TAG_DIR}/.",
        ),
        ("Bagging-Date", when.date().isoformat()),
        ("Bag-Software-Agent", tool_string()),
        ("Payload-Oxum", oxum),
        ("Cyberstalk-Case-Reference", cfg.reference),
        ("Cyberstalk-Exhibit-Count", str(count)),
        ("Cyberstalk-Manifest-SHA256", manifest_sha),
    ]
    lines = [f"{label}: {value}\n" for label, value in fields]
    for ex in manifest.get("exhibits", []):
        path, _note = payload_path(ex)
        lines.append(f"Cyberstalk-Exhibit: {ex['ref']} data/{encode_path(path)}\n")
    # Labels and values are ours or exhibit paths with CR/LF encoded: one line each.
    return "".join(lines).encode("utf-8")


def write_bag(case: Case, out: Path) -> ExportResult:
    """Write the bag to ``out`` (a folder that must not exist yet)."""
    if out.exists() or out.is_symlink():
        raise ReportError(
            f"{out} already exists",
            advice="give a new folder name for the bag; an existing bag is never overwritten",
        )
    check_output_parent(out)
    manifest = load_manifest(case.manifest_path)
    exhibits = list(manifest.get("exhibits", []))
    if not exhibits:
        raise ReportError(
            f"case {case.config.reference} has no exhibits to bag",
            advice="ingest evidence first with `cyberstalk ingest`",
        )
    tmp = temp_beside(out)
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        tmp.mkdir()
        payload: dict[str, dict[str, str]] = {alg: {} for alg in ALGORITHMS}
        total = 0
        mapping = []
        for ex in exhibits:
            rel, note = payload_path(ex)
            src = case.root / str(ex["stored_as"])
            digests, size = _copy_hashed(src, tmp / "data" / rel)
            expected = ex.get("digests", {}).get("sha256")
            if digests["sha256"] != expected:
                raise ReportError(
                    f"evidence file {src} (exhibit {ex['ref']}) has SHA-256 {digests['sha256']}, "
                    f"the manifest says {expected}: the evidence changed since it was ingested",
                    advice="run `cyberstalk verify` and investigate before exporting",
                )
            for alg in ALGORITHMS:
                payload[alg][f"data/{rel}"] = digests[alg]
            total += size
            item = {
                "ref": ex["ref"],
                "payload": f"data/{rel}",
                "stored_as": ex["stored_as"],
                "original_name": ex.get("original_name"),
                "original_path": ex.get("original_path"),
                "member_name": ex.get("member_name"),
                "parent": ex.get("parent"),
                "size": size,
                "sha256": digests["sha256"],
                "sha512": digests["sha512"],
            }
            if note:
                item["note"] = note
            mapping.append(item)
        oxum = f"{total}.{len(exhibits)}"
        _write(tmp / "bagit.txt", b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
        _write(tmp / "bag-info.txt", _bag_info(case, manifest, oxum, len(exhibits)))
        for alg in ALGORITHMS:
            _write(tmp / f"manifest-{alg}.txt", _manifest_text(payload[alg].items()))
        for name, src in _tag_sources(case, manifest):
            _write(tmp / TAG_DIR / name, src.read_bytes())
        _write(
            tmp / TAG_DIR / "exhibits.json",
            (json.dumps({"exhibits": mapping}, indent=2, ensure_ascii=False) + "\n").encode(),
        )
        tag_files = sorted(_walk_files(tmp, exclude_payload=True))
        tag_files = [t for t in tag_files if not t.startswith("tagmanifest-")]
        tag_sha256 = b""
        for alg in ALGORITHMS:
            entries = [(t, _hash_file(tmp / t, alg)) for t in tag_files]
            text = _manifest_text(entries)
            _write(tmp / f"tagmanifest-{alg}.txt", text)
            if alg == "sha256":
                tag_sha256 = text
        # Payload digests were computed from the bytes as they were copied; check the
        # rest of what was written (paths, completeness, Payload-Oxum, tag manifests).
        problems = validate_bag(tmp, payload_checksums=False)
        if problems:  # pragma: no cover - a bug in the writer
            raise ReportError("the bag just written does not validate: " + "; ".join(problems))
        # One sync for the whole bag instead of an fsync per file and folder (on a bag of
        # many small files those would be most of the time); the bag only gets its name
        # once it is durable.
        os.sync()
        tmp.rename(out)
        fsync_dir(out.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
        raise
    return ExportResult(
        format="bagit",
        path=out,
        sha256=hashlib.sha256(tag_sha256).hexdigest(),
        exhibits=len(exhibits),
        details={"payload_oxum": oxum, "tag_files": len(tag_files) + len(ALGORITHMS)},
    )


def _hash_file(path: Path, alg: str) -> str:
    return _hash_file_multi(path, [alg])[alg]


def _hash_file_multi(path: Path, algs: Iterable[str]) -> dict[str, str]:
    hashers = {alg: hashlib.new(alg) for alg in algs}
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            for h in hashers.values():
                h.update(chunk)
    return {alg: h.hexdigest() for alg, h in hashers.items()}


def _walk_files(bag: Path, *, exclude_payload: bool) -> Iterable[str]:
    """Relative paths of every entry under ``bag`` (payload excluded or only payload).
    Symlinks and other non-regular entries are yielded too, for the validator to refuse."""
    for dirpath, dirs, files in os.walk(bag):
        rel_dir = os.path.relpath(dirpath, bag)
        if rel_dir == ".":
            if exclude_payload:
                dirs[:] = [d for d in dirs if d != "data"]
            else:
                dirs[:] = [d for d in dirs if d == "data"]
                files = []
        for d in list(dirs):
            if (Path(dirpath) / d).is_symlink():
                dirs.remove(d)
                files.append(d)
        for name in files:
            yield name if rel_dir == "." else f"{rel_dir}/{name}"


# --------------------------------------------------------------------------- validating


def _parse_manifest(path: Path, problems: list[str]) -> dict[str, str]:
    entries: dict[str, str] = {}
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(f"{path.name}: cannot be read ({exc.strerror})")
        return entries
    if raw.startswith(b"\xef\xbb\xbf"):
        problems.append(f"{path.name}: starts with a byte-order mark (RFC 8493 forbids it)")
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(f"{path.name}: not UTF-8 ({exc})")
        return entries
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        line = line.removesuffix("\r")
        m = re.match(r"^([0-9A-Fa-f]+)[ \t]+(.+)$", line)
        if not m:
            problems.append(f"{path.name} line {number}: not 'checksum path': {line!r}")
            continue
        name = decode_path(m.group(2))
        if name in entries:
            problems.append(f"{path.name} line {number}: {name!r} is listed twice")
        entries[name] = m.group(1).lower()
    return entries


def _unsafe(name: str) -> str | None:
    if name.startswith("/") or name.startswith("~"):
        return "absolute or home-relative path"
    if any(part in ("..", ".", "") for part in name.split("/")):
        return "path with an empty, '.' or '..' component"
    return None


def validate_bag(bag: Path, *, payload_checksums: bool = True) -> list[str]:
    """Every problem with the bag at ``bag`` (empty: valid). Full validation: every
    checksum of every manifest is recomputed; extra, missing and linked files and unsafe
    paths are reported. Handles any name RFC 8493 allows, including ``%``, CR and LF.

    ``payload_checksums=False`` skips re-hashing payload files (completeness, sizes, tag
    files and paths are still checked), like bagit-python's ``fast`` but stricter."""
    problems: list[str] = []
    try:
        declaration = (bag / "bagit.txt").read_bytes()
    except OSError:
        return [f"{bag}: no bagit.txt: not a bag"]
    if not re.match(
        rb"^BagIt-Version: 1\.0\r?\nTag-File-Character-Encoding: UTF-8\r?\n$", declaration
    ):
        problems.append(f"bagit.txt is not a BagIt 1.0 UTF-8 declaration: {declaration[:80]!r}")
    manifests = sorted(bag.glob("manifest-*.txt"))
    if not manifests:
        problems.append("no payload manifest (manifest-<algorithm>.txt)")
    on_disk = set(_walk_files(bag, exclude_payload=False))
    for name in sorted(on_disk):
        st = os.lstat(bag / name)
        if not stat.S_ISREG(st.st_mode):
            problems.append(f"{name!r} is not a regular file (links are not allowed in a bag)")
    # name -> {algorithm: expected digest}, so each payload file is read once for all.
    expected: dict[str, dict[str, tuple[str, str]]] = {}
    for mpath in manifests:
        alg = mpath.name.removeprefix("manifest-").removesuffix(".txt")
        if alg not in hashlib.algorithms_available:
            problems.append(f"{mpath.name}: unknown algorithm {alg!r}")
            continue
        entries = _parse_manifest(mpath, problems)
        for name, digest in sorted(entries.items()):
            why = _unsafe(name)
            if why or not name.startswith("data/"):
                problems.append(f"{mpath.name}: {name!r}: {why or 'not under data/'}")
                continue
            target = bag / name
            if not target.is_file() or target.is_symlink():
                problems.append(f"{mpath.name}: {name!r} is listed but missing")
                continue
            expected.setdefault(name, {})[alg] = (digest, mpath.name)
        for name in sorted(on_disk - set(entries)):
            problems.append(f"{name!r} is in data/ but not in {mpath.name}")
    if payload_checksums:
        for name, wanted in sorted(expected.items()):
            actual = _hash_file_multi(bag / name, sorted(wanted))
            for alg, (digest, manifest_name) in sorted(wanted.items()):
                if actual[alg] != digest:
                    problems.append(
                        f"{name!r}: {alg} is {actual[alg]}, {manifest_name} says {digest}"
                    )
    # Payload-Oxum, when present, must match what is on disk.
    info = (bag / "bag-info.txt").read_text("utf-8") if (bag / "bag-info.txt").is_file() else ""
    m = re.search(r"^Payload-Oxum:\s*(\d+)\.(\d+)\s*$", info, re.MULTILINE)
    if m:
        size = sum(os.lstat(bag / n).st_size for n in on_disk if (bag / n).is_file())
        if (int(m.group(1)), int(m.group(2))) != (size, len(on_disk)):
            problems.append(
                f"Payload-Oxum says {m.group(1)}.{m.group(2)}, data/ holds {size}.{len(on_disk)}"
            )
    tag_on_disk = {
        t for t in _walk_files(bag, exclude_payload=True) if not t.startswith("tagmanifest-")
    }
    for tpath in sorted(bag.glob("tagmanifest-*.txt")):
        alg = tpath.name.removeprefix("tagmanifest-").removesuffix(".txt")
        if alg not in hashlib.algorithms_available:
            problems.append(f"{tpath.name}: unknown algorithm {alg!r}")
            continue
        entries = _parse_manifest(tpath, problems)
        for name, digest in sorted(entries.items()):
            why = _unsafe(name)
            if why or name.startswith("data/"):
                problems.append(f"{tpath.name}: {name!r}: {why or 'payload file in tag manifest'}")
                continue
            target = bag / name
            if not target.is_file() or target.is_symlink():
                problems.append(f"{tpath.name}: {name!r} is listed but missing")
                continue
            if _hash_file(target, alg) != digest:
                problems.append(f"tag file {name!r}: {alg} does not match {tpath.name}")
        for name in sorted(tag_on_disk - set(entries)):
            problems.append(f"tag file {name!r} is not in {tpath.name}")
    return problems
