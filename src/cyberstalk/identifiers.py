"""Identifiers of people: what an officer may enter, and the normalised form records meet.

One module, beside the case model, for everything that reads an identifier: ``case``
commands validate what is entered with :func:`check_identifier`; the timeline resolves
senders with :func:`identifier_key` and :func:`sender_keys`; the panel pack masks with
the same keys.

Normalisation (so that one person's spellings meet):

- phone numbers: parsed with ``phonenumbers``, UK (``GB``) as the default region, written
  in E.164 (``07700 900789`` and ``+44 7700 900789`` are both ``+447700900789``); a
  number too short to be a subscriber number keeps its digits as written;
- email addresses: the address part of ``Name <addr>``, compared case-insensitively;
- usernames: without a leading ``@``, case-insensitive, per platform when case.toml says
  which platform (otherwise on any platform);
- display names: case-insensitive with runs of spaces collapsed, per platform likewise;
- account ids: exact.

``phonenumbers`` and ``email.utils`` are imported on first use: most commands that open a
case never read a phone number or an address, and their start-up would pay for them.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from cyberstalk.errors import UsageError

if TYPE_CHECKING:
    from cyberstalk.case import Identifier

IDENTIFIER_TYPES = ("phone", "email", "username", "display_name", "account_id")
REGION = "GB"
"""The region a phone number without its +country code is read in."""
ANY = "*"
"""The platform part of a key that matches on any platform."""

_PHONE_CHARS = re.compile(r"^[+\d\s().\-/]+$")
_SPACES = re.compile(r"\s+")
_NON_DIGITS = re.compile(r"\D")
_PLATFORM = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
_EMAIL = re.compile(r"^[^\s@<>(),;:\"\[\]]+@[^\s@<>(),;:\"\[\]]+\.[^\s@<>(),;:\"\[\].]+$")
WITHHELD_NAMES = frozenset(
    {"withheld", "private", "private number", "unknown", "no caller id", "anonymous", "restricted"}
)


def normalise_phone(value: str) -> str | None:
    """E.164 for a phone-shaped string (UK default), digits for short codes, else None."""
    import phonenumbers

    text = value.strip()
    if not text or not _PHONE_CHARS.match(text):
        return None
    digits = phone_digits(text)
    if len(digits) < 7:
        return digits or None
    try:
        number = phonenumbers.parse(text, REGION)
    except phonenumbers.NumberParseException:
        return ("+" if text.startswith("+") else "") + digits
    if not phonenumbers.is_possible_number(number):
        return ("+" if text.startswith("+") else "") + digits
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def phone_digits(value: str) -> str:
    """The digits of a written phone number, nothing else (``+44 (0)77`` -> ``44077``)."""
    return _NON_DIGITS.sub("", value)


def phone_key(value: str) -> str:
    """One form for every writing of a phone number: :func:`normalise_phone`, else its
    digits (the panel's masking numbers each phone number once by this form)."""
    return normalise_phone(value) or phone_digits(value)


def _parseaddr(value: str) -> tuple[str, str]:
    """:func:`email.utils.parseaddr` (the module, with socket, imported on first use)."""
    from email.utils import parseaddr as parse

    return parse(value)


def phone_parts(value: str) -> tuple[int, str] | None:
    """(country code, national significant number) of a phone number as ``phonenumbers``
    reads it (UK default), or None when it reads none: what a pattern for every writing of
    the number is made from (the panel's masking)."""
    import phonenumbers

    try:
        number = phonenumbers.parse(value, REGION)
    except phonenumbers.NumberParseException:
        return None
    nsn = str(phonenumbers.national_significant_number(number))
    if not nsn or number.country_code is None:  # (parse always sets the country code)
        return None
    return number.country_code, nsn


def normalise_email(value: str) -> str | None:
    """The lower-cased address of ``addr`` or ``Name <addr>``, or None if not an address."""
    _, addr = _parseaddr(value)
    addr = addr.strip()
    if "@" not in addr or addr.startswith("@") or "." not in addr.rpartition("@")[2]:
        return None
    return fold_email(addr)


def fold_email(addr: str) -> str:
    """An e-mail address compared case-insensitively (the address as written, no parsing)."""
    return addr.strip().casefold()


def fold_name(value: str) -> str:
    """A display name compared case-insensitively with runs of spaces collapsed."""
    return _SPACES.sub(" ", value.strip()).casefold()


def bare_username(value: str) -> str:
    """A username as written, without surrounding spaces or a leading ``@``."""
    return value.strip().lstrip("@")


def fold_username(value: str) -> str:
    """A username without a leading ``@``, case-insensitive."""
    return bare_username(value).casefold()


def fold_platform(platform: str | None) -> str:
    """A platform id as keys hold it; :data:`ANY` when none is given."""
    return platform.strip().casefold() if platform else ANY


def identifier_key(ident: Identifier) -> str:
    """The normalised key of an identifier from case.toml."""
    if ident.type == "phone":
        return "phone:" + (normalise_phone(ident.value) or ident.value.strip())
    if ident.type == "email":
        return "email:" + (normalise_email(ident.value) or fold_email(ident.value))
    if ident.type == "username":
        return f"user:{fold_platform(ident.platform)}:{fold_username(ident.value)}"
    if ident.type == "display_name":
        return f"name:{fold_platform(ident.platform)}:{fold_name(ident.value)}"
    return f"acct:{fold_platform(ident.platform)}:{ident.value.strip()}"


def sender_keys(value: str, platform: str) -> list[str]:
    """Candidate keys for an identifier as a source wrote it, most specific first."""
    text = value.strip()
    if not text:
        return []
    email = normalise_email(text)
    if email is not None:
        keys = ["email:" + email]
        display, _ = _parseaddr(text)
        if display.strip():
            keys += [
                f"name:{fold_platform(platform)}:{fold_name(display)}",
                f"name:{ANY}:{fold_name(display)}",
            ]
        return keys
    phone = normalise_phone(text)
    if phone is not None:
        return ["phone:" + phone]
    p = fold_platform(platform)
    return [
        f"acct:{p}:{text}",
        f"acct:{ANY}:{text}",
        f"user:{p}:{fold_username(text)}",
        f"user:{ANY}:{fold_username(text)}",
        f"name:{p}:{fold_name(text)}",
        f"name:{ANY}:{fold_name(text)}",
    ]


def key_without_platform(key: str) -> str:
    """A key with its platform part left out (``user:instagram:x`` -> ``user:x``), for
    matching a name, username or account id on whichever platform a person has it.
    Keys without a platform part (phone, email) come out as their kind alone."""
    kind, _, rest = key.partition(":")
    return f"{kind}:{rest.partition(':')[2]}"


@functools.lru_cache(maxsize=4096)
def display_key(key: str) -> str:
    """A key without the platform wildcard, for reports (``user:*:x`` -> ``user:x``)."""
    return key.replace(f":{ANY}:", ":")


# ------------------------------------------------------------------ what an officer enters


def check_identifier(ident: Identifier) -> str | None:
    """Why ``ident`` cannot be a person's identifier, or None when it can.

    Phone numbers must be numbers ``phonenumbers`` can read as possible (UK numbers may
    start 07); e-mail addresses must be one plain address; usernames and account ids
    have no spaces; a platform is a lower-case id such as ``instagram``.
    """
    value = ident.value.strip()
    if ident.type not in IDENTIFIER_TYPES:
        return f"type {ident.type!r} is not one of {', '.join(IDENTIFIER_TYPES)}"
    if not value:
        return "the value is empty"
    if ident.platform is not None and not _PLATFORM.match(ident.platform):
        return (
            f"platform {ident.platform!r} must be a lower-case platform id "
            "(e.g. whatsapp, instagram, sms)"
        )
    if ident.type == "phone":
        return _phone_problem(value)
    if ident.type == "email":
        _, addr = _parseaddr(value)
        if not _EMAIL.match(addr) or (addr != value and not value.endswith(f"<{addr}>")):
            return f"{value!r} is not an e-mail address (expected name@example.org)"
        return None
    if ident.type in ("username", "account_id") and _SPACES.search(value):
        return f"{value!r} has a space in it; a {ident.type.replace('_', ' ')} has none"
    if ident.type == "username" and not bare_username(value):
        return "the username is empty"
    return None


def _phone_problem(value: str) -> str | None:
    import phonenumbers

    if not _PHONE_CHARS.match(value):
        return (
            f"{value!r} is not a phone number (digits, spaces, + ( ) - . / only; "
            "UK numbers may start 07, others need +country code)"
        )
    try:
        number = phonenumbers.parse(value, REGION)
    except phonenumbers.NumberParseException as exc:
        return f"{value!r} is not a phone number: {exc}"
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        why = {
            phonenumbers.ValidationResult.TOO_SHORT: "too short",
            phonenumbers.ValidationResult.TOO_LONG: "too long",
            phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "a local number without "
            "its area code",
            phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "an unknown country code",
        }.get(reason, "the wrong length")
        return (
            f"{value!r} is not a possible phone number ({why} for +{number.country_code}); "
            "check the digits, or give the +country code"
        )
    return None


def parse_identifier_arg(raw: str) -> Identifier:
    """``TYPE:VALUE[@PLATFORM]`` from the command line, checked; UsageError if not."""
    from cyberstalk.case import Identifier

    kind, sep, rest = raw.partition(":")
    if not sep or kind not in IDENTIFIER_TYPES or not rest.strip():
        raise UsageError(
            f"--id {raw!r} must be TYPE:VALUE[@PLATFORM] with TYPE one of "
            f"{', '.join(IDENTIFIER_TYPES)}",
            advice="e.g. --id phone:07700900123 --id username:alex_x@instagram "
            "--id email:alex@example.org",
        )
    platform = None
    if "@" in rest and kind != "email":
        rest, _, platform = rest.rpartition("@")
    ident = Identifier(kind, rest.strip(), platform.strip().lower() if platform else None)
    problem = check_identifier(ident)
    if problem:
        raise UsageError(f"--id {raw!r}: {problem}")
    return ident
