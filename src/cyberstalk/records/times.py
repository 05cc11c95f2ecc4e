"""Turning the times exports write into aware UTC datetimes, honestly.

Zone-less wall-clock times are interpreted in a zone whose basis is recorded
(:class:`~cyberstalk.records.TzBasis`); times in a clock-change gap or overlap are flagged,
never silently resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cyberstalk.records import Flag, TzBasis

DEFAULT_ZONE = "Europe/London"


@dataclass(frozen=True, slots=True)
class ZoneChoice:
    """The zone zone-less times are read in, and why that zone."""

    zone: ZoneInfo
    """The zone."""
    basis: TzBasis
    """USER_SUPPLIED (--tz), CASE_TIMEZONE (case.toml) or DEFAULT_TIMEZONE (Europe/London)."""


def choose_zone(user_tz: str | None, case_tz: str | None) -> ZoneChoice:
    """``--tz``, else the case timezone, else Europe/London: in that order."""
    if user_tz:
        return ZoneChoice(ZoneInfo(user_tz), TzBasis.USER_SUPPLIED)
    if case_tz:
        return ZoneChoice(ZoneInfo(case_tz), TzBasis.CASE_TIMEZONE)
    return ZoneChoice(ZoneInfo(DEFAULT_ZONE), TzBasis.DEFAULT_TIMEZONE)


def localise(naive: datetime, zone: ZoneInfo) -> tuple[datetime, frozenset[str]]:
    """Interpret a zone-less wall time in ``zone``; return (UTC datetime, flags).

    An ambiguous time (it occurs twice when clocks go back) takes the first occurrence and
    is flagged ``dst_ambiguous``. A nonexistent time (skipped when clocks go forward) is
    read with the offset in force before the gap, which lands after the gap, and is
    flagged ``dst_nonexistent``.
    """
    if naive.tzinfo is not None:
        raise ValueError("localise() takes a naive wall-clock time")
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    flags: set[str] = set()
    off0, off1 = first.utcoffset(), second.utcoffset()
    if off0 != off1:
        # Round-trip through UTC: a real (ambiguous) time survives, a gap time does not.
        back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        if back == naive:
            flags.add(Flag.DST_AMBIGUOUS.value)
        else:
            flags.add(Flag.DST_NONEXISTENT.value)
    return first.astimezone(UTC), frozenset(flags)


def from_epoch(value: float, unit: str = "s") -> datetime:
    """An epoch number in seconds (``s``), milliseconds (``ms``) or microseconds (``us``)."""
    divisor = {"s": 1, "ms": 1000, "us": 1_000_000}[unit]
    seconds, remainder = divmod(int(value), divisor)
    micro = remainder * (1_000_000 // divisor)
    return datetime.fromtimestamp(seconds, UTC) + timedelta(microseconds=micro)


def epoch_ms_or_s(value: int) -> datetime:
    """Some writers use seconds where milliseconds are expected: decide by magnitude."""
    # 10^11 ms is 1973; 10^11 s is the year 5138. Any plausible ms value is above it.
    return from_epoch(value, "ms" if abs(value) >= 100_000_000_000 else "s")
