"""Reading one email message with the standard library's ``email`` package and
``policy.default`` (RFC 2047 headers decoded, addresses structured), into a record.

:mod:`cyberstalk.parsers.email_msg` sniffs the format without this module (every
ingest's format detection runs every parser's sniff, and the email package is large)
and finds the messages of a file; it feeds each message's lines to a :class:`Feeder`
here, which refuses a message built to exhaust the email package (see MAX_PARTS and
MAX_DEPTH) before the package sees it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.errors import HeaderParseError
from email.feedparser import BytesFeedParser
from email.message import EmailMessage, Message
from email.utils import parsedate_to_datetime

from cyberstalk.parsers.base import ParseContext, Parser, ParseReport, Source
from cyberstalk.records import JSON, Attachment, Locator, Record, RecordKind, TzBasis
from cyberstalk.records.times import localise

MAX_PARTS = 10_000
"""Most MIME parts one message may have. Python's email package spends about a
millisecond on each, so 100,000 one-line parts would take minutes; real mail has a few."""

MAX_DEPTH = 50
"""Deepest nesting of multiparts in one message (a forward of a forward of ... ). The
email package parses each level recursively; real mail nests a handful of levels."""

FEED_BYTES = 1024 * 1024
"""Lines are handed to the email package in batches of about this size: one call per
line costs more than the parsing itself on a long body (the result is the same)."""

_NEG_ZERO = re.compile(r"-0000\s*(\([^)]*\))?\s*$")
_BOUNDARY = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))', re.IGNORECASE)

ADDRESS_HEADERS = ("from", "to", "cc", "bcc", "reply-to", "sender")
KEPT_HEADERS = (
    "subject",
    "message-id",
    "in-reply-to",
    "references",
    "return-path",
    "x-gm-thrid",
    "x-gmail-labels",
    "user-agent",
    "x-mailer",
)


def clean(text: str) -> str:
    """Undo surrogate escapes of undecodable header bytes (reading them as UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text


def _header(msg: Message, name: str) -> str | None:
    try:
        value = msg.get(name)
    except (HeaderParseError, ValueError, IndexError, TypeError, AttributeError):
        value = _raw_header(msg, name)
    return None if value is None else clean(str(value))


def _raw_header(msg: Message, name: str) -> str | None:
    for key, value in msg.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def _addresses(msg: Message, name: str) -> list[str]:
    """addr-specs of an address header; the raw text when it does not parse."""
    try:
        header = msg.get(name)
        if header is None:
            return []
        found = [a.addr_spec for a in getattr(header, "addresses", ()) if a.addr_spec]
        if found:
            return [clean(a) for a in found]
        text = clean(str(header)).strip()
    except (HeaderParseError, ValueError, IndexError, TypeError, AttributeError):
        text = (_raw_header(msg, name) or "").strip()
    return [text] if text else []


def parse_date(
    raw: str, ctx: ParseContext
) -> tuple[datetime | None, TzBasis, frozenset[str], str | None]:
    """(UTC time, basis, flags, note) for an RFC 5322 date string."""
    try:
        parsed = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None, TzBasis.UNKNOWN, frozenset(), "unparseable date"
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC), TzBasis.EXPLICIT_OFFSET, frozenset(), None
    if _NEG_ZERO.search(raw):
        return (
            parsed.replace(tzinfo=UTC),
            TzBasis.EXPLICIT_OFFSET,
            frozenset(),
            "-0000: time is UTC, sender's zone unknown",
        )
    utc, flags = localise(parsed, ctx.zone.zone)
    return utc, ctx.zone.basis, flags, "no zone in the date: read in " + ctx.zone.zone.key


