"""identifiers.phone_parts: the country code and national number the panel's masking
builds its phone pattern from (the one phonenumbers reading of a number, UK default)."""

from __future__ import annotations

import pytest

from cyberstalk.identifiers import normalise_phone, phone_parts


@pytest.mark.parametrize(
    ("value", "parts"),
    [
        ("07700 900123", (44, "7700900123")),
        ("+44 (0)7700 900123", (44, "7700900123")),
        ("+1 202 555 0143", (1, "2025550143")),
        ("not a number", None),
        ("", None),
    ],
)
def test_phone_parts(value: str, parts: tuple[int, str] | None) -> None:
    assert phone_parts(value) == parts


def test_parts_agree_with_the_normalised_form() -> None:
    for value in ("07700 900123", "+447700900123", "+1 202 555 0143"):
        parts = phone_parts(value)
        assert parts is not None
        assert normalise_phone(value) == f"+{parts[0]}{parts[1]}"
