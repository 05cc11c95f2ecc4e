"""After ingest: turn stored exhibits into derived data (parsed records, image metadata,
OCR). Everything written here lives in ``derived/`` and can be deleted and rebuilt.

This module sits right of intake, parsers and media in the flow, so it may import them.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from cyberstalk import __version__
from cyberstalk.case import Case
from cyberstalk.errors import CyberstalkError, DateOrderError, ParseError, UsageError
from cyberstalk.hashing.custody import events
from cyberstalk.hashing.fsutil import atomic_write
from cyberstalk.hashing.manifest import load_manifest
from cyberstalk.parsers.base import ParseContext, Parser, ParseReport, Source
from cyberstalk.parsers.registry import RecordStream, detect
from cyberstalk.parsers.runner import exhibit_source
from cyberstalk.parsers.textutil import DATE_ORDERS
from cyberstalk.records import (
    Flag,
    Locator,
    Record,
    record_path,
    record_writer,
    report_path,
    write_jsonl,
    write_report,
)
from cyberstalk.records.store import file_record_dicts
from cyberstalk.records.times import choose_zone

DATE_ORDER_EVENT = "date_order_decided"
"""Custody event: an officer settled the day/month/year order of an exhibit's dates."""


def date_order_decisions(case: Case) -> dict[str, dict[str, Any]]:
    """exhibit ref -> the latest recorded date-order decision (order, reason, seq...)."""
    out: dict[str, dict[str, Any]] = {}
    for event in events(case.log().lines()):
        if event.get("event") == DATE_ORDER_EVENT:
            details = dict(event.get("details") or {})
            ref = details.get("exhibit")
            if isinstance(ref, str) and details.get("order") in DATE_ORDERS:
                out[ref] = {**details, "seq": event.get("seq"), "actor": event.get("actor")}
    return out


def _received(entry: dict[str, Any]) -> datetime | None:
    value = entry.get("received_at")
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def _context(case: Case, entry: dict[str, Any], order: str | None) -> ParseContext:
    return ParseContext(
        zone=choose_zone(None, case.config.timezone), date_order=order, latest=_received(entry)
    )


def _hint(case: Case, ref: str, exc: DateOrderError) -> str:
    return (
        f"{exc.message}\n  hint: look at the phone's date settings (or a date you know), then "
        f"record the decision: cyberstalk process {shlex.quote(str(case.root))} --exhibit "
        f"{shlex.quote(ref)} --date-order {'|'.join(exc.orders)} --reason '...'"
    )


def _is_capture(exhibits: list[dict[str, Any]], ref: str) -> bool:
    """An exhibit made by ``cyberstalk capture``: its members hold a capture record and a
    WARC (see :mod:`cyberstalk.capture.store`)."""
    from cyberstalk.capture import RECORD_NAME, WARC_NAME  # (names only: nothing heavy)

    names = {str(e.get("member_name")) for e in exhibits if e.get("parent") == ref}
    return {RECORD_NAME, WARC_NAME} <= names


PARSED_NAME = "parsed.json"
"""``derived/parsed.json``: what each export's records were parsed from (see
:func:`parse_exhibits`)."""


def _inputs(
    entry: dict[str, Any],
    source: Source,
    parser: Parser,
    ctx: ParseContext,
    decision: dict[str, Any] | None,
) -> dict[str, Any]:
    """Everything an exhibit's records and report are made from, besides the records of
    the exports before it (see :func:`parse_exhibits`): the stored bytes, the parser and
    toolkit versions, the names the records carry, and the parse's settings."""
    return {
        "tool": __version__,
        "parser": [parser.name, parser.version],
        "stored_as": entry.get("stored_as"),
        "sha256": (entry.get("digests") or {}).get("sha256"),
        "name": source.name,
        "siblings": sorted(source.siblings.items()),
        "zone": [ctx.zone.zone.key, ctx.zone.basis.value],
        "date_order": ctx.date_order,
        "latest": None if ctx.latest is None else ctx.latest.isoformat(),
        "options": sorted(ctx.options.items()),
        "decision": None
        if decision is None
        else [decision.get("seq"), decision.get("actor"), decision.get("reason")],
    }


def _stamps(case: Case, ref: str) -> list[list[int]]:
    """The records and report files of ``ref`` as written (size, mtime, inode): a file
    replaced or changed since then has other stamps."""
    stamps = []
    for path in (record_path(case.derived_dir, ref), report_path(case.derived_dir, ref)):
        try:
            st = path.stat()
        except OSError:
            return []
        stamps.append([st.st_size, st.st_mtime_ns, st.st_ino])
    return stamps


def _load_parsed(case: Case) -> dict[str, Any]:
    """``derived/parsed.json`` by exhibit ref ({} when it is missing or unreadable: every
    export is then parsed)."""
    try:
        data = json.loads((case.derived_dir / PARSED_NAME).read_bytes())
    except (OSError, ValueError):
        return {}
    exhibits = data.get("exhibits") if isinstance(data, dict) else None
    return exhibits if isinstance(exhibits, dict) else {}


