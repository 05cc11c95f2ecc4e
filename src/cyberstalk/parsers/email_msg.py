"""Email: one RFC 5322 message (``.eml``) or a mailbox of them (``.mbox``).

Messages are read with the standard library's ``email`` package and ``policy.default``
(RFC 2047 headers decoded, addresses structured) by :mod:`cyberstalk.parsers.email_read`,
imported when a file is parsed, not to sniff one. The mbox is split here rather than by
:mod:`mailbox`, line by line, so that each message's byte range and line span are known
and a huge mailbox is never held in memory: only the message being read is.

Dates: an offset in ``Date:`` gives ``explicit_offset``; ``-0000`` means "UTC, sender's
zone unknown" (RFC 5322 section 3.3); a date without a zone is read in the context zone
with clock-change flags. Without a usable ``Date:``, the topmost ``Received:`` header's
date is used and ``extra["date_source"]`` says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from cyberstalk.errors import ParseError
from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.registry import register
from cyberstalk.records import JSON, Locator, Record

MAX_LINE = 8 * 1024 * 1024
"""Longest line accepted. RFC 5322 allows 998 bytes; real mail stays far below this."""

_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]?")
_KNOWN_HEADERS = re.compile(
    rb"^(from|to|cc|date|subject|message-id|received|return-path|mime-version|"
    rb"content-type|reply-to|delivered-to|x-[a-z0-9-]+):",
    re.IGNORECASE,
)
# "From sender date": Thunderbird writes "From - Sat Jan  3 01:05:34 1996", Gmail
# "From 1791...@xxx Thu Mar 05 23:01:00 +0000 2026". A year must be on the line.
_FROM_LINE = re.compile(rb"^From \S*.*\b(19|20)\d\d\b")
_BLANK = (b"\n", b"\r\n")


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
        from cyberstalk.parsers.email_read import Feeder, record_or_refusal

        feed = Feeder()
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
        record = record_or_refusal(msg, self, source, ctx, report, locator, {})
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
        from cyberstalk.parsers.email_read import Feeder, clean, record_or_refusal

        emitted = [0]
        unquoted = 0
        index = -1
        feed: Feeder | None = None
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
                    "mbox_from_line": clean(
                        from_line.rstrip(b"\r\n").decode("utf-8", "surrogateescape")
                    ),
                }
                record = record_or_refusal(msg, self, source, ctx, report, locator, extra)
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
                    feed = Feeder()
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
