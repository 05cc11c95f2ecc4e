"""The manifest: every exhibit, rebuilt from the custody log, written atomically.

``manifest.json`` is a pure function of the custody log's exhibit events (and the key that
signs it), so ``verify`` can rebuild it and compare bytes: an edit to either shows. Beside
it, ``manifest-sha256.txt`` lets anyone run ``sha256sum -c manifest-sha256.txt`` from the
case folder with stock tools.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cyberstalk.errors import CaseError
from cyberstalk.hashing.custody import LogLine

FORMAT = "cyberstalk-manifest/1"

EXHIBIT_EVENTS = ("exhibit_received",)
DUPLICATE_EVENTS = ("duplicate_received",)
MANIFEST_EVENTS = ("case_created", *EXHIBIT_EVENTS, *DUPLICATE_EVENTS)
"""Events that change the manifest; any other event (verify, report...) does not."""


def build_manifest(lines: list[LogLine], signer: Mapping[str, str] | None) -> dict[str, Any]:
    """The manifest for a log (the caller passes the lines the manifest covers)."""
    case: dict[str, Any] = {}
    exhibits: list[dict[str, Any]] = []
    duplicates: list[dict[str, Any]] = []
    for line in lines:
        event = line.event
        if event is None:
            continue
        name = event.get("event")
        details = dict(event.get("details") or {})
        if name == "case_created":
            case = {k: details.get(k) for k in ("reference", "exhibit_prefix", "officer", "force")}
        elif name in EXHIBIT_EVENTS:
            details["custody_seq"] = event.get("seq")
            exhibits.append(details)
        elif name in DUPLICATE_EVENTS:
            details["custody_seq"] = event.get("seq")
            duplicates.append(details)
    return {
        "format": FORMAT,
        "case": case,
        "custody_log": {
            "lines": len(lines),
            "head_sha256": lines[-1].sha256 if lines else None,
        },
        "signer": dict(signer) if signer else None,
        "exhibits": exhibits,
        "duplicates": duplicates,
    }


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """The one serialisation: sorted keys, UTF-8, one exhibit (or duplicate) per line.

    One entry per line keeps the file readable, greppable and diffable, and lets the C JSON
    encoder do the work: every seal rebuilds the whole manifest (an ingest seals at its end,
    after each archive and, during a long one, at intervals), and an indented encoding is
    pure Python in the stdlib.
    """

    def dump(value: Any) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))

    lines = ["{"]
    keys = sorted(manifest)
    for i, key in enumerate(keys):
        comma = "," if i < len(keys) - 1 else ""
        value = manifest[key]
        if isinstance(value, list) and value:
            lines.append(f"  {dump(key)}: [")
            lines.extend(
                f"    {dump(item)}{',' if j < len(value) - 1 else ''}"
                for j, item in enumerate(value)
            )
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {dump(key)}: {dump(value)}{comma}")
    lines.append("}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def covered_lines(lines: list[LogLine]) -> list[LogLine]:
    """The lines a manifest sealed now covers: all of them.

    Sealing the whole log (not only up to the last exhibit event) means that removing any
    line up to the seal, the last one included, is detected. Lines appended after the last
    seal (a verify run, a report) are chained but can only be anchored by a later seal or
    an RFC 3161 timestamp.
    """
    return lines


def load_manifest(path: Path) -> dict[str, Any]:
    """Read manifest.json; CaseError if it is missing or not a manifest."""
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise CaseError(
            f"{path} is missing", advice="ingest evidence first with `cyberstalk ingest`"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CaseError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CaseError(f"{path} is not a cyberstalk manifest (format {FORMAT} expected)")
    return data


def sha256sum_escape(name: str) -> tuple[str, str]:
    r"""coreutils' escaping for a name in a checksum line: ``\`` and newline (and CR) are
    escaped and the line gets a leading backslash. Returns (prefix, escaped name)."""
    if "\\" in name or "\n" in name or "\r" in name:
        escaped = name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
        return "\\", escaped
    return "", name


def sha256sum_text(exhibits: Iterable[Mapping[str, Any]]) -> bytes:
    """``manifest-sha256.txt``: ``sha256sum -c`` format, paths relative to the case folder."""
    out = []
    for ex in exhibits:
        prefix, name = sha256sum_escape(str(ex["stored_as"]))
        out.append(f"{prefix}{ex['digests']['sha256']}  {name}\n")
    return "".join(out).encode("utf-8")
