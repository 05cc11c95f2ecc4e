"""Masking people and identifiers: every written form, consistent replacements, reveals."""

from __future__ import annotations

import tomllib

import pytest

from cyberstalk.case import CaseConfig, parse_config
from cyberstalk.errors import CaseError, UsageError
from cyberstalk.reports.redact import Redactor, choose_fields, parse_field

from .conftest import ADDRESS, timeline_fixture


def story_config(extra: str = "") -> CaseConfig:
    head = (
        '[case]\nreference = "NWP/2026/0142"\nofficer = "DC Rhian Evans"\nexhibit_prefix = "RE"\n'
    )
    people = timeline_fixture.people_toml().replace(
        'role = "victim"\n', f'role = "victim"\naddress = "{ADDRESS}"\n', 1
    )
    return parse_config(tomllib.loads(head + people + extra))


def redactor(*reveal: str, role: str = "panel") -> Redactor:
    fields, _ = choose_fields(role, reveal)
    return Redactor.for_case(story_config(), fields)


@pytest.mark.parametrize(
    "written",
    [
        "+447700900123",
        "447700900123",
        "07700900123",
        "07700 900123",
        "07700-900-123",
        "+44 7700 900123",
        "+44 (0)7700 900123",
        "0044 7700 900123",
        "(07700) 900 123",
        "7700900123",
    ],
)
def test_every_written_form_of_a_phone_number_gets_the_same_mask(written: str) -> None:
    r = redactor()
    assert r.untrusted(f"call {written} now") == "call [phone 1 of Victim A] now"
    assert r.text(f"call {written}.") == "call [phone 1 of Victim A]."


def test_numbers_next_to_each_other_and_longer_digit_runs() -> None:
    r = redactor()
    assert (
        r.untrusted("07700 900123 / 447700900456, 07700900789")
        == "[phone 1 of Victim A] / [phone 1 of Person B], [phone 2 of Person B]"
    )
    # a longer number that merely contains the digits is not the victim's number...
    assert "[phone 1 of Victim A]" not in r.untrusted("ref 177009001234")
    # ...and a number case.toml does not list is masked only in text from the evidence
    assert r.untrusted("ring 07700 900999") == "ring [other phone 1]"
    assert r.untrusted("or +44 7700 900999, or 07700 900998") == (
        "or [other phone 1], or [other phone 2]"
    )
    assert r.text("ring 07700 900999") == "ring 07700 900999"
    # dates, times and record ids are not phone numbers
    kept = "2026-01-05 18:02:11 r-0123456789012345 10 contacts"
    assert r.untrusted(kept) == kept


def test_one_person_one_pseudonym_everywhere() -> None:
    r = redactor()
    assert r.person("Carys Hughes") == "Victim A"
    assert r.person("Dylan Price") == "Person B"
    assert r.untrusted("Hi Carys, this is DYLAN") == "Hi Victim A, this is Person B"
    assert r.untrusted("Carys_Hughes_photo.jpg") == "Victim A_photo.jpg"
    assert r.untrusted("Dylan Price <DYLAN.PRICE@EXAMPLE.NET>") == (
        "Person B <[email 1 of Person B]>"
    )
    assert r.untrusted("@dylan.p_example and d.price.new_example") == (
        "@[username 1 of Person B] and [username 2 of Person B]"
    )
    # Instagram names its export folders after the username without dots
    assert r.untrusted("messages/inbox/dylanp_example/message_1.json") == (
        "messages/inbox/[username 1 of Person B]/message_1.json"
    )
    # an unlisted address that contains a name is one "other email", not half masked
    assert r.untrusted("carys.jones@example.org") == "[other email 1]"
    assert r.identifier("phone:+447700900789") == "[phone 2 of Person B]"
    assert r.identifier("name:telegram:dylan p") == "[display name 2 of Person B]"
    assert r.identifier("user:instagram:carys_h_example") == "[username 1 of Victim A]"
    masks = dict(r.identifier_masks["Dylan Price"])
    assert masks["email"] == "[email 1 of Person B]"
    kinds = [k for k, _ in r.identifier_masks["Dylan Price"]]
    assert kinds == [
        "phone",
        "phone",
        "email",
        "display-name",
        "username",
        "username",
        "display-name",
    ]


