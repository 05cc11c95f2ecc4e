"""Who sent what: resolving record senders and recipients to the people in case.toml.

Identifiers are normalised by :mod:`cyberstalk.identifiers` (phone numbers in E.164 with
a UK default, e-mail addresses, usernames and display names folded), the one module that
the case commands, this resolver and the panel pack's masking share.

Direction (seen from the victim) follows one written rule, :func:`direction_of`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cyberstalk.case import Person
from cyberstalk.identifiers import (
    WITHHELD_NAMES,
    fold_name,
    fold_platform,
    identifier_key,
    key_without_platform,
    sender_keys,
)
from cyberstalk.records import Record, RecordKind
from cyberstalk.timeline.model import EVENT, FROM_VICTIM, OTHER, TO_VICTIM, Direction

OUTGOING_SUBTYPES = frozenset({"outgoing", "sent", "outbox"})
"""Subtypes that say the victim's own device sent the record (SMS type 2, outgoing call)."""
INCOMING_SUBTYPES = frozenset(
    {"incoming", "inbox", "received", "missed", "rejected", "blocked", "voicemail"}
)
"""Subtypes that say the record arrived at the victim's device."""
_OUT_WORDS = frozenset({"out", "outgoing", "sent"})


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
        self._anywhere: dict[str, dict[str, str]] = {}
        """``kind:value`` without its platform -> {person: the key they have it under}."""
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
                # the same key on any platform, for lines whose platform is unknown
                if key.partition(":")[0] in ("name", "user", "acct"):
                    owners = self._anywhere.setdefault(key_without_platform(key), {})
                    owners.setdefault(person.name, key)
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
        if fold_name(value) in WITHHELD_NAMES:
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
                fallback = f"id:{fold_platform(platform)}:{fold_name(value)}"
            result = Resolution(None, fallback)
        self._cache[cache_key] = result
        return result

    def resolve_hinted(
        self, value: str | None, platforms: Sequence[str], fallback_platform: str
    ) -> Resolution | None:
        """Resolve a name read from a screenshot, whose platform the record does not know.

        Tried in order: each hinted platform (the platforms of the export records the line
        corroborates, then platforms named in the image's file name), then the record's
        own platform; then the same name or username on *any* platform, when exactly one
        person in the case has it (two people with it leave the line ambiguous)."""
        if value is None or not value.strip():
            return None
        first: Resolution | None = None
        for platform in (*platforms, fallback_platform):
            res = self.resolve(value, platform)
            if res is None:
                return None
            if res.person is not None or res.ambiguous or res.withheld:
                return res
            first = first or res
        owners: dict[str, str] = {}
        for key in sender_keys(value, fallback_platform):
            owners = self._anywhere.get(key_without_platform(key), {})
            if owners:
                break
        if len(owners) == 1:
            ((name, key),) = owners.items()
            return Resolution(name, key)
        if len(owners) > 1:
            return Resolution(None, next(iter(owners.values())), ambiguous=tuple(sorted(owners)))
        return first


KNOWN_PLATFORMS = frozenset(
    {
        "whatsapp",
        "instagram",
        "facebook",
        "messenger",
        "telegram",
        "snapchat",
        "tiktok",
        "discord",
        "signal",
        "twitter",
        "sms",
        "email",
    }
)
"""Platform ids a screenshot's file name may name (``Screenshot_whatsapp_late.png``)."""
_WORDS = re.compile(r"[a-z]+")


def platform_hints(record: Record, platform_of: Mapping[str, str]) -> tuple[str, ...]:
    """Platforms a screenshot line may belong to, strongest first: those of the export
    records it corroborates (``platform_of`` maps record ids to platforms), then those
    named in the image's file name."""
    hints: list[str] = []
    corroborates = record.extra.get("corroborates")
    if isinstance(corroborates, list):
        for rid in corroborates:
            platform = platform_of.get(rid) if isinstance(rid, str) else None
            if platform and platform not in hints:
                hints.append(platform)
    name = (record.locator.path or "").rsplit("/", 1)[-1].casefold()
    for word in _WORDS.findall(name):
        if word in KNOWN_PLATFORMS and word not in hints:
            hints.append(word)
    return tuple(hints)


def has_outgoing_hint(record: Record) -> bool:
    """True when the source itself says the victim's device sent this record."""
    if record.subtype in OUTGOING_SUBTYPES:
        return True
    extra: Mapping[str, object] = record.extra
    direction = extra.get("direction")
    if isinstance(direction, str) and direction.casefold() in _OUT_WORDS:
        return True
    return extra.get("from_me") is True or extra.get("is_from_me") is True


_IN_WORDS = frozenset({"in", "incoming", "received"})


def has_incoming_hint(record: Record) -> bool:
    """True when the source itself says this record arrived at the victim's device."""
    if record.subtype in INCOMING_SUBTYPES:
        return True
    direction = record.extra.get("direction") if record.extra else None
    return isinstance(direction, str) and direction.casefold() in _IN_WORDS


_SYSTEM = RecordKind.SYSTEM  # (once: see timeline.model.TO_VICTIM)


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
    if record.kind is _SYSTEM:
        return EVENT
    if sender is not None and sender.person in victims:
        return FROM_VICTIM
    unknown_sender = sender is None or (sender.person is None and not sender.withheld)
    if unknown_sender and has_outgoing_hint(record):
        return FROM_VICTIM
    if recipients and any(r.person in victims for r in recipients):
        return TO_VICTIM
    if has_incoming_hint(record):
        return TO_VICTIM
    if recipients and all(r.person is not None and r.person not in victims for r in recipients):
        return OTHER
    return TO_VICTIM