def _decode(part: Message) -> tuple[str, dict[str, JSON]]:
    """A text part's content, decoded from its transfer encoding and charset."""
    notes: dict[str, JSON] = {}
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return "", notes
    charset = part.get_content_charset() or "us-ascii"
    try:
        return payload.decode(charset), notes
    except UnicodeError:  # bytes the charset cannot decode (idna raises a bare one)
        pass
    except (LookupError, ValueError):  # ValueError: the name holds a NUL
        notes["unknown_charset"] = charset
    try:
        text = payload.decode("utf-8")
        notes["charset_fallback"] = "utf-8"
        return text, notes
    except UnicodeDecodeError:
        notes["decode_errors"] = True
    if "unknown_charset" not in notes:
        try:
            return payload.decode(charset, "replace"), notes
        except (UnicodeError, ValueError):  # a codec refusing "replace" (idna, punycode)
            pass
    return payload.decode("utf-8", "replace"), notes


def _leaves(part: Message, in_alternative: bool = False) -> Iterator[tuple[Message, bool]]:
    if part.get_content_maintype() == "message" and part.is_multipart():
        yield part, False
        return
    if part.is_multipart():
        alternative = part.get_content_type() == "multipart/alternative"
        payload = part.get_payload()
        for sub in payload if isinstance(payload, list) else ():
            if isinstance(sub, Message):
                yield from _leaves(sub, alternative)
        return
    yield part, in_alternative


def _filename(part: Message) -> str | None:
    try:
        return part.get_filename()
    except (HeaderParseError, ValueError, IndexError, TypeError):
        return None


def _attachment(part: Message, index: int) -> Attachment:
    ctype = part.get_content_type()
    if part.get_content_maintype() == "message" and part.is_multipart():
        inner = part.get_payload(0)
        data = inner.as_bytes() if isinstance(inner, Message) else b""
    else:
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
    filename = _filename(part)
    name = clean(filename) if filename else f"(unnamed {ctype} part {index})"
    return Attachment(
        name=name, mime=ctype, sha256=hashlib.sha256(data).hexdigest(), size=len(data)
    )


def message_record(
    msg: Message,
    parser: Parser,
    source: Source,
    ctx: ParseContext,
    report: ParseReport,
    locator: Locator,
    extra: dict[str, JSON],
) -> Record:
    """One email as a record (attachments hashed, their bytes dropped)."""
    where = locator.describe()
    raw_date = _raw_header(msg, "date")
    time_utc: datetime | None = None
    basis = TzBasis.UNKNOWN
    flags: frozenset[str] = frozenset()
    time_raw = ""
    if raw_date is not None:
        time_raw = clean(raw_date)
        time_utc, basis, flags, note = parse_date(time_raw, ctx)
        if note:
            extra["date_note"] = note
    if time_utc is None:
        received = _raw_header(msg, "received")
        if received and ";" in received:
            candidate = clean(received.rsplit(";", 1)[1].strip())
            got, got_basis, got_flags, note = parse_date(candidate, ctx)
            if got is not None:
                time_utc, basis, flags, time_raw = got, got_basis, got_flags, candidate
                extra["date_source"] = "received"
                if note:
                    extra["date_note"] = note
        if time_utc is None:
            report.warnings.append(f"{where}: no usable Date or Received header")
    for name in ADDRESS_HEADERS:
        value = _header(msg, name)
        if value is not None:
            extra[name.replace("-", "_")] = value
    for name in KEPT_HEADERS:
        value = _header(msg, name)
        if value is not None:
            extra[name.replace("-", "_")] = value
    senders = _addresses(msg, "from")
    recipients = tuple(a for name in ("to", "cc", "bcc") for a in _addresses(msg, name))
    text = ""
    body: Message | None = None
    if isinstance(msg, EmailMessage):
        try:
            body = msg.get_body(preferencelist=("plain", "html"))
        except (HeaderParseError, ValueError, IndexError, TypeError, KeyError):
            body = None
    if body is not None:
        text, notes = _decode(body)
        extra.update(notes)
        if notes.get("decode_errors"):
            report.warnings.append(f"{where}: body bytes are not valid in any tried charset")
        if body.get_content_type() != "text/plain":
            extra["body_type"] = body.get_content_type()
    attachments: list[Attachment] = []
    alternatives: list[str] = []
    for part, in_alternative in _leaves(msg):
        if part is body:
            continue
        if in_alternative and part.get_content_maintype() == "text" and _filename(part) is None:
            alternatives.append(part.get_content_type())
            continue
        attachments.append(_attachment(part, len(attachments) + 1))
    if alternatives:
        extra["alternatives"] = alternatives
    defects = sorted({type(d).__name__ for p in msg.walk() for d in p.defects})
    if defects:
        extra["defects"] = defects
        report.warnings.append(f"{where}: message structure defects: {', '.join(defects)}")
    thread = extra.get("x_gm_thrid")
    return Record(
        kind=RecordKind.EMAIL,
        platform="email",
        time_utc=time_utc,
        time_raw=time_raw,
        tz_basis=basis,
        locator=locator,
        parser=parser.name,
        parser_version=parser.version,
        sender=senders[0] if senders else None,
        recipients=recipients,
        text=text,
        attachments=tuple(attachments),
        flags=flags,
        conversation=thread if isinstance(thread, str) else None,
        extra=extra,
    )


