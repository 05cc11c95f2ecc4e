"""The record model: frozen value types shared across the toolkit's packages, and the
record id.

Every type here is plain data: no I/O, no behaviour beyond (de)serialisation and
derived identifiers, so that any package may import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from hashlib import sha256 as _sha256
from typing import Any

JSON = Any
"""A JSON-serialisable value (kept loose on purpose: exports differ widely)."""


def utc_iso(value: datetime) -> str:
    """Render an aware datetime in UTC as ISO 8601 with a ``Z``-free explicit offset."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime refused: {value!r}")
    return value.astimezone(UTC).isoformat()


# --------------------------------------------------------------------------- records


class RecordKind(StrEnum):
    """What kind of thing happened."""

    MESSAGE = "message"
    """A message with text (possibly with attachments)."""
    MEDIA = "media"
    """A message whose content is only media (photo, video, voice note, sticker...)."""
    CALL = "call"
    """A voice or video call, answered, missed, rejected or blocked."""
    SYSTEM = "system"
    """A platform event: block, number change, deletion notice, encryption notice..."""
    EMAIL = "email"
    """An email message."""
    SCREENSHOT_TEXT = "screenshot_text"
    """A chat line read by OCR from a screenshot: never exact."""


class TzBasis(StrEnum):
    """Where a record's UTC time came from."""

    EPOCH = "epoch"
    """An epoch timestamp in the source: exact."""
    EXPLICIT_OFFSET = "explicit_offset"
    """A wall-clock time with an explicit offset or zone in the source."""
    USER_SUPPLIED = "user_supplied"
    """A zone-less time interpreted in the zone given with ``--tz``."""
    CASE_TIMEZONE = "case_timezone"
    """A zone-less time interpreted in the case's timezone from case.toml."""
    DEFAULT_TIMEZONE = "default_timezone"
    """A zone-less time interpreted in Europe/London, for want of anything better."""
    UNKNOWN = "unknown"
    """No usable time in the source."""


class Flag(StrEnum):
    """Flags a record can carry. Flags inform the officer; they never decide anything."""

    EDITED = "edited"
    DELETED = "deleted"
    DST_AMBIGUOUS = "dst_ambiguous"
    """A zone-less wall time that occurs twice (clocks went back): earlier instant used."""
    DST_NONEXISTENT = "dst_nonexistent"
    """A zone-less wall time that does not exist (clocks went forward): shifted forward."""
    ORDER_REGRESSION = "order_regression"
    """The time runs backwards compared with the record before it in the file."""
    POSSIBLE_INSERTED_LINE = "possible_inserted_line"
    """A header-shaped line that breaks the file's conventions: may have been typed in."""
    OCR = "ocr"
    """Text read by OCR: approximate."""
    DUPLICATE = "duplicate"
    """The same event was already seen in an overlapping export."""
    WITHHELD_NUMBER = "withheld_number"
    """The caller or sender withheld their number."""
    MOJIBAKE_REPAIRED = "mojibake_repaired"
    """Text was repaired from Latin-1-decoded UTF-8 exactly once."""
    DATE_ORDER_CHOSEN = "date_order_chosen"
    """The source's dates fit more than one day/month/year order; the one used was chosen
    by a person (``--date-order``, or a decision recorded in the case's custody log)."""
    TIME_CONFLICT = "time_conflict"
    """Two time fields of the source disagree (e.g. Telegram's ``date_unixtime`` and
    ``date``); ``extra`` names both values and says which one the record's time is from."""


_LOCATOR_FIELDS = (
    "exhibit",
    "path",
    "line_start",
    "line_end",
    "byte_start",
    "byte_end",
    "json_path",
    "xml_index",
    "member",
)


