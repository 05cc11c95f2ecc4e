"""After ingest: turn stored exhibits into derived data (parsed records, image metadata,
OCR). Everything written here lives in ``derived/`` and can be deleted and rebuilt.

This module sits right of intake, parsers and media in the flow, so it may import them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cyberstalk.case import Case
from cyberstalk.derived import write_records
from cyberstalk.errors import CyberstalkError, ParseError
from cyberstalk.hashing.manifest import load_manifest
from cyberstalk.parsers.base import ParseContext, Source
from cyberstalk.parsers.registry import detect
from cyberstalk.timeutil import choose_zone


def exhibit_source(case: Case, exhibit: dict[str, Any], exhibits: list[dict[str, Any]]) -> Source:
    """The parser Source for one manifest exhibit (siblings: the other archive members)."""
    siblings: dict[str, str] = {}
    if exhibit.get("parent"):
        siblings = {
            str(e["member_name"]): str(e["ref"])
            for e in exhibits
            if e.get("parent") == exhibit["parent"] and e.get("member_name") is not None
        }
    return Source(
        path=case.root / str(exhibit["stored_as"]),
        name=str(exhibit.get("member_name") or exhibit.get("original_name")),
        exhibit=str(exhibit["ref"]),
        siblings=siblings,
    )


def parse_exhibits(case: Case, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Parse every exhibit a parser recognises into ``derived/records/``."""
    say = progress or (lambda message: None)
    manifest = load_manifest(case.manifest_path)
    exhibits = list(manifest.get("exhibits") or [])
    ctx = ParseContext(zone=choose_zone(None, case.config.timezone))
    parsed: dict[str, Any] = {}
    errors: list[str] = []
    for ex in exhibits:
        source = exhibit_source(case, ex, exhibits)
        detection = detect(source)
        if detection.parser is None:
            continue
        parser = detection.parser
        from cyberstalk.parsers.base import ParseReport

        report = ParseReport(parser=parser.name)
        try:
            records = [report.count(r) for r in parser.parse(source, ctx, report)]
        except ParseError as exc:
            errors.append(f"{ex['ref']}: {exc}")
            say(f"parse error: {ex['ref']}: {exc}")
            continue
        write_records(case.derived_dir, str(ex["ref"]), records, report.as_dict())
        parsed[str(ex["ref"])] = {"parser": parser.name, "records": report.total}
        say(f"parsed {ex['ref']} ({parser.name}): {report.total} records")
    return {"parsed": parsed, "errors": errors}


def process_case(case: Case, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Parse exports, then read images (metadata, hashes, OCR). Holds the case lock."""
    say = progress or (lambda message: None)
    messages: list[str] = []
    result: dict[str, Any] = {}
    with case.lock("process"):
        result["parse"] = parse_exhibits(case, say)
        try:
            from cyberstalk import media
        except ImportError:
            media = None  # type: ignore[assignment]
        if media is not None and hasattr(media, "process_case"):
            try:
                summary = media.process_case(case, progress=say)
                result["media"] = summary.as_dict() if hasattr(summary, "as_dict") else summary
            except CyberstalkError as exc:
                messages.append(f"media: {exc}")
    count = sum(v["records"] for v in result["parse"]["parsed"].values())
    messages.append(
        f"derived: {count} records from {len(result['parse']['parsed'])} exports"
        + (f", {len(result['parse']['errors'])} parse errors" if result["parse"]["errors"] else "")
    )
    result["messages"] = messages
    return result