def test_address_in_any_spacing_its_first_line_and_postcode() -> None:
    r = redactor()
    mask = "[address 1 of Victim A]"
    assert r.untrusted("at 12 Ffordd Example,Bangor,  LL57 1AA!") == f"at {mask}!"
    assert r.untrusted("outside 12 Ffordd Example tonight") == f"outside {mask} tonight"
    assert r.untrusted("postcode ll571aa") == f"postcode {mask}"


def test_revealed_fields_stay_clear_and_are_not_half_masked() -> None:
    r = redactor("suspect-name")
    assert r.person("Dylan Price") == "Dylan Price"
    # "Dylan" is also his WhatsApp display name: the revealed full name protects it
    assert r.untrusted("from Dylan Price") == "from Dylan Price"
    assert r.untrusted("Carys") == "Victim A"
    assert r.untrusted("07700 900456") == "[phone 1 of Dylan Price]"
    shown = redactor("phone")
    assert shown.untrusted("07700 900456 and 07700 900123") == "07700 900456 and 07700 900123"
    assert shown.untrusted("07700 900999") == "[other phone 1]"


def test_custody_record_names_masks_by_case_toml_position_not_value() -> None:
    r = redactor()
    r.untrusted("Carys on 07700 900123, Dylan on 07700 900789")
    rec = r.record()
    assert rec["counts"] == {"name": 2, "phone": 2}
    assert rec["masks"] == {
        "[phone 1 of Victim A]": "people[0].identifiers[0]",
        "[phone 2 of Person B]": "people[1].identifiers[1]",
    }
    assert rec["pseudonyms"] == {"Victim A": "Carys Hughes", "Person B": "Dylan Price"}
    assert "7700" not in repr(rec)


def test_field_vocabulary_presets_and_masks() -> None:
    assert parse_field("suspect-name") == ("suspect", "name")
    assert parse_field("Display_Name") == (None, "display-name")
    assert parse_field("victim-all") == ("victim", "all")
    for bad in ("suspect", "name-suspect", "phones", "all"):
        with pytest.raises(UsageError):
            parse_field(bad)
    assert choose_fields("panel")[1] == ()
    assert choose_fields("probation")[1] == ("suspect-name",)
    fields, text = choose_fields("police", mask=["victim-name", "suspect-phone"])
    assert ("victim", "name") not in fields and ("suspect", "phone") not in fields
    assert ("suspect", "email") in fields
    assert "suspect-name" in text and "victim-name" not in text
    assert choose_fields("panel", ["phone"])[1] == ("phone",)
    with pytest.raises(UsageError):
        choose_fields("press")


def test_address_in_case_toml_is_optional_and_checked() -> None:
    base = (
        '[case]\nreference = "R"\nofficer = "O"\nexhibit_prefix = "RE"\n[[people]]\nname = "A B"\n'
    )
    assert parse_config(tomllib.loads(base)).people[0].addresses == ()
    one = parse_config(tomllib.loads(base + 'address = "1 High St, Rhyl"\n'))
    assert one.people[0].addresses == ("1 High St, Rhyl",)
    two = parse_config(tomllib.loads(base + 'address = ["1 High St", "2 Low St"]\n'))
    assert two.people[0].addresses == ("1 High St", "2 Low St")
    with pytest.raises(CaseError, match=r"people\[0\]\.address"):
        parse_config(tomllib.loads(base + "address = 12\n"))


def test_conversation_ids_are_masked_and_titles_masked_like_text() -> None:
    r = redactor()
    # an e-mail thread id, a message id, a long token: identifiers of someone's account
    assert r.conversation("1857301862519230142") == "[conversation 1]"
    assert r.conversation("<CAF=abc123@mail.example.com>") == "[conversation 2]"
    assert r.conversation("1857301862519230142") == "[conversation 1]"  # same id, same mask
    assert r.counts["conversation-id"] == 3
    # a title is text from the evidence: people and numbers in it are masked as usual
    assert r.conversation("WhatsApp Chat - Carys Hughes") == "WhatsApp Chat - Victim A"
    assert r.conversation("Family chat") == "Family chat"
    assert r.conversation(None) == ""
