"""Who sent what: resolving record senders and recipients to the people in case.toml.

Normalisation (so that one person's spellings meet):

- phone numbers: parsed with ``phonenumbers``, UK (``GB``) as the default region, written
  in E.164 (``07700 900789`` and ``+44 7700 900789`` are both ``+447700900789``); a
  number too short to be a subscriber number keeps its digits as written;
- email addresses: the address part of ``Name <addr>``, compared case-insensitively;
- usernames: without a leading ``@``, case-insensitive, per platform when case.toml says
  which platform (otherwise on any platform);
- display names: case-insensitive with runs of spaces collapsed, per platform likewise;
- account ids: exact.

Direction (seen from the victim) follows one written rule, :func:`direction_of`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.utils import parseaddr

import phonenumbers

from cyberstalk.case import Identifier, Person
from cyberstalk.models import Flag, Record, RecordKind
from cyberstalk.timeline.model import Direction

_PHONE_CHARS = re.compile(r"^[+\d\s().\-/]+$")
_SPACES = re.compile(r"\s+")
WITHHELD_NAMES = frozenset(
    {"withheld", "private", "private number", "unknown", "no caller id", "anonymous", "restricted"}
)

OUTGOING_SUBTYPES = frozenset({"outgoing", "sent", "outbox"})
"""Subtypes that say the victim's own device sent the record (SMS type 2, outgoing call)."""
INCOMING_SUBTYPES = frozenset(
    {"incoming", "inbox", "received", "missed", "rejected", "blocked", "voicemail"}
)
"""Subtypes that say the record arrived at the victim's device."""
_OUT_WORDS = frozenset({"out", "outgoing", "sent"})

ANY = "*"


def normalise_phone(value: str) -> str | None:
    """E.164 for a phone-shaped string (UK default), digits for short codes, else None."""
    text = value.strip()
    if not text or not _PHONE_CHARS.match(text):
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) < 7:
        return digits or None
    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        return ("+" if text.startswith("+") else "") + digits
    if not phonenumbers.is_possible_number(number):
        return ("+" if text.startswith("+") else "") + digits
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalise_email(value: str) -> str | None:
    """The lower-cased address of ``addr`` or ``Name <addr>``, or None if not an address."""
    _, addr = parseaddr(value)
    addr = addr.strip()
    if "@" not in addr or addr.startswith("@") or "." not in addr.rpartition("@")[2]:
        return None
    return addr.casefold()


def _name(value: str) -> str:
    return _SPACES.sub(" ", value.strip()).casefold()


def _user(value: str) -> str:
    return value.strip().lstrip("@").casefold()


def _plat(platform: str | None) -> str:
    return platform.strip().casefold() if platform else ANY


def identifier_key(ident: Identifier) -> str:
    """The normalised key of an identifier from case.toml."""
    if ident.type == "phone":
        return "phone:" + (normalise_phone(ident.value) or ident.value.strip())
    if ident.type == "email":
        return "email:" + (normalise_email(ident.value) or ident.value.strip().casefold())
    if ident.type == "username":
        return f"user:{_plat(ident.platform)}:{_user(ident.value)}"
    if ident.type == "display_name":
        return f"name:{_plat(ident.platform)}:{_name(ident.value)}"
    return f"acct:{_plat(ident.platform)}:{ident.value.strip()}"


def sender_keys(value: str, platform: str) -> list[str]:
    """Candidate keys for an identifier as a source wrote it, most specific first."""
    text = value.strip()
    if not text:
        return []
    email = normalise_email(text)
    if email is not None:
        keys = ["email:" + email]
        display, _ = parseaddr(text)
        if display.strip():
            keys += [f"name:{_plat(platform)}:{_name(display)}", f"name:{ANY}:{_name(display)}"]
        return keys
    phone = normalise_phone(text)
    if phone is not None:
        return ["phone:" + phone]
    p = _plat(platform)
    return [
        f"acct:{p}:{text}",
        f"acct:{ANY}:{text}",
        f"user:{p}:{_user(text)}",
        f"user:{ANY}:{_user(text)}",
        f"name:{p}:{_name(text)}",
        f"name:{ANY}:{_name(text)}",
    ]


@functools.lru_cache(maxsize=4096)
def display_key(key: str) -> str:
    """A key without the platform wildcard, for reports (``user:*:x`` -> ``user:x``)."""
    return key.replace(f":{ANY}:", ":")