@dataclass(frozen=True, slots=True)
class Locator:
    """Where in the evidence a record came from: enough to find the exact bytes again."""

    exhibit: str | None
    """Exhibit reference (``JS/1/3``), or None for a loose file parsed outside a case."""
    path: str
    """File name (inside the exhibit, or the loose file's path)."""
    line_start: int | None = None
    """First line (1-based) of the record in a text source."""
    line_end: int | None = None
    """Last line (1-based, inclusive) of the record in a text source."""
    byte_start: int | None = None
    """Offset of the record's first byte in the file."""
    byte_end: int | None = None
    """Offset just past the record's last byte in the file."""
    json_path: str | None = None
    """JSON path of the record (``$.messages[12]``) in a JSON source."""
    xml_index: int | None = None
    """Zero-based index of the element among its siblings in an XML source."""
    member: str | None = None
    """Archive member name, when the file is inside an archive."""

    def as_dict(self) -> dict[str, JSON]:
        return {k: v for k in _LOCATOR_FIELDS if (v := getattr(self, k)) is not None}

    def describe(self) -> str:
        """Short human form for reports: ``JS/1 line 12-14`` (the exhibit, or the path, then
        :meth:`position`)."""
        ref = self.exhibit or self.path
        where = self.position()
        return f"{ref} {where}" if where else ref

    def position(self) -> str:
        """Where the record is in its exhibit: ``line 12``, ``lines 12-14``, an archive
        member, a JSON path, an XML element or a byte range ("": the whole file)."""
        start, end = self.line_start, self.line_end
        lines = ""
        if start is not None:
            lines = f"lines {start}-{end}" if end is not None and end != start else f"line {start}"
            if not self.member and not self.json_path and self.xml_index is None:
                return lines  # the usual locator, nearly every chronology row's
        parts = [self.member] if self.member else []
        if lines:
            parts.append(lines)
        if self.json_path:
            parts.append(self.json_path)
        if self.xml_index is not None:
            parts.append(f"element {self.xml_index}")
        if self.byte_start is not None and start is None:
            parts.append(f"bytes {self.byte_start}-{self.byte_end}")
        return " ".join(parts)

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> Locator:
        return cls(**{k: data.get(k) for k in _LOCATOR_FIELDS})  # type: ignore[arg-type]


