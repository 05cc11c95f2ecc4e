"""WhatsApp "Export chat" text (``.txt``) and iOS/Android export zips (``.zip``).

Two streaming passes over the chat text, each holding one line at a time:

1. *scan*: find which header style the file uses (iOS ``[date, time] Name: body`` or
   Android ``date, time - Name: body``), gather evidence for day/month order from every
   date in the file, and learn whether the file keeps the iOS convention (``\\r\\n``
   between messages, ``\\n`` inside them). A fault (invalid UTF-8, a giant line, a broken
   zip) ends the scan there.
2. *parse*: turn header lines and their continuation lines into records, byte-exact,
   with line and byte spans; flag lines that break the file's conventions.

Header parts (date, time, name) are matched with invisible marks tolerated; bodies are
kept exactly as written, marks and all.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import IO, Any, ClassVar

from cyberstalk.errors import ParseError
from cyberstalk.models import JSON, Attachment, Flag, Locator, Record, RecordKind, TzBasis
from cyberstalk.parsers.base import SNIFF_BYTES, ParseContext, ParseReport, Source
from cyberstalk.parsers.registry import register
from cyberstalk.parsers.textutil import (
    BOM,
    MAX_LINE_BYTES,
    DateOrderEvidence,
    clean_header,
    read_date,
    strip_invisible,
)
from cyberstalk.timeutil import localise

_WS = "[ \u00a0\u202f\u2009]"
_INV = "[\u200e\u200f\u202a-\u202e\ufeff\u2060]*"
_DATE = (
    r"(?P<d1>\d{1,4})(?P<sep>[./-])"
    + _WS
    + r"?(?P<d2>\d{1,2})(?P=sep)"
    + _WS
    + r"?(?P<d3>\d{1,4})\.?"
)
_MERIDIEM = (
    "(?:[AaPp]\\.?" + _WS + "?[Mm]\\.?|\uc624\uc804|\uc624\ud6c4|\u4e0a\u5348|\u4e0b\u5348"
    "|\u5348\u524d|\u5348\u5f8c)"
)
_TIME = (
    "(?:(?P<mer1>" + _MERIDIEM + ")" + _WS + "?)?"
    r"(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?:[:.](?P<s>\d{2}))?"
    "(?:" + _WS + "?(?P<mer2>" + _MERIDIEM + "))?"
)
_DT_SEP = "(?:," + _WS + "?|" + _WS + "(?:klo" + _WS + ")?|" + _WS + "?)"

IOS_HEADER = re.compile(
    "^" + _INV + r"\[" + _INV + "(?P<dt>" + _DATE + _DT_SEP + _TIME + ")" + _INV + r"\]" + _WS + "?"
)
ANDROID_HEADER = re.compile(
    "^" + _INV + "(?P<dt>" + _DATE + _DT_SEP + _TIME + ")" + _WS + "[-\u2013]" + _WS
)
STYLES = {"ios": IOS_HEADER, "android": ANDROID_HEADER}

_AM = {"am", "\uc624\uc804", "\u4e0a\u5348", "\u5348\u524d"}
_PM = {"pm", "\uc624\ud6c4", "\u4e0b\u5348", "\u5348\u5f8c"}

EDITED_MARK = "<This message was edited>"
_DELETED = {
    "This message was deleted",
    "This message was deleted.",
    "You deleted this message",
    "You deleted this message.",
}
_MEDIA_OMITTED = {
    "<Media omitted>",
    "<Medien ausgeschlossen>",
    "<Multimedia omitido>",
    "<Médias omis>",
    "<Media weggelaten>",
    "<Media omessi>",
}
_ATTACHED = re.compile(r"^<attached: (?P<name>[^<>\r\n]+)>")
_FILE_ATTACHED = re.compile(r"^(?P<name>.+?) \(file attached\)$")
_CALL = re.compile(
    r"^(?P<missed>Missed )?(?P<group>group )?(?P<kind>[Vv]oice|[Vv]ideo) call(?P<detail>,.*)?$"
)
_NUMBER_CHANGE = re.compile(r"^(?P<actor>.+?) changed (?:their phone number|to \+?\d)")

_MIME = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "heic": "image/heic",
    "mp4": "video/mp4",
    "3gp": "video/3gpp",
    "mov": "video/quicktime",
    "opus": "audio/ogg",
    "ogg": "audio/ogg",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "pdf": "application/pdf",
    "vcf": "text/vcard",
}

WHATSAPP_LAUNCH = date(2009, 1, 1)
"""No WhatsApp message is older than the app (first released in 2009)."""

_EMPTY_EXTRA: Mapping[str, JSON] = MappingProxyType({})
_NO_FLAGS: frozenset[str] = frozenset()
_CHOSEN = Flag.DATE_ORDER_CHOSEN.value
_CACHE_MAX = 4096


def _system_subtype(probe: str) -> str | None:
    """Subtype of a WhatsApp-generated notice, or None when ``probe`` is not one."""
    low = probe.lower()
    if low.startswith("you blocked this contact"):
        return "block"
    if low.startswith("you unblocked this contact"):
        return "unblock"
    if "end-to-end encrypt" in low:
        return "encryption_notice"
    if _NUMBER_CHANGE.match(probe):
        return "number_change"
    if "security code" in low and "changed" in low:
        return "security_code_changed"
    if "disappearing messages" in low:
        return "disappearing_messages"
    if low.startswith("waiting for this message"):
        return "waiting_for_message"
    return None


def _chat_title(name: str) -> str | None:
    for prefix in ("WhatsApp Chat with ", "WhatsApp Chat - "):
        if name.startswith(prefix):
            title = name[len(prefix) :]
            for ext in (".txt", ".zip"):
                if title.lower().endswith(ext):
                    title = title[: -len(ext)]
            return title or None
    return None


def _is_zip(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04")


def _chat_member(zf: zipfile.ZipFile) -> str | None:
    """The chat text inside an export zip: iOS ``_chat.txt``, else the Android name."""
    texts = [i.filename for i in zf.infolist() if i.filename.lower().endswith(".txt")]
    for name in texts:
        if name.rsplit("/", 1)[-1] == "_chat.txt":
            return name
    for name in texts:
        if name.rsplit("/", 1)[-1].startswith("WhatsApp Chat"):
            return name
    return texts[0] if len(texts) == 1 else None


_HEADER_START = frozenset("0123456789[\u200e\u200f\u202a\u202b\u202c\u202d\u202e\ufeff\u2060")
"""A header line starts with a digit, ``[`` or an invisible mark: others skip the regex."""

Wall = tuple[int, int, int, int, int, int]
"""(year, month, day, hour, minute, second) as written: a zone-less wall-clock time."""

_INVISIBLE_RE = re.compile("[\u200e\u200f\u202a-\u202e\ufeff\u2060]")

_FAULTS = (zipfile.BadZipFile, zlib.error, EOFError, OSError)
_MISSING = object()


@dataclass
class _Scan:
    """What pass 1 learned about the whole file."""

    headers: dict[str, int] = field(default_factory=lambda: {"ios": 0, "android": 0})
    evidence: dict[str, DateOrderEvidence] = field(default_factory=dict)
    crlf_before: dict[str, int] = field(default_factory=lambda: {"ios": 0, "android": 0})
    lf_before: dict[str, int] = field(default_factory=lambda: {"ios": 0, "android": 0})
    fault: ParseError | None = None
    fault_line: int | None = None
    lines: int = 0


def _too_long(name: str, number: int, offset: int) -> ParseError:
    return ParseError(
        f"line longer than {MAX_LINE_BYTES:,} bytes",
        path=name,
        position=f"line {number}, byte {offset}",
        advice="this is not a text export (or it is damaged); check the file type",
    )


def _zip_fault(name: str, after: int, exc: BaseException) -> ParseError:
    return ParseError(
        f"the zip member is damaged: {exc}",
        path=name,
        position=f"after line {after}",
        advice="copy the export from the phone again",
    )


@register
class WhatsAppParser:
    """WhatsApp chat export: the ``.txt`` (Android or iOS) or the export ``.zip``."""

    name: ClassVar[str] = "whatsapp"
    version: ClassVar[str] = "1.1"
    platform: ClassVar[str] = "whatsapp"
    description: ClassVar[str] = (
        "WhatsApp 'Export chat' text or zip (Android and iOS, any date/time locale)"
    )
    known_gaps: ClassVar[tuple[str, ...]] = (
        "exports are capped (about 40,000 messages without media, 10,000 with media) and "
        "silently drop the OLDEST messages beyond the cap",
        "times are the exporting phone's wall clock in its zone at export time, with no "
        "offset: the zone used here is an assumption (see tz_basis)",
        "times have minute precision on Android exports",
        "reactions, replies/quotes, read receipts and message edit history are not exported",
        "messages deleted before the export are shown only as a deletion notice, if at all",
        "'Without media' exports name no files; media links need the export with media",
        "a header-shaped line can be typed inside a message; flags mark the suspicious ones "
        "but cannot prove a line genuine",
    )

    # ------------------------------------------------------------------ sniffing

    def sniff(self, source: Source) -> float:
        head = source.head(SNIFF_BYTES)
        bonus = 0.05 if source.name.startswith("WhatsApp Chat") else 0.0
        if _is_zip(head):
            try:
                with zipfile.ZipFile(source.path) as zf:
                    member = _chat_member(zf)
                    if member is None:
                        return 0.0
                    with zf.open(member) as fh:
                        head = fh.read(SNIFF_BYTES)
                    if member.rsplit("/", 1)[-1] == "_chat.txt":
                        bonus = 0.05
            except (*_FAULTS, NotImplementedError, RuntimeError):
                return 0.0
        score = _sniff_text(head)
        return min(1.0, score + bonus) if score else 0.0

    # ------------------------------------------------------------------ parsing

    @contextlib.contextmanager
    def _open(
        self, source: Source
    ) -> Iterator[tuple[IO[bytes], str | None, zipfile.ZipFile | None]]:
        head = source.head(4)
        if not _is_zip(head):
            with source.open() as fh:
                yield fh, None, None
            return
        try:
            zf = zipfile.ZipFile(source.path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ParseError(
                f"not a readable zip: {exc}",
                path=source.name,
                advice="the zip is damaged or truncated; copy the export from the phone again",
            ) from None
        with zf:
            member = _chat_member(zf)
            if member is None:
                raise ParseError(
                    "no chat text in the zip (expected _chat.txt or 'WhatsApp Chat with ....txt')",
                    path=source.name,
                    advice="check that this zip is a WhatsApp export",
                )
            try:
                member_fh = zf.open(member)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
                raise ParseError(
                    f"cannot open zip member {member!r}: {exc}",
                    path=source.name,
                    advice="the zip is damaged or encrypted; copy the export from the phone again",
                ) from None
            with member_fh:
                yield member_fh, member, zf

    def _scan(self, source: Source, ctx: ParseContext) -> _Scan:
        """Pass 1: header style, date evidence, line-ending convention; stop at a fault."""
        scan = _Scan()
        latest = latest_why = None
        if ctx.latest is not None:
            # a day's slack: the phone's zone may be up to 14 hours ahead of UTC
            latest = (ctx.latest.astimezone(UTC) + timedelta(days=1)).date()
            latest_why = f"{ctx.latest.astimezone(UTC).date().isoformat()} (the exhibit's receipt)"
        for style in STYLES:
            scan.evidence[style] = DateOrderEvidence(
                earliest=WHATSAPP_LAUNCH,
                earliest_why="WhatsApp existed (2009)",
                latest=latest,
                latest_why=latest_why or "",
            )
        headers, crlf_before, lf_before = scan.headers, scan.crlf_before, scan.lf_before
        evidence = scan.evidence
        ios_match, android_match = IOS_HEADER.match, ANDROID_HEADER.match
        limit = MAX_LINE_BYTES + 1
        with self._open(source) as (fh, member, _zf):
            name = _where(source, member)
            readline = fh.readline
            number = 0
            offset = 0
            prev_term = b""
            try:
                while data := readline(limit):
                    number += 1
                    if len(data) >= limit:
                        raise _too_long(name, number, offset)
                    try:
                        text = data.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise decode_error(name, number, offset, data, exc) from None
                    if text[:1] in _HEADER_START:
                        style = "ios" if "[" in text[:4] else "android"
                        m = (ios_match if style == "ios" else android_match)(text)
                        if m is not None:
                            headers[style] += 1
                            evidence[style].add(m["d1"], m["d2"], m["d3"], number, m["dt"])
                            if prev_term == b"\r\n":
                                crlf_before[style] += 1
                            elif prev_term == b"\n":
                                lf_before[style] += 1
                    prev_term = data[-2:] if data.endswith(b"\r\n") else data[-1:]
                    offset += len(data)
                    scan.lines = number
            except ParseError as exc:
                scan.fault, scan.fault_line = exc, number
            except _FAULTS as exc:
                scan.fault, scan.fault_line = _zip_fault(name, scan.lines, exc), scan.lines + 1
        return scan

    def parse(self, source: Source, ctx: ParseContext, report: ParseReport) -> Iterator[Record]:
        scan = self._scan(source, ctx)
        style = "ios" if scan.headers["ios"] > scan.headers["android"] else "android"
        if scan.headers[style] == 0:
            if scan.fault is not None:
                scan.fault.records_before_fault = 0
                raise scan.fault
            raise ParseError(
                "no WhatsApp message header found (expected lines like "
                "'31/12/2023, 14:05 - Name: text' or '[31/12/2023, 14:05:09] Name: text')",
                path=source.name,
                advice="check the file is a WhatsApp chat export (see `cyberstalk parse --list`)",
            )
        decision = scan.evidence[style].decide(source.name, ctx.date_order)
        order = decision.order
        report.date_order = decision
        report.warnings.append(
            f"date order {order} ({'settled by ' if decision.basis == 'user' else ''}"
            f"{decision.why}); header style {style}"
        )
        crlf, lf = scan.crlf_before[style], scan.lf_before[style]
        convention = crlf > lf and crlf >= 1
        if style == "ios" and not convention and scan.headers[style] > 1:
            report.warnings.append(
                "the iOS line-ending convention (\\r\\n between messages, \\n inside) is "
                "absent, so typed-in header lines cannot be told apart by line endings; the "
                "file may have been re-saved"
            )
        return self._records(source, ctx, report, scan, style, order, convention)

    def _records(
        self,
        source: Source,
        ctx: ParseContext,
        report: ParseReport,
        scan: _Scan,
        style: str,
        order: str,
        convention: bool,
    ) -> Iterator[Record]:
        """Pass 2: one line in memory at a time; a message is built when the next header
        (or the end, or the fault found by pass 1) arrives."""
        match = STYLES[style].match
        header_start = _HEADER_START
        stop = scan.fault_line if scan.fault_line is not None else -1
        limit = MAX_LINE_BYTES + 1
        emitted = 0
        pending: list[Any] | None = None  # [line_start, byte_start, time_raw, wall, parts, flags]
        last_line = 0
        last_end = 0
        last_term = ""
        prev_term = ""
        prev_wall: Wall | None = None
        orphan: list[int] | None = None
        with self._open(source) as (fh, member, zf):
            name = _where(source, member)
            build = _Builder(self, source, member, zf, report, ctx, order).build
            chosen = report.date_order is not None and report.date_order.basis == "user"
            readline = fh.readline
            number = 0
            offset = 0
            try:
                while number + 1 != stop and (data := readline(limit)):
                    number += 1
                    text = data.decode("utf-8")  # pass 1 stopped at any bad line
                    if text[-1:] == "\n":
                        if text[-2:] == "\r\n":
                            content, term = text[:-2], "\r\n"
                        else:
                            content, term = text[:-1], "\n"
                    else:
                        content, term = text, ""
                    m = match(content) if content[:1] in header_start else None
                    line_start = offset
                    offset += len(data)
                    if m is None:
                        if pending is not None:
                            parts = pending[4]
                            parts.append(last_term)
                            parts.append(content)
                            last_line, last_term = number, term
                            last_end = offset - len(term)
                        elif content.strip("\ufeff \t\u200e"):
                            orphan = [orphan[0] if orphan else number, number]
                        prev_term = term
                        continue
                    if pending is not None:
                        yield build(pending, last_line, last_end)
                        emitted += 1
                    elif orphan is not None:
                        report.skip(
                            f"lines {orphan[0]}-{orphan[1]}",
                            "text before the first message header",
                        )
                        orphan = None
                    flags: set[str] | None = {_CHOSEN} if chosen else None
                    wall = _wall(m, order)
                    if wall is not None and prev_wall is not None and wall < prev_wall:
                        flags = flags or set()
                        flags |= {Flag.ORDER_REGRESSION.value, Flag.POSSIBLE_INSERTED_LINE.value}
                    if convention and prev_term == "\n":
                        flags = flags or set()
                        flags.add(Flag.POSSIBLE_INSERTED_LINE.value)
                    if wall is not None:
                        prev_wall = wall
                    if number == 1 and content[:1] == BOM:
                        line_start += 3
                    pending = [number, line_start, m["dt"], wall, [content[m.end() :]], flags]
                    last_line, last_term = number, term
                    last_end = offset - len(term)
                    prev_term = term
            except _FAULTS as exc:
                # A damaged member fails at the same read-ahead as in pass 1 (the CRC is
                # checked when the end is read), before the line pass 1 stopped at.
                if scan.fault is None:
                    scan.fault = _zip_fault(name, number, exc)
            if pending is not None:
                yield build(pending, last_line, last_end)
                emitted += 1
                if scan.fault is not None:
                    report.warnings.append(
                        f"the message at line {pending[0]} may be incomplete: the fault that "
                        "ended the parse follows it"
                    )
            if orphan is not None:
                report.skip(
                    f"lines {orphan[0]}-{orphan[1]}", "text before the first message header"
                )
        if scan.fault is not None:
            fault = scan.fault
            fault.records_before_fault = emitted
            fault.message += f" ({emitted} records before the fault were parsed)"
            raise fault


def decode_error(
    name: str, number: int, offset: int, data: bytes, exc: UnicodeDecodeError
) -> ParseError:
    return ParseError(
        f"invalid UTF-8 (byte 0x{data[exc.start]:02x})",
        path=name,
        position=f"line {number}, byte {offset + exc.start}",
        advice="the file is damaged or was re-saved in another encoding; parse the original export",
    )


def _where(source: Source, member: str | None) -> str:
    return f"{source.name}:{member}" if member else source.name


_DATES: dict[tuple[str, str, str, str], tuple[int, int, int] | None] = {}


def _date(d1: str, d2: str, d3: str, order: str) -> tuple[int, int, int] | None:
    """(year, month, day) for a date as written, or None if no such day. Memoised: an
    export has a few thousand distinct dates at most."""
    key = (d1, d2, d3, order)
    hit = _DATES.get(key, _MISSING)
    if hit is not _MISSING:
        return hit  # type: ignore[return-value]
    result = read_date(d1, d2, d3, order)
    if len(_DATES) >= 20_000:
        _DATES.clear()
    _DATES[key] = result
    return result


def _wall(m: re.Match[str], order: str) -> Wall | None:
    """(year, month, day, hour, minute, second) as written, or None if not a real time."""
    date = _date(m["d1"], m["d2"], m["d3"], order)
    if date is None:
        return None
    hour = int(m["h"])
    mer = m["mer1"] or m["mer2"]
    if mer is not None:
        token = clean_header(mer).replace(" ", "").replace(".", "").lower()
        if not 1 <= hour <= 12:
            return None
        if token in _AM:
            hour = 0 if hour == 12 else hour
        elif token in _PM:
            hour = 12 if hour == 12 else hour + 12
    minute = int(m["mi"])
    second = int(m["s"]) if m["s"] else 0
    if hour > 23 or minute > 59 or second > 59:
        return None
    return (date[0], date[1], date[2], hour, minute, second)


class _Builder:
    """Turns a collected message into a Record (classification, attachments, time)."""

    def __init__(
        self,
        parser: WhatsAppParser,
        source: Source,
        member: str | None,
        zf: zipfile.ZipFile | None,
        report: ParseReport,
        ctx: ParseContext,
        order: str,
    ) -> None:
        self.parser = parser
        self.source = source
        self.member = member
        self.zf = zf
        self.report = report
        self.zone = ctx.zone.zone
        self.basis = ctx.zone.basis
        self.title = _chat_title(source.name)
        self.zip_names: dict[str, zipfile.ZipInfo] = {}
        if zf is not None:
            for info in zf.infolist():
                if not info.is_dir():
                    self.zip_names.setdefault(info.filename.rsplit("/", 1)[-1], info)
        self.hashes: dict[str, tuple[str, int] | None] = {}
        # Siblings are keyed by full member name (maybe in a folder); exports name the leaf.
        self.sibling_leaves = {k.rsplit("/", 1)[-1]: v for k, v in source.siblings.items()}
        self.senders: dict[str, str | None] = {}
        self.hour_offsets: dict[tuple[int, int, int, int], Any] = {}

    def _time(self, wall: Wall) -> tuple[datetime, frozenset[str]]:
        """UTC via :func:`timeutil.localise`. An hour whose first and last second have the
        same offset and no DST flag has that offset throughout (clock changes are far
        more than an hour apart), so localise runs once per wall-clock hour; hours that
        hold a change are localised second by second."""
        year, month, day, hour, minute, second = wall
        key = (year, month, day, hour)
        offset = self.hour_offsets.get(key, _MISSING)
        if offset is _MISSING:
            if len(self.hour_offsets) >= _CACHE_MAX:
                self.hour_offsets.clear()
            start = datetime(year, month, day, hour)  # noqa: DTZ001 - wall clock, localised here
            end = start.replace(minute=59, second=59)
            utc_a, flags_a = localise(start, self.zone)
            utc_b, flags_b = localise(end, self.zone)
            off_a = start - utc_a.replace(tzinfo=None)
            off_b = end - utc_b.replace(tzinfo=None)
            offset = off_a if not flags_a and not flags_b and off_a == off_b else None
            self.hour_offsets[key] = offset
        if offset is None:
            naive = datetime(year, month, day, hour, minute, second)  # noqa: DTZ001
            return localise(naive, self.zone)
        utc: datetime = datetime(year, month, day, hour, minute, second, tzinfo=UTC) - offset
        return utc, _NO_FLAGS

    def _sender(self, raw: str) -> str | None:
        cleaned = self.senders.get(raw, _MISSING)
        if cleaned is _MISSING:
            value = raw if raw.isascii() else clean_header(raw)
            cleaned = value.strip().removeprefix("~").strip() or None
            if len(self.senders) < _CACHE_MAX:
                self.senders[raw] = cleaned
        return cleaned  # type: ignore[return-value]

    def _attachment(self, name: str, caption: str | None, line: int) -> Attachment:
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        exhibit = self.source.siblings.get(name) or self.sibling_leaves.get(name)
        sha256: str | None = None
        size: int | None = None
        if self.zf is not None and name in self.zip_names:
            if name not in self.hashes:
                self.hashes[name] = self._hash_member(self.zip_names[name])
            got = self.hashes[name]
            if got is not None:
                sha256, size = got
        elif exhibit is None and (self.zf is not None or self.source.siblings):
            self.report.warnings.append(f"line {line}: attached file {name!r} is not in the export")
        return Attachment(
            name=name,
            mime=_MIME.get(ext),
            sha256=sha256,
            size=size,
            exhibit=exhibit,
            caption=caption,
        )

    def _hash_member(self, info: zipfile.ZipInfo) -> tuple[str, int] | None:
        assert self.zf is not None
        digest = hashlib.sha256()
        size = 0
        try:
            with self.zf.open(info) as fh:
                while chunk := fh.read(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
        except (*_FAULTS, NotImplementedError, RuntimeError) as exc:
            self.report.warnings.append(
                f"attached file {info.filename!r} could not be read from the zip: {exc}"
            )
            return None
        return digest.hexdigest(), size

    def build(self, pending: list[Any], line_end: int, byte_end: int) -> Record:
        line_start, byte_start, time_raw, wall, parts, pflags = pending
        rest: str = parts[0] if len(parts) == 1 else "".join(parts)
        flags: set[str] = set(pflags) if pflags else set()
        if wall is not None:
            utc, tflags = self._time(wall)
            if tflags:
                flags.update(tflags)
            basis = self.basis
        else:
            utc, basis = None, TzBasis.UNKNOWN
            self.report.warnings.append(
                f"line {line_start}: {time_raw!r} is not a valid date and time; the record is "
                "kept without a time"
            )
        kind = RecordKind.MESSAGE
        subtype: str | None = None
        sender: str | None = None
        extra: dict[str, JSON] | None = None
        attachments: tuple[Attachment, ...] = ()

        cut = rest.find(": ")
        has_author = 0 < cut <= 100 and "\n" not in rest[:cut]
        if has_author:
            sender = self._sender(rest[:cut])
            text = rest[cut + 2 :]
        else:
            text = rest
        core = text.strip()
        if not core.isascii() and _INVISIBLE_RE.search(core):
            core = strip_invisible(core).strip()
        ios_notice = text[:1] == "\u200e"

        if core[-1:] == ">" and core.endswith(EDITED_MARK):
            flags.add(Flag.EDITED.value)
            core = core[: -len(EDITED_MARK)].rstrip()
        lead = core[:1]
        if core in _DELETED:
            kind, subtype = RecordKind.SYSTEM, "deleted"
            flags.add(Flag.DELETED.value)
        elif (not has_author or ios_notice) and (system := _system_subtype(core)) is not None:
            kind, subtype = RecordKind.SYSTEM, system
            extra = {"attributed_to": sender} if has_author else {}
            if system == "number_change":
                actor = _NUMBER_CHANGE.match(core)
                sender = clean_header(actor["actor"]) if actor else sender
            else:
                sender = None
                if system in ("block", "unblock"):
                    extra["actor"] = "exporter"
        elif not has_author:
            kind, subtype = RecordKind.SYSTEM, "other"
        elif (
            lead in "MVv"
            and len(core) <= 80
            and (call := _CALL.match(core)) is not None
            and (call["missed"] or ios_notice)
        ):
            kind = RecordKind.CALL
            subtype = "missed" if call["missed"] else "call"
            extra = {"call_type": call["kind"].lower()}
            if call["group"]:
                extra["group_call"] = True
            detail = clean_header(call["detail"] or "").lstrip(",").strip()
            if detail:
                extra["detail"] = detail
        elif core in _MEDIA_OMITTED or (ios_notice and core.endswith(" omitted")):
            kind, subtype = RecordKind.MEDIA, "omitted"
            attachments = (Attachment(name=core.split("\n", 1)[0], omitted=True),)
        elif lead == "<" and (att := _ATTACHED.match(core)) is not None:
            after = core[att.end() :].strip()
            caption = after or None
            attachments = (self._attachment(att["name"], caption, line_start),)
            kind = RecordKind.MESSAGE if caption else RecordKind.MEDIA
            subtype = "attachment"
        elif " (file attached)" in core:
            first, _, more = text.partition("\n")
            fat = _FILE_ATTACHED.match(strip_invisible(first.rstrip("\r")).strip())
            if fat is not None:
                caption = more or None
                name = clean_header(fat["name"])
                attachments = (self._attachment(name, caption, line_start),)
                kind = RecordKind.MESSAGE if caption else RecordKind.MEDIA
                subtype = "attachment"
        elif lead == "P" and core.startswith("POLL:"):
            subtype = "poll"

        source = self.source
        return Record(
            kind=kind,
            platform="whatsapp",
            time_utc=utc,
            time_raw=time_raw,
            tz_basis=basis,
            locator=Locator(
                exhibit=source.exhibit,
                path=source.name,
                line_start=line_start,
                line_end=line_end,
                byte_start=byte_start,
                byte_end=byte_end,
                member=self.member,
            ),
            parser="whatsapp",
            parser_version=self.parser.version,
            sender=sender,
            text=text,
            attachments=attachments,
            flags=frozenset(flags) if flags else _NO_FLAGS,
            subtype=subtype,
            conversation=self.title,
            extra=extra if extra else _EMPTY_EXTRA,
        )


def _sniff_text(head: bytes) -> float:
    text = head.decode("utf-8", "ignore")
    lines = text.splitlines()[:200]
    if not lines:
        return 0.0
    if len(head) >= SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut short
    hits = 0
    first_is_header = False
    for i, line in enumerate(lines):
        if IOS_HEADER.match(line) or ANDROID_HEADER.match(line):
            hits += 1
            if i == 0:
                first_is_header = True
    if hits == 0:
        return 0.0
    share = hits / len(lines)
    if first_is_header:
        return 0.85 + 0.1 * min(1.0, share * 2)
    if hits >= 3 and share >= 0.3:
        return 0.6
    return 0.2
