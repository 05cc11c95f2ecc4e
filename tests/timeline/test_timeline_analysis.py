from __future__ import annotations

import dataclasses
import itertools
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from timeline_helpers import config, rec

from cyberstalk.errors import CaseError, UsageError
from cyberstalk.records import Flag, RecordKind
from cyberstalk.timeline import analyse_records
from cyberstalk.timeline.settings import Settings, load_settings
from cyberstalk.timeline.summary import is_night, longest_streak


def ids(a, ind_id):  # type: ignore[no-untyped-def]
    return [i for i in a.indicators if i.id == ind_id]


def test_occasions_follow_the_configured_gap() -> None:
    records = [
        rec("2026-01-01 10:00", "Sam"),
        rec("2026-01-01 12:00", "Sam"),  # 2 h later: same occasion at 6 h
        rec("2026-01-01 20:00", "Sam"),  # 8 h later: new occasion
        rec("2026-01-03 09:00", "Sam"),
    ]
    a = analyse_records(records, config())
    assert [len(o.records) for o in a.occasions] == [2, 1, 1]
    assert [o.id for o in a.occasions] == ["occ-1", "occ-2", "occ-3"]
    assert a.entries[1].occasion == "occ-1" and a.entries[2].occasion == "occ-2"
    wide = analyse_records(records, config(), settings=Settings(occasion_gap_hours=24))
    assert [len(o.records) for o in wide.occasions] == [3, 1]
    assert ids(a, "repeated")[0].records == (a.entries[0].id, a.entries[2].id, a.entries[3].id)


def test_one_occasion_is_not_repeated() -> None:
    a = analyse_records([rec("2026-01-01 10:00", "Sam"), rec("2026-01-01 10:05", "Sam")], config())
    assert len(a.occasions) == 1
    assert not ids(a, "repeated")


def test_summary_figures() -> None:
    records = [
        rec("2026-01-05 23:30", "Sam"),  # Monday, night
        rec("2026-01-06 05:59", "Sam"),  # night (before 06:00)
        rec("2026-01-06 06:00", "Sam"),  # not night
        rec(
            "2026-01-07 12:00",
            "07700900222",
            platform="sms",
            kind=RecordKind.CALL,
            subtype="missed",
        ),
        rec("2026-01-07 12:30", "Vic", "ok"),  # reply breaks the run
        rec("2026-01-09 12:00", "Sam"),
        rec("2026-01-12 12:00", "Sam"),  # next ISO week
    ]
    a = analyse_records(records, config())
    ps = a.summary.persons[0]
    assert ps.contacts == 6
    assert ps.first == records[0].time_utc and ps.last == records[-1].time_utc
    assert dict(ps.channels) == {"sms": 1, "whatsapp": 5}
    assert ps.longest_streak == (date(2026, 1, 5), date(2026, 1, 7), 3)
    assert ps.busiest_day == (date(2026, 1, 6), 2)
    assert dict(ps.per_week) == {"2026-W02": 5, "2026-W03": 1}
    assert ps.night_contacts == (records[0].id, records[1].id)
    assert ps.attempts == 1
    assert [len(r.records) for r in ps.unanswered_runs] == [4]  # runs of 3 or more
    assert ps.longest_unanswered is not None and len(ps.longest_unanswered.records) == 4
    assert ps.span_days == 8 and ps.active_days == 5


def test_night_window_and_streak_helpers() -> None:
    from datetime import UTC, datetime, time

    def at(h: int, m: int) -> datetime:
        return datetime(2026, 1, 1, h, m, tzinfo=UTC)

    assert is_night(at(23, 0), time(22), time(6))
    assert not is_night(at(12, 0), time(22), time(6))
    assert is_night(at(1, 0), time(0), time(5)) and not is_night(at(5, 0), time(0), time(5))
    assert longest_streak([]) is None
    d = [date(2026, 1, 1), date(2026, 1, 3), date(2026, 1, 4)]
    assert longest_streak(d) == (date(2026, 1, 3), date(2026, 1, 4), 2)


def test_local_days_follow_the_case_timezone() -> None:
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST)
    a = analyse_records([rec("2026-06-30 23:30", "Sam")], config(tz="Europe/London"))
    assert a.summary.persons[0].per_day == ((date(2026, 7, 1), 1),)
    assert a.entries[0].local is not None and a.entries[0].local.utcoffset().seconds == 3600


ORDER = """
[[orders]]
kind = "Stalking Protection Order"
subject = "sam suspect"
made = 2026-02-01
served = 2026-02-02T10:00:00+00:00
conditions = ["No contact with Vic Tim"]
"""


