"""The one JSON Lines form of a record, as ``derived/records`` and ``cyberstalk parse``
write it: compact, UTF-8, keys in the record's fixed order (:meth:`Record.as_dict`).

Every line is written by one f-string template, :func:`_line`: for a Record by
:func:`record_bytes`, and for a text export's message from its fields with no Record
built by :meth:`TextLines.line_in_hour` (what the WhatsApp parser emits). The JSON of the
fields a source's records share (platform, zone basis, conversation, the locator's
exhibit, path and member, parser and version) and a SHA-256 that has hashed the id's
head are the template's parts, made once a source (:func:`_shared`); a text export's
locator (ints at lines and bytes, no JSON path or XML index) is written from its numbers,
whose text the id shares, any other locator from its fields (:func:`_place`); the time
is ``"..."`` (a UTC hour's text remembered, :func:`_utc_json`) or ``null``.

The json encoder (:func:`record_line` over ``as_dict()``) writes only what the template
cannot: a value of a type the template's string writer refuses (a non-string where the
model has a string) and a line with a lone surrogate (ASCII escapes).
:func:`read_line` is the one reader of a line (the store's, and :func:`line_record`'s,
which reads a line back as its Record).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from json.encoder import encode_basestring as _string  # the C encoder's own, when built
from typing import Any, BinaryIO

import orjson

from cyberstalk.records.model import (
    _LOCATOR_FIELDS,
    JSON,
    Attachment,
    Locator,
    Record,
    RecordKind,
    TzBasis,
    _plain_id_parts,
    head_hash,
    record_id,
    utc_iso,
)

# ------------------------------------------------------------------ JSON Lines
#
# One record a line, as ``derived/records`` and ``cyberstalk parse`` write them.

_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_ENCODE_ASCII = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


def record_line(record_dict: Mapping[str, Any]) -> bytes:
    """One JSON Lines line as written in derived/ and by ``cyberstalk parse``: compact,
    UTF-8, keys in the record's fixed order: the json encoder over a dict, which
    :func:`record_bytes` falls back to only for what its template cannot write.

    A lone surrogate (a broken ``\\ud83d`` escape in a JSON export) cannot be UTF-8; such a
    line is written with ASCII escapes instead, which reads back to the same text.
    """
    try:
        return (_ENCODE(record_dict) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (_ENCODE_ASCII(record_dict) + "\n").encode("ascii")


_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19
"""Every digit as ``0``, and the run of them that an integer outside 64 bits needs."""


def read_line(line: bytes) -> Any:
    """``json.loads(line)``: the value of one JSON Lines line, by ``orjson`` (much faster,
    and a timeline reads a whole case) where it gives the same value, else by ``json``.

    The two differ only where orjson refuses what ``json`` takes (an escaped lone
    surrogate, NaN, 1e400: the error sends the line to ``json``) and on an integer outside
    64 bits, which orjson reads as a float, silently. Such an integer has at least 19
    digits in a row, so a line with such a run anywhere (in a string too) goes to ``json``
    (the check is a byte translation and a search, cheap beside the parse)."""
    if line.translate(_DIGITS).find(_LONG_NUMBER) < 0:
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError:
            pass
    return json.loads(line)


def line_record(line: bytes) -> Record:
    """The Record a line of :func:`record_bytes` says (``Record.from_dict`` of
    :func:`read_line`, as the store reads its lines): the records of a parser that writes
    its own lines."""
    return Record.from_dict(read_line(line))


def _value(value: Any) -> str:
    """One JSON value as ``_ENCODE`` writes it (strings, ints and None without the
    encoder's set-up)."""
    if type(value) is str:
        return _string(value)
    if value is None:
        return "null"
    if type(value) is int:
        return int.__repr__(value)
    return _ENCODE(value)


_PLACE_FIELDS = _LOCATOR_FIELDS[2:-1]
"""The locator's fields between its path and its member (the numbers, JSON path and XML
index), which :func:`_place` writes."""
assert _LOCATOR_FIELDS[:2] == ("exhibit", "path") and _LOCATOR_FIELDS[-1] == "member"


def _place(loc: Locator) -> str:
    """The members of ``_ENCODE(loc.as_dict())`` between its path and its member, each
    with its leading comma: the fields of :data:`_PLACE_FIELDS` that are not None, in
    field order (any locator: a JSON path, an XML index, numbers of any type)."""
    return "".join(
        [f',"{k}":{_value(v)}' for k in _PLACE_FIELDS if (v := getattr(loc, k)) is not None]
    )


def _line(
    parts: _Shared,
    kind: str,
    subtype: str | None,
    when: str,
    time_raw: str,
    sender: str | None,
    recipients: tuple[str, ...],
    text: str,
    attachments: tuple[Attachment, ...],
    flags: frozenset[str],
    extra: Mapping[str, JSON],
    ls: Any,
    le: Any,
    bs: Any,
    be: Any,
    loc: Locator | None = None,
) -> bytes:
    """The JSON line of a record, the one template every line is written with (the
    json encoder, :func:`record_line`, writes only what this cannot: see
    :func:`record_bytes`).

    ``parts`` (:func:`_shared`) holds the JSON of the fields a source's records share
    and a SHA-256 that has hashed the id's head; ``when`` is ``time_utc``'s JSON
    (``"..."`` or ``null``). The locator: with ``loc`` None, a line of a text export:
    ``ls``, ``le``, ``bs`` and ``be`` are its lines and bytes, ints the caller has
    checked (their text goes into the id: a bool would differ), with no JSON path or
    XML index, and the id and the locator share the numbers' text; else ``loc``'s own
    fields, of any type (:func:`_place`), as they are.

    TypeError (a value of a type ``_string`` or the encoder refuses) or
    UnicodeEncodeError (a lone surrogate): the encoder's way is the caller's to take."""
    platform, basis, conversation, where, member, parser, name, head = parts
    if loc is None:
        ls, le, bs, be = str(ls), str(le), str(bs), str(be)
        rid = record_id(head, ls, le, bs, be, None, None, name, kind, time_raw, text, subtype)
        place = f',"line_start":{ls},"line_end":{le},"byte_start":{bs},"byte_end":{be}'
    else:
        rid = record_id(
            head, ls, le, bs, be, loc.json_path, loc.xml_index, name, kind, time_raw, text, subtype
        )
        place = _place(loc)
    line = (
        f'{{"id":"{rid}","kind":{_string(kind)},"subtype":'
        f"{'null' if subtype is None else _string(subtype)}{platform}{when},"
        f'"time_raw":{_string(time_raw)}{basis}'
        f'{"null" if sender is None else _string(sender)},"recipients":'
        f"{_ENCODE(list(recipients)) if recipients else '[]'}{conversation}"
        f'{_string(text)},"attachments":'
        f"{_ENCODE([a.as_dict() for a in attachments]) if attachments else '[]'},"
        f'"flags":{_flags(flags) if flags else "[]"},"locator":{where}{place}{member}'
        f"{parser}{_ENCODE(dict(sorted(extra.items()))) if extra else '{}'}}}\n"
    )
    return line.encode("utf-8")


def record_bytes(record: Record) -> bytes:
    """``record_line(record.as_dict())``, written directly from the record's fields with
    the one template (:func:`_line`) instead of building the dicts and walking them: the
    same bytes (tests/test_derived_serialiser.py checks the two against each other).

    The fields a source's records share are written once a source (:func:`_shared`,
    remembered where the id's head and the parser's name are plain strings); a locator
    of ints at lines and bytes and no JSON path or XML index (a text export's) is
    written from its numbers, any other from its fields. The json encoder writes only
    what the template cannot: a value of a type ``_string`` refuses (a non-string where
    the model has a string: the encoder writes it as what it is) and a line with a lone
    surrogate (ASCII escapes)."""
    loc = record.locator
    ls, le, bs, be = loc.line_start, loc.line_end, loc.byte_start, loc.byte_end
    exhibit, path, member, parser = loc.exhibit, loc.path, loc.member, record.parser
    # the parts a source's records share, written once a source
    same = (
        record.platform,
        record.tz_basis._value_,
        record.conversation,
        exhibit,
        path,
        member,
        parser,
        record.parser_version,
    )
    t = record.time_utc
    try:
        if type(t) is datetime and t.tzinfo is UTC:
            when = _utc_json(t)
        elif t is None:
            when = "null"
        else:
            when = _string(utc_iso(t))
        if _plain_id_parts(exhibit, path, member, parser, "", "", "", None):
            # the id's head and the parser's name plain: the remembered parts serve
            parts = _SHARED.get(same) or _shared(same)
        else:
            parts = _shared(same, remember=False)
        # a text export's locator is written from its numbers, any other from its fields
        other = (
            None
            if type(ls) is int
            and type(le) is int
            and type(bs) is int
            and type(be) is int
            and loc.json_path is None
            and loc.xml_index is None
            else loc
        )
        return _line(
            parts,
            record.kind._value_,
            record.subtype,
            when,
            record.time_raw,
            record.sender,
            record.recipients,
            record.text,
            record.attachments,
            record.flags,
            record.extra,
            ls,
            le,
            bs,
            be,
            other,
        )
    except (TypeError, UnicodeEncodeError):
        # A non-string value _string refuses (the encoder writes it as what it is), or
        # a lone surrogate: record_line decides, exactly as for any dict.
        return record_line(record.as_dict())


class TextLines:
    """:func:`record_bytes` for the records of one text source, from their fields, with
    no Record built: for a parser that makes many (a chat export's messages).

    The records share platform, zone basis, conversation, exhibit, path, member, parser
    and version; each is at lines and bytes (ints), has an aware time in ``UTC`` and no
    JSON path or XML index. :meth:`line_in_hour` writes with the same template as
    record_bytes (:func:`_line`), and raises TypeError or UnicodeEncodeError where a
    field is not the model's type or the line needs the json encoder: the caller then
    builds the Record.
    """

    __slots__ = ("parts",)

    def __init__(
        self,
        platform: str,
        tz_basis: TzBasis,
        conversation: str | None,
        exhibit: str | None,
        path: str,
        member: str | None,
        parser: str,
        parser_version: str,
    ) -> None:
        if not _plain_id_parts(exhibit, path, member, parser, "", "", "", None):
            raise TypeError("exhibit, path, member and parser must be strings")
        same = (platform, tz_basis._value_, conversation, exhibit, path, member, parser)
        self.parts = _shared((*same, parser_version))

    def line_in_hour(
        self,
        kind: RecordKind,
        subtype: str | None,
        hour: str,
        second: int,
        time_raw: str,
        sender: str | None,
        recipients: tuple[str, ...],
        text: str,
        attachments: tuple[Attachment, ...],
        flags: frozenset[str],
        line_start: int,
        line_end: int,
        byte_start: int,
        byte_end: int,
        extra: Mapping[str, JSON],
    ) -> bytes:
        """The JSON Lines line of the record with these fields, whose time is ``second``
        seconds (0 to 3599) into the UTC hour whose :func:`hour_text` is ``hour``: no
        datetime is made or read (a chat's messages share a few thousand hours)."""
        value = kind._value_
        if type(second) is not int or not 0 <= second < 3600:
            raise TypeError("second must be an int from 0 to 3599")
        if (
            type(line_start) is not int
            or type(line_end) is not int
            or type(byte_start) is not int
            or type(byte_end) is not int
            or not _plain_id_parts(None, "", None, "", value, time_raw, text, subtype)
        ):
            raise TypeError("a field is not of the model's type")
        return _line(
            self.parts,
            value,
            subtype,
            f'"{hour}{_MINUTES_SECONDS[second]}',
            time_raw,
            sender,
            recipients,
            text,
            attachments,
            flags,
            extra,
            line_start,
            line_end,
            byte_start,
            byte_end,
        )


def hour_text(hour_start: datetime) -> str | None:
    """The text a record's ``time_utc`` starts with in JSON for a time in the UTC hour that
    starts at ``hour_start`` (``2024-01-13T08:``, for :meth:`TextLines.line_in_hour`);
    None unless ``hour_start`` is a datetime in UTC on the hour."""
    if (
        type(hour_start) is not datetime
        or hour_start.tzinfo is not UTC
        or hour_start.minute
        or hour_start.second
        or hour_start.microsecond
    ):
        return None
    return _utc_json(hour_start)[1 : -len(_MINUTES_SECONDS[0])]


_HOURS: dict[tuple[int, int, int, int], str] = {}
_MINUTES_SECONDS = tuple(f'{n // 60:02d}:{n % 60:02d}+00:00"' for n in range(3600))
"""An hour's ``"2024-01-13T08:`` (the opening quote and the hour), and the rest of a
time's JSON, ``02:05+00:00"``, for each second of the hour."""


def _utc_json(t: datetime) -> str:
    """``time_utc``'s JSON, ``'"' + t.isoformat() + '"'``, for a datetime in UTC (digits
    and ``-:T+.`` only: nothing to escape): its hour's text is remembered (a source has
    a few thousand hours, and isoformat takes the time of a dozen lookups)."""
    if t.microsecond:
        return f'"{t.isoformat()}"'
    hour = (t.year, t.month, t.day, t.hour)
    text = _HOURS.get(hour)
    if text is None:
        if len(_HOURS) >= 4096:
            _HOURS.clear()
        text = _HOURS[hour] = f'"{hour[0]:04d}-{hour[1]:02d}-{hour[2]:02d}T{hour[3]:02d}:'
    return text + _MINUTES_SECONDS[t.minute * 60 + t.second]


_Shared = tuple[str, str, str, str, str, str, Any, Any]
_SHARED: dict[tuple[Any, ...], _Shared] = {}


def _shared(same: tuple[Any, ...], remember: bool = True) -> _Shared:
    """The parts of :func:`_line`'s template that a source's records share, for its
    platform, tz_basis, conversation, exhibit, path, member, parser and version: the JSON
    between the line's own values (``,"platform":..,"time_utc":``; ``,"tz_basis":..,
    "sender":``; ``,"conversation":..,"text":``; the locator's ``{"exhibit":..,"path":..``
    and ``,"member":..}``; ``,"parser":{..},"extra":``), the parser's name and a SHA-256
    that has hashed the id's head (:func:`~cyberstalk.records.model.record_id`).
    Remembered unless ``remember`` is false (a source whose id's head or parser is not a
    plain string: an equal string's parts would not do)."""
    platform, basis, conversation, exhibit, path, member, parser, version = same
    parts = (
        f',"platform":{_string(platform)},"time_utc":',
        f',"tz_basis":{_string(basis)},"sender":',
        f',"conversation":{"null" if conversation is None else _string(conversation)},"text":',
        ("{" if exhibit is None else f'{{"exhibit":{_string(exhibit)},')
        + f'"path":{_string(path)}',
        ("" if member is None else f',"member":{_string(member)}') + "}",
        f',"parser":{{"name":{_string(parser)},"version":{_string(version)}}},"extra":',
        parser,
        head_hash(exhibit, path, member),
    )
    if remember:
        if len(_SHARED) >= 64:
            _SHARED.clear()
        _SHARED[same] = parts
    return parts


_FLAGS: dict[frozenset[str], str] = {}


def _flags(flags: frozenset[str]) -> str:
    """``_ENCODE(sorted(flags))``, remembered: a source has a handful of flag sets."""
    hit = _FLAGS.get(flags)
    if hit is None:
        hit = _ENCODE(sorted(flags))
        if len(_FLAGS) < 256 and all(type(f) is str for f in flags):
            _FLAGS[flags] = hit
    return hit


def write_jsonl(records: Iterable[Record], out: BinaryIO) -> int:
    """Write each record's line to ``out`` as it is produced (bounded memory), a batch at
    a time; return the count. This is the one writer of record lines: ``cyberstalk parse``
    writes to stdout with it and the ``derived/records`` store to its file.

    ``records`` may offer its lines itself: an iterable with a ``jsonl()`` method (a
    :class:`~cyberstalk.parsers.registry.RecordStream` whose parser writes its own lines
    from the same fields, with no Record built) is asked for them first; None from it
    means "iterate me". On a fault the lines before it are already written and flushed,
    so that what was parsed before a ParseError is kept.
    """
    own: Callable[[], Iterator[bytes] | None] | None = getattr(records, "jsonl", None)
    chunks = own() if own is not None else None
    if chunks is not None:
        report = getattr(records, "report", None)
        before = report.total if report is not None else 0
        try:
            for chunk in chunks:
                out.write(chunk)
        finally:
            out.flush()
        return (report.total - before) if report is not None else 0
    count = 0
    batch: list[bytes] = []
    add = batch.append
    try:
        for record in records:
            add(record_bytes(record))
            count += 1
            if len(batch) >= _BATCH:
                out.write(b"".join(batch))
                batch.clear()
    finally:
        if batch:
            out.write(b"".join(batch))
        out.flush()
    return count


_BATCH = 512
"""Lines written together (about 256 KiB): fewer write calls, small memory."""
