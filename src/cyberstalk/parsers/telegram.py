"""Telegram Desktop JSON export (``result.json``): one chat, or a full export.

Format facts (telegramdesktop/tdesktop ``export/output/export_output_json.cpp``):

* A single-chat export is ``{name, type, id, messages}``; a full export is
  ``{personal_information, ..., chats: {list: [...]}, left_chats: {list: [...]}}``.
* ``date`` is local wall time of the exporting PC with no offset; ``date_unixtime`` is a
  *string* of epoch seconds. The epoch field is used whenever it is a real time (see
  :meth:`TelegramParser.time` for when the two fields disagree).
* ``text`` is a string for one plain run, otherwise an array mixing strings and
  ``{type, text}`` entities; the visible text is their concatenation.
* ``type`` is ``message``, ``service`` (``actor`` + ``action``, e.g. ``phone_call`` with
  ``discard_reason`` missed|busy|hangup|disconnect) or ``unsupported``.

The file is walked rather than ``json.load``-ed: the structure around the messages is
stepped through by hand and each message is decoded on its own with the C decoder. Only
one message object exists at a time, and a truncated export still yields every message
before the damage, which is then reported with its line and column.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, datetime, timedelta
from json.decoder import scanstring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any, ClassVar

from cyberstalk.errors import ParseError
from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.registry import register
from cyberstalk.records import JSON, Attachment, Flag, Locator, Record, RecordKind, TzBasis
from cyberstalk.records.times import from_epoch, localise

MAX_BYTES = 512 * 1024 * 1024
"""Largest ``result.json`` accepted: the whole text is held in memory while walking it."""

TELEGRAM_LAUNCH = datetime(2013, 8, 1, tzinfo=UTC)
"""No Telegram message is older than this (the service started in August 2013): an epoch
before it (0 above all) is a damaged or re-written field, never a real time."""

FUTURE_MARGIN = timedelta(days=1)
"""An epoch more than this after the exhibit was received (``ParseContext.latest``) is
never a real time either."""

MAX_ZONE_OFFSET = timedelta(hours=14)
"""The widest UTC offset any zone uses (Pacific/Kiritimati +14, Etc/GMT+12 -12)."""

ZONE_STEP = timedelta(minutes=15)
"""Every UTC offset in use is a whole number of quarter hours (+05:45, +12:45...)."""

NOT_INCLUDED = "(File not included."
"""Start of the placeholder tdesktop writes for media left out of the export."""

CALL_OUTCOMES = {
    "missed": "missed",
    "busy": "busy",
    "hangup": "ended",
    "disconnect": "disconnected",
}

# Message fields that become record fields; the rest are kept verbatim in ``extra``.
_USED = frozenset(
    {
        "id",
        "type",
        "date",
        "date_unixtime",
        "text",
        "text_entities",
        "from",
        "actor",
        "edited",
        "edited_unixtime",
        "photo",
        "file",
        "thumbnail",
        "mime_type",
        "file_size",
        "photo_file_size",
        "file_name",
    }
)
_WS = re.compile(r"[ \t\n\r]*")
_EPOCH = re.compile(r"-?\d+")
_decoder = json.JSONDecoder()


class _Fault(Exception):
    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


_Item = tuple[str, dict[str, Any], Any]
"""(json_path, chat info, message) yielded by the walker."""


class _Walker:
    """Steps through the JSON text, yielding ``(json_path, chat, message)`` tuples."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.n = len(text)
        self.single_chat: dict[str, Any] = {}

    def ws(self, i: int) -> int:
        m = _WS.match(self.s, i)
        return m.end() if m else i

    def expect(self, i: int, ch: str, what: str) -> int:
        i = self.ws(i)
        if i >= self.n:
            raise _Fault(f"the JSON ends early (expected {what})", i)
        if self.s[i] != ch:
            raise _Fault(f"expected {what}, found {self.s[i]!r}", i)
        return i + 1

    def value(self, i: int) -> tuple[Any, int]:
        i = self.ws(i)
        if i >= self.n:
            raise _Fault("the JSON ends early (expected a value)", i)
        try:
            return _decoder.raw_decode(self.s, i)
        except json.JSONDecodeError as exc:
            # "Unterminated string" is only ever reported when the text runs out.
            if exc.pos >= self.n or exc.msg.startswith("Unterminated string"):
                raise _Fault(
                    f"the JSON ends early ({exc.msg}): the file looks truncated", exc.pos
                ) from None
            raise _Fault(exc.msg, exc.pos) from None
        except RecursionError:
            raise _Fault("JSON nested too deeply to decode", i) from None
        except ValueError as exc:  # e.g. an integer over Python's digit limit
            raise _Fault(f"unusable JSON value ({exc})", i) from None

    def members(self, i: int) -> Generator[tuple[str, int], int, int]:
        """Keys of the object at ``i`` with the index of their value; the caller sends
        back the index after each value. Returns the index after the object."""
        i = self.expect(i, "{", "'{'")
        i = self.ws(i)
        if i < self.n and self.s[i] == "}":
            return i + 1
        while True:
            i = self.ws(i)
            if i >= self.n:
                raise _Fault("the JSON ends early: the file looks truncated", i)
            if self.s[i] != '"':
                raise _Fault(f"expected a key, found {self.s[i]!r}", i)
            try:
                key, i = scanstring(self.s, i + 1)
            except json.JSONDecodeError as exc:
                if exc.msg.startswith("Unterminated string"):
                    raise _Fault("the JSON ends early: the file looks truncated", i) from None
                raise _Fault(exc.msg, exc.pos) from None
            i = self.expect(i, ":", "':'")
            i = self.ws((yield key, i))
            if i >= self.n:
                raise _Fault("the JSON ends early: the file looks truncated", i)
            if self.s[i] == "}":
                return i + 1
            if self.s[i] != ",":
                raise _Fault(f"expected ',' or '}}', found {self.s[i]!r}", i)
            i += 1

    def elements(self, i: int) -> Generator[int, int, int]:
        """Start indexes of the array's elements; the caller sends back the index after
        each element. Returns the index after the array."""
        i = self.expect(i, "[", "'['")
        i = self.ws(i)
        if i < self.n and self.s[i] == "]":
            return i + 1
        while True:
            i = self.ws((yield self.ws(i)))
            if i >= self.n:
                raise _Fault("the JSON ends early: the file looks truncated", i)
            if self.s[i] == "]":
                return i + 1
            if self.s[i] != ",":
                raise _Fault(f"expected ',' or ']', found {self.s[i]!r}", i)
            i += 1

    def skip(self, i: int) -> int:
        return int(self.value(i)[1])

    def obj(
        self, i: int, handle: Callable[[str, int], Generator[_Item, None, int]]
    ) -> Generator[_Item, None, int]:
        """Walk an object, letting ``handle(key, index)`` consume each value."""
        members = self.members(i)
        try:
            key, i = next(members)
            while True:
                i = yield from handle(key, i)
                key, i = members.send(i)
        except StopIteration as stop:
            return int(stop.value)

    def arr(
        self, i: int, handle: Callable[[int, int], Generator[_Item, None, int]]
    ) -> Generator[_Item, None, int]:
        """Walk an array, letting ``handle(n, index)`` consume element ``n``."""
        items = self.elements(i)
        try:
            i = next(items)
            n = 0
            while True:
                i = yield from handle(n, i)
                n += 1
                i = items.send(i)
        except StopIteration as stop:
            return int(stop.value)

    def walk(self) -> Iterator[_Item]:
        def top(key: str, i: int) -> Generator[_Item, None, int]:
            if key == "messages":
                return (yield from self.messages(i, "$.messages", self.single_chat))
            if key in ("chats", "left_chats"):
                return (yield from self.chat_list(i, f"$.{key}"))
            if key in ("name", "type", "id"):
                value, end = self.value(i)
                self.single_chat[key] = value
                return int(end)
            return self.skip(i)

        end = yield from self.obj(0, top)
        rest = self.ws(end)
        if rest < self.n:
            raise _Fault("unexpected data after the end of the JSON document", rest)

    def chat_list(self, i: int, path: str) -> Generator[_Item, None, int]:
        def field(key: str, i: int) -> Generator[_Item, None, int]:
            if key != "list":
                return self.skip(i)
            return (yield from self.arr(i, lambda n, j: self.chat(j, f"{path}.list[{n}]")))

        return (yield from self.obj(i, field))

    def chat(self, i: int, path: str) -> Generator[_Item, None, int]:
        info: dict[str, Any] = {}

        def field(key: str, i: int) -> Generator[_Item, None, int]:
            if key == "messages":
                return (yield from self.messages(i, f"{path}.messages", info))
            value, end = self.value(i)
            if key in ("name", "type", "id"):
                info[key] = value
            return int(end)

        return (yield from self.obj(i, field))

    def messages(self, i: int, path: str, chat: dict[str, Any]) -> Generator[_Item, None, int]:
        def one(n: int, i: int) -> Generator[_Item, None, int]:
            message, end = self.value(i)
            yield f"{path}[{n}]", chat, message
            return int(end)

        return (yield from self.arr(i, one))