_RECORD_FIELDS = (
    "kind",
    "platform",
    "time_utc",
    "time_raw",
    "tz_basis",
    "locator",
    "parser",
    "parser_version",
    "sender",
    "recipients",
    "text",
    "attachments",
    "flags",
    "subtype",
    "conversation",
    "extra",
)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file attached to a record (photo, voice note, document)."""

    name: str
    """The name as written in the source."""
    mime: str | None = None
    """MIME type when the source says or the bytes show it."""
    sha256: str | None = None
    """SHA-256 of the attachment's bytes when they are present (inline or linked)."""
    size: int | None = None
    """Size in bytes when known."""
    exhibit: str | None = None
    """Exhibit reference of the linked file (e.g. the zip member's sub-exhibit)."""
    omitted: bool = False
    """True when the export says the media was left out (``<Media omitted>``)."""
    caption: str | None = None
    """Caption written with the attachment."""

    def as_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"name": self.name}
        for key in ("mime", "sha256", "size", "exhibit", "caption"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.omitted:
            out["omitted"] = True
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> Attachment:
        return cls(
            name=data["name"],
            mime=data.get("mime"),
            sha256=data.get("sha256"),
            size=data.get("size"),
            exhibit=data.get("exhibit"),
            omitted=bool(data.get("omitted", False)),
            caption=data.get("caption"),
        )


def _plain_id_parts(
    exhibit: object,
    path: object,
    member: object,
    parser: object,
    kind: object,
    time_raw: object,
    text: object,
    subtype: object,
) -> bool:
    """Whether these id parts are the model's own types (a text line's fast JSON may take them)."""
    return (
        type(path) is str
        and type(parser) is str
        and type(kind) is str
        and type(time_raw) is str
        and type(text) is str
        and (exhibit is None or type(exhibit) is str)
        and (member is None or type(member) is str)
        and (subtype is None or type(subtype) is str)
    )


def _part(value: object) -> str:
    """One part of the id's input: its text, length-prefixed; None as ``-;``."""
    if value is None:
        return "-;"
    text = str(value)
    return f"{len(text)}:{text};"


def id_head(exhibit: object, path: object, member: object) -> str:
    """The id input's first parts (where the record's source is): what every record of
    one source shares, so that a writer of many may hash it once (:func:`record_id`)."""
    return _part(exhibit) + _part(path) + _part(member)


def record_id(
    head: Any,
    line_start: object,
    line_end: object,
    byte_start: object,
    byte_end: object,
    json_path: object,
    xml_index: object,
    parser: object,
    kind: object,
    time_raw: object,
    text: object,
    subtype: object,
) -> str:
    """The record id, the only implementation: ``r-`` and 16 hex digits of SHA-256 over
    every part length-prefixed (None as ``-;``), so that no two different records share an
    input: the locator (exhibit, path, member, lines, bytes, JSON path, XML index), then
    parser, kind, raw time, text and subtype. ``head`` is a SHA-256 that has hashed
    :func:`id_head` of the first three (it is copied, not changed)."""
    # (the parts as text, then one f-string: an id is made for every record written)
    ls = None if line_start is None else str(line_start)
    le = None if line_end is None else str(line_end)
    bs = None if byte_start is None else str(byte_start)
    be = None if byte_end is None else str(byte_end)
    jp = None if json_path is None else str(json_path)
    xi = None if xml_index is None else str(xml_index)
    p, k, r, t = str(parser), str(kind), str(time_raw), str(text)
    st = None if subtype is None else str(subtype)
    digest = head.copy()
    digest.update(
        f"{'-;' if ls is None else f'{len(ls)}:{ls};'}"
        f"{'-;' if le is None else f'{len(le)}:{le};'}"
        f"{'-;' if bs is None else f'{len(bs)}:{bs};'}"
        f"{'-;' if be is None else f'{len(be)}:{be};'}"
        f"{'-;' if jp is None else f'{len(jp)}:{jp};'}"
        f"{'-;' if xi is None else f'{len(xi)}:{xi};'}"
        f"{len(p)}:{p};{len(k)}:{k};{len(r)}:{r};{len(t)}:{t};"
        f"{'-;' if st is None else f'{len(st)}:{st};'}".encode("utf-8", "surrogatepass")
    )
    return "r-" + str(digest.hexdigest())[:16]


def head_hash(exhibit: object, path: object, member: object) -> Any:
    """A SHA-256 that has hashed :func:`id_head` (for :func:`record_id`)."""
    return _sha256(id_head(exhibit, path, member).encode("utf-8", "surrogatepass"))


@dataclass(frozen=True, slots=True)
class Record:
    """One thing that happened, as one export recorded it.

    ``text`` is byte-exact as in the source (no normalisation); ``time_raw`` is the time
    exactly as written; ``time_utc`` is aware and in UTC (None only when the source has
    no usable time, with ``tz_basis`` UNKNOWN).
    """

    kind: RecordKind
    """What kind of event this is."""
    platform: str
    """Platform id (``whatsapp``, ``sms``, ``instagram``, ``email``...)."""
    time_utc: datetime | None
    """When it happened, aware, in UTC."""
    time_raw: str
    """The time exactly as the source wrote it."""
    tz_basis: TzBasis
    """How ``time_utc`` was derived."""
    locator: Locator
    """Where it came from."""
    parser: str
    """Name of the parser that produced it."""
    parser_version: str
    """Version of that parser: derived data is versioned by parser."""
    sender: str | None = None
    """Sender identifier as written (name, number, address, username)."""
    recipients: tuple[str, ...] = ()
    """Recipient identifiers as written, when the source names them."""
    text: str = ""
    """The body, byte-exact as in the source."""
    attachments: tuple[Attachment, ...] = ()
    """Attached files."""
    flags: frozenset[str] = frozenset()
    """Flags (see :class:`Flag`): information for the officer, never a judgement."""
    subtype: str | None = None
    """Finer event type: ``block``, ``unblock``, ``number_change``, ``missed``,
    ``rejected``, ``deleted``, ``encryption_notice``, ``incoming``, ``outgoing``..."""
    conversation: str | None = None
    """Conversation or thread title/id when the source has one."""
    extra: Mapping[str, JSON] = field(default_factory=dict)
    """Format-specific facts kept verbatim (call duration, SMS status, reactions...)."""

    def __post_init__(self) -> None:
        if self.time_utc is not None and (
            self.time_utc.tzinfo is None or self.time_utc.utcoffset() is None
        ):
            raise ValueError("Record.time_utc must be timezone-aware")

    @property
    def id(self) -> str:
        """Stable identifier: the same source location and content give the same id.

        SHA-256 over the locator, parser, kind, raw time, text and subtype, each field
        length-prefixed so that no two different records can share an input.
        """
        loc = self.locator
        return record_id(
            head_hash(loc.exhibit, loc.path, loc.member),
            loc.line_start,
            loc.line_end,
            loc.byte_start,
            loc.byte_end,
            loc.json_path,
            loc.xml_index,
            self.parser,
            self.kind.value,
            self.time_raw,
            self.text,
            self.subtype,
        )

    def as_dict(self) -> dict[str, JSON]:
        """JSON form with a fixed key order (deterministic output)."""
        out: dict[str, JSON] = {
            "id": self.id,
            "kind": self.kind.value,
            "subtype": self.subtype,
            "platform": self.platform,
            "time_utc": utc_iso(self.time_utc) if self.time_utc else None,
            "time_raw": self.time_raw,
            "tz_basis": self.tz_basis.value,
            "sender": self.sender,
            "recipients": list(self.recipients),
            "conversation": self.conversation,
            "text": self.text,
            "attachments": [a.as_dict() for a in self.attachments] if self.attachments else [],
            "flags": sorted(self.flags) if self.flags else [],
            "locator": self.locator.as_dict(),
            "parser": {"name": self.parser, "version": self.parser_version},
            "extra": dict(sorted(self.extra.items())) if self.extra else {},
        }
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON], shared: dict[str, str] | None = None) -> Record:
        """The record of :meth:`as_dict`'s form (a JSON Lines line read back), made with
        :func:`make_record` (no frozen-dataclass ``__init__``: a WhatsApp parse reads every
        line back so).

        ``shared``: a reader of many records (a whole case) passes one dict for all of
        them, and the short strings that repeat from record to record (platform, parser
        and version, sender, recipients, exhibit, path, member, subtype, conversation) are
        then one object each, as is an empty ``extra`` (records are read-only)."""
        time_utc = data.get("time_utc")
        kind = data["kind"]
        basis = data.get("tz_basis", TzBasis.UNKNOWN)
        loc = data["locator"]
        parser = data["parser"]
        recipients = data.get("recipients")
        attachments = data.get("attachments")
        flags = data.get("flags")
        extra = data.get("extra")
        platform = data["platform"]
        name, version = parser["name"], parser["version"]
        sender, subtype, conversation = (
            data.get("sender"),
            data.get("subtype"),
            data.get("conversation"),
        )
        exhibit, path, member = loc.get("exhibit"), loc.get("path"), loc.get("member")
        if shared is not None:
            one = shared.setdefault
            platform, name, version = (
                one(platform, platform),
                one(name, name),
                one(version, version),
            )
            if type(sender) is str:
                sender = one(sender, sender)
            if type(subtype) is str:
                subtype = one(subtype, subtype)
            if type(conversation) is str:
                conversation = one(conversation, conversation)
            if type(exhibit) is str:
                exhibit = one(exhibit, exhibit)
            if type(path) is str:
                path = one(path, path)
            if type(member) is str:
                member = one(member, member)
            if recipients:
                recipients = [one(v, v) if type(v) is str else v for v in recipients]
        return make_record(
            _KINDS[kind] if type(kind) is str and kind in _KINDS else RecordKind(kind),
            platform,
            _FROM_ISO(time_utc) if time_utc else None,
            data.get("time_raw", ""),
            _BASES[basis] if type(basis) is str and basis in _BASES else TzBasis(basis),
            make_locator(
                exhibit,
                path,
                loc.get("line_start"),
                loc.get("line_end"),
                loc.get("byte_start"),
                loc.get("byte_end"),
                loc.get("json_path"),
                loc.get("xml_index"),
                member,
            ),
            name,
            version,
            sender,
            tuple(recipients) if recipients else (),
            data.get("text", ""),
            tuple(Attachment.from_dict(a) for a in attachments) if attachments else (),
            frozenset(flags) if flags else _NO_FLAGS,
            subtype,
            conversation,
            dict(extra) if extra else ({} if shared is None else _NO_EXTRA),
        )