def test_contacts_after_service_are_possible_breaches() -> None:
    records = [
        rec("2026-02-02 09:59", "Sam"),  # before service
        rec("2026-02-02 10:00", "Sam"),  # at service
        rec("2026-02-05 10:00", "07700900222", platform="sms"),
        rec("2026-02-05 11:00", "Vic", "leave me alone"),  # the victim: not a breach
    ]
    a = analyse_records(records, config(ORDER))
    (breach,) = a.breaches
    assert breach.subject == "Sam Suspect"
    assert breach.records == (records[1].id, records[2].id)
    (ind,) = ids(a, "order_breach")
    assert ind.records == breach.records and "No contact with Vic Tim" in ind.details[0]
    assert "served on 02 Feb 2026 10:00" in ind.rule


@pytest.mark.parametrize("served", ["2026-02-02T10:00:00+00:00", "2026-02-02T11:00:00+01:00"])
def test_breaches_start_at_the_instant_of_service_in_any_offset(served: str) -> None:
    records = [rec(f"2026-02-0{d} {t}", "Sam") for d, t in ((1, "12:00"), (2, "09:59"))]
    records += [rec(f"2026-02-02 {t}", "Sam") for t in ("10:00", "10:01")]
    records.append(rec("2026-03-01 08:00", "Sam"))
    a = analyse_records(records, config(ORDER.replace("2026-02-02T10:00:00+00:00", served)))
    (breach,) = a.breaches
    assert breach.records == tuple(r.id for r in records[2:])


def test_order_problems_become_notes() -> None:
    bad = '\n[[orders]]\nkind = "SPO"\nsubject = "Nobody"\n'
    unserved = '\n[[orders]]\nkind = "SPO"\nsubject = "Sam Suspect"\n'
    a = analyse_records([rec("2026-02-02 10:00", "Sam")], config(bad + unserved))
    assert any("'Nobody' is not a person" in n for n in a.notes)
    assert any("has no service time" in n for n in a.notes)
    assert a.breaches == ()


def test_contact_after_block_and_new_identifier() -> None:
    records = [
        rec("2026-01-01 10:00", "Sam"),
        rec(
            "2026-01-02 10:00",
            None,
            "You blocked this contact.",
            kind=RecordKind.SYSTEM,
            subtype="block",
            conversation="Sam",
        ),
        rec("2026-01-03 10:00", "07700 900222", "new number", platform="sms"),
        rec("2026-01-04 10:00", "Sam", "still here"),
    ]
    a = analyse_records(records, config())
    (ab,) = a.after_block
    assert ab.person == "Sam Suspect" and ab.block_record == records[1].id
    assert ab.contacts == (records[2].id, records[3].id)
    assert ab.new_identifiers == (("phone:+447700900222", records[2].id),)
    assert ids(a, "contact_after_block")[0].records[0] == records[1].id
    assert ids(a, "new_identifier_after_block")[0].records == (records[1].id, records[2].id)
    unwanted = ids(a, "unwanted")[0]
    assert unwanted.records == (records[1].id, records[2].id, records[3].id)


def test_unblock_ends_the_block_on_that_platform() -> None:
    records = [
        rec(
            "2026-01-02 10:00",
            None,
            "blocked",
            kind=RecordKind.SYSTEM,
            subtype="block",
            recipients=("Sam",),
        ),
        rec(
            "2026-01-03 10:00",
            None,
            "unblocked",
            kind=RecordKind.SYSTEM,
            subtype="unblock",
            recipients=("Sam",),
        ),
        rec("2026-01-04 10:00", "Sam", "hi"),
    ]
    a = analyse_records(records, config())
    assert a.after_block[0].contacts == ()
    assert not ids(a, "contact_after_block")


def test_unwanted_from_a_welsh_request() -> None:
    records = [
        rec("2026-01-01 10:00", "Sam", "helo"),
        rec("2026-01-01 11:00", "Vic", "Paid â chysylltu â fi"),
        rec("2026-01-02 10:00", "Sam", "pam?"),
    ]
    a = analyse_records(records, config())
    (ind,) = ids(a, "unwanted")
    assert ind.records == (records[1].id, records[2].id)
    assert "Welsh" in ind.details[0]
    # asking to stop with no contact after it raises nothing
    assert not ids(analyse_records(records[:2], config()), "unwanted")


