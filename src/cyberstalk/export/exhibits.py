"""The exhibit list a case file needs, as CSV or as a self-contained HTML page.

The CSV has one row per exhibit with every column of :data:`COLUMNS`: reference,
description, original name and path, size, SHA-256, type, who it was received from and
when, producer (the officer who took it in), how it arrived, and any later identical
copies (duplicates) or near-duplicate image groups.

The HTML page is the printable list (A4 landscape, the template
``reports/templates/exhibits.html.j2``): a header per ingest names who the exhibits came
from, the producer, when and the source, which are the same for every exhibit of it; then
one row per exhibit (reference, description and original path, type, size, the whole
SHA-256 in two halves of 32 characters, duplicates and image groups), each archive member
indented under its archive.

Every value comes from ``manifest.json`` (and ``derived/media/groups.json`` when image
processing has run; the custody log's ``ingest_completed`` events tell one ingest from
the next). Names and sources were typed by victims and suspects, so CSV cells are
protected against formula injection and HTML escapes everything (Jinja2 autoescape, a CSP
that loads nothing and runs nothing).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from cyberstalk.case import Case, tool_string
from cyberstalk.errors import ReportError
from cyberstalk.export import ExportResult, check_output_parent
from cyberstalk.hashing.custody import events, read_lines
from cyberstalk.hashing.fsutil import atomic_write
from cyberstalk.hashing.manifest import load_manifest
from cyberstalk.reports.common import CSP, generated_at, write_csv

COLUMNS = (
    "Exhibit",
    "Description",
    "Original name",
    "Original path",
    "Size (bytes)",
    "SHA-256",
    "Type",
    "Received from",
    "Received at (UTC)",
    "Producer",
    "Source",
    "Part of",
    "Duplicates",
    "Image groups",
)

_KINDS = (
    ("image/", "Image"),
    ("video/", "Video"),
    ("audio/", "Audio recording"),
    ("text/", "Text file"),
    ("application/zip", "Zip archive"),
    ("application/pdf", "PDF document"),
    ("application/json", "JSON file"),
    ("application/xml", "XML file"),
    ("text/xml", "XML file"),
)


def describe(exhibit: Mapping[str, Any]) -> str:
    """A plain description built from facts: kind, name, archive membership, notes."""
    mime = str(exhibit.get("mime") or "")
    kind = next((label for prefix, label in _KINDS if mime.startswith(prefix)), "File")
    text = f"{kind} '{exhibit.get('original_name')}'"
    if exhibit.get("parent"):
        text += f", item {exhibit.get('member_name')} of archive {exhibit.get('parent')}"
    if exhibit.get("extension_mismatch"):
        text += (
            f"; content is {mime} although the name suggests "
            f"{exhibit.get('mime_from_extension') or 'another type'}"
        )
    return text


def _groups(case: Case) -> dict[str, list[str]]:
    """ref → descriptions of the image groups it belongs to (empty if media not run)."""
    path = case.derived_dir / "media" / "groups.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportError(
            f"{path} cannot be read: {exc}",
            advice="delete derived/media and re-run image processing",
        ) from exc
    out: dict[str, list[str]] = {}
    for i, group in enumerate(data.get("groups", []), start=1):
        members = [str(m) for m in group.get("members", [])]
        label = group.get("id") or f"G{i}"
        kind = "identical" if group.get("kind") == "exact" else "near-duplicate"
        for ref in members:
            others = ", ".join(m for m in members if m != ref)
            out.setdefault(ref, []).append(f"{label} {kind} of {others}")
    return out


def rows(case: Case) -> list[list[object]]:
    """The exhibit list as rows of :data:`COLUMNS`, in manifest order."""
    manifest = load_manifest(case.manifest_path)
    dups: dict[str, int] = {}
    for d in manifest.get("duplicates", []):
        dups[str(d.get("of"))] = dups.get(str(d.get("of")), 0) + 1
    groups = _groups(case)
    out: list[list[object]] = []
    for ex in manifest.get("exhibits", []):
        ref = str(ex["ref"])
        out.append(
            [
                ref,
                describe(ex),
                ex.get("original_name"),
                ex.get("member_name") or ex.get("original_path"),
                ex.get("size"),
                (ex.get("digests") or {}).get("sha256"),
                ex.get("mime"),
                ex.get("received_from") or "",
                ex.get("received_at"),
                ex.get("operator"),
                ex.get("source"),
                ex.get("parent") or "",
                f"{dups[ref]} later identical cop{'y' if dups[ref] == 1 else 'ies'}"
                if ref in dups
                else "",
                "; ".join(groups.get(ref, [])),
            ]
        )
    return out


def _ingests(case: Case) -> dict[int, int]:
    """custody seq of each ``ingest_completed`` event → its ingest number (1, 2, ...)."""
    ends = [
        int(e["seq"])
        for e in events(read_lines(case.custody_path))
        if e.get("event") == "ingest_completed" and isinstance(e.get("seq"), int)
    ]
    return {seq: n for n, seq in enumerate(sorted(ends), start=1)}


@dataclass(frozen=True, slots=True)
class _Line:
    """One exhibit of the HTML list."""

    ref: str
    depth: int
    """0 for an exhibit, 1 for an archive member, 2 for a member of a member..."""
    description: str
    path_label: str
    path: str
    size: str
    sha256: tuple[str, str]
    mime: str
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Group:
    """Exhibits of one ingest that share who they came from, the producer and the source."""

    number: int
    received_from: str
    producer: str
    source: str
    first: str
    last: str
    lines: tuple[_Line, ...]


def _tree_order(table: Sequence[Sequence[object]]) -> list[tuple[int, Sequence[object]]]:
    """Rows as (depth, row), each archive member right under its parent (manifest order
    otherwise)."""
    refs = {str(r[0]) for r in table}
    children: dict[str, list[Sequence[object]]] = {}
    roots: list[Sequence[object]] = []
    for r in table:
        parent = str(r[11] or "")
        if parent and parent in refs and parent != str(r[0]):
            children.setdefault(parent, []).append(r)
        else:
            roots.append(r)
    out: list[tuple[int, Sequence[object]]] = []
    seen: set[str] = set()

    def walk(row: Sequence[object], depth: int) -> None:
        ref = str(row[0])
        if ref in seen:  # a malformed manifest cannot loop the list
            return
        seen.add(ref)
        out.append((depth, row))
        for child in children.get(ref, []):
            walk(child, depth + 1)

    for r in roots:
        walk(r, 0)
    for r in table:  # members of a cycle of parents (malformed): still listed
        if str(r[0]) not in seen:
            walk(r, 0)
    return out


def _groups_of(case: Case, table: Sequence[Sequence[object]]) -> list[_Group]:
    """The HTML list: runs of exhibits received in one ingest from the same person by the
    same producer with the same source, each exhibit followed by its archive members."""
    zone = case.config.zone
    manifest = load_manifest(case.manifest_path)
    seq_of = {
        str(e.get("ref")): e.get("custody_seq")
        for e in manifest.get("exhibits", [])
        if isinstance(e, dict)
    }
    ends = _ingests(case)

    def ingest_of(ref: str) -> int:
        seq = seq_of.get(ref)
        if not isinstance(seq, int):
            return 0
        return next((n for end, n in sorted(ends.items()) if end > seq), len(ends) + 1)

    groups: list[_Group] = []
    lines: list[_Line] = []
    key: tuple[object, ...] | None = None
    times: list[str] = []

    def close() -> None:
        if key is not None and lines:
            groups.append(
                _Group(
                    number=len(groups) + 1,
                    received_from=str(key[1] or "not recorded"),
                    producer=str(key[2] or "not recorded"),
                    source=str(key[3] or "not recorded"),
                    first=min(times) if times else "",
                    last=max(times) if times else "",
                    lines=tuple(lines),
                )
            )

    for depth, r in _tree_order(table):
        ref = str(r[0])
        this = (ingest_of(ref), r[7], r[9], r[10])
        if this != key:
            close()
            key, lines, times = this, [], []
        received = str(_local(r[8], zone) or "")
        if received:
            times.append(received[:19])
        sha = str(r[5] or "")
        notes = [str(n) for n in (r[12], *(str(r[13]).split("; ") if r[13] else ())) if n]
        lines.append(
            _Line(
                ref=ref,
                depth=depth,
                description=str(r[1]),
                path_label=f"Path in archive {r[11]}" if r[11] else "Original path",
                path=str(r[3] or ""),
                size=f"{r[4]:,}" if isinstance(r[4], int) else str(r[4] or ""),
                sha256=(sha[:32], sha[32:]),
                mime=str(r[6] or ""),
                notes=tuple(notes),
            )
        )
    close()
    return groups


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("cyberstalk.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _local(value: object, zone: ZoneInfo) -> object:
    if not isinstance(value, str):
        return value
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return value
    if when.tzinfo is None:
        return value
    return when.astimezone(zone).isoformat(sep=" ", timespec="seconds")


def render_html(case: Case, table: Sequence[Sequence[object]]) -> str:
    """The HTML page (every value escaped; nothing loaded from anywhere): A4 landscape,
    one row per exhibit under a header per ingest, archive members under their parent."""
    return (
        _env()
        .get_template("exhibits.html.j2")
        .render(
            csp=CSP,
            tool=tool_string(),
            reference=case.config.reference,
            force=case.config.force,
            officer=case.config.officer,
            count=len(table),
            manifest_sha256=hashlib.sha256(case.manifest_path.read_bytes()).hexdigest(),
            generated=generated_at(case.custody_path).isoformat(timespec="seconds"),
            timezone=case.config.timezone,
            groups=_groups_of(case, table),
        )
    )


def write_exhibit_list(case: Case, out: Path) -> ExportResult:
    """Write the exhibit list to ``out`` (.csv or .html, replaced atomically)."""
    check_output_parent(out)
    suffix = out.suffix.lower()
    table = rows(case)
    if suffix == ".csv":
        data = write_csv(table, COLUMNS).encode("utf-8")
        fmt = "exhibits-csv"
    elif suffix in (".html", ".htm"):
        data = render_html(case, table).encode("utf-8")
        fmt = "exhibits-html"
    else:
        raise ReportError(f"{out}: the exhibit list is written as .csv or .html")
    atomic_write(out, data)
    return ExportResult(
        format=fmt,
        path=out,
        sha256=hashlib.sha256(data).hexdigest(),
        exhibits=len(table),
        details={"bytes": len(data)},
    )


__all__ = ["COLUMNS", "describe", "render_html", "rows", "write_exhibit_list"]
