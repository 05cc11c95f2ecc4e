"""What every timeline report shares: time formatting, the record row, writing the file
atomically, and recording the report in the custody log with its SHA-256."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from cyberstalk.case import Case, tool_string
from cyberstalk.errors import ReportError
from cyberstalk.hashing.fsutil import fsync_dir, temp_beside
from cyberstalk.records import utc_iso
from cyberstalk.reports.common import generated_at
from cyberstalk.timeline import Analysis, Entry

FORMATS = ("html", "pdf", "csv", "json", "timesketch")
EXTENSIONS = {
    "html": "html",
    "pdf": "pdf",
    "csv": "csv",
    "json": "json",
    "timesketch": "timesketch.jsonl",
}
DIRECTION_LABELS = {
    "to_victim": "to victim",
    "from_victim": "from victim",
    "other": "other",
    "event": "event",
}


@dataclass(frozen=True)
class ReportMeta:
    """Facts printed on every report."""

    generated_at: datetime
    tool: str
    reference: str
    officer: str
    force: str
    assessment: Any = None
    """The officer's risk answers and grading (``risk.Assessment``) from the custody log;
    None: nothing recorded (the questions are shown with their evidence all the same)."""
    orders: int = 0
    """How many orders the case file records (the history question's evidence)."""


@dataclass
class ReportResult:
    """What making a report did."""

    format: str
    path: Path
    sha256: str = ""
    size: int = 0
    stats: dict[str, Any] = field(default_factory=dict)


def report_time(case: Case) -> datetime:
    """Generated-at time (see :func:`cyberstalk.reports.common.generated_at`)."""
    return generated_at(case.custody_path)


def meta_for(case: Case) -> ReportMeta:
    from cyberstalk.risk import read_assessment

    cfg = case.config
    return ReportMeta(
        report_time(case),
        tool_string(),
        cfg.reference,
        cfg.officer,
        cfg.force,
        assessment=read_assessment(case),
        orders=len(cfg.orders),
    )


class MadeOnce(dict[Any, str]):
    """Report text made once per key: ``made[key]`` is ``make(key)``, made the first time
    it is asked for (a chronology's cells repeat from row to row: the same platform,
    sender, occasion or indicators). At most 10,000 are kept: when full it is emptied,
    as a cache, before the next is made."""

    def __init__(self, make: Callable[[Any], str]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: Any) -> str:
        if len(self) > 10_000:
            self.clear()
        made = self[key] = self.make(key)
        return made


def risk_summary(a: Analysis, meta: ReportMeta) -> dict[str, Any]:
    """The S-DASH questions with their evidence and the recorded answers and grading."""
    from cyberstalk import risk

    assessment = meta.assessment or risk.Assessment({}, None, ())
    return risk.summary(risk.evidence_for(a, orders=meta.orders), assessment)


def offset(dt: datetime) -> str:
    """``+01:00`` for a datetime's UTC offset."""
    raw = dt.strftime("%z")
    return f"{raw[:3]}:{raw[3:]}" if raw else "+00:00"


def local_text(dt: datetime | None) -> str:
    """Case-local time for people: ``2026-01-05 18:02:11 GMT +00:00``."""
    if dt is None:
        return "no time"
    iso = dt.isoformat(" ", "seconds")  # 2026-01-05 18:02:11+00:00
    return f"{iso[:19]} {dt.tzname()} {iso[19:] or '+00:00'}"


def utc_text(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is UTC:  # records parsed from ``...+00:00``: no conversion to make
        return dt.isoformat()
    return utc_iso(dt)


def sender_label(entry: Entry) -> str:
    rec = entry.record
    if entry.person:
        raw = rec.sender or ""
        return f"{entry.person} ({raw})" if raw and raw != entry.person else entry.person
    if rec.sender:
        return rec.sender
    if "withheld_number" in rec.flags:
        return "withheld number"
    if entry.direction.value == "from_victim":
        return "victim's device"
    return ""


def record_row(a: Analysis, entry: Entry) -> dict[str, Any]:
    """The data form of one chronology row (JSON and Timesketch), fixed key order, UTC."""
    rec = entry.record
    loc = rec.locator
    t = rec.time_utc
    local = entry.local
    ind = a.indicators_by_record.get(entry.id)
    return {
        "id": entry.id,
        "time_utc": None if t is None else t.isoformat() if t.tzinfo is UTC else utc_iso(t),
        "time_local": None if local is None else local.isoformat(),
        "time_raw": rec.time_raw,
        "tz_basis": rec.tz_basis._value_,
        "platform": rec.platform,
        "kind": rec.kind._value_,
        "subtype": rec.subtype,
        "direction": entry.direction._value_,
        "person": entry.person,
        "sender": rec.sender,
        "sender_identifier": entry.identifier,
        "recipients": list(rec.recipients),
        "conversation": rec.conversation,
        "text": rec.text,
        "attachments": [att.as_dict() for att in rec.attachments] if rec.attachments else [],
        "flags": sorted(rec.flags) if rec.flags else [],
        "counted_contact": entry.contact,
        "occasion": entry.occasion,
        "indicators": list(ind) if ind else [],
        "exhibit": loc.exhibit,
        "locator": loc.as_dict(),
        "locator_text": loc.describe(),
        "parser": {"name": rec.parser, "version": rec.parser_version},
        "extra": dict(sorted(rec.extra.items())) if rec.extra else {},
    }


def default_path(case: Case, fmt: str, a: Analysis) -> Path:
    """``CASE/reports/timeline[-person][-from_to].ext``."""
    name = "timeline"
    if a.person_filter:
        name += "-" + (re.sub(r"[^a-z0-9]+", "-", a.person_filter.casefold()).strip("-") or "p")
    if a.date_from or a.date_to:
        name += f"-{a.date_from or 'start'}_{a.date_to or 'end'}"
    return case.reports_dir / f"{name}.{EXTENSIONS[fmt]}"


@contextlib.contextmanager
def atomic_text(path: Path) -> Iterator[IO[str]]:
    """Write text to ``path`` through a temp file beside it: the report appears whole, or
    not at all (an error leaves any previous report in place)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot create {path.parent}: {exc.strerror}") from exc
    tmp = temp_beside(path)
    try:
        fh = tmp.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise ReportError(
            f"cannot write {path}: {exc.strerror}", advice="choose a writable output path with -o"
        ) from exc
    try:
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
        fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def file_sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
