"""Where an export file sat in the submission, and the files that sat beside it.

Some exports need a neighbour to be read fully (Discord's ``channel.json`` beside
``messages.json``) or show their platform only in their folder names (Meta's
``your_instagram_activity/``). For a loose file both come from the file system. For an
exhibit of a case the Source carries only the leaf name and a stored copy under
``evidence/``; the original path of every exhibit is in the case's ``manifest.json`` (beside
``evidence/``), which is read here, read-only, to answer the same two questions.
"""

from __future__ import annotations

import functools
import json
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cyberstalk.parsers.base import Source

MANIFEST_LIMIT = 64 * 1024 * 1024
"""A manifest larger than this is not read (the answers are then simply unknown)."""
SIDE_FILE_LIMIT = 1024 * 1024
"""Side files (channel.json, user.json) larger than this are ignored."""


@dataclass(frozen=True)
class _Entry:
    paths: tuple[str, ...]
    stored_as: str | None
    parent: str | None


def _posix(name: str) -> str:
    return name.replace("\\", "/")


def _manifest_for(source: Source) -> tuple[Path, dict[str, _Entry]] | None:
    if source.exhibit is None:
        return None
    manifest = source.path.parent.parent / "manifest.json"
    try:
        stat = manifest.stat()
    except OSError:
        return None
    return manifest.parent, _index(str(manifest), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _index(path: str, mtime_ns: int, size: int) -> dict[str, _Entry]:
    del mtime_ns  # part of the cache key only: a re-sealed manifest is read again
    if size > MANIFEST_LIMIT:
        return {}
    try:
        data = json.loads(Path(path).read_bytes())
    except (OSError, ValueError, RecursionError):
        return {}
    index: dict[str, _Entry] = {}
    for entry in data.get("exhibits", []) if isinstance(data, dict) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("ref"), str):
            continue
        paths = tuple(
            _posix(v)
            for k in ("member_name", "original_path")
            if isinstance(v := entry.get(k), str)
        )
        stored = entry.get("stored_as")
        parent = entry.get("parent")
        index[entry["ref"]] = _Entry(
            paths,
            stored if isinstance(stored, str) else None,
            parent if isinstance(parent, str) else None,
        )
    return index


def original_paths(source: Source) -> tuple[str, ...]:
    """The paths the file had in the submission (loose file: its own path)."""
    found = _manifest_for(source)
    if found is None:
        return () if source.exhibit is not None else (_posix(str(source.path)),)
    _, index = found
    entry = index.get(source.exhibit or "")
    return entry.paths if entry else ()


def side_file(source: Source, relative: str) -> Path | None:
    """The file at ``relative`` (``channel.json``, ``../../account/user.json``) from the
    source's folder, as it was in the submission; None when it is not there."""
    if source.exhibit is None:
        candidate = source.path.parent / relative
        return candidate if candidate.is_file() else None
    found = _manifest_for(source)
    if found is None:
        return None
    root, index = found
    own = index.get(source.exhibit)
    if own is None:
        return None
    wanted = {posixpath.normpath(posixpath.join(posixpath.dirname(p), relative)) for p in own.paths}
    for ref, entry in sorted(index.items()):
        if (
            ref != source.exhibit
            and entry.parent == own.parent  # the same archive (or both loose files)
            and entry.stored_as
            and wanted.intersection(entry.paths)
        ):
            candidate = root / entry.stored_as
            return candidate if candidate.is_file() else None
    return None


def read_side_json(path: Path | None) -> dict[str, Any] | None:
    """A small JSON object from a side file, or None when absent, large or unreadable."""
    if path is None:
        return None
    try:
        if path.stat().st_size > SIDE_FILE_LIMIT:
            return None
        value = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def exhibit_for_path(source: Source, relative_to_root: str) -> str | None:
    """The exhibit whose submission path ends with ``relative_to_root`` (a Meta media
    ``uri``), among the source's own archive members or loose files; None if none."""
    if source.exhibit is None:
        return None
    manifest = source.path.parent.parent / "manifest.json"
    try:
        stat = manifest.stat()
    except OSError:
        return None
    key = (str(manifest), stat.st_mtime_ns, stat.st_size)
    own = _index(*key).get(source.exhibit)
    if own is None:
        return None
    return _suffixes(*key, own.parent).get(_posix(relative_to_root).lstrip("/"))


@functools.lru_cache(maxsize=8)
def _suffixes(path: str, mtime_ns: int, size: int, parent: str | None) -> dict[str, str]:
    """Every trailing part of every submission path -> exhibit, within one archive."""
    table: dict[str, str] = {}
    for ref, entry in sorted(_index(path, mtime_ns, size).items()):
        if entry.parent != parent:
            continue
        for name in entry.paths:
            parts = name.split("/")
            for i in range(len(parts)):
                table.setdefault("/".join(parts[i:]), ref)
    return table