def _position(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}, column {column}, character {pos}"


def flatten_text(value: JSON) -> str:
    """The visible text: a string, or the concatenation of an entity array's parts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        out = []
        for part in value:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                out.append(part["text"])
        return "".join(out)
    return ""


def _entities(value: JSON) -> list[JSON]:
    if not isinstance(value, list):
        return []
    return [p for p in value if isinstance(p, dict) and p.get("type") not in (None, "plain")]


def _epoch(value: Any) -> tuple[str, datetime | None] | None:
    """An epoch-seconds field (tdesktop writes a string; a number is taken too) as
    ``(raw text, UTC time)``, the time None when no date can hold it; None when the field
    is absent or not a whole number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
        raw = str(value)
    elif isinstance(value, str) and _EPOCH.fullmatch(value):
        raw = value
        try:
            number = int(value)
        except ValueError:  # more digits than int() reads
            return raw, None
    else:
        return None
    try:
        return raw, from_epoch(number)
    except (OverflowError, OSError, ValueError):  # beyond the years 1-9999
        return raw, None


def _wall(value: Any) -> datetime | None:
    """A ``date``/``edited`` field as written (naive wall clock, or with an offset)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _local(wall: datetime, ctx: ParseContext) -> tuple[datetime | None, TzBasis, frozenset[str]]:
    """A ``date`` field's UTC time, basis and DST flags: zone-less times are read in the
    case zone (``ctx.zone``)."""
    try:
        if wall.tzinfo is not None:
            return wall.astimezone(UTC), TzBasis.EXPLICIT_OFFSET, frozenset()
        utc, flags = localise(wall, ctx.zone.zone)
    except (OverflowError, ValueError):  # a wall clock at the very ends of year 1 or 9999
        return None, TzBasis.UNKNOWN, frozenset()
    return utc, ctx.zone.basis, flags


def _z(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _never_real(when: datetime | None, ctx: ParseContext) -> str | None:
    """Why an epoch cannot be a real Telegram time, or None when it can be."""
    if when is None:
        return "beyond any date"
    if when < TELEGRAM_LAUNCH:
        return f"before Telegram existed ({TELEGRAM_LAUNCH.date().isoformat()})"
    if ctx.latest is not None and when > ctx.latest + FUTURE_MARGIN:
        return f"after the exhibit was received ({_z(ctx.latest)})"
    return None


def _agree(wall: datetime, when: datetime) -> bool:
    """Whether a ``date`` wall clock can be the epoch's instant in some time zone: the
    wall clock minus the epoch's UTC clock is the exporting PC's UTC offset, which is
    within 14 hours and a whole number of quarter hours. (This does not depend on the
    case zone: the PC may have been set to any zone.) A ``date`` with an offset must be
    the same instant."""
    if wall.tzinfo is not None:
        return wall == when
    offset = wall - when.astimezone(UTC).replace(tzinfo=None)
    return abs(offset) <= MAX_ZONE_OFFSET and offset % ZONE_STEP == timedelta(0)


def _judge(
    epoch_field: str,
    raw: str,
    when: datetime | None,
    wall_field: str,
    wall_raw: Any,
    wall: datetime | None,
    ctx: ParseContext,
) -> tuple[bool, str | None]:
    """Whether to use the epoch, and a note when it and the wall clock disagree.

    * An epoch that is never a real time (0 or anything else before Telegram started,
      beyond any date, or more than a day after the exhibit was received) gives way to
      the wall clock, read in the case zone: a damaged epoch tells nothing, and the wall
      clock is then the only time the export holds.
    * A plausible epoch that the wall clock cannot match in any zone is kept (it is
      exact and needs no guess at the PC's zone), but the note says so: one of the two
      fields was changed after Telegram wrote them, and the officer must know.
    """
    shown = _z(when) if when is not None else "beyond any date"
    why = _never_real(when, ctx)
    wall_text = wall_raw if isinstance(wall_raw, str) else None
    if why is not None:
        if wall is None:
            instead = (
                f"there is no {wall_field}"
                if wall_text is None
                else f"{wall_field} {wall_text!r} is not a date either"
            )
            return False, (
                f"{epoch_field} {raw} ({shown}) is not a real time: it is {why}; {instead}, "
                "so there is no time"
            )
        basis = (
            "its own offset"
            if wall.tzinfo is not None
            else f"{ctx.zone.zone.key} ({ctx.zone.basis.value})"
        )
        return False, (
            f"{epoch_field} {raw} ({shown}) disagrees with {wall_field} {wall_text}: the "
            f"epoch is {why}, so the time is read from {wall_field} in {basis}"
        )
    assert when is not None
    if wall is None or _agree(wall, when):
        return True, None
    return True, (
        f"{epoch_field} {raw} ({shown}) disagrees with {wall_field} {wall_text}: no time "
        f"zone offset turns one into the other; the time is taken from {epoch_field} "
        "(exact); check the exhibit"
    )


@register
class TelegramParser:
    """Telegram Desktop ``result.json`` chat exports (single chat or full export)."""

    name: ClassVar[str] = "telegram"
    version: ClassVar[str] = "1.1.0"
    platform: ClassVar[str] = "telegram"
    description: ClassVar[str] = (
        "Telegram Desktop JSON export (result.json): one chat or a full export"
    )
    known_gaps: ClassVar[tuple[str, ...]] = (
        "Secret chats cannot be exported by Telegram Desktop: they are never in this file.",
        "Messages deleted before the export (by either side) are absent; there is no trace.",
        "Only the latest version of an edited message is exported, with the edit time.",
        "Media are listed by relative path; a file is hashed only when it is present "
        "beside result.json (or linked as a sibling exhibit).",
        f"Files over {MAX_BYTES // (1024 * 1024)} MiB are refused (export by date range instead).",
    )

    def sniff(self, source: Source) -> float:
        head = source.head().decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
        if not head.startswith("{"):
            return 0.0
        score = 0.0
        if '"date_unixtime"' in head:
            score += 0.5
        if re.search(
            r'"type"\s*:\s*"(personal_chat|private_group|private_supergroup|'
            r'public_supergroup|public_channel|private_channel|bot_chat|saved_messages)"',
            head,
        ):
            score += 0.4
        if '"personal_information"' in head and '"about"' in head:
            score += 0.4
        if '"text_entities"' in head:
            score += 0.1
        if source.name.endswith("result.json"):
            score += 0.05
        return min(score, 0.98)

    def parse(self, source: Source, ctx: ParseContext, report: ParseReport) -> Iterator[Record]:
        size = source.path.stat().st_size
        if size > MAX_BYTES:
            raise ParseError(
                f"file is {size} bytes, over the {MAX_BYTES} byte limit for Telegram exports",
                path=source.name,
                advice="export the chat again in parts (Export chat history, with a date "
                "range) and add each part as its own exhibit",
                records_before_fault=0,
            )
        raw = source.path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise ParseError(
                f"invalid UTF-8 byte 0x{raw[exc.start]:02x}",
                path=source.name,
                position=f"line {line}, byte {exc.start}",
                advice="Telegram writes UTF-8; the file may be damaged or re-saved",
                records_before_fault=0,
            ) from None
        del raw
        if text.startswith("\ufeff"):
            text = " " + text[1:]  # same length, so positions stay those of the file
        walker = _Walker(text)
        emitted = 0
        conflicts: list[str] = []
        try:
            for path, chat, message in walker.walk():
                info = chat or walker.single_chat
                record = self.record(source, ctx, report, path, info, message)
                if record is not None:
                    emitted += 1
                    if Flag.TIME_CONFLICT.value in record.flags:
                        conflicts.append(path)
                    yield record
        except _Fault as fault:
            _warn_conflicts(report, conflicts)
            raise ParseError(
                fault.message,
                path=source.name,
                position=_position(text, fault.pos),
                advice="the export is damaged or incomplete; records before this point are "
                "reported; ask for a fresh export",
                records_before_fault=emitted,
            ) from None
        _warn_conflicts(report, conflicts)

    # ------------------------------------------------------------------ records

    def time(
        self, message: dict[str, Any], ctx: ParseContext
    ) -> tuple[datetime | None, str, TzBasis, frozenset[str], str | None]:
        """The record's time: (UTC time, the text it was read from, its basis, flags, and a
        note when ``date_unixtime`` and ``date`` disagree).

        ``date_unixtime`` is used when it is a real time: it is exact, whereas ``date`` is
        the exporting PC's wall clock with no offset, read here in the case zone, which
        may not be the PC's. See :func:`_judge` for when the fields disagree and which
        one is then used.
        """
        epoch = _epoch(message.get("date_unixtime"))
        date = message.get("date")
        wall = _wall(date)
        if epoch is not None:
            raw, when = epoch
            use_epoch, note = _judge("date_unixtime", raw, when, "date", date, wall, ctx)
            if use_epoch:
                flags = frozenset({Flag.TIME_CONFLICT.value}) if note else frozenset()
                return when, raw, TzBasis.EPOCH, flags, note
            if wall is None:  # nothing else to date it by
                return None, raw, TzBasis.UNKNOWN, frozenset({Flag.TIME_CONFLICT.value}), note
            assert isinstance(date, str)
            utc, basis, flags = _local(wall, ctx)
            return utc, date, basis, flags | {Flag.TIME_CONFLICT.value}, note
        if isinstance(date, str):
            if wall is None:
                return None, date, TzBasis.UNKNOWN, frozenset(), None
            utc, basis, flags = _local(wall, ctx)
            return utc, date, basis, flags, None
        return None, "", TzBasis.UNKNOWN, frozenset(), None

    def edit_time(
        self, message: dict[str, Any], ctx: ParseContext, extra: dict[str, JSON]
    ) -> frozenset[str]:
        """Put the edit time in ``extra`` (``edited``, ``edited_unixtime``, ``edited_utc``)
        the way :meth:`time` does for the message's own time; flags to add."""
        if "edited" in message:
            extra["edited"] = message["edited"]
        epoch = _epoch(message.get("edited_unixtime"))
        if epoch is None:
            return frozenset()
        raw, when = epoch
        extra["edited_unixtime"] = raw
        edited = message.get("edited")
        wall = _wall(edited)
        use_epoch, note = _judge("edited_unixtime", raw, when, "edited", edited, wall, ctx)
        if use_epoch:
            assert when is not None
            extra["edited_utc"] = when.isoformat()
        elif wall is not None:
            utc, _basis, _flags = _local(wall, ctx)
            if utc is not None:
                extra["edited_utc"] = utc.isoformat()
        if note is None:
            return frozenset()
        extra["edited_time_conflict"] = note
        return frozenset({Flag.TIME_CONFLICT.value})

    def attachments(self, source: Source, message: dict[str, Any]) -> tuple[Attachment, ...]:
        out = []
        for key in ("photo", "file"):
            value = message.get(key)
            if not isinstance(value, str):
                continue
            omitted = value.startswith(NOT_INCLUDED)
            mime = message.get("mime_type") if key == "file" else "image/jpeg"
            size = message.get("file_size") if key == "file" else message.get("photo_file_size")
            name = message.get("file_name") if omitted and key == "file" else None
            sha256 = None
            exhibit = _sibling(source, value)
            if not omitted and exhibit is None:
                sha256, found = _hash_beside(source.path, value)
                size = found if found is not None else size
            out.append(
                Attachment(
                    name=name or value,
                    mime=mime if isinstance(mime, str) else None,
                    sha256=sha256,
                    size=size if isinstance(size, int) else None,
                    exhibit=exhibit,
                    omitted=omitted,
                )
            )
        return tuple(out)

    def record(
        self,
        source: Source,
        ctx: ParseContext,
        report: ParseReport,
        path: str,
        chat: dict[str, Any],
        message: Any,
    ) -> Record | None:
        if not isinstance(message, dict):
            report.skip(path, f"message is a JSON {type(message).__name__}, not an object")
            return None
        time_utc, time_raw, basis, flags, conflict = self.time(message, ctx)
        mtype = message.get("type")
        text = flatten_text(message.get("text", ""))
        extra: dict[str, JSON] = {
            k: v for k, v in message.items() if k not in _USED and v is not None
        }
        if "id" in message:
            extra["message_id"] = message["id"]
        if isinstance(message.get("date"), str) and basis is TzBasis.EPOCH:
            extra["date_local"] = message["date"]
        if conflict is not None:
            extra["time_conflict"] = conflict
            if basis is not TzBasis.EPOCH and "date_unixtime" in message:
                extra["date_unixtime"] = message["date_unixtime"]
        entities = _entities(message.get("text"))
        if entities:
            extra["entities"] = entities
        if "edited" in message or "edited_unixtime" in message:
            flags = flags | {Flag.EDITED.value} | self.edit_time(message, ctx, extra)
        if "id" in chat:
            extra["chat_id"] = chat["id"]
        if "type" in chat:
            extra["chat_type"] = chat["type"]
        attachments = self.attachments(source, message)
        subtype: str | None = None
        if mtype == "message":
            sender = message.get("from")
            if not isinstance(sender, str) or not sender:
                sender = message.get("from_id") if isinstance(message.get("from_id"), str) else None
            kind = RecordKind.MESSAGE if text or not attachments else RecordKind.MEDIA
        elif mtype == "service":
            sender = message.get("actor") if isinstance(message.get("actor"), str) else None
            if not sender and isinstance(message.get("actor_id"), str):
                sender = message["actor_id"]
            action = message.get("action")
            if action == "phone_call":
                kind = RecordKind.CALL
                reason = message.get("discard_reason")
                if isinstance(reason, str):
                    subtype = CALL_OUTCOMES.get(reason, reason)
                else:
                    subtype = "answered" if message.get("duration_seconds") else "call"
            else:
                kind = RecordKind.SYSTEM
                subtype = action if isinstance(action, str) else "service"
        else:
            kind = RecordKind.SYSTEM
            subtype = str(mtype) if mtype else "unknown"
            sender = message.get("from") if isinstance(message.get("from"), str) else None
        name = chat.get("name")
        return Record(
            kind=kind,
            platform=self.platform,
            time_utc=time_utc,
            time_raw=time_raw,
            tz_basis=basis,
            locator=Locator(exhibit=source.exhibit, path=source.name, json_path=path),
            parser=self.name,
            parser_version=self.version,
            sender=sender,
            text=text,
            attachments=attachments,
            flags=frozenset(flags),
            subtype=subtype,
            conversation=name if isinstance(name, str) else None,
            extra=extra,
        )