def _seen_in(path: Path, first_seen: dict[str, str]) -> None:
    """Add the dedupe keys of a stored records file to ``first_seen`` as :func:`_repeats`
    did when it wrote the file (a record it flagged ``duplicate`` added none)."""
    for data in file_record_dicts(path):
        key = (data.get("extra") or {}).get("dedupe_key")
        if isinstance(key, str) and Flag.DUPLICATE.value not in (data.get("flags") or ()):
            first_seen.setdefault(key, Locator.from_dict(data["locator"]).describe())


def parse_exhibits(
    case: Case, progress: Callable[[str], None] | None = None, *, reuse: bool = False
) -> dict[str, Any]:
    """Parse every exhibit a parser recognises into ``derived/records/``.

    An archive whose members were taken as sub-exhibits is not parsed itself: its members
    are (a WhatsApp zip's ``_chat.txt``), so no record is made twice. Date orders that an
    officer settled (``cyberstalk process --date-order``, recorded in the custody log) are
    applied; no message is dated after its exhibit was received.

    What each export was parsed from (:func:`_inputs`) is written to
    ``derived/parsed.json`` with the stamps of the files its parse wrote. With ``reuse``
    (an ingest, which adds exhibits to a case), an export whose inputs and files are as
    recorded there keeps its records instead of being parsed again, unless its records
    pass the cross-export duplicate check (:func:`_repeats`) after an export that was
    parsed again: a repeat is judged against the exports before it. An export whose
    parse stopped at an error is always parsed again, so that the error is reported.
    """
    say = progress or (lambda message: None)
    manifest = load_manifest(case.manifest_path)
    exhibits = [e for e in manifest.get("exhibits") or [] if isinstance(e, dict)]
    parents = {str(e["parent"]) for e in exhibits if e.get("parent")}
    decisions = date_order_decisions(case)
    parsed: dict[str, Any] = {}
    errors: list[str] = []
    undecided: list[dict[str, Any]] = []
    first_seen: dict[str, str] = {}  # dedupe_key -> locator of its first occurrence
    before = _load_parsed(case) if reuse else {}
    state: dict[str, Any] = {}  # what derived/parsed.json will say
    unread: list[Path] = []  # kept records whose dedupe keys first_seen lacks so far
    reparsed = False  # a records file checked by _repeats was written again
    for ex in exhibits:
        ref = str(ex["ref"])
        if ref in parents:
            if _is_capture(exhibits, ref):
                # a web capture's post records are read from its stored WARC, so that
                # derived/ is rebuilt from the evidence like every parser's records
                from cyberstalk.capture.store import write_capture_records

                try:
                    parsed[ref] = {"parser": "capture", "records": write_capture_records(case, ref)}
                except CyberstalkError as exc:
                    errors.append(f"{ref}: {exc}")
                    say(f"parse error: {ref}: {exc}")
            continue
        source = exhibit_source(case.root, manifest, ref)
        parser = detect(source).parser
        if parser is None:
            continue
        decision = decisions.get(ref)
        ctx = _context(case, ex, decision["order"] if decision else None)
        # A parser that writes its own lines (RecordStream.jsonl) marks no dedupe_key:
        # its lines go to the store as they are; others' records pass _repeats.
        repeats = not hasattr(parser, "parse_jsonl")
        inputs = _inputs(ex, source, parser, ctx, decision)
        kept = before.get(ref)
        if (
            isinstance(kept, dict)
            and kept.get("inputs") == inputs
            and not (repeats and reparsed)
            and kept.get("files") == _stamps(case, ref)
            and isinstance(kept.get("result"), dict)
        ):
            parsed[ref] = kept["result"]
            state[ref] = kept
            if repeats:
                unread.append(record_path(case.derived_dir, ref))
            say(
                f"kept {ref} ({parser.name}): {parsed[ref].get('records')} records, parsed "
                "before from the same exhibit and settings"
            )
            continue
        if repeats:
            reparsed = True
            for path in unread:
                _seen_in(path, first_seen)
            unread.clear()
        failed = len(errors)
        report = ParseReport(parser=parser.name)
        stream = RecordStream(parser, source, ctx, report)
        lines = stream if not repeats else _repeats(stream, first_seen, report)
        with record_writer(case.derived_dir, ref) as out:
            try:
                write_jsonl(lines, out)
            except DateOrderError as exc:
                message = _hint(case, ref, exc)
                report.warnings.append(f"parse stopped: {message}")
                errors.append(f"{ref}: {message}")
                undecided.append({"exhibit": ref, "orders": list(exc.orders)})
                say(f"parse error: {ref}: {message}")
            except (ParseError, CyberstalkError) as exc:
                # keep what was parsed before the fault, reported as such (any toolkit
                # error a parser raises stops that exhibit only, never the ingest)
                report.warnings.append(f"parse stopped: {exc}")
                errors.append(f"{ref}: {exc}")
                say(f"parse error: {ref}: {exc}")
        if report.duplicates:
            report.warnings.append(
                f"{report.duplicates} records repeat ones already parsed (overlapping "
                "exports): kept and flagged 'duplicate'"
            )
        index = report.as_dict()
        if decision is not None and report.date_order is not None:
            index["date_order"] = {
                **index.get("date_order", {}),  # type: ignore[dict-item]
                "exhibit": ref,
                "decided_by": decision.get("actor"),
                "reason": decision.get("reason"),
                "custody_seq": decision.get("seq"),
            }
        write_report(case.derived_dir, ref, index)
        parsed[ref] = {"parser": parser.name, "records": report.total}
        if report.date_order is not None:
            parsed[ref]["date_order"] = {
                "order": report.date_order.order,
                "basis": report.date_order.basis,
            }
        if len(errors) == failed:
            state[ref] = {"inputs": inputs, "files": _stamps(case, ref), "result": parsed[ref]}
        say(f"parsed {ref} ({parser.name}): {report.total} records")
        for warning in report.warnings:
            if not warning.startswith("parse stopped"):  # (said above, as an error)
                say(f"  note: {ref}: {warning}")
    if state or (case.derived_dir / PARSED_NAME).exists():
        text = json.dumps({"exhibits": state}, ensure_ascii=False, indent=1, sort_keys=True)
        atomic_write(case.derived_dir / PARSED_NAME, (text + "\n").encode("utf-8"))
    return {"parsed": parsed, "errors": errors, "undecided_date_order": undecided}


