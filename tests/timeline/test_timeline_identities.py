from __future__ import annotations

import pytest
from timeline_helpers import rec

from cyberstalk.case import Identifier, Person
from cyberstalk.identifiers import identifier_key, normalise_email, normalise_phone
from cyberstalk.records import RecordKind
from cyberstalk.timeline.identities import Resolver, direction_of
from cyberstalk.timeline.model import Direction


@pytest.mark.parametrize(
    "written",
    [
        "07700 900789",
        "+447700900789",
        "+44 7700 900789",
        "(07700) 900-789",
        "0044 7700 900789",
        "447700900789",
    ],
)
def test_uk_numbers_normalise_to_e164(written: str) -> None:
    assert normalise_phone(written) == "+447700900789"


def test_phone_edge_cases() -> None:
    assert normalise_phone("+1 202 555 0100") == "+12025550100"
    assert normalise_phone("61234") == "61234"  # short code: digits kept
    assert normalise_phone("Dylan") is None
    assert normalise_phone("") is None


def test_email_is_case_insensitive_and_takes_the_address() -> None:
    assert normalise_email("Dylan Price <Dylan.Price@Example.NET>") == "dylan.price@example.net"
    assert normalise_email("d@x.org") == "d@x.org"
    assert normalise_email("not an address") is None
    assert normalise_email("@handle") is None


def people() -> list[Person]:
    return [
        Person(
            "Vic",
            "victim",
            (Identifier("phone", "07700 900111"), Identifier("display_name", "Vic", "whatsapp")),
        ),
        Person(
            "Sam",
            "suspect",
            (
                Identifier("phone", "+447700900222"),
                Identifier("username", "@Sam_X", "instagram"),
                Identifier("display_name", "Sam  P", None),
                Identifier("email", "SAM@example.net"),
            ),
        ),
        Person("Other Sam", "other", (Identifier("display_name", "Sammy", "whatsapp"),)),
        Person("Twin", "other", (Identifier("display_name", "Sammy", "whatsapp"),)),
    ]


def test_resolver_matches_each_spelling_to_one_person() -> None:
    r = Resolver(people())
    assert r.resolve("07700 900222", "sms").person == "Sam"
    assert r.resolve("sam_x", "instagram").person == "Sam"
    assert r.resolve("@SAM_X", "instagram").person == "Sam"
    # a username tied to Instagram does not match on another platform
    assert r.resolve("sam_x", "telegram").person is None
    # display name without a platform matches anywhere, spacing and case ignored
    assert r.resolve("sam p", "telegram").person == "Sam"
    assert r.resolve("Sam Price <sam@EXAMPLE.net>", "email").person == "Sam"
    assert r.resolve("vic", "whatsapp").person == "Vic"
    assert r.resolve(None, "sms") is None


def test_ambiguous_and_withheld_are_not_resolved() -> None:
    r = Resolver(people())
    amb = r.resolve("Sammy", "whatsapp")
    assert amb.person is None and amb.ambiguous == ("Other Sam", "Twin")
    assert r.resolve("Withheld", "phone").withheld


def test_identifier_keys() -> None:
    assert identifier_key(Identifier("phone", "07700 900222")) == "phone:+447700900222"
    assert identifier_key(Identifier("username", "@X", "Instagram")) == "user:instagram:x"


VICTIMS = frozenset({"Vic"})


def direction(record, r=None):  # type: ignore[no-untyped-def]
    r = r or Resolver(people())
    sender = r.resolve(record.sender, record.platform)
    recips = [x for v in record.recipients if (x := r.resolve(v, record.platform))]
    return direction_of(record, sender, recips, VICTIMS)


def test_direction_rules() -> None:
    # 1. events
    assert (
        direction(rec("2026-01-01 10:00", None, kind=RecordKind.SYSTEM, subtype="block"))
        is Direction.EVENT
    )
    # 2. sender is the victim
    assert direction(rec("2026-01-01 10:00", "Vic")) is Direction.FROM_VICTIM
    # 3. no sender but the export says outgoing (SMS type 2)
    assert (
        direction(
            rec(
                "2026-01-01 10:00",
                None,
                platform="sms",
                subtype="outgoing",
                recipients=("07700900222",),
            )
        )
        is Direction.FROM_VICTIM
    )
    assert (
        direction(rec("2026-01-01 10:00", None, extra={"from_me": True})) is Direction.FROM_VICTIM
    )
    # 4. recipient is the victim, or incoming hint
    assert (
        direction(rec("2026-01-01 10:00", "Sam", platform="telegram", recipients=("07700900111",)))
        is Direction.TO_VICTIM
    )
    assert (
        direction(
            rec("2026-01-01 10:00", None, platform="phone", kind=RecordKind.CALL, subtype="missed")
        )
        is Direction.TO_VICTIM
    )
    # 5. recipients that are all other known people: third party
    assert (
        direction(rec("2026-01-01 10:00", "07700900222", platform="sms", recipients=("sam_x",)))
        is Direction.TO_VICTIM
    )  # unknown on sms
    assert (
        direction(rec("2026-01-01 10:00", "sam_x", platform="instagram", recipients=("Sammy",)))
        is Direction.TO_VICTIM
    )
    r = Resolver([*people(), Person("Wyn", "witness", (Identifier("phone", "07700900333"),))])
    assert (
        direction(
            rec("2026-01-01 10:00", "07700900222", platform="sms", recipients=("07700 900333",)), r
        )
        is Direction.OTHER
    )
    # 6. no recipients at all: from the victim's own account, so to the victim
    assert direction(rec("2026-01-01 10:00", "unknown person")) is Direction.TO_VICTIM
    # a withheld sender with an outgoing-looking subtype is still not the victim
    withheld = rec(
        "2026-01-01 10:00", "withheld", platform="phone", kind=RecordKind.CALL, subtype="outgoing"
    )
    assert direction(withheld) is Direction.TO_VICTIM
