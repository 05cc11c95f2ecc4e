"""Email: one RFC 5322 message (``.eml``) or a mailbox of them (``.mbox``).

Messages are read with the standard library's ``email`` package and ``policy.default``
(RFC 2047 headers decoded, addresses structured). The mbox is split here rather than by
:mod:`mailbox`, line by line, so that each message's byte range and line span are known
and a huge mailbox is never held in memory: only the message being read is.

Dates: an offset in ``Date:`` gives ``explicit_offset``; ``-0000`` means "UTC, sender's
zone unknown" (RFC 5322 section 3.3); a date without a zone is read in the context zone
with clock-change flags. Without a usable ``Date:``, the topmost ``Received:`` header's
date is used and ``extra["date_source"]`` says so.
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
from typing import BinaryIO, ClassVar

from cyberstalk.errors import ParseError
from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.registry import register
from cyberstalk.records import JSON, Attachment, Locator, Record, RecordKind, TzBasis
from cyberstalk.records.times import localise

MAX_LINE = 8 * 1024 * 1024
"""Longest line accepted. RFC 5322 allows 998 bytes; real mail stays far below this."""

MAX_PARTS = 10_000
"""Most MIME parts one message may have. Python's email package spends about a
millisecond on each, so 100,000 one-line parts would take minutes; real mail has a few."""

MAX_DEPTH = 50
"""Deepest nesting of multiparts in one message (a forward of a forward of ... ). The
email package parses each level recursively; real mail nests a handful of levels."""

FEED_BYTES = 1024 * 1024
"""Lines are handed to the email package in batches of about this size: one call per
line costs more than the parsing itself on a long body (the result is the same)."""

_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]?")
_KNOWN_HEADERS = re.compile(
    rb"^(from|to|cc|date|subject|message-id|received|return-path|mime-version|"
    rb"content-type|reply-to|delivered-to|x-[a-z0-9-]+):",
    re.IGNORECASE,
)
# "From sender date": Thunderbird writes "From - Sat Jan  3 01:05:34 1996", Gmail
# "From 1791...@xxx Thu Mar 05 23:01:00 +0000 2026". A year must be on the line.
_FROM_LINE = re.compile(rb"^From \S*.*\b(19|20)\d\d\b")
_NEG_ZERO = re.compile(r"-0000\s*(\([^)]*\))?\s*$")
_BLANK = (b"\n", b"\r\n")
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


def _clean(text: str) -> str:
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
    return None if value is None else _clean(str(value))


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
            return [_clean(a) for a in found]
        text = _clean(str(header)).strip()
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
    name = _clean(filename) if filename else f"(unnamed {ctype} part {index})"
    return Attachment(
        name=name, mime=ctype, sha256=hashlib.sha256(data).hexdigest(), size=len(data)
    )


def message_record(
    msg: Message,
    parser: type[_EmailBase] | _EmailBase,
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
        time_raw = _clean(raw_date)
        time_utc, basis, flags, note = parse_date(time_raw, ctx)
        if note:
            extra["date_note"] = note
    if time_utc is None:
        received = _raw_header(msg, "received")
        if received and ";" in received:
            candidate = _clean(received.rsplit(";", 1)[1].strip())
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


class _Feeder:
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


def _record_or_refusal(
    msg: Message,
    parser: _EmailBase,
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


def _lines(fh: BinaryIO, source: Source, emitted: list[int]) -> Iterator[tuple[int, bytes]]:
    """(offset, line) pairs; refuses a line over MAX_LINE with its position."""
    offset = 0
    number = 0
    while True:
        line = fh.readline(MAX_LINE + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE:
            raise ParseError(
                f"line {number} is longer than {MAX_LINE} bytes",
                path=source.name,
                position=f"line {number}, byte {offset}",
                advice="this is not a plain email file (or it is damaged); examine it by hand",
                records_before_fault=emitted[0],
            )
        yield offset, line
        offset += len(line)


def _sniff_headers(head: bytes) -> float:
    head = head.removeprefix(b"\xef\xbb\xbf")
    lines = head.splitlines()[:40]
    if not lines or not _HEADER_LINE.match(lines[0]):
        return 0.0
    known = 0
    for line in lines:
        if not line.strip():
            break
        if line[:1] in (b" ", b"\t"):
            continue
        if not _HEADER_LINE.match(line):
            return 0.1
        if _KNOWN_HEADERS.match(line):
            known += 1
    return 0.0 if known == 0 else 0.5 if known == 1 else 0.9


class _EmailBase:
    name: ClassVar[str] = ""
    version: ClassVar[str] = "1.0.0"
    platform: ClassVar[str] = "email"
    known_gaps: ClassVar[tuple[str, ...]] = (
        "Headers (From, Date, Received) are written by the sender's software and can be "
        "forged; only the receiving servers' Received headers are harder to fake.",
        "A mailbox holds only what the client still had; deleted mail is absent.",
        "Attached messages (message/rfc822) are hashed as re-serialised by Python's email "
        "package, which may differ from their original bytes.",
    )


def _refused(source: Source, why: str) -> ParseError:
    return ParseError(
        f"the message was not parsed: {why}",
        path=source.name,
        advice="this is not ordinary email (or it was built to exhaust a parser); examine "
        "it by hand",
        records_before_fault=0,
    )


@register
class EmlParser(_EmailBase):
    """A single RFC 5322 email message (``.eml``)."""

    name: ClassVar[str] = "eml"
    description: ClassVar[str] = (
        "Email message (.eml, RFC 5322): headers decoded, attachments hashed"
    )

    def sniff(self, source: Source) -> float:
        head = source.head()
        if head.startswith(b"From "):
            return 0.0
        score = _sniff_headers(head)
        if score and source.name.lower().endswith(".eml"):
            score = min(score + 0.08, 0.98)
        return score

    def parse(self, source: Source, ctx: ParseContext, report: ParseReport) -> Iterator[Record]:
        feed = _Feeder()
        end = 0
        count = 0
        with source.open() as fh:
            for offset, line in _lines(fh, source, [0]):
                count += 1
                # A BOM (a Windows re-save) is not part of the first header's name.
                feed.feed(line.removeprefix(b"\xef\xbb\xbf") if offset == 0 else line, count)
                end = offset + len(line)
        msg = feed.close()
        if msg is None:
            raise _refused(source, str(feed.refused))
        if not msg.keys():
            raise ParseError(
                "no email headers found",
                path=source.name,
                position="line 1",
                advice="this is not an email message; choose another --format",
                records_before_fault=0,
            )
        locator = Locator(
            exhibit=source.exhibit,
            path=source.name,
            line_start=1,
            line_end=max(count, 1),
            byte_start=0,
            byte_end=end,
        )
        record = _record_or_refusal(msg, self, source, ctx, report, locator, {})
        if isinstance(record, str):
            raise _refused(source, record)
        yield record


@register
class MboxParser(_EmailBase):
    """A Unix mailbox (``.mbox``: Thunderbird, Gmail Takeout, mutt...)."""

    name: ClassVar[str] = "mbox"
    description: ClassVar[str] = (
        "Mailbox (.mbox, e.g. Gmail Takeout): each message a record, streamed"
    )
    known_gaps: ClassVar[tuple[str, ...]] = (
        *_EmailBase.known_gaps,
        "Body lines that began 'From ' are shown as the mailbox stored them ('>From ').",
    )

    def sniff(self, source: Source) -> float:
        head = source.head()
        first, _, rest = head.partition(b"\n")
        if not first.startswith(b"From ") or not _FROM_LINE.match(first):
            return 0.0
        return 0.95 if _sniff_headers(rest) >= 0.5 else 0.6

    def parse(self, source: Source, ctx: ParseContext, report: ParseReport) -> Iterator[Record]:
        emitted = [0]
        unquoted = 0
        index = -1
        feed: _Feeder | None = None
        start = start_line = 0
        from_line = b""
        pending: bytes | None = None  # a blank line that may be the separator's
        prev_blank = True
        number = 0
        end = 0

        def finish(end_offset: int, end_line: int) -> Record | None:
            assert feed is not None
            locator = Locator(
                exhibit=source.exhibit,
                path=source.name,
                line_start=start_line,
                line_end=end_line,
                byte_start=start,
                byte_end=end_offset,
            )
            msg = feed.close()
            refusal = feed.refused
            if msg is not None:
                extra: dict[str, JSON] = {
                    "mbox_index": index,
                    "mbox_from_line": _clean(
                        from_line.rstrip(b"\r\n").decode("utf-8", "surrogateescape")
                    ),
                }
                record = _record_or_refusal(msg, self, source, ctx, report, locator, extra)
                if not isinstance(record, str):
                    return record
                refusal = record
            report.skip(
                locator.describe(),
                f"message {index} not parsed: {refusal}; examine it by hand",
            )
            return None

        with source.open() as fh:
            for offset, line in _lines(fh, source, emitted):
                number += 1
                blank = line in _BLANK
                if number == 1 and not line.startswith(b"From "):
                    raise ParseError(
                        "not an mbox: the first line does not start with 'From '",
                        path=source.name,
                        position="line 1, byte 0",
                        advice="for a single message use --format eml",
                        records_before_fault=0,
                    )
                if number == 1 and not _FROM_LINE.match(line):
                    # Not a separator (no year): the lines after it would belong to no
                    # message.
                    raise ParseError(
                        "not an mbox: the first line starts with 'From ' but is not a "
                        "separator line (it has no year)",
                        path=source.name,
                        position="line 1, byte 0",
                        advice="check the file was exported as an mbox; for a single "
                        "message use --format eml",
                        records_before_fault=0,
                    )
                if line.startswith(b"From ") and prev_blank and _FROM_LINE.match(line):
                    if feed is not None:
                        trail = len(pending) if pending is not None else 0
                        done = finish(offset - trail, number - 1 - (1 if trail else 0))
                        if done is not None:
                            yield done
                            emitted[0] += 1
                    index += 1
                    feed = _Feeder()
                    start, start_line, from_line, pending = offset, number, line, None
                else:
                    assert feed is not None
                    if line.startswith(b"From "):
                        unquoted += 1
                    if pending is not None:
                        feed.feed(pending, number - 1)
                        pending = None
                    if blank:
                        pending = line
                    else:
                        feed.feed(line, number)
                prev_blank = blank
                end = offset + len(line)
        if feed is None:
            raise ParseError(
                "empty file: no messages",
                path=source.name,
                position="byte 0",
                advice="the mailbox is empty; check that the right file was exported",
                records_before_fault=0,
            )
        trail = len(pending) if pending is not None else 0
        done = finish(end - trail, number - (1 if trail else 0))
        if done is not None:
            yield done
        if unquoted:
            report.warnings.append(
                f"{unquoted} body line(s) begin with an unquoted 'From ' and were kept as "
                "body text (not taken as message separators)"
            )