_FROM_ISO = datetime.fromisoformat
_NO_FLAGS: frozenset[str] = frozenset()
_NO_EXTRA: dict[str, JSON] = {}
"""The ``extra`` of every record read with ``shared`` that has none."""


_KINDS: dict[object, RecordKind] = {k.value: k for k in RecordKind}
_BASES: dict[object, TzBasis] = {b.value: b for b in TzBasis}
"""The enums by value (a value of another type goes to the enum, which says what it says)."""


# ------------------------------------------------------------------ fast construction
#
# A frozen dataclass's __init__ stores each field with object.__setattr__ (a global and
# an attribute lookup, then a generic call), a large share of a parser's time per
# message. The functions below store through the slots' own descriptors
# instead. They make ordinary, immutable instances (same type, equality, hash,
# dataclasses.replace and fields) and check what __init__ and __post_init__ check.

_new = object.__new__


def _setters(cls: type, names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(cls.__dict__[name].__set__ for name in names)


(
    _l_exhibit,
    _l_path,
    _l_line_start,
    _l_line_end,
    _l_byte_start,
    _l_byte_end,
    _l_json_path,
    _l_xml_index,
    _l_member,
) = _setters(Locator, _LOCATOR_FIELDS)
(
    _r_kind,
    _r_platform,
    _r_time_utc,
    _r_time_raw,
    _r_tz_basis,
    _r_locator,
    _r_parser,
    _r_parser_version,
    _r_sender,
    _r_recipients,
    _r_text,
    _r_attachments,
    _r_flags,
    _r_subtype,
    _r_conversation,
    _r_extra,
) = _setters(Record, _RECORD_FIELDS)


def make_locator(
    exhibit: str | None,
    path: str,
    line_start: int | None,
    line_end: int | None,
    byte_start: int | None,
    byte_end: int | None,
    json_path: str | None,
    xml_index: int | None,
    member: str | None,
) -> Locator:
    """``Locator(...)`` with every field given, in field order."""
    loc: Locator = _new(Locator)
    _l_exhibit(loc, exhibit)
    _l_path(loc, path)
    _l_line_start(loc, line_start)
    _l_line_end(loc, line_end)
    _l_byte_start(loc, byte_start)
    _l_byte_end(loc, byte_end)
    _l_json_path(loc, json_path)
    _l_xml_index(loc, xml_index)
    _l_member(loc, member)
    return loc


def make_record(
    kind: RecordKind,
    platform: str,
    time_utc: datetime | None,
    time_raw: str,
    tz_basis: TzBasis,
    locator: Locator,
    parser: str,
    parser_version: str,
    sender: str | None,
    recipients: tuple[str, ...],
    text: str,
    attachments: tuple[Attachment, ...],
    flags: frozenset[str],
    subtype: str | None,
    conversation: str | None,
    extra: Mapping[str, JSON],
) -> Record:
    """``Record(...)`` with every field given, in field order (``time_utc`` must be aware,
    as ``Record.__post_init__`` requires)."""
    if (
        time_utc is not None
        and time_utc.tzinfo is not UTC
        and (time_utc.tzinfo is None or time_utc.utcoffset() is None)
    ):
        raise ValueError("Record.time_utc must be timezone-aware")
    record: Record = _new(Record)
    _r_kind(record, kind)
    _r_platform(record, platform)
    _r_time_utc(record, time_utc)
    _r_time_raw(record, time_raw)
    _r_tz_basis(record, tz_basis)
    _r_locator(record, locator)
    _r_parser(record, parser)
    _r_parser_version(record, parser_version)
    _r_sender(record, sender)
    _r_recipients(record, recipients)
    _r_text(record, text)
    _r_attachments(record, attachments)
    _r_flags(record, flags)
    _r_subtype(record, subtype)
    _r_conversation(record, conversation)
    _r_extra(record, extra)
    return record