def test_fixated_obsessive_and_any_means() -> None:
    many = [rec(f"2026-01-01 10:{m:02d}", "Sam", "hi") for m in range(6)]
    later = rec("2026-01-20 10:00", "sam_x", "you owe me", platform="instagram")
    email = rec(
        "2026-01-21 10:00", "sam@example.net", "mail", platform="email", kind=RecordKind.EMAIL
    )
    a = analyse_records([*many, later, email], config())
    fix = ids(a, "fixated")[0]
    assert "spans 21 days" in fix.details[0]
    assert many[0].id in fix.records and later.id in fix.records
    obs = ids(a, "obsessive")[0]
    assert any("6 contacts on 1 Jan 2026" in d for d in obs.details)
    assert any("3 channels" in d for d in obs.details)
    anym = ids(a, "contact_any_means")[0]
    assert anym.records == (many[0].id, later.id, email.id)
    # below every threshold: none of them
    quiet = analyse_records(many[:2], config())
    assert not ids(quiet, "fixated") and not ids(quiet, "obsessive")
    assert not ids(quiet, "contact_any_means")


def test_lexicon_behaviours_and_third_party() -> None:
    records = [
        rec("2026-01-01 10:00", "Sam", "I saw you at the gym"),
        rec("2026-01-01 10:05", "Sam", "I'll post your photos"),
        rec("2026-01-01 10:06", "Sam", "watch your back"),
        rec(
            "2026-01-01 10:07",
            "07700900222",
            "tell her",
            platform="sms",
            recipients=("07700900333",),
        ),
    ]
    a = analyse_records(records, config())
    assert ids(a, "monitoring")[0].records == (records[0].id,)
    assert ids(a, "publishing")[0].records == (records[1].id,)
    assert ids(a, "threats")[0].records == (records[2].id,)
    assert ids(a, "third_party_contact")[0].records == (records[3].id,)
    assert a.entries[3].contact is False
    for ind in a.indicators:
        assert ind.rule and ind.title and ind.person == "Sam Suspect"


def test_unresolved_identifiers_are_listed_with_counts() -> None:
    records = [
        rec("2026-01-01 10:00", "07700 900999", "who is this", platform="sms"),
        rec("2026-01-02 10:00", "+447700900999", "me again", platform="sms"),
        rec(
            "2026-01-03 10:00", "Withheld", platform="phone", kind=RecordKind.CALL, subtype="missed"
        ),
        rec(
            "2026-01-03 11:00",
            None,
            platform="phone",
            kind=RecordKind.CALL,
            subtype="missed",
            flags=frozenset({Flag.WITHHELD_NUMBER.value}),
        ),
    ]
    a = analyse_records(records, config())
    by_key = {u.key: u for u in a.unresolved}
    assert by_key["phone:+447700900999"].count == 2
    assert by_key["phone:+447700900999"].to_victim == 2
    assert by_key["phone:+447700900999"].raw == "07700 900999"
    assert "withheld" in by_key["withheld"].note
    assert a.summary.unattributed_to_victim == 4
    assert a.summary.withheld == 2
    assert a.summary.persons[0].contacts == 0 and a.indicators == ()


def test_identifier_first_and_last_use() -> None:
    records = [
        rec("2026-01-01 10:00", "Sam"),
        rec("2026-01-05 10:00", "07700900222", platform="sms"),
        rec("2026-01-09 10:00", "Sam"),
    ]
    a = analyse_records(records, config())
    sam = next(p for p in a.identities if p.name == "Sam Suspect")
    uses = {u.key: u for u in sam.identifiers}
    assert uses["name:whatsapp:sam"].count == 2
    assert uses["name:whatsapp:sam"].first_record == records[0].id
    assert uses["name:whatsapp:sam"].last_record == records[2].id
    assert uses["phone:+447700900222"].first == records[1].time_utc
    assert uses["user:instagram:sam_x"].count == 0


def test_duplicates_and_corroborating_screenshots_are_not_counted_twice() -> None:
    original = rec("2026-01-01 10:00", "Sam", "hi")
    dup = rec("2026-01-01 10:00", "Sam", "hi", flags=frozenset({Flag.DUPLICATE.value}))
    shot = rec(
        "2026-01-01 10:00",
        "Sam",
        "hi",
        kind=RecordKind.SCREENSHOT_TEXT,
        extra={"corroborates": [original.id]},
    )
    a = analyse_records([original, dup, shot], config())
    assert a.summary.persons[0].contacts == 1
    assert len(a.entries) == 3


