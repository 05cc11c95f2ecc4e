"""Masking the people of a case in reports that leave the force (the panel pack).

Every person in ``case.toml`` gets a pseudonym ("Victim A", "Person B": one letter per
person in case.toml order, "Victim" for the victim role, "Person" for everyone else), and
every identifier a mask naming its kind, its number among that person's identifiers of the
kind, and the person's pseudonym (``[phone 1 of Victim A]``). The same person or
identifier always gets the same replacement, wherever it appears: in a name field, a
sender, a conversation title, an attachment name, an indicator's rule or a message text.

What is matched (case-insensitively):

- names: the full name, and each part of it of three letters or more on its own
  ("Carys", "Hughes");
- phone numbers in any written form: ``+447700900123``, ``447700900123``,
  ``0044 7700 900123``, ``+44 (0)7700 900123``, ``07700 900123``, ``07700-900-123``,
  ``7700900123`` (separators: spaces, ``-``, ``.``, ``/``, brackets);
- e-mail addresses, usernames (also without their dots, as Instagram names its export
  folders), display names and account ids, as whole words;
- addresses: the whole address (commas and spaces between its parts may differ), its first
  line, and its UK postcode on its own.

Text that came from the evidence (``untrusted``: senders, titles, attachment names, message
text) is also searched for phone numbers and e-mail addresses that case.toml does not list:
they become ``[other phone 1]``, ``[other email 1]``.

Fields are revealed with a small vocabulary, ``[ROLE-]KIND``: KIND is one of
:data:`KINDS`, ROLE (optional) one of victim, suspect, witness, other; ``ROLE-all`` is every
kind of that role (``suspect-name``, ``phone``, ``victim-address``, ``suspect-all``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cyberstalk.case import ROLES, CaseConfig, Identifier
from cyberstalk.errors import UsageError
from cyberstalk.identifiers import (
    bare_username,
    display_key,
    fold_email,
    identifier_key,
    phone_digits,
    phone_key,
    phone_parts,
)

KINDS = ("name", "phone", "email", "username", "display-name", "account-id", "address")
"""What can be revealed, by kind (``--reveal KIND`` or ``--reveal ROLE-KIND``)."""

_KIND_OF_TYPE = {
    "phone": "phone",
    "email": "email",
    "username": "username",
    "display_name": "display-name",
    "account_id": "account-id",
}
_MASK_WORD = {
    "phone": "phone",
    "email": "email",
    "username": "username",
    "display-name": "display name",
    "account-id": "account id",
    "address": "address",
}

ROLE_PRESETS: Mapping[str, tuple[str, ...]] = {
    "panel": (),
    "police": ("victim-name", "suspect-all"),
    "probation": ("suspect-name",),
    "victim-support": ("victim-name", "suspect-name"),
    "cps": ("victim-name", "suspect-name"),
}
"""What each ``--role`` reveals by default (everything else is masked). ``panel`` (the
default) reveals nothing: the copy circulated to every agency at the meeting."""

ROLE_HELP: Mapping[str, str] = {
    "panel": "the copy circulated to every agency: every name and identifier masked",
    "police": "the force's own copy: victim's and suspect's names, suspect's identifiers",
    "probation": "offender manager: the suspect's name only (never the victim's details)",
    "victim-support": "IDVA / ISAC: the victim's and suspect's names, no contact details",
    "cps": "prosecutor: the victim's and suspect's names, no contact details",
}

Field = tuple[str | None, str]
"""(role or None for every role, kind)."""

_SEP = r"[\s().\-/]*"
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE)
_GENERIC_EMAIL = r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+(?![\w\-])"
_GENERIC_PHONE = r"(?<![\w+\-/.:])(?:(?:\+|00)\d|0\d)[\d\s().\-]{7,}\d(?!\w)"


def parse_field(spec: str) -> Field:
    """``suspect-name`` -> ("suspect", "name"); ``phone`` -> (None, "phone")."""
    text = spec.strip().casefold().replace("_", "-")
    for role in ROLES:
        if text.startswith(role + "-"):
            kind = text[len(role) + 1 :]
            if kind == "all" or kind in KINDS:
                return role, kind
    if text in KINDS:
        return None, text
    raise UsageError(
        f"{spec!r} is not a field to reveal or mask",
        advice=f"write [ROLE-]KIND: KIND one of {', '.join(KINDS)} (or ROLE-all), ROLE one of "
        f"{', '.join(ROLES)}; e.g. --reveal suspect-name --reveal phone",
    )


def choose_fields(
    role: str, reveal: Iterable[str] = (), mask: Iterable[str] = ()
) -> tuple[frozenset[Field], tuple[str, ...]]:
    """The fields revealed by ``role``'s preset plus ``reveal`` minus ``mask``, and the same
    as sorted text for reports and the custody log."""
    if role not in ROLE_PRESETS:
        raise UsageError(
            f"--role {role!r} is not one of {', '.join(ROLE_PRESETS)}",
            advice="choose the agency the pack is for; --reveal adds fields to its preset",
        )
    shown = {parse_field(s) for s in ROLE_PRESETS[role]}
    shown |= {parse_field(s) for s in reveal}
    hidden = {parse_field(s) for s in mask}
    out: set[Field] = set()
    for r, k in shown:
        roles = [r] if r else list(ROLES)
        kinds = list(KINDS) if k == "all" else [k]
        out |= {(rr, kk) for rr in roles for kk in kinds}
    for r, k in hidden:
        out = {
            (rr, kk) for rr, kk in out if not ((r is None or rr == r) and (k == "all" or kk == k))
        }
    # Shown as text: a kind revealed for every role collapses to the bare kind.
    texts: list[str] = []
    for k in KINDS:
        roles_with = [r for r in ROLES if (r, k) in out]
        if len(roles_with) == len(ROLES):
            texts.append(k)
        else:
            texts += [f"{r}-{k}" for r in roles_with]
    return frozenset(out), tuple(sorted(texts))


def _letters(n: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    out = ""
    n += 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _word(literal: str, between: str = r"\s+") -> str:
    """A literal as a regex, whole word, its spaces matching any run of ``between``. An
    underscore ends a word too: file names join words with it (``Carys_Hughes.jpg``)."""
    parts = [re.escape(p) for p in literal.split()]
    return r"(?<![^\W_])" + between.join(parts) + r"(?![^\W_])"


_NAME_GAP = r"[\s_.\-]+"
"""Between the parts of a name: spaces, or the ``_``, ``.``, ``-`` of file names."""


def phone_pattern(value: str) -> str | None:
    """A regex for every common way of writing the phone number ``value`` (None when it is
    not a phone number phonenumbers can read: the literal is matched instead)."""
    parts = phone_parts(value)
    if parts is None:
        return None
    country_code, nsn = parts
    cc = _SEP.join(str(country_code))
    digits = _SEP.join(nsn)
    # No separator before the country code: "a / 44..." must not swallow the " / ".
    prefix = rf"(?:(?:(?:\+|00){_SEP})?{cc}{_SEP}(?:\(0\){_SEP})?|0{_SEP})?"
    # An opening bracket before the prefix belongs to the number: "(07700) 900 123".
    return rf"(?<![\w+])(?:\((?=0[\d\s]*\)))?{prefix}{digits}(?!\d)"


@dataclass(frozen=True, slots=True)
class Mask:
    """One thing the redactor replaces."""

    replacement: str
    """What is written instead (the clear text itself when the field is revealed)."""
    kind: str
    """One of :data:`KINDS`, or ``other-phone`` / ``other-email``."""
    source: str
    """Where it comes from in case.toml (``people[0].identifiers[2]``), for the custody log."""
    revealed: bool = False


_OPAQUE_ID = re.compile(r"[0-9A-Fa-f\-]{12,}|<[^<>\s]+@[^<>\s]+>|[0-9A-Za-z_\-]{24,}")
"""A conversation title that is only an id: thread ids, message ids, long tokens."""


@dataclass
class Redactor:
    """Replaces the people and identifiers of one case, consistently, in any text.

    Build one per pack with :meth:`for_case`; it counts what it replaced (``counts``) and
    which masks it used (``used``), for the custody record.
    """

    pseudonyms: dict[str, str]
    """Person name -> label shown (pseudonym, or the name when revealed)."""
    roles: dict[str, str]
    """Person name -> role."""
    identifier_masks: dict[str, list[tuple[str, str]]]
    """Person name -> [(kind, mask)] in case.toml order, without repeats."""
    _known: re.Pattern[str]
    _untrusted: re.Pattern[str]
    _by_group: dict[str, Mask]
    _literal: dict[str, Mask]
    _by_key: dict[str, Mask]
    counts: Counter[str] = field(default_factory=Counter)
    used: dict[str, Mask] = field(default_factory=dict)
    _others: dict[str, str] = field(default_factory=dict)

    @classmethod
    def for_case(cls, config: CaseConfig, revealed: frozenset[Field] = frozenset()) -> Redactor:
        pseudonyms: dict[str, str] = {}
        roles: dict[str, str] = {}
        identifier_masks: dict[str, list[tuple[str, str]]] = {}
        phones: list[tuple[str, Mask]] = []  # (regex, mask)
        by_key: dict[str, Mask] = {}  # timeline identifier key -> mask
        literals: list[tuple[str, str, Mask]] = []  # (regex, key, mask)
        for i, person in enumerate(config.people):
            letter = _letters(i)
            show_name = (person.role, "name") in revealed
            label = (
                person.name
                if show_name
                else (f"Victim {letter}" if person.role == "victim" else f"Person {letter}")
            )
            pseudonyms[person.name] = label
            roles[person.name] = person.role
            where = f"people[{i}]"
            name_mask = Mask(label, "name", where, show_name)
            literals.append((_word(person.name, _NAME_GAP), _key(person.name), name_mask))
            # Name parts before identifiers: a bare "Carys" in a message is the person,
            # even when it is also her WhatsApp display name.
            for part in person.name.split():
                if len(part) >= 3 and part != person.name:
                    literals.append((_word(part), _key(part), name_mask))
            pm = _PersonMasks(label, revealed, person.role)
            add = pm.add
            masks = pm.masks

            for j, ident in enumerate(person.identifiers):
                kind = _KIND_OF_TYPE.get(ident.type, "account-id")
                value = ident.value.strip()
                if not value:
                    continue
                mask = add(kind, value, f"{where}.identifiers[{j}]")
                key = display_key(identifier_key(Identifier(ident.type, value, ident.platform)))
                if mask is None:
                    by_key.setdefault(key, pm.seen[_dedup(kind, value)])
                    continue
                by_key.setdefault(key, mask)
                if kind == "phone" and (pattern := phone_pattern(value)) is not None:
                    phones.append((pattern, mask))
                    continue
                if kind == "username":
                    bare = bare_username(value)
                    boundary = r"(?<![\w.])", r"(?![\w]|\.\w)"
                    literals.append((boundary[0] + re.escape(bare) + boundary[1], _key(bare), mask))
                    if "." in bare:
                        flat = bare.replace(".", "")
                        literals.append(
                            (boundary[0] + re.escape(flat) + boundary[1], _key(flat), mask)
                        )
                elif kind == "email":
                    literals.append(
                        (
                            r"(?<![\w.+\-])" + re.escape(value) + r"(?![\w\-]|\.\w)",
                            _key(value),
                            mask,
                        )
                    )
                else:
                    literals.append((_word(value), _key(value), mask))
            for j, address in enumerate(person.addresses):
                mask = add("address", address, f"{where}.address[{j}]")
                if mask is None:
                    continue
                parts = [p for p in re.split(r"[\s,]+", address.strip()) if p]
                literals.append(
                    (r"(?<!\w)" + r"[\s,]+".join(map(re.escape, parts)) + r"(?!\w)", "", mask)
                )
                first_line = address.split(",")[0].strip()
                if first_line and first_line != address.strip() and len(first_line) >= 6:
                    literals.append((_word(first_line), _key(first_line), mask))
                for postcode in _POSTCODE.findall(address):
                    compact = re.sub(r"\s+", "", postcode)
                    pattern = re.escape(compact[:-3]) + r"\s*" + re.escape(compact[-3:])
                    literals.append((rf"(?<!\w){pattern}(?!\w)", "", mask))
            identifier_masks[person.name] = masks
        # Longest literal first: at one position, "Dylan Price" wins over "Dylan".
        literals.sort(key=lambda item: -len(item[0]))
        by_group: dict[str, Mask] = {}
        literal: dict[str, Mask] = {}
        alternatives: list[str] = []
        for n, (pattern, mask) in enumerate(phones):
            by_group[f"p{n}"] = mask
            alternatives.append(f"(?P<p{n}>{pattern})")
        emails = [item for item in literals if item[2].kind == "email"]
        rest = [item for item in literals if item[2].kind != "email"]
        for n, (pattern, key, mask) in enumerate(emails + rest):
            by_group[f"l{n}"] = mask
            if key:
                literal.setdefault(key, mask)
            alternatives.append(f"(?P<l{n}>{pattern})")
        n_email = len(phones) + len(emails)
        known = "|".join(alternatives) or r"(?!x)x"
        generic = [f"(?P<ge>{_GENERIC_EMAIL})", f"(?P<gp>{_GENERIC_PHONE})"]
        # Untrusted text: known phones and emails first, then any other address or number,
        # then names (so that "carys.jones@example.org" is one "other email").
        untrusted = "|".join(alternatives[:n_email] + generic + alternatives[n_email:])
        return cls(
            pseudonyms,
            roles,
            identifier_masks,
            re.compile(known, re.IGNORECASE),
            re.compile(untrusted, re.IGNORECASE),
            by_group,
            literal,
            by_key,
        )

    # ------------------------------------------------------------------ use

    def person(self, name: str | None) -> str:
        """The label of a person from case.toml (a name the analysis gives)."""
        if name is None:
            return ""
        if name in self.pseudonyms:
            mask = Mask(self.pseudonyms[name], "name", "", False)
            self.counts["name"] += 1
            self.used.setdefault(mask.replacement, mask)
            return self.pseudonyms[name]
        return self.text(name)

    def identifier(self, key: str) -> str:
        """The mask of a timeline identifier key (``phone:+447700900789``,
        ``name:whatsapp:dylan``); text masking for a key case.toml does not hold."""
        mask = self._by_key.get(key)
        if mask is None:
            return self.text(key)
        if mask.revealed:
            return key
        self.counts[mask.kind] += 1
        self.used.setdefault(mask.replacement, mask)
        return mask.replacement

    def text(self, value: str | None) -> str:
        """Text the toolkit wrote from case.toml (rules, conditions, identifier keys)."""
        if not value:
            return value or ""
        return self._known.sub(self._replace, value)

    def untrusted(self, value: str | None) -> str:
        """Text that came from the evidence: also masks unlisted phone numbers and emails."""
        if not value:
            return value or ""
        return self._untrusted.sub(self._replace, value)

    def conversation(self, value: str | None) -> str:
        """A conversation title from the evidence, masked like :meth:`untrusted`; an
        opaque conversation or thread id (a long run of digits or hex, as e-mail threads
        carry, or a ``<...@...>`` message id) is an identifier of someone's account and
        becomes ``[conversation N]``, the same id always the same N."""
        if not value or not _OPAQUE_ID.fullmatch(value.strip()):
            return self.untrusted(value)
        key = "conversation:" + value.strip()
        mask_text = self._others.get(key)
        if mask_text is None:
            n = sum(1 for k in self._others if k.startswith("conversation:")) + 1
            mask_text = self._others[key] = f"[conversation {n}]"
        self.counts["conversation-id"] += 1
        return mask_text

    def _replace(self, m: re.Match[str]) -> str:
        group = m.lastgroup
        assert group is not None
        if group in ("ge", "gp"):
            found = m.group(0)
            if group == "gp":
                if not 10 <= len(phone_digits(found)) <= 15:
                    return found
                # One number, however written, is one mask: keyed by its E.164 form.
                key, word = "phone:" + phone_key(found), "phone"
            else:
                key, word = "email:" + fold_email(found), "email"
            mask_text = self._others.get(key)
            if mask_text is None:
                n = sum(1 for k in self._others if k.startswith(word + ":")) + 1
                mask_text = self._others[key] = f"[other {word} {n}]"
            self.counts["other-" + word] += 1
            return mask_text
        mask = self._by_group[group]
        if not group.startswith("p"):
            # One literal can be registered twice (a display name equal to a name part):
            # the first registration decides, so the replacement never depends on order.
            mask = self._literal.get(_key(m.group(0)), mask)
        if mask.revealed:
            return m.group(0)
        self.counts[mask.kind] += 1
        self.used.setdefault(mask.replacement, mask)
        return mask.replacement

    def record(self) -> dict[str, object]:
        """What was masked, for the custody log: counts by kind, and each mask used with
        where it comes from in case.toml. Never the clear identifiers."""
        return {
            "counts": dict(sorted(self.counts.items())),
            "pseudonyms": {label: name for name, label in self.pseudonyms.items() if label != name},
            "masks": {
                text: m.source
                for text, m in sorted(self.used.items())
                if m.kind != "name" and not m.revealed
            },
            "other_identifiers": len(self._others),
        }


@dataclass
class _PersonMasks:
    """Numbers one person's identifiers by kind, skipping repeats."""

    label: str
    revealed: frozenset[Field]
    role: str
    numbers: Counter[str] = field(default_factory=Counter)
    seen: dict[tuple[str, str], Mask] = field(default_factory=dict)
    masks: list[tuple[str, str]] = field(default_factory=list)

    def add(self, kind: str, value: str, source: str) -> Mask | None:
        dedup = _dedup(kind, value)
        if dedup in self.seen:
            return None
        self.numbers[kind] += 1
        shown = (self.role, kind) in self.revealed
        text = value if shown else f"[{_MASK_WORD[kind]} {self.numbers[kind]} of {self.label}]"
        mask = self.seen[dedup] = Mask(text, kind, source, shown)
        self.masks.append((kind, text))
        return mask


def _dedup(kind: str, value: str) -> tuple[str, str]:
    return kind, _key(value) if kind != "phone" else phone_key(value)


def _key(value: str) -> str:
    return re.sub(r"[\s,]+", " ", value.strip()).casefold().lstrip("@")