class Feeder:
    """A BytesFeedParser fed in batches of whole lines (see FEED_BYTES), which counts the
    message's MIME parts and nesting from its lines before the email package sees them
    (see MAX_PARTS and MAX_DEPTH): ``refused`` then says why, and nothing more is fed."""

    def __init__(self) -> None:
        self.parser = BytesFeedParser(policy=policy.default)
        self.batch: list[bytes] = []
        self.size = 0
        self.boundaries: set[bytes] = set()
        self.open: list[bytes] = []
        self.parts = 0
        self.refused: str | None = None

    def feed(self, line: bytes, number: int) -> None:
        if self.refused is not None:
            return
        if b"=" in line:
            for quoted, bare in _BOUNDARY.findall(line):
                self.boundaries.add(quoted or bare)
        if line.startswith(b"--") and self.boundaries:
            self._delimiter(line.rstrip(b" \t\r\n")[2:], number)
            if self.refused is not None:
                self.batch.clear()
                return
        self.batch.append(line)
        self.size += len(line)
        if self.size >= FEED_BYTES:
            self.flush()

    def _delimiter(self, token: bytes, number: int) -> None:
        if token.endswith(b"--") and token[:-2] in self.open:
            while self.open and self.open.pop() != token[:-2]:
                pass
            return
        if token not in self.boundaries:
            return
        if token in self.open:  # a delimiter of an outer part ends the inner ones
            del self.open[self.open.index(token) + 1 :]
        else:
            self.open.append(token)
            if len(self.open) > MAX_DEPTH:
                self.refused = f"multiparts nested more than {MAX_DEPTH} deep (at line {number})"
                return
        self.parts += 1
        if self.parts > MAX_PARTS:
            self.refused = f"more than {MAX_PARTS} MIME parts (at line {number})"

    def flush(self) -> None:
        if self.batch:
            data = b"".join(self.batch)
            self.batch.clear()
            self.size = 0
            try:
                self.parser.feed(data)
            except RecursionError:  # message/rfc822 parts nest with no boundary at all
                self.refused = _TOO_DEEP

    def close(self) -> Message | None:
        """The parsed message, or None when it was refused."""
        self.flush()
        if self.refused is not None:
            return None
        try:
            return self.parser.close()
        except RecursionError:
            self.refused = _TOO_DEEP
            return None


_TOO_DEEP = "parts nested too deeply for Python's email package to read"


def record_or_refusal(
    msg: Message,
    parser: Parser,
    source: Source,
    ctx: ParseContext,
    report: ParseReport,
    locator: Locator,
    extra: dict[str, JSON],
) -> Record | str:
    """:func:`message_record`, or why it could not be made."""
    try:
        return message_record(msg, parser, source, ctx, report, locator, extra)
    except RecursionError:  # e.g. headers of parts nested in message/rfc822 parts
        return _TOO_DEEP