def test_person_and_date_filters() -> None:
    records = [
        rec("2026-01-01 10:00", "Sam", "a"),
        rec("2026-01-02 10:00", "07700900333", "from witness", platform="sms"),
        rec("2026-01-03 10:00", "Sam", "b"),
        rec(None, "Sam", "undated"),
    ]
    cfg = config()
    only = analyse_records(records, cfg, person="sam suspect")
    assert only.person_filter == "Sam Suspect"
    assert [e.record.text for e in only.entries] == ["a", "b", "undated"]
    everyone = analyse_records(records, cfg)
    assert len(everyone.entries) == 4 and everyone.summary.untimed == 1
    dated = analyse_records(records, cfg, date_from=date(2026, 1, 2), date_to=date(2026, 1, 3))
    assert [e.record.text for e in dated.entries] == ["from witness", "b"]
    assert any("outside the chosen dates" in n for n in dated.notes)
    with pytest.raises(UsageError, match=r"not a person in case\.toml"):
        analyse_records(records, cfg, person="Nobody")
    with pytest.raises(UsageError, match="after"):
        analyse_records(records, cfg, date_from=date(2026, 2, 1), date_to=date(2026, 1, 1))


def test_no_victim_and_no_suspect_notes() -> None:
    people = '[[people]]\nname = "X"\nrole = "other"\nidentifiers = []\n'
    a = analyse_records([rec("2026-01-01 10:00", "X")], config(people=people))
    assert any("No victim" in n for n in a.notes)
    assert any("No suspect" in n for n in a.notes)
    assert a.persons_of_interest == ("X",)


def test_settings_from_case_and_overrides() -> None:
    s = load_settings(
        {"occasion_gap_hours": 2, "night_start": "23:30", "unrelated": 1},
        {"night_end": "05:00", "fixated_min_days": None},
    )
    assert s.occasion_gap_hours == 2.0
    assert s.night_start.hour == 23 and s.night_start.minute == 30
    assert s.night_end.hour == 5
    assert s.fixated_min_days == 14
    with pytest.raises(CaseError, match="occasion_gap_hours must be a positive number"):
        load_settings({"occasion_gap_hours": "six"})
    with pytest.raises(CaseError, match="night_start must be a time"):
        load_settings({"night_start": "25:00"})
    with pytest.raises(UsageError, match="unknown timeline setting"):
        load_settings({}, {"gap": 3})
    with pytest.raises(UsageError, match="positive whole number"):
        load_settings({}, {"obsessive_daily": 0})


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=60 * 24 * 30), min_size=1, max_size=40),
    st.floats(min_value=0.5, max_value=72),
)
def test_occasions_partition_contacts_by_the_gap(minutes: list[int], gap: float) -> None:
    from datetime import timedelta

    base = "2026-01-01 00:00"
    records = []
    for m in sorted(minutes):
        t = datetime_at(base) + timedelta(minutes=m)
        records.append(rec(t.strftime("%Y-%m-%d %H:%M"), "Sam"))
    a = analyse_records(records, config(), settings=Settings(occasion_gap_hours=gap))
    occs = a.occasions
    assert sum(len(o.records) for o in occs) == len(records)
    limit = timedelta(hours=gap)
    for o in occs:
        times = [a.by_id[r].record.time_utc for r in o.records]
        assert all(b - x <= limit for x, b in itertools.pairwise(times))
    for prev, nxt in itertools.pairwise(occs):
        assert nxt.start - prev.end > limit
    assert bool([i for i in a.indicators if i.id == "repeated"]) == (len(occs) >= 2)


def datetime_at(text: str):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_screenshot_lines_with_a_clock_time_but_no_date_are_noted(tmp_path) -> None:
    """The note counts the undated screenshot lines that show a clock time (the untimed
    entries, last in the chronology), not an undated line without one or a dated line."""
    from cyberstalk.timeline.analysis import date_basis_notes

    shot = RecordKind.SCREENSHOT_TEXT
    records = [
        rec("2026-01-05 18:00", "Sam", "dated", kind=shot),
        rec(None, "Sam", "seen at 18:02", kind=shot),
        rec(None, "Sam", "no clock", kind=shot),
        rec("2026-01-05 19:00", "Sam", "later"),
        rec(None, "Sam", "an undated message"),
    ]
    # a clock time is what the screenshot showed: time_raw is set, time_utc is not
    records[1] = dataclasses.replace(records[1], time_raw="18:02")
    records[2] = dataclasses.replace(records[2], time_raw="")
    records[4] = dataclasses.replace(records[4], time_raw="18:05")
    a = analyse_records(records, config())
    assert [e.record.time_utc is None for e in a.entries] == [False, False, True, True, True]
    notes = date_basis_notes(tmp_path, a.entries)
    assert notes == (
        "1 screenshot lines show a clock time but no date that can be known (no capture "
        "time, dated file name or date in the image): they are listed undated, at the end.",
    )
    assert date_basis_notes(tmp_path, a.entries[:2]) == ()
