"""Running a parse end to end: build the Source (loose file or case exhibit), choose the
zone, stream records as JSON Lines, and describe the result for a human.

``cyberstalk parse`` is a thin wrapper around these; ``ingest`` can reuse
:func:`exhibit_source` to parse stored exhibits with their sibling links.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from cyberstalk.errors import CaseError, UsageError
from cyberstalk.parsers.base import ParseContext, Parser, ParseReport, Source
from cyberstalk.parsers.textutil import DATE_ORDERS
from cyberstalk.records import record_line as record_line  # re-exported (tests, callers)
from cyberstalk.records import write_jsonl as write_jsonl  # re-exported (parse, tests)
from cyberstalk.records.times import choose_zone


def load_case_manifest(case_root: Path) -> dict[str, Any]:
    """``manifest.json`` of a case, read by :func:`cyberstalk.hashing.manifest.load_manifest`
    (CaseError when it is missing or not a manifest)."""
    from cyberstalk.hashing.manifest import load_manifest

    return load_manifest(case_root / "manifest.json")


def exhibit_source(case_root: Path, manifest: Mapping[str, Any], ref: str) -> Source:
    """The Source for exhibit ``ref``: its stored copy, original name and siblings.

    Siblings map member name -> exhibit ref. For an archive member they are the other
    members of the same archive; for an archive itself they are its members, so that
    attachments named in a chat link to their sub-exhibits either way.
    """
    exhibits = [e for e in manifest.get("exhibits", []) if isinstance(e, dict)]
    entry = next((e for e in exhibits if e.get("ref") == ref), None)
    if entry is None:
        known = ", ".join(str(e.get("ref")) for e in exhibits[:12])
        raise UsageError(
            f"no exhibit {ref!r} in {case_root / 'manifest.json'}",
            advice=(f"choose one of: {known}" if known else "ingest evidence first")
            + " (see `cyberstalk case show` / manifest.json)",
        )
    stored = entry.get("stored_as")
    if not isinstance(stored, str) or not stored:
        raise CaseError(f"manifest entry {ref} has no stored_as path")
    path = case_root / stored
    if not path.is_file():
        raise CaseError(
            f"exhibit {ref} is missing from the case: {path} does not exist",
            advice="run `cyberstalk verify` on the case",
        )
    parent = entry.get("parent")
    group = parent if parent else ref
    siblings = {
        str(e["member_name"]): str(e["ref"])
        for e in exhibits
        if e.get("parent") == group and e.get("member_name") is not None and e.get("ref") != ref
    }
    name = str(entry.get("original_name") or Path(stored).name)
    return Source(path=path, name=name, exhibit=ref, siblings=siblings)


def make_context(
    *,
    tz: str | None,
    case_tz: str | None,
    date_order: str | None,
    options: Mapping[str, str] | None = None,
    latest: datetime | None = None,
) -> ParseContext:
    """Zone (``--tz``, else the case's, else Europe/London) and the user's choices.
    ``latest``: nothing in the source is later (default: now)."""
    try:
        zone = choose_zone(tz, case_tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--tz {tz!r} is not a known IANA timezone", advice="e.g. --tz Europe/London"
        ) from None
    if date_order is not None and date_order not in DATE_ORDERS:
        raise UsageError(f"--date-order must be one of {', '.join(DATE_ORDERS)}")
    return ParseContext(
        zone=zone,
        date_order=date_order,
        options=dict(options or {}),
        latest=latest if latest is not None else datetime.now(UTC),
    )


def parse_options(pairs: list[str]) -> dict[str, str]:
    """``--map KEY=VALUE`` pairs into a dict (later pairs win)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(
                f"--map {pair!r} must be KEY=VALUE", advice="e.g. --map time=Date --map text=Body"
            )
        out[key.strip()] = value
    return out


def summary_lines(parser: Parser, report: ParseReport, source_name: str) -> list[str]:
    """The human summary printed on stderr after a parse."""
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.records.items())) or "none"
    lines = [
        f"parsed {source_name} as {parser.name} (parser version {parser.version}): "
        f"{report.total} records ({counts})"
    ]
    if report.skipped:
        lines.append(f"skipped {len(report.skipped)} item(s):")
        for position, reason in report.skipped[:20]:
            lines.append(f"  - {position}: {reason}")
        if len(report.skipped) > 20:
            lines.append(f"  ... and {len(report.skipped) - 20} more")
    else:
        lines.append("skipped: nothing")
    if report.duplicates:
        lines.append(f"duplicates recognised: {report.duplicates}")
    if report.warnings:
        lines.append("notes:")
        for warning in report.warnings[:50]:
            lines.append(f"  - {warning}")
        if len(report.warnings) > 50:
            lines.append(f"  ... and {len(report.warnings) - 50} more")
    if parser.known_gaps:
        lines.append("known gaps of this source:")
        lines.extend(f"  - {gap}" for gap in parser.known_gaps)
    return lines
