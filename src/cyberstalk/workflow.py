"""After ingest: turn stored exhibits into derived data (parsed records, image metadata,
OCR). Everything written here lives in ``derived/`` and can be deleted and rebuilt.

This module sits right of intake, parsers and media in the flow, so it may import them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from cyberstalk.case import Case
from cyberstalk.derived import write_records
from cyberstalk.errors import ParseError
from cyberstalk.hashing.manifest import load_manifest
from cyberstalk.models import Flag, Record
from cyberstalk.parsers.base import ParseContext, ParseReport
from cyberstalk.parsers.registry import detect
from cyberstalk.parsers.runner import exhibit_source
from cyberstalk.timeutil import choose_zone


def parse_exhibits(case: Case, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Parse every exhibit a parser recognises into ``derived/records/``.

    An archive whose members were taken as sub-exhibits is not parsed itself: its members
    are (a WhatsApp zip's ``_chat.txt``), so no record is made twice.
    """
    say = progress or (lambda message: None)
    manifest = load_manifest(case.manifest_path)
    exhibits = [e for e in manifest.get("exhibits") or [] if isinstance(e, dict)]
    parents = {str(e["parent"]) for e in exhibits if e.get("parent")}
    ctx = ParseContext(zone=choose_zone(None, case.config.timezone))
    parsed: dict[str, Any] = {}
    errors: list[str] = []
    first_seen: dict[str, str] = {}  # dedupe_key -> locator of its first occurrence
    for ex in exhibits:
        ref = str(ex["ref"])
        if ref in parents:
            continue
        source = exhibit_source(case.root, manifest, ref)
        parser = detect(source).parser
        if parser is None:
            continue
        report = ParseReport(parser=parser.name)
        records: list[Record] = []
        try:
            for record in parser.parse(source, ctx, report):
                records.append(report.count(record))
        except ParseError as exc:
            # keep what was parsed before the fault, reported as such
            report.warnings.append(f"parse stopped: {exc}")
            errors.append(f"{ref}: {exc}")
            say(f"parse error: {ref}: {exc}")
        records = mark_repeats(records, first_seen, report)
        write_records(case.derived_dir, ref, records, report.as_dict())
        parsed[ref] = {"parser": parser.name, "records": report.total}
        say(f"parsed {ref} ({parser.name}): {report.total} records")
    return {"parsed": parsed, "errors": errors}


def mark_repeats(
    records: list[Record], first_seen: dict[str, str], report: ParseReport
) -> list[Record]:
    """Flag records that repeat one from an earlier exhibit (overlapping backups).

    Parsers that can recognise the same event in two exports put ``extra["dedupe_key"]``
    on their records and flag repeats inside one file themselves; across exhibits it is
    done here, in manifest order, so the first exhibit keeps the original. Repeats are
    kept and flagged ``duplicate`` with ``duplicate_of``, never dropped.
    """
    out = []
    for record in records:
        key = record.extra.get("dedupe_key")
        if not isinstance(key, str) or Flag.DUPLICATE.value in record.flags:
            out.append(record)
            continue
        if key in first_seen:
            record = dataclasses.replace(
                record,
                flags=record.flags | {Flag.DUPLICATE.value},
                extra={**record.extra, "duplicate_of": first_seen[key]},
            )
            report.duplicates += 1
        else:
            first_seen[key] = record.locator.describe()
        out.append(record)
    if report.duplicates:
        report.warnings.append(
            f"{report.duplicates} records repeat ones already parsed (overlapping exports): "
            "kept and flagged 'duplicate'"
        )
    return out


def process_case(case: Case, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Parse exports, then read images (metadata, hashes, OCR). Holds the case lock."""
    say = progress or (lambda message: None)
    messages: list[str] = []
    result: dict[str, Any] = {}
    with case.lock("process"):
        result["parse"] = parse_exhibits(case, say)
        from cyberstalk import media

        summary = media.process_case(case, progress=say)
        result["media"] = summary.as_dict()
    count = sum(v["records"] for v in result["parse"]["parsed"].values())
    messages.append(
        f"derived: {count} records from {len(result['parse']['parsed'])} exports"
        + (f", {len(result['parse']['errors'])} parse errors" if result["parse"]["errors"] else "")
    )
    m = result["media"]
    messages.append(
        f"images: {m['images']} read, {m['screenshots']} screenshots, {m['records']} chat lines "
        f"by OCR ({m['corroborated']} corroborate an export), {m['gps']} with GPS positions"
        + (f", {len(m['errors'])} could not be read" if m["errors"] else "")
    )
    for problem in m["errors"]:
        messages.append(f"image error: {problem['ref']} {problem['name']}: {problem['message']}")
    result["messages"] = messages
    return result
