"""Grouping contacts into occasions.

PHA 1997 s.7(3): a course of conduct needs conduct on at least two occasions. The Act does
not define an occasion; the toolkit uses a transparent rule the officer can change: a
contact more than ``occasion_gap_hours`` after the person's previous contact starts a new
occasion. The gap is printed in every report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from cyberstalk.timeline.model import Contact, Occasion


def group_occasions(
    contacts: Mapping[str, Sequence[Contact]], gap_hours: float
) -> tuple[list[Occasion], dict[str, str]]:
    """Occasions for each person from their counted contacts (:data:`Contact`: time,
    record id, platform...), in time order. Returns the occasions, numbered ``occ-1``...
    in order of start time across people, and the occasion id of every record."""
    gap = timedelta(hours=gap_hours)
    raw: list[tuple[datetime, str, int, list[Contact]]] = []
    for person, items in contacts.items():
        number = 0
        current: list[Contact] = []
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
        for item in items:
            of_record[item[1]] = occ_id
        occasions.append(
            Occasion(
                id=occ_id,
                person=person,
                number=number,
                start=start,
                end=items[-1][0],
                records=tuple(item[1] for item in items),
                channels=tuple(sorted({item[2] for item in items})),
            )
        )
    return occasions, of_record
