"""The exhibit list a case file needs, as CSV or as a self-contained HTML page.

One row per exhibit: reference, description, original name and path, size, SHA-256,
type, who it was received from and when, producer (the officer who took it in), how it
arrived, and any later identical copies (duplicates) or near-duplicate image groups.

Every value comes from ``manifest.json`` (and ``derived/media/groups.json`` when image
processing has run). Names and sources were typed by victims and suspects, so CSV cells
are protected against formula injection and HTML escapes everything (Jinja2 autoescape,
a CSP that loads nothing and runs nothing).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from cyberstalk.case import Case, tool_string
from cyberstalk.errors import ReportError
from cyberstalk.export import ExportResult, check_output_parent
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


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="generator" content="{{ tool }}">
<title>Exhibit list: {{ reference }}</title>
<style>
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; margin: 1.5em; }
h1 { font-size: 14pt; margin-bottom: 0.2em; }
p.meta { color: #333; margin-top: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: 3px 5px; vertical-align: top; text-align: left; }
th { background: #e8e8e8; }
td.hash { font-family: "DejaVu Sans Mono", monospace; font-size: 8pt; word-break: break-all; }
td.num { text-align: right; }
td.name { white-space: pre-wrap; word-break: break-all; }
</style>
</head>
<body>
<h1>Exhibit list &mdash; {{ reference }}</h1>
<p class="meta">{{ force }} &middot; officer in the case {{ officer }} &middot;
{{ count }} exhibit{{ "s" if count != 1 else "" }} &middot; manifest SHA-256
<span class="hash">{{ manifest_sha256 }}</span> &middot; generated {{ generated }}
by {{ tool }}. Times are shown in {{ timezone }}.</p>
<table>
<thead><tr>{% for c in columns %}<th scope="col">{{ c }}</th>{% endfor %}</tr></thead>
<tbody>
{% for r in rows %}<tr>
<td>{{ r[0] }}</td><td>{{ r[1] }}</td><td class="name">{{ r[2] }}</td>
<td class="name">{{ r[3] }}</td><td class="num">{{ r[4] }}</td><td class="hash">{{ r[5] }}</td>
<td>{{ r[6] }}</td><td>{{ r[7] }}</td><td>{{ r[8] }}</td><td>{{ r[9] }}</td><td>{{ r[10] }}</td>
<td>{{ r[11] }}</td><td>{{ r[12] }}</td><td>{{ r[13] }}</td>
</tr>
{% endfor %}</tbody>
</table>
</body>
</html>
"""


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
    """The HTML page (every value escaped; nothing loaded from anywhere)."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    zone = case.config.zone
    columns = [c.replace(" (UTC)", "") for c in COLUMNS]
    local_rows = [[*r[:8], _local(r[8], zone), *r[9:]] for r in table]
    return env.from_string(_TEMPLATE).render(
        csp=CSP,
        tool=tool_string(),
        reference=case.config.reference,
        force=case.config.force,
        officer=case.config.officer,
        count=len(table),
        manifest_sha256=hashlib.sha256(case.manifest_path.read_bytes()).hexdigest(),
        generated=generated_at(case.custody_path).isoformat(timespec="seconds"),
        timezone=case.config.timezone,
        columns=columns,
        rows=local_rows,
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