def _warn_conflicts(report: ParseReport, paths: list[str]) -> None:
    """One note for the officer counting the records whose two time fields disagree."""
    if not paths:
        return
    shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    report.warnings.append(
        f"{len(paths)} record(s) with a time conflict (flag time_conflict): their epoch "
        "field (date_unixtime / edited_unixtime) and wall clock (date / edited) disagree; "
        f"each record's time_conflict note gives both values and the one used: {shown}"
    )


def _sibling(source: Source, relative: str) -> str | None:
    """The exhibit of a media file named relative to result.json. Archive members are
    named from the archive's root (``ChatExport_2026-03-21/photos/x.jpg``), so a member
    whose name ends with ``/`` + the relative path is the same file."""
    if relative in source.siblings:
        return source.siblings[relative]
    here = source.name.rsplit("/", 1)[0] + "/" if "/" in source.name else ""
    if here + relative in source.siblings:
        return source.siblings[here + relative]
    matches = [ref for name, ref in source.siblings.items() if name.endswith("/" + relative)]
    return matches[0] if len(matches) == 1 else None


def _hash_beside(result_json: Path, relative: str) -> tuple[str | None, int | None]:
    """Hash a media file next to ``result.json`` (never outside its folder)."""
    base = result_json.resolve().parent
    target = (base / relative).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        return None, None
    digest = hashlib.sha256()
    size = 0
    with target.open("rb") as fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size
