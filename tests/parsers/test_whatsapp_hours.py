"""The WhatsApp parser reads a message's time as its wall-clock hour's start in UTC plus
the minutes and seconds (``_Builder._hour_start``, remembered per hour). That is only
right for an hour with one offset throughout: every other hour must be refused, so that
its messages are localised one by one. Checked here against ``timeutil.localise``, minute
by minute, around every clock change from 2010 to 2026 in zones with unusual ones."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from cyberstalk.parsers.whatsapp import _Builder
from cyberstalk.records.times import localise

ZONES = [
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",  # half-hour clock changes
    "Asia/Kathmandu",  # +05:45, no changes
    "Asia/Kolkata",
    "Pacific/Apia",  # skipped 2011-12-30 altogether
    "Africa/Casablanca",  # changes around Ramadan, several a year
    "Europe/Moscow",  # standard time moved in 2011 and 2014
    "America/Santiago",  # changes at midnight
    "Asia/Gaza",  # changes at odd hours
    "UTC",
]
HOUR = timedelta(hours=1)


def _hour_start(zone: ZoneInfo, wall: datetime) -> datetime | None:
    builder = SimpleNamespace(zone=zone)
    return _Builder._hour_start(builder, wall.year, wall.month, wall.day, wall.hour)  # type: ignore[arg-type]


def _offset(zone: ZoneInfo, wall: datetime, fold: int = 0) -> timedelta | None:
    return wall.replace(tzinfo=zone, fold=fold).utcoffset()


def _hours_near_changes(zone: ZoneInfo) -> set[datetime]:
    """Every wall-clock hour from 2010 to 2026 in a six hours' step over which the offset
    changes, and the hour either side; and 200 ordinary hours."""
    near: set[datetime] = set()
    step = 6 * HOUR
    wall = datetime(2010, 1, 1)  # a wall clock
    offset = _offset(zone, wall)
    while wall.year < 2027:
        nxt = wall + step
        after = _offset(zone, nxt)
        if after != offset or _offset(zone, nxt, 1) != after:
            near.update(wall + HOUR * n for n in range(-1, 8))
        wall, offset = nxt, after
    rng = random.Random(zone.key)
    start = datetime(2010, 1, 1)  # a wall clock
    near.update(start + HOUR * rng.randrange(17 * 8766) for _ in range(200))
    return near


def _truth(zone: ZoneInfo, wall: datetime, seconds: range) -> set[tuple[timedelta, bool]]:
    """The (offset, flagged) pairs that localise gives at these seconds of the hour."""
    seen = set()
    for second in seconds:
        naive = wall + timedelta(seconds=second)
        utc, flags = localise(naive, zone)
        seen.add((naive - utc.replace(tzinfo=None), bool(flags)))
    return seen


@pytest.mark.parametrize("name", ZONES)
def test_an_hour_is_read_from_its_start_only_when_it_has_one_offset(name: str) -> None:
    zone = ZoneInfo(name)
    refused = 0
    for wall in sorted(_hours_near_changes(zone)):
        start = _hour_start(zone, wall)
        # every minute's first second, and the hour's last
        sampled = [*range(0, 3600, 60), 3599]
        if start is not None:
            assert start.tzinfo is UTC
            for second in sampled:
                naive = wall + timedelta(seconds=second)
                assert localise(naive, zone) == (start + timedelta(seconds=second), frozenset())
        else:
            refused += 1
            # a clock change, or a time localise flags, lies in the hour: found by the
            # minute, or else by the second
            truth = _truth(zone, wall, range(0, 3600, 60))
            if truth == {(_offset(zone, wall), False)}:
                truth = _truth(zone, wall, range(3600))
            assert len(truth) > 1 or next(iter(truth))[1], (name, wall)
    if name in ("Asia/Kathmandu", "Asia/Kolkata", "UTC"):
        assert refused == 0
    else:
        assert refused >= 2  # at least one change each way was met
