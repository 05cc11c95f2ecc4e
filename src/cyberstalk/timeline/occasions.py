"""Grouping contacts into occasions.

PHA 1997 s.7(3): a course of conduct needs conduct on at least two occasions. The Act does
not define an occasion; the toolkit uses a transparent rule the officer can change: a
contact more than ``occasion_gap_hours`` after the person's previous contact starts a new
occasion. The gap is printed in every report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from cyberstalk.timeline.model import Occasion


def group_occasions(
    contacts: Mapping[str, Sequence[tuple[datetime, str, str]]], gap_hours: float
) -> tuple[list[Occasion], dict[str, str]]:
    """Occasions for each person from their ``(time_utc, record id, platform)`` contacts
    (in time order). Returns the occasions, numbered ``occ-1``... in order of start time
    across people, and the occasion id of every record."""
    gap = timedelta(hours=gap_hours)
    raw: list[tuple[datetime, str, int, list[tuple[datetime, str, str]]]] = []
    for person, items in contacts.items():
        number = 0
        current: list[tuple[datetime, str, str]] = []
        for item in items:
            if current and item[0] - current[-1][0] > gap:
                number += 1
                raw.append((current[0][0], person, number, current))
                current = []
            current.append(item)
        if current:
            number += 1
            raw.append((current[0][0], person, number, current))
    raw.sort(key=lambda r: (r[0], r[1], r[2]))
    occasions: list[Occasion] = []
    of_record: dict[str, str] = {}
    for index, (start, person, number, items) in enumerate(raw, start=1):
        occ_id = f"occ-{index}"
        for _, rid, _ in items:
            of_record[rid] = occ_id
        occasions.append(
            Occasion(
                id=occ_id,
                person=person,
                number=number,
                start=start,
                end=items[-1][0],
                records=tuple(rid for _, rid, _ in items),
                channels=tuple(sorted({p for _, _, p in items})),
            )
        )
    return occasions, of_record
