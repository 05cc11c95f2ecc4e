"""Linking screenshot text to messages parsed from exports (the screenshot corroborates).

A screenshot record corroborates an export record when both

- the texts agree: difflib's ratio over case-folded, whitespace-collapsed text is at least
  :data:`MIN_TEXT_RATIO` (OCR slips a character or two; line wraps become spaces), and
- the times agree: the export's instant lies within :data:`TIME_WINDOW` of the screenshot's
  minute (screens show minutes, exports seconds; the window also absorbs a phone clock a
  little off). A screenshot line with a clock time but no date matches on the wall-clock
  hour and minute in the case zone, with a stricter text ratio
  (:data:`MIN_TEXT_RATIO_UNDATED`).

Texts of :data:`MIN_PARTIAL_CHARS` or more also match the start or end of a longer export
text (``text_match: "part"``): exports add markers the screen does not show.

The best-matching export records (ties kept) are listed in ``extra["corroborates"]`` with
the similarity and time difference of each in ``extra["corroboration"]``.
"""

from __future__ import annotations

import bisect
import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cyberstalk.records import Record, RecordKind

MIN_TEXT_RATIO = 0.85
MIN_TEXT_RATIO_UNDATED = 0.92
TIME_WINDOW = timedelta(minutes=3)
MIN_PARTIAL_CHARS = 12
"""Screenshot texts at least this long may match the start or end of a longer export text."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CLOCK_RE = re.compile(r"(\d{1,2})\s?[:.\-]\s?(\d{2})\s*(?:([AaPp])\.?\s?[Mm]\.?)?")


def normalise(text: str) -> str:
    """Text as compared: NFKC, case-folded, whitespace collapsed, '|' read as 'i'."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("|", "i")
    return " ".join(folded.split())


def _ratio(a: str, b: str) -> float:
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sm.ratio() if sm.quick_ratio() >= MIN_TEXT_RATIO else 0.0


def _similarity(shot: str, export: str) -> tuple[float, str]:
    """(ratio, "whole" | "part"). Exports often carry more than the screen shows (a
    ``<This message was edited>`` marker, a caption) and a screenshot may cut a bubble
    off: a long enough screenshot text is also compared with the same-length start and
    end of the export text."""
    whole = _ratio(shot, export)
    if len(shot) < MIN_PARTIAL_CHARS or len(export) <= len(shot):
        return whole, "whole"
    part = max(_ratio(shot, export[: len(shot)]), _ratio(shot, export[-len(shot) :]))
    return (part, "part") if part > whole else (whole, "whole")


def _clock(raw: str) -> tuple[int, int] | None:
    m = _CLOCK_RE.search(raw)
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2))
    if m.group(3):
        hour = hour % 12 + (12 if m.group(3).lower() == "p" else 0)
    return hour, minute


class ExportIndex:
    """Export records ready for matching: sorted by time, texts normalised once."""

    def __init__(self, records: Iterable[Record], zone: ZoneInfo) -> None:
        usable = [
            r
            for r in records
            if r.kind is not RecordKind.SCREENSHOT_TEXT and r.text.strip() and r.time_utc
        ]
        usable.sort(key=lambda r: (r.time_utc or _EPOCH, r.id))
        self.records = usable
        self.times: list[datetime] = [r.time_utc or _EPOCH for r in usable]
        self.texts = [normalise(r.text) for r in usable]
        self.zone = zone

    def candidates(self, shot: Record) -> Sequence[int]:
        if shot.time_utc is not None:
            lo = bisect.bisect_left(self.times, shot.time_utc - TIME_WINDOW)
            # The screen shows the minute the message was sent in: allow its 59 seconds.
            last = shot.time_utc + TIME_WINDOW + timedelta(minutes=1)
            hi = bisect.bisect_right(self.times, last)
            return range(lo, hi)
        clock = _clock(shot.time_raw)
        if clock is None:
            return ()
        out = []
        for i, t in enumerate(self.times):
            local = t.astimezone(self.zone)
            if (local.hour, local.minute) == clock:
                out.append(i)
        return out


def match(shot: Record, index: ExportIndex) -> list[dict[str, Any]]:
    """Best export matches for one screenshot record (empty when none is good enough)."""
    if not shot.text.strip():
        return []
    target = normalise(shot.text)
    minimum = MIN_TEXT_RATIO if shot.time_utc is not None else MIN_TEXT_RATIO_UNDATED
    scored: list[tuple[float, int, int, str]] = []
    for i in index.candidates(shot):
        cand = index.records[i]
        if cand.locator.exhibit is not None and cand.locator.exhibit == shot.locator.exhibit:
            continue
        ratio, how = _similarity(target, index.texts[i])
        if ratio < minimum:
            continue
        delta = 0
        if shot.time_utc is not None and cand.time_utc is not None:
            delta = int((cand.time_utc - shot.time_utc).total_seconds())
        scored.append((ratio, -abs(delta), i, how))
    if not scored:
        return []
    scored.sort(reverse=True)
    best = scored[0][0]
    out = []
    for ratio, neg_delta, i, how in scored:
        if ratio < best - 1e-9:
            break
        out.append(
            {
                "id": index.records[i].id,
                "exhibit": index.records[i].locator.exhibit,
                "text_similarity": round(ratio, 3),
                "text_match": how,
                "time_difference_s": -neg_delta if shot.time_utc is not None else None,
            }
        )
    out.sort(key=lambda m: str(m["id"]))
    return out


def corroborate(shots: Sequence[Record], index: ExportIndex) -> tuple[list[Record], int]:
    """Screenshot records with ``corroborates`` set; and how many found a match."""
    out: list[Record] = []
    linked = 0
    for shot in shots:
        extra = {k: v for k, v in shot.extra.items() if k not in ("corroborates", "corroboration")}
        found = match(shot, index)
        if found:
            linked += 1
            extra["corroborates"] = [m["id"] for m in found]
            extra["corroboration"] = found
        out.append(replace(shot, extra=extra))
    return out, linked
