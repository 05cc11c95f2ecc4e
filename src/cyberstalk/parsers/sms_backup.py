"""SMS Backup & Restore (SyncTech) XML: ``sms-*.xml`` (``<smses>``) and ``calls-*.xml``.

Format facts (synctech.com.au "fields in XML backup files"; Android ``CallLog.Calls``):

* ``<sms>``: ``date`` is epoch milliseconds UTC, ``type`` 1 received, 2 sent, 3 draft,
  4 outbox, 5 failed, 6 queued; ``status`` -1 none, 0 complete, 32 pending, 64 failed.
* ``<mms>``: ``msg_box`` 1 in, 2 sent, 3 draft, 4 outbox; ``<parts><part ct text data>``
  (``data`` is base64 media); ``<addrs><addr type>`` 137 from, 151 to, 130 cc, 129 bcc.
  Some writers put seconds in ``date``, so the magnitude decides the unit.
* ``<call>``: ``type`` 1-7 incoming, outgoing, missed, voicemail, rejected, blocked,
  answered elsewhere; ``presentation`` 1 allowed, 2 restricted (withheld), 3 unknown,
  4 payphone.

Why pyexpat handlers rather than ``ElementTree.iterparse``: every element here carries its
data in attributes, so no tree is needed at all (memory stays flat without any
``clear()`` bookkeeping), and expat reports the line and byte offset of each element as
it starts, which the locator needs and iterparse cannot give. Protection is the same as
defusedxml's: a DOCTYPE (hence any entity declaration) is refused before expat acts on
it, external entities are never fetched, so an XML bomb cannot expand.

The "store emoji" option of the app writes each emoji as two surrogate character
references (``&#55357;&#56832;``), which is not well-formed XML. :class:`_RepairingReader`
rewrites each such pair, while streaming, into one reference of the *same length*
(``&#0000000128512;``, leading zeros are legal), so line, column and byte offsets of the
repaired stream are those of the original file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, BinaryIO, ClassVar
from xml.parsers import expat

from cyberstalk.errors import ParseError
from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.registry import register
from cyberstalk.records import JSON, Attachment, Flag, Locator, Record, RecordKind, TzBasis
from cyberstalk.records.times import epoch_ms_or_s

CHUNK = 64 * 1024
"""Bytes read and fed to expat at a time."""

MAX_CHUNK = 64 * 1024 * 1024
"""Largest read, while expat is inside one long token (an MMS part's base64 ``data``)."""

SMS_TYPES = {
    "1": "incoming",
    "2": "outgoing",
    "3": "draft",
    "4": "outbox",
    "5": "failed",
    "6": "queued",
}
SMS_STATUS = {"-1": "none", "0": "complete", "32": "pending", "64": "failed"}
MMS_BOXES = {"1": "incoming", "2": "outgoing", "3": "draft", "4": "outbox"}
MMS_ADDR_TYPES = {"137": "from", "151": "to", "130": "cc", "129": "bcc"}
CALL_TYPES = {
    "1": "incoming",
    "2": "outgoing",
    "3": "missed",
    "4": "voicemail",
    "5": "rejected",
    "6": "blocked",
    "7": "answered_elsewhere",
}
CALL_PRESENTATION = {"1": "allowed", "2": "restricted", "3": "unknown", "4": "payphone"}
# Android writes these pseudo-numbers when there is no caller id.
NO_NUMBER = frozenset(
    {"", "-1", "-2", "-3", "-4", "null", "PRIVATE", "UNKNOWN", "insert-address-token"}
)
OUTGOING = frozenset({"outgoing", "draft", "outbox", "failed", "queued"})

# Surrogate-range character references, decimal 55000-57999 / hex D800-DFFF (a superset
# for speed; exact ranges are checked in code).
_CANDIDATE = re.compile(rb"&#(?:x0*([dD][89a-fA-F][0-9a-fA-F]{2})|0*(5[5-7][0-9]{3}));")
_REF_AT_END = re.compile(rb"&#(?:x[0-9a-fA-F]{1,12}|[0-9]{1,16});$")
_ROOT = re.compile(rb"<(smses|calls)[\s>/]")
_PROLOG_ITEM = re.compile(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(\[.*?\])?\s*>|\s", re.S)


# --------------------------------------------------------------------------- repair


def _ref_value(match: re.Match[bytes]) -> int:
    hex_digits, dec_digits = match.group(1), match.group(2)
    return int(hex_digits, 16) if hex_digits else int(dec_digits)


def _padded_ref(code: int, width: int) -> bytes:
    """A decimal character reference for ``code`` exactly ``width`` bytes long."""
    digits = str(code).rjust(width - 3, "0")
    return b"&#" + digits.encode("ascii") + b";"


def repair_surrogate_refs(buf: bytes) -> tuple[bytes, int, int]:
    """Join split surrogate references; replace unpaired ones with U+FFFD.

    Returns (repaired bytes of the same length, pairs joined, unpaired replaced).
    Each replacement has the length of what it replaces, so offsets are unchanged.
    """
    matches = list(_CANDIDATE.finditer(buf))
    if not matches:
        return buf, 0, 0
    out: list[bytes] = []
    pos = 0
    pairs = lone = 0
    i = 0
    while i < len(matches):
        m = matches[i]
        value = _ref_value(m)
        if not 0xD800 <= value <= 0xDFFF:
            i += 1
            continue
        nxt = matches[i + 1] if i + 1 < len(matches) else None
        if (
            value <= 0xDBFF
            and nxt is not None
            and nxt.start() == m.end()
            and 0xDC00 <= _ref_value(nxt) <= 0xDFFF
        ):
            code = 0x10000 + ((value - 0xD800) << 10) + (_ref_value(nxt) - 0xDC00)
            out += (buf[pos : m.start()], _padded_ref(code, nxt.end() - m.start()))
            pos = nxt.end()
            pairs += 1
            i += 2
            continue
        out += (buf[pos : m.start()], _padded_ref(0xFFFD, m.end() - m.start()))
        pos = m.end()
        lone += 1
        i += 1
    out.append(buf[pos:])
    return b"".join(out), pairs, lone


class _RepairingReader:
    """Reads a binary file in chunks, repairing surrogate references across chunk edges."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._held = b""
        self.offset = 0
        """Offset of the next byte to hand out (same in original and repaired stream)."""
        self.pairs = 0
        self.lone = 0
        self.first_lone: int | None = None

    def read(self, size: int = CHUNK) -> bytes:
        """The next repaired bytes (about ``size``); ``b""`` only at the end of the file."""
        buf = self._held
        while True:
            data = self._fh.read(size)
            buf += data
            if not data:
                cut = len(buf)
                break
            # Hold back a possibly incomplete reference at the end, and a complete high
            # surrogate reference right before it (its low half may follow).
            amp = buf.rfind(b"&", max(0, len(buf) - 64))
            cut = amp if amp >= 0 else len(buf)
            tail = _REF_AT_END.search(buf, max(0, cut - 24), cut)
            if tail is not None:
                prev = _CANDIDATE.fullmatch(tail.group(0))
                if prev is not None and 0xD800 <= _ref_value(prev) <= 0xDBFF:
                    cut = tail.start()
            if cut > 0:
                break
        out, pairs, lone = repair_surrogate_refs(buf[:cut])
        self._held = buf[cut:]
        if lone and self.first_lone is None:
            first = next(
                m.start()
                for m in _CANDIDATE.finditer(buf[:cut])
                if 0xD800 <= _ref_value(m) <= 0xDFFF
            )
            self.first_lone = self.offset + first
        self.pairs += pairs
        self.lone += lone
        self.offset += len(out)
        return out


# --------------------------------------------------------------------------- dedupe


def dedupe_key(parts: Sequence[str]) -> str:
    """The de-duplication key of an event: 32 hex digits over its identifying fields.

    SMS: kind, address, date, type, body. MMS: kind, address, date, box, text, media
    digests. Calls: kind, number, date, type, duration. The key is put in each record's
    ``extra["dedupe_key"]`` so that records of several exhibits can be compared later.
    """
    # NUL cannot occur in XML text, so it separates the fields unambiguously.
    joined = "\x00".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(joined, digest_size=16).hexdigest()


class DedupeIndex:
    """Remembers dedupe keys on disk (a private temporary SQLite database).

    A 1 GB backup holds millions of messages; a Python set of their keys would not keep
    memory flat, so keys live in a B-tree with a bounded page cache.
    """

    def __init__(self) -> None:
        # "" opens a private, temporary on-disk database, deleted when closed.
        self._db = sqlite3.connect("", isolation_level=None)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("PRAGMA cache_size=-16000")
        self._db.execute("CREATE TABLE seen (k BLOB PRIMARY KEY, first TEXT) WITHOUT ROWID")
        self._db.execute("BEGIN")

    def first_seen(self, key: str, where: str) -> str | None:
        """Record ``key`` seen at ``where``; return where it was first seen, or None."""
        k = bytes.fromhex(key)
        cur = self._db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (k, where))
        if cur.rowcount == 1:
            return None
        row = self._db.execute("SELECT first FROM seen WHERE k = ?", (k,)).fetchone()
        return str(row[0])

    def close(self) -> None:
        self._db.close()


# --------------------------------------------------------------------------- parser


@dataclass
class _Mms:
    attrs: dict[str, str]
    line: int
    byte: int
    index: int
    texts: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    addrs: list[tuple[str, str]] = field(default_factory=list)


class _Forbidden(Exception):
    """Raised from an expat handler for a DTD or entity declaration."""


def _forbid(*_args: object) -> None:
    raise _Forbidden


def _int_or_raw(value: str | None) -> JSON:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return value


def _part_attachment(attrs: dict[str, str]) -> Attachment:
    """Hash a media part's base64 ``data`` and let the bytes go."""
    name = attrs.get("cl") or attrs.get("name") or f"part-{attrs.get('seq', '?')}"
    if name == "null":
        name = attrs.get("name") or f"part-{attrs.get('seq', '?')}"
    mime = attrs.get("ct") or None
    data = attrs.get("data")
    if not data:
        return Attachment(name=name, mime=mime, omitted=True)
    try:
        raw = base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError):
        return Attachment(name=name, mime=mime, omitted=True)
    return Attachment(name=name, mime=mime, sha256=hashlib.sha256(raw).hexdigest(), size=len(raw))


class _Run:
    """One parse of one file: expat handlers that build records into ``pending``."""

    def __init__(
        self, parser: SmsBackupParser, source: Source, report: ParseReport, dedupe: DedupeIndex
    ) -> None:
        self.parser = parser
        self.source = source
        self.report = report
        self.dedupe = dedupe
        self.pending: list[Record] = []
        self.depth = 0
        self.root: str | None = None
        self.index = -1
        self.mms: _Mms | None = None
        self.duplicates = 0
        self.no_time = 0
        self._start_line = 0
        self._start_byte = 0
        self._attrs: dict[str, str] = {}
        self._window = b""
        self._window_base = 0
        self.p = expat.ParserCreate()
        p = self.p
        p.StartDoctypeDeclHandler = _forbid
        p.EntityDeclHandler = _forbid
        p.UnparsedEntityDeclHandler = _forbid
        p.ExternalEntityRefHandler = _forbid  # type: ignore[assignment]
        p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        p.StartElementHandler = self.start
        p.EndElementHandler = self.end

    # -- helpers

    def feed(self, chunk: bytes, final: bool) -> None:
        # Keep the chunk (and a little of the one before) so end handlers can look at
        # the bytes where an element ends: expat reports where, not how.
        tail = self._window[-64:]
        self._window_base = self._window_base + len(self._window) - len(tail)
        self._window = tail + chunk
        self.p.Parse(chunk, final)

    def element_end(self, name: str) -> int:
        """Offset just past the element that is ending (called from the end handler).

        For ``<sms .../>`` expat's index is already past ``/>``; for ``</mms>`` it is
        at the end tag's ``<``.
        """
        index = self.p.CurrentByteIndex
        rel = index - self._window_base
        tag = b"</" + name.encode("utf-8")
        if rel >= 0 and self._window.startswith(tag, rel):
            after = self._window[rel + len(tag) : rel + len(tag) + 1]
            if after in (b">", b" ", b"\t", b"\r", b"\n"):
                close = self._window.find(b">", rel)
                if close >= 0:
                    return self._window_base + close + 1
        return index

    def locator(self, index: int, line: int, byte: int, name: str) -> Locator:
        return Locator(
            exhibit=self.source.exhibit,
            path=self.source.name,
            line_start=line,
            line_end=self.p.CurrentLineNumber,
            byte_start=byte,
            byte_end=self.element_end(name),
            xml_index=index,
        )

    def time(self, raw: str | None) -> tuple[datetime | None, TzBasis]:
        if raw is None or not raw.strip().lstrip("-").isdigit():
            self.no_time += 1
            return None, TzBasis.UNKNOWN
        try:
            return epoch_ms_or_s(int(raw)), TzBasis.EPOCH
        except (OverflowError, OSError, ValueError):
            self.no_time += 1
            return None, TzBasis.UNKNOWN

    def emit(self, record: Record) -> None:
        """Queue a record (its ``extra`` already holds its dedupe key), flagging repeats."""
        # The first occurrence is named by its locator ("RE/2 line 4 element 0"): cheap
        # to make, readable in a report, and unique within a case.
        first = self.dedupe.first_seen(str(record.extra["dedupe_key"]), record.locator.describe())
        if first is not None:
            extra = {**record.extra, "duplicate_of": first}
            flags = record.flags | {Flag.DUPLICATE.value}
            record = replace(record, extra=extra, flags=flags)
            self.duplicates += 1
            self.report.duplicates += 1
        self.pending.append(record)

    def base(self, kind: RecordKind, attrs: dict[str, str], loc: Locator) -> dict[str, Any]:
        time_utc, basis = self.time(attrs.get("date"))
        return {
            "kind": kind,
            "platform": self.parser.platform,
            "time_utc": time_utc,
            "time_raw": attrs.get("date", ""),
            "tz_basis": basis,
            "locator": loc,
            "parser": self.parser.name,
            "parser_version": self.parser.version,
        }

    # -- handlers

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth == 1:
            if name not in ("smses", "calls"):
                raise ParseError(
                    f"root element is <{name}>, expected <smses> or <calls>",
                    path=self.source.name,
                    position=f"line {self.p.CurrentLineNumber}",
                    advice="this is not an SMS Backup & Restore file; choose another --format",
                )
            self.root = name
            return
        if self.depth == 2:
            self.index += 1
            self._start_line = self.p.CurrentLineNumber
            self._start_byte = self.p.CurrentByteIndex
            self._attrs = attrs
            if name == "mms":
                self.mms = _Mms(attrs, self._start_line, self._start_byte, self.index)
            return
        if self.mms is not None:
            if name == "part":
                ct = attrs.get("ct", "")
                if ct == "application/smil":
                    pass  # slide layout, not content
                elif ct.startswith("text/plain") and not attrs.get("data"):
                    self.mms.texts.append(attrs.get("text", ""))
                else:
                    self.mms.attachments.append(_part_attachment(attrs))
            elif name == "addr":
                self.mms.addrs.append((attrs.get("type", ""), attrs.get("address", "")))

    def end(self, name: str) -> None:
        self.depth -= 1
        if self.depth != 1:
            return
        loc = self.locator(self.index, self._start_line, self._start_byte, name)
        if name == "sms" and self.root == "smses":
            self.sms(self._attrs, loc)
        elif name == "mms" and self.root == "smses" and self.mms is not None:
            self.mms_record(self.mms, loc)
            self.mms = None
        elif name == "call" and self.root == "calls":
            self.call(self._attrs, loc)
        else:
            self.report.skip(
                f"line {self._start_line}", f"unexpected element <{name}> in <{self.root}>"
            )

    def sms(self, attrs: dict[str, str], loc: Locator) -> None:
        type_code = attrs.get("type", "")
        subtype = SMS_TYPES.get(type_code, f"type_{type_code}")
        address = attrs.get("address", "")
        parties = tuple(a for a in address.split("~") if a)
        sender, recipients = self.parties(subtype, parties)
        extra = self.verbatim(attrs, ("address", "date", "body", "type"))
        extra["address"] = address
        extra["type"] = _int_or_raw(type_code)
        if "status" in attrs:
            extra["status_label"] = SMS_STATUS.get(attrs["status"], "unknown")
        body = attrs.get("body", "")
        extra["dedupe_key"] = dedupe_key(("sms", address, attrs.get("date", ""), type_code, body))
        record = Record(
            **self.base(RecordKind.MESSAGE, attrs, loc),
            sender=sender,
            recipients=recipients,
            text=body,
            subtype=subtype,
            conversation=address or None,
            extra=extra,
        )
        self.emit(record)

    def mms_record(self, mms: _Mms, loc: Locator) -> None:
        attrs = mms.attrs
        box = attrs.get("msg_box", "")
        subtype = MMS_BOXES.get(box, f"box_{box}")
        address = attrs.get("address", "")
        by_type: dict[str, list[str]] = {}
        for kind, addr in mms.addrs:
            by_type.setdefault(MMS_ADDR_TYPES.get(kind, kind), []).append(addr)
        if mms.addrs:
            froms = [a for a in by_type.get("from", []) if a not in NO_NUMBER]
            sender = froms[0] if froms else None
            recipients = tuple(
                a
                for role in ("to", "cc", "bcc")
                for a in by_type.get(role, [])
                if a not in NO_NUMBER
            )
        else:
            sender, recipients = self.parties(subtype, tuple(a for a in address.split("~") if a))
        text = "\n".join(mms.texts)
        extra = self.verbatim(attrs, ("address", "date", "msg_box"))
        extra["address"] = address
        extra["msg_box"] = _int_or_raw(box)
        if mms.addrs:
            extra["addrs"] = {role: addrs for role, addrs in sorted(by_type.items())}
        if len(mms.texts) > 1:
            extra["text_parts"] = len(mms.texts)
        kind = RecordKind.MESSAGE if text or not mms.attachments else RecordKind.MEDIA
        digests = [a.sha256 or a.name for a in mms.attachments]
        extra["dedupe_key"] = dedupe_key(
            ("mms", address, attrs.get("date", ""), box, text, *digests)
        )
        record = Record(
            **self.base(kind, attrs, loc),
            sender=sender,
            recipients=recipients,
            text=text,
            attachments=tuple(mms.attachments),
            subtype=subtype,
            conversation=address or None,
            extra=extra,
        )
        self.emit(record)

    def call(self, attrs: dict[str, str], loc: Locator) -> None:
        type_code = attrs.get("type", "")
        subtype = CALL_TYPES.get(type_code, f"type_{type_code}")
        number = attrs.get("number", "")
        presentation = attrs.get("presentation", "1")
        flags: frozenset[str] = frozenset()
        if presentation == "2":
            flags = frozenset({Flag.WITHHELD_NUMBER.value})
        party = number if number not in NO_NUMBER and presentation != "2" else None
        if subtype == "outgoing":
            sender, recipients = None, ((party,) if party else ())
        else:
            sender, recipients = party, ()
        extra = self.verbatim(attrs, ("number", "date", "type", "duration", "presentation"))
        extra["number"] = number
        extra["type"] = _int_or_raw(type_code)
        extra["duration_s"] = _int_or_raw(attrs.get("duration"))
        extra["presentation"] = CALL_PRESENTATION.get(presentation, presentation)
        extra["dedupe_key"] = dedupe_key(
            ("call", number, attrs.get("date", ""), type_code, attrs.get("duration", ""))
        )
        record = Record(
            **self.base(RecordKind.CALL, attrs, loc),
            sender=sender,
            recipients=recipients,
            flags=flags,
            subtype=subtype,
            conversation=party,
            extra=extra,
        )
        self.emit(record)

    @staticmethod
    def parties(subtype: str, parties: tuple[str, ...]) -> tuple[str | None, tuple[str, ...]]:
        """The other party sent incoming items; outgoing ones went to every party."""
        if subtype in OUTGOING:
            return None, parties
        if len(parties) == 1:
            return parties[0], ()
        # A group address without addrs: who sent it is unknown from the element alone.
        return None, parties

    @staticmethod
    def verbatim(attrs: dict[str, str], used: Iterable[str]) -> dict[str, JSON]:
        """Every other attribute, verbatim (``readable_date`` is kept but never parsed)."""
        skip = set(used)
        return {k: v for k, v in attrs.items() if k not in skip}


@register
class SmsBackupParser:
    """SMS Backup & Restore (SyncTech) XML backups of SMS, MMS and call logs."""

    name: ClassVar[str] = "sms-backup"
    version: ClassVar[str] = "1.0.0"
    platform: ClassVar[str] = "sms"
    description: ClassVar[str] = (
        "SMS Backup & Restore XML: sms-*.xml (SMS and MMS) and calls-*.xml (call log)"
    )
    known_gaps: ClassVar[tuple[str, ...]] = (
        "A backup holds only what the phone still had when it was made: messages or calls "
        "deleted earlier are absent.",
        "The backup does not name the phone's own number; outgoing items have no sender.",
        "readable_date is the phone's display string in its own zone; it is kept verbatim "
        "but never parsed (date, in epoch milliseconds, is used).",
        "MMS media are hashed from the backup's base64 copy; media the app did not back up "
        "are listed as omitted.",
        "Overlapping backups repeat events: repeats are kept and flagged 'duplicate'.",
    )

    def sniff(self, source: Source) -> float:
        head = source.head()
        match = _ROOT.search(head)
        if match is None:
            return 0.0
        prefix = head[: match.start()].removeprefix(b"\xef\xbb\xbf")
        # Only a prolog may precede the root. A DOCTYPE is accepted here so that such a
        # file is refused by parse() with "entities forbidden", not called unknown.
        if _PROLOG_ITEM.sub(b"", prefix):
            return 0.1
        inner = head[match.end() :]
        if re.search(rb"<(sms|mms|call)[\s/>]", inner) or re.search(
            rb"count=\"0\"", head[match.start() : match.start() + 200]
        ):
            return 0.97
        return 0.6

    def parse(self, source: Source, ctx: ParseContext, report: ParseReport) -> Iterator[Record]:
        dedupe = DedupeIndex()
        try:
            yield from self._parse(source, report, dedupe)
        finally:
            dedupe.close()

    def _parse(self, source: Source, report: ParseReport, dedupe: DedupeIndex) -> Iterator[Record]:
        run = _Run(self, source, report, dedupe)
        emitted = 0
        with source.open() as fh:
            reader = _RepairingReader(fh)
            size = CHUNK
            while True:
                chunk = reader.read(size)
                final = not chunk
                try:
                    run.feed(chunk, final)
                except expat.ExpatError as exc:
                    yield from run.pending
                    emitted += len(run.pending)
                    raise _expat_fault(source, exc, run.p, emitted) from None
                except _Forbidden:
                    yield from run.pending
                    emitted += len(run.pending)
                    raise ParseError(
                        "DTD and entities forbidden: the file declares a DOCTYPE or entity",
                        path=source.name,
                        position=f"line {run.p.CurrentLineNumber}, "
                        f"column {run.p.CurrentColumnNumber + 1}",
                        advice="a genuine SMS Backup & Restore file has no DOCTYPE; this file "
                        "was altered or made by another tool, so examine it by hand",
                        records_before_fault=emitted,
                    ) from None
                except ParseError as exc:
                    exc.records_before_fault = emitted
                    raise
                except (LookupError, ValueError, UnicodeError) as exc:
                    # pyexpat asks Python's codecs for an encoding it lacks, when it reads
                    # the XML declaration (before any element): a name Python does not
                    # know, a multi-byte or non-text codec raises here.
                    if run.root is not None:
                        raise
                    raise ParseError(
                        f"the XML declaration names an encoding that cannot be read ({exc})",
                        path=source.name,
                        position="line 1",
                        advice="SMS Backup & Restore writes UTF-8; this file was altered or "
                        "made by another tool, so examine it by hand",
                        records_before_fault=0,
                    ) from None
                yield from run.pending
                emitted += len(run.pending)
                run.pending.clear()
                if final:
                    break
                # expat (before 2.6) parses a token that spans several feeds again from its
                # start on every feed: quadratic time for an attribute of many megabytes
                # in CHUNK feeds. While most of what was fed is one unfinished token,
                # double the feed instead.
                unfinished = reader.offset - max(run.p.CurrentByteIndex, 0)
                size = min(size * 2, MAX_CHUNK) if unfinished > size // 2 else CHUNK
        if run.root is None:
            raise ParseError("no root element", path=source.name, records_before_fault=0)
        if reader.pairs:
            report.warnings.append(
                f"{reader.pairs} emoji stored as split surrogate references were joined"
            )
        if reader.lone:
            report.warnings.append(
                f"{reader.lone} unpaired surrogate character reference(s) replaced by U+FFFD "
                f"(first at byte {reader.first_lone})"
            )
        if run.duplicates:
            report.warnings.append(
                f"{run.duplicates} record(s) repeat earlier ones (same address, date, type "
                "and body): kept and flagged 'duplicate'"
            )
        if run.no_time:
            report.warnings.append(f"{run.no_time} record(s) have no usable date attribute")


def _expat_fault(source: Source, exc: expat.ExpatError, p: Any, emitted: int) -> ParseError:
    code = exc.code
    message = expat.ErrorString(code) or "malformed XML"
    advice = "the file is damaged; ask for a fresh copy of the original backup"
    byte = p.ErrorByteIndex
    if code in (expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS],) or (
        code == expat.errors.codes[expat.errors.XML_ERROR_UNCLOSED_TOKEN]
    ):
        message = f"the XML ends early ({message}): the file looks truncated"
        advice = "the copy is incomplete; records before this point are reported"
    elif code == expat.errors.codes[expat.errors.XML_ERROR_INVALID_TOKEN]:
        bad = _invalid_utf8_at(source, byte)
        if bad is not None:
            message = f"invalid UTF-8 byte 0x{bad:02x} ({message})"
            advice = "the file is not valid UTF-8 text; it may be damaged or re-saved"
    elif code == expat.errors.codes[expat.errors.XML_ERROR_UNDEFINED_ENTITY]:
        message = f"entities forbidden: undefined entity reference ({message})"
    return ParseError(
        message,
        path=source.name,
        position=f"line {exc.lineno}, column {exc.offset + 1}, byte {byte}",
        advice=advice,
        records_before_fault=emitted,
    )


def _invalid_utf8_at(source: Source, byte: int) -> int | None:
    """The byte at ``byte`` when an invalid UTF-8 sequence starts there (expat's error
    index points at the offending byte)."""
    if byte < 0:
        return None
    with source.open() as fh:
        fh.seek(byte)
        window = fh.read(4)
    try:
        window.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start == 0 and err.reason != "unexpected end of data":
            return window[0]
    return None


def parse_many(
    sources: Sequence[Source], ctx: ParseContext, report: ParseReport
) -> Iterator[Record]:
    """Parse several backups (e.g. overlapping incremental ones) with one dedupe index.

    Records are yielded file by file in the order given; an event already seen in an
    earlier file is kept, flagged ``duplicate`` and given ``extra["duplicate_of"]`` (the
    first occurrence's locator, e.g. ``RE/1 line 4 element 0``).
    To dedupe across exhibits after the fact, compare ``extra["dedupe_key"]``.
    """
    parser = SmsBackupParser()
    dedupe = DedupeIndex()
    try:
        for source in sources:
            yield from parser._parse(source, report, dedupe)
    finally:
        dedupe.close()