@dataclass(frozen=True, slots=True)
class Resolution:
    """What one written identifier resolved to."""

    person: str | None
    """Person name, or None."""
    key: str
    """The key that matched, or the most specific candidate when nothing did."""
    withheld: bool = False
    ambiguous: tuple[str, ...] = ()
    """Names of every person it matched when it matched more than one."""


class Resolver:
    """Resolves written identifiers (sender, recipients) to people, with a cache."""

    def __init__(self, people: Iterable[Person]) -> None:
        self.index: dict[str, list[str]] = {}
        self.shown: dict[str, tuple[str, str | None]] = {}
        self.roles: dict[str, str] = {}
        for person in people:
            self.roles[person.name] = person.role
            for ident in person.identifiers:
                key = identifier_key(ident)
                names = self.index.setdefault(key, [])
                if person.name not in names:
                    names.append(person.name)
                self.shown.setdefault(key, (ident.value, ident.platform))
        self._cache: dict[tuple[str, str], Resolution] = {}

    def resolve(self, value: str | None, platform: str) -> Resolution | None:
        """None for no identifier at all; otherwise a Resolution (person may be None)."""
        if value is None or not value.strip():
            return None
        cache_key = (value, platform)
        hit = self._cache.get(cache_key)
        if hit is not None:
            return hit
        result: Resolution | None = None
        keys = sender_keys(value, platform)
        if _name(value) in WITHHELD_NAMES:
            result = Resolution(None, "withheld", withheld=True)
        else:
            for key in keys:
                names = self.index.get(key)
                if names:
                    if len(names) == 1:
                        result = Resolution(names[0], key)
                    else:
                        result = Resolution(None, key, ambiguous=tuple(names))
                    break
        if result is None:
            fallback = keys[0] if keys else value
            if fallback.startswith("acct:"):
                # Unresolved names group by a spelling-insensitive form, per platform.
                fallback = f"id:{_plat(platform)}:{_name(value)}"
            result = Resolution(None, fallback)
        self._cache[cache_key] = result
        return result


def has_outgoing_hint(record: Record) -> bool:
    """True when the source itself says the victim's device sent this record."""
    if record.subtype in OUTGOING_SUBTYPES:
        return True
    extra: Mapping[str, object] = record.extra
    direction = extra.get("direction")
    if isinstance(direction, str) and direction.casefold() in _OUT_WORDS:
        return True
    return extra.get("from_me") is True or extra.get("is_from_me") is True


def has_incoming_hint(record: Record) -> bool:
    """True when the source itself says this record arrived at the victim's device."""
    if record.subtype in INCOMING_SUBTYPES:
        return True
    direction = record.extra.get("direction")
    return isinstance(direction, str) and direction.casefold() in {"in", "incoming", "received"}


def is_withheld(record: Record, sender: Resolution | None) -> bool:
    return Flag.WITHHELD_NUMBER.value in record.flags or (sender is not None and sender.withheld)


def direction_of(
    record: Record,
    sender: Resolution | None,
    recipients: list[Resolution],
    victims: frozenset[str],
) -> Direction:
    """Direction seen from the victim. The rule, in order:

    1. platform events (kind ``system``) are events, not contacts;
    2. a sender that resolves to the victim means *from the victim*;
    3. a record with no resolvable sender that the source marks as sent from the device
       (subtype ``outgoing``/``sent``, ``extra.direction = "out"``, ``extra.from_me``)
       is *from the victim*: the evidence comes from the victim's own devices;
    4. otherwise, a recipient that resolves to the victim, or an ``incoming``-type
       subtype (incoming, missed, rejected, blocked...), means *to the victim*;
    5. recipients that all resolve to other known people mean *other* (third party);
    6. anything else (no recipients, or only unknown ones) is taken as *to the victim*,
       because the records come from the victim's own accounts.
    """
    if record.kind is RecordKind.SYSTEM:
        return Direction.EVENT
    if sender is not None and sender.person in victims:
        return Direction.FROM_VICTIM
    unknown_sender = sender is None or (sender.person is None and not sender.withheld)
    if unknown_sender and has_outgoing_hint(record):
        return Direction.FROM_VICTIM
    if any(r.person in victims for r in recipients):
        return Direction.TO_VICTIM
    if has_incoming_hint(record):
        return Direction.TO_VICTIM
    if recipients and all(r.person is not None and r.person not in victims for r in recipients):
        return Direction.OTHER
    return Direction.TO_VICTIM
