"""Course-of-conduct figures for one person of interest."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cyberstalk.timeline.model import Occasion, PersonSummary, Run
from cyberstalk.timeline.settings import Settings

NOT_CONNECTED = frozenset({"missed", "rejected", "blocked", "busy", "cancelled", "declined"})
"""Call subtypes that mean the call did not connect: an attempt to contact."""


def is_night(local: datetime, start: time, end: time) -> bool:
    """Whether a local time falls in the night window [start, end), which may wrap midnight."""
    t = local.time()  # naive (timetz() would keep the zone)
    if start <= end:
        return start <= t < end
    return t >= start or t < end


def longest_streak(days: Sequence[date]) -> tuple[date, date, int] | None:
    """Longest run of consecutive calendar days in sorted ``days`` (earliest wins a tie)."""
    if not days:
        return None
    best = (days[0], days[0], 1)
    start = prev = days[0]
    for day in days[1:]:
        if day - prev == timedelta(days=1):
            prev = day
        else:
            start = prev = day
        length = (prev - start).days + 1
        if length > best[2]:
            best = (start, prev, length)
    return best


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def unanswered_runs(
    person: str,
    events: Sequence[tuple[datetime, str, bool]],
) -> list[Run]:
    """Runs of contacts with no reply in between, from ``(time, record id, is_reply)`` in
    time order (a reply is a record from the victim to this person)."""
    runs: list[Run] = []
    current: list[tuple[datetime, str]] = []

    def close() -> None:
        if current:
            runs.append(Run(person, current[0][0], current[-1][0], tuple(r for _, r in current)))

    for when, rid, is_reply in events:
        if is_reply:
            close()
            current = []
        else:
            current.append((when, rid))
    close()
    return runs


def person_summary(
    person: str,
    contacts: Sequence[tuple[datetime, str, str, str | None, datetime]],
    occasions: Sequence[Occasion],
    reply_events: Sequence[tuple[datetime, str, bool]],
    settings: Settings,
    zone: ZoneInfo,
) -> PersonSummary:
    """Figures for ``contacts``: ``(time_utc, record id, platform, subtype, local time)``
    in time order."""
    # each figure counted over the contacts in C (Counter), the weeks from the days
    channels = Counter(c[2] for c in contacts)
    per_day = Counter(c[4].date() for c in contacts)
    per_week: Counter[str] = Counter()
    for day, count in per_day.items():
        per_week[iso_week(day)] += count
    start, end = settings.night_start, settings.night_end
    night = [c[1] for c in contacts if is_night(c[4], start, end)]
    attempts = sum(1 for c in contacts if c[3] in NOT_CONNECTED)
    days = sorted(per_day)
    busiest = None
    if per_day:
        top = max(per_day.values())
        busiest = (min(d for d, n in per_day.items() if n == top), top)
    runs = unanswered_runs(person, reply_events)
    longest = None
    for run in runs:
        if longest is None or len(run.records) > len(longest.records):
            longest = run
    first = contacts[0][0] if contacts else None
    last = contacts[-1][0] if contacts else None
    span = (days[-1] - days[0]).days + 1 if days else 0
    return PersonSummary(
        person=person,
        first=first,
        last=last,
        contacts=len(contacts),
        occasions=len(occasions),
        channels=tuple(sorted(channels.items())),
        per_day=tuple(sorted(per_day.items())),
        per_week=tuple(sorted(per_week.items())),
        busiest_day=busiest,
        active_days=len(days),
        span_days=span,
        longest_streak=longest_streak(days),
        night_contacts=tuple(night),
        unanswered_runs=tuple(r for r in runs if len(r.records) >= settings.unanswered_run_min),
        longest_unanswered=longest,
        attempts=attempts,
    )