def decide_date_order(
    case: Case,
    ref: str,
    order: str,
    reason: str,
    *,
    operator: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Record an officer's decision on the day/month/year order of exhibit ``ref``'s
    dates, then re-parse the case's exports with it. Holds the case lock.

    The exhibit is parsed with the order first: an order the file rules out (a date that
    cannot exist that way) is refused and nothing is recorded.
    """
    if order not in DATE_ORDERS:
        raise UsageError(f"--date-order must be one of {', '.join(DATE_ORDERS)}")
    if not reason.strip():
        raise UsageError(
            "--reason is required with --date-order",
            advice="say how the order was established, e.g. 'phone settings seen: dd/mm/yy'",
        )
    with case.lock("process"):
        manifest = load_manifest(case.manifest_path)
        source = exhibit_source(case.root, manifest, ref)
        parser = detect(source).parser
        if parser is None:
            raise UsageError(f"exhibit {ref} is not an export any parser reads")
        entry = next(e for e in manifest["exhibits"] if e.get("ref") == ref)
        report = ParseReport(parser=parser.name)
        count = sum(1 for _ in parser.parse(source, _context(case, entry, order), report))
        if report.date_order is None:
            raise UsageError(
                f"exhibit {ref} ({parser.name}) has no written dates whose order is in doubt",
                advice="--date-order is for chats whose dates are day/month/year-like text",
            )
        event = case.log(operator).append(
            DATE_ORDER_EVENT,
            {
                "exhibit": ref,
                "order": order,
                "reason": reason.strip(),
                "parser": parser.name,
                "parser_version": parser.version,
                "file_allows": report.date_order.why,
                "basis": report.date_order.basis,
                "records": count,
            },
        )
        result = parse_exhibits(case, progress)
    result["decision"] = event
    return result


def _repeats(
    records: Iterable[Record], first_seen: dict[str, str], report: ParseReport
) -> Iterator[Record]:
    """Flag records that repeat one from an earlier exhibit (overlapping backups), as
    they pass.

    Parsers that can recognise the same event in two exports put ``extra["dedupe_key"]``
    on their records and flag repeats inside one file themselves; across exhibits it is
    done here, in manifest order, so the first exhibit keeps the original. Repeats are
    kept and flagged ``duplicate`` with ``duplicate_of``, never dropped; each is counted
    in ``report.duplicates``.
    """
    for record in records:
        key = record.extra.get("dedupe_key")
        if not isinstance(key, str) or Flag.DUPLICATE.value in record.flags:
            yield record
        elif key in first_seen:
            report.duplicates += 1
            yield dataclasses.replace(
                record,
                flags=record.flags | {Flag.DUPLICATE.value},
                extra={**record.extra, "duplicate_of": first_seen[key]},
            )
        else:
            first_seen[key] = record.locator.describe()
            yield record


def process_case(
    case: Case, progress: Callable[[str], None] | None = None, *, reuse: bool = False
) -> dict[str, Any]:
    """Parse exports, then read images (metadata, hashes, OCR). Holds the case lock.
    ``reuse``: keep the records of exports parsed before from the same inputs (see
    :func:`parse_exhibits`), as an ingest does; images are always so kept."""
    say = progress or (lambda message: None)
    messages: list[str] = []
    result: dict[str, Any] = {}
    with case.lock("process"):
        result["parse"] = parse_exhibits(case, say, reuse=reuse)
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
        f"by OCR ({m['corroborated']} corroborate an export), {len(m['gps'])} with GPS positions"
        + (f", {len(m['errors'])} could not be read" if m["errors"] else "")
    )
    for problem in m["errors"]:
        messages.append(f"image error: {problem['ref']} {problem['name']}: {problem['message']}")
    result["messages"] = messages
    return result
