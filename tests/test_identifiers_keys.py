"""identifiers: the forms the panel's masking and the timeline's resolver share (one
implementation each: a phone number's key, an e-mail address folded, a bare username, a
key on any platform)."""

from __future__ import annotations

import pytest

from cyberstalk.identifiers import (
    bare_username,
    fold_email,
    fold_username,
    key_without_platform,
    normalise_email,
    phone_digits,
    phone_key,
)


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("07700 900123", "+447700900123"),
        ("0044 7700 900123", "+447700900123"),
        ("+44 (0)7700-900-123", "+447700900123"),
        ("999", "999"),
        ("ext. 12345678", "12345678"),
    ],
)
def test_phone_key(value: str, key: str) -> None:
    assert phone_key(value) == key


def test_phone_digits() -> None:
    assert phone_digits("+44 (0)77 00") == "4407700"


def test_fold_email_agrees_with_normalise_email() -> None:
    assert fold_email(" Carys.Hughes@Example.ORG ") == "carys.hughes@example.org"
    assert normalise_email("Carys <Carys.Hughes@Example.ORG>") == fold_email(
        "Carys.Hughes@Example.ORG"
    )


def test_bare_username_keeps_case() -> None:
    assert bare_username(" @D.Price ") == "D.Price"
    assert fold_username(" @D.Price ") == "d.price"


@pytest.mark.parametrize(
    ("key", "anywhere"),
    [
        ("user:instagram:d.price", "user:d.price"),
        ("name:*:dylan", "name:dylan"),
        ("acct:discord:1234", "acct:1234"),
        ("phone:+447700900123", "phone:"),
    ],
)
def test_key_without_platform(key: str, anywhere: str) -> None:
    assert key_without_platform(key) == anywhere
