"""WhatsApp "Export chat" text (``.txt``) and iOS/Android export zips (``.zip``).

Two streaming passes over the chat text, each holding one block of whole lines at a
time (64 KiB, or one longer line; a zip member is read a line at a time and gathered
into blocks, so that a damaged member fails at the same line as it always did):

1. *scan*: find which header layout the file uses (:data:`STYLES`), gather evidence for
   day/month order from every date in the file, and learn whether the file keeps the iOS
   convention (``\\r\\n`` between messages, ``\\n`` inside them). A fault (invalid
   UTF-8, a giant line, a broken zip) ends the scan there.
2. *parse*: turn header lines and their continuation lines into records, byte-exact,
   with line and byte spans; flag lines that break the file's conventions.

Layouts: iOS ``[date, time] Name: body`` (any locale: ``p. m.``, Korean and CJK marks
before the time, Arabic ``[١٨‏/٣‏/٢٠٢٢، ٢:٥٦:٠٠ م]`` with Arabic-Indic or Western digits,
RLMs and the Arabic comma, ``ص`` = AM and ``م`` = PM); Android ``date, time - Name:
body``; Vietnamese iOS with the time first, ``[14:56:01, 3/18/22] Name: body``; and old
iOS without brackets, ``7/1/16, 4:56:55 PM: Name: body``. The last two are counted in pass
1 only when the file's first 64 KiB hold one (:func:`_layouts`), so they cost the common
layouts nothing. A file is read in the layout most of its headers have.

Header parts (date, time, name) are matched with invisible marks tolerated (digits of
any script are read as their values: ``int`` reads Arabic-Indic digits); bodies are kept
exactly as written, marks and all.

What a record says beyond the model's fields:

- ``possible_inserted_line`` (flag): the message's header follows a ``\\n`` where the
  file keeps the iOS convention; or its time runs backwards (with ``order_regression``);
  or one of its continuation lines is a header of another layout (an iOS
  ``[date, time] Name:`` line inside an Android export, an Android one inside an iOS
  export): a phone writes one layout, so such a line was typed or pasted in. The line
  stays part of the message's text, as written.
- ``extra["not_in_contacts"] = true``: the name was written with the ``~`` marker
  (``~ Name``, ``~\\u202fName``: iOS marks a sender not in the phone's contacts so); the
  sender is the name without it.
- Hours: ``00:04 AM`` (some exports write the hour after midnight as 00 with AM) is
  00:04. ``00:04 PM`` is contradictory (00:04 or 12:04?): the record keeps no time and
  the report's warning says why. Nothing is guessed.
- Years of another calendar (Solar Hijri ``1401``, Hijri ``1443``, Buddhist era
  ``2565``) are refused with that reason: calendars are not converted.

Header lines are found in a decoded block by a regex that starts at the ``\n`` ending
the line before; line numbers are counted and byte offsets measured between headers, so
Python runs once a message, not once a line.

Pass 2 makes one thing of a message: its JSON Lines line, written from its fields
(``records.TextLines``) with no Record built. :meth:`WhatsAppParser.parse_jsonl` gives
those lines (``cyberstalk parse``, ``ingest`` and ``process`` store them as they are);
:meth:`WhatsAppParser.parse` gives each line read back as a Record. For
``parse_jsonl`` a large plain-text export is read in two halves at once, the second in a
forked worker, in both passes. Pass 1's halves meet at a line start; the worker's dates
are given to the evidence after the first half's, renumbered. Pass 2's halves meet at a
header line, and the worker starts with what the first half would have known there
(line, byte, the terminator before, the last wall clock). The output is the same bytes
as one pass (tests/parsers/test_whatsapp_blocks.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import IO, Any, ClassVar, NamedTuple, Protocol

from cyberstalk.errors import ParseError
from cyberstalk.forked import Forked, two_cores_free
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
from cyberstalk.records import (
    JSON,
    Attachment,
    Flag,
    Record,
    RecordKind,
    TextLines,
    TzBasis,
    hour_text,
    line_record,
    make_locator,
    make_record,
    record_bytes,
)
from cyberstalk.records.times import localise

_WS = "[ \u00a0\u202f\u2009]"
_MARK = "[\u200e\u200f\u202a-\u202e\ufeff\u2060]"
_INV = _MARK + "*"
# (``\d`` is any decimal digit: Arabic-Indic U+0660-0669 and Eastern Arabic-Indic
# U+06F0-06F9 too, which ``int`` reads as their values; Arabic iOS puts an RLM after the
# day and the month, so marks are allowed around the separators)
_DATE = (
    r"(?P<d1>\d{1,4})"
    + _INV
    + r"(?P<sep>[./-])"
    + _WS
    + "?"
    + _INV
    + r"(?P<d2>\d{1,2})"
    + _INV
    + "(?P=sep)"
    + _WS
    + "?"
    + _INV
    + r"(?P<d3>\d{1,4})\.?"
)
_MERIDIEM = (
    "(?:[AaPp]\\.?" + _WS + "?[Mm]\\.?|\uc624\uc804|\uc624\ud6c4|\u4e0a\u5348|\u4e0b\u5348"
    "|\u5348\u524d|\u5348\u5f8c|\u0635|\u0645)"
)
_TIME = (
    "(?:(?P<mer1>" + _MERIDIEM + ")" + _WS + "?)?"
    r"(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?:[:.](?P<s>\d{2}))?"
    "(?:" + _WS + "?(?P<mer2>" + _MERIDIEM + "))?"
)
# (U+060C: the Arabic comma)
_DT_SEP = "(?:[,\u060c]" + _WS + "?|" + _WS + "(?:klo" + _WS + ")?|" + _WS + "?)"

_IOS_AFTER_MARKS = (
    r"\[" + _INV + "(?P<dt>" + _DATE + _DT_SEP + _TIME + ")" + _INV + r"\]" + _WS + "?"
)
_ANDROID_AFTER_MARKS = "(?P<dt>" + _DATE + _DT_SEP + _TIME + ")" + _WS + "[-\u2013]" + _WS
# Vietnamese iOS: the time before the date, ``[14:56:01, 3/18/22] Name: text``
_TIME_FIRST_AFTER_MARKS = (
    r"\["
    + _INV
    + "(?P<dt>"
    + _TIME
    + "(?:[,\u060c]"
    + _WS
    + "?|"
    + _WS
    + ")"
    + _DATE
    + ")"
    + _INV
    + r"\]"
    + _WS
    + "?"
)
# Old iOS, no brackets: ``7/1/16, 4:56:55 PM: Name: text``
_BARE_AFTER_MARKS = "(?P<dt>" + _DATE + _DT_SEP + _TIME + "):" + _WS


class _Patterns(Mapping[str, "re.Pattern[str]"]):
    """Patterns by layout, each compiled when it is first used: compiling one takes
    milliseconds (its character classes reach beyond Latin-1), and a format detection,
    or the parse of a file in one layout, uses only some of them. Equal sources give one
    pattern, whichever mapping compiled it first."""

    __slots__ = ("sources",)
    _compiled: ClassVar[dict[str, re.Pattern[str]]] = {}

    def __init__(self, sources: Mapping[str, str]) -> None:
        self.sources = dict(sources)

    def __getitem__(self, style: str) -> re.Pattern[str]:
        source = self.sources[style]
        try:
            return self._compiled[source]
        except KeyError:
            compiled = self._compiled[source] = re.compile(source)
            return compiled

    def __contains__(self, style: object) -> bool:
        return style in self.sources  # (without compiling the pattern)

    def __iter__(self) -> Iterator[str]:
        return iter(self.sources)

    def __len__(self) -> int:
        return len(self.sources)


STYLES = _Patterns(
    {
        "ios": "^" + _INV + _IOS_AFTER_MARKS,
        "android": "^" + _INV + _ANDROID_AFTER_MARKS,
        "ios_time_first": "^" + _INV + _TIME_FIRST_AFTER_MARKS,
        "ios_bare": "^" + _INV + _BARE_AFTER_MARKS,
    }
)
"""Header layouts: ``ios`` (``[date, time] ``, any locale, Arabic included), ``android``
(``date, time - ``), ``ios_time_first`` (``[time, date] ``) and ``ios_bare`` (old iOS:
``date, time: ``)."""
COMMON = ("ios", "android")
_PREFERENCE = ("android", "ios", "ios_time_first", "ios_bare")
"""The layouts pass 1 always counts; the others only when the file's start has one
(:func:`_layouts`)."""
BRACKETED = frozenset({"ios", "ios_time_first"})
"""Layouts whose header has ``[`` right after its marks (the others have none)."""

# The block passes find header lines in a decoded block by the "\n" that ends the line
# before (a literal the regex engine skips to fast; each block is searched with a "\n"
# put in front). A line is tried only when it starts with a digit, "[" or a mark (as
# _HEADER_START), then matched exactly as by the patterns above.
_LINE_START = "\n(?=[0-9\u0660-\u0669\u06f0-\u06f9\\[\u200e\u200f\u202a-\u202e\ufeff\u2060])"
# (``date``: the date as written, which tells a new date from the last one's repeat)
_DATED = "(?P<date>" + _DATE + ")"
_AFTER_MARKS = {
    "ios": _IOS_AFTER_MARKS,
    "android": _ANDROID_AFTER_MARKS,
    "ios_time_first": _TIME_FIRST_AFTER_MARKS,
    "ios_bare": _BARE_AFTER_MARKS,
}
_FIND = _Patterns(
    {
        style: _LINE_START + _INV + after.replace(_DATE, _DATED)
        for style, after in _AFTER_MARKS.items()
    }
)
# Pass 1 tries a bracketed form only on a line with "[" among its first four characters,
# the others on the others; a bracketed header has "[" right after its marks, and the
# others have no "[" at all, so these count the same lines.
_SCAN_FIND = _Patterns(
    {
        style: "\n" + _MARK + "{0,3}" + after.replace(_DATE, _DATED)
        if style in BRACKETED
        else _FIND.sources[style]  # (the same pattern)
        for style, after in _AFTER_MARKS.items()
    }
)
_HEAD_BYTES = 1 << 16
"""How much of the chat text :func:`_layouts` reads for the layouts it has."""

_AM = {"am", "\uc624\uc804", "\u4e0a\u5348", "\u5348\u524d", "\u0635"}
_PM = {"pm", "\uc624\ud6c4", "\u4e0b\u5348", "\u5348\u5f8c", "\u0645"}

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
_INSERTED = Flag.POSSIBLE_INSERTED_LINE.value
_CACHE_MAX = 4096
_SECONDS = tuple(timedelta(seconds=n) for n in range(3600))
"""The minutes and seconds into an hour, as timedeltas (one per second of the hour)."""


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


_HEADER_START = frozenset(
    "0123456789[\u200e\u200f\u202a\u202b\u202c\u202d\u202e\ufeff\u2060"
    "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"
    "\u06f0\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8\u06f9"
)
"""A header line starts with a digit (ASCII, Arabic-Indic or Eastern Arabic-Indic),
``[`` or an invisible mark: others skip the regex."""

Wall = tuple[int, int, int, int, int, int]
"""(year, month, day, hour, minute, second) as written: a zone-less wall-clock time."""

_INVISIBLE_RE = re.compile("[\u200e\u200f\u202a-\u202e\ufeff\u2060]")

_FAULTS = (zipfile.BadZipFile, zlib.error, EOFError, OSError)
_BLOCK = 1 << 16
"""Bytes a block pass reads at a time (a longer line makes a longer block): small enough
to stay in the CPU's caches and keep memory small."""


@dataclass
class _Scan:
    """What pass 1 learned about the whole file."""

    headers: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STYLES, 0))
    evidence: dict[str, DateOrderEvidence] = field(default_factory=dict)
    crlf_before: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STYLES, 0))
    lf_before: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STYLES, 0))
    layouts: tuple[str, ...] = COMMON
    """The layouts counted (:func:`_layouts`); the others' counts stay 0."""
    fault: ParseError | None = None
    fault_line: int | None = None
    lines: int = 0
    good_bytes: int = 0
    """Bytes of the lines before the fault (of every line read, without one)."""
    marks: list[tuple[int, int]] = field(default_factory=list)
    """(byte offset, line number) of line starts a block apart (plain files)."""


class _Resume(NamedTuple):
    """Where a block scan stopped, to go on from there: lines and bytes before it, the
    terminator of the line before it, and each style's last date as written."""

    lines: int
    offset: int
    prev_term: str
    last_dates: dict[str, str | None]


class _Dates(Protocol):
    """What pass 1 gives a style's dates to: :class:`DateOrderEvidence`, or a
    :class:`_DateLog` of part of the file."""

    def add(self, a: str, b: str, c: str, line: int, raw: str | None = None) -> None: ...

    def add_repeat(self, times: int = 1) -> None: ...


class _DateLog:
    """The dates a scan of the second half of a file gave, in order, with line numbers
    counted from the half's start: given to the whole file's evidence once the first
    half's are (the evidence then is what one pass would have gathered)."""

    def __init__(self) -> None:
        self.added: list[tuple[str, str, str, int, str | None]] = []
        self.repeats = 0

    def add(self, a: str, b: str, c: str, line: int, raw: str | None = None) -> None:
        self.added.append((a, b, c, line, raw))

    def add_repeat(self, times: int = 1) -> None:
        self.repeats += times


class _Plan(NamedTuple):
    """What pass 1 decided for pass 2."""

    scan: _Scan
    style: str
    order: str
    convention: bool


class _Start(NamedTuple):
    """A header line to start pass 2 at, and what pass 2 would know on reaching it."""

    line: int
    offset: int
    term: str
    """The terminator of the line before it."""
    wall: Wall
    """The wall clock of the last header before it that has one."""


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
    version: ClassVar[str] = "1.2"
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
            # OSError: a central directory pointing before the file's start makes zipfile
            # seek to a negative offset (EINVAL), found by fuzzing
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as exc:
                raise ParseError(
                    f"cannot open zip member {member!r}: {exc}",
                    path=source.name,
                    advice="the zip is damaged or encrypted; copy the export from the phone again",
                ) from None
            with member_fh:
                yield member_fh, member, zf

    def _scan(self, source: Source, ctx: ParseContext, halves: bool = False) -> _Scan:
        """Pass 1: header style, date evidence, line-ending convention; stop at a fault.
        ``halves``: scan a large plain file's second half in a forked worker meanwhile."""
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
        with self._open(source) as (fh, member, zf):
            name = _where(source, member)
            if zf is None:
                head = source.head(_HEAD_BYTES)
            else:
                assert member is not None
                try:
                    with zf.open(member) as first:
                        head = first.read(_HEAD_BYTES)
                except (*_FAULTS, NotImplementedError, RuntimeError):
                    head = b""  # (pass 1 meets the fault itself)
            scan.layouts = _layouts(head)
            if zf is not None:
                _scan_lines(fh, name, scan)
            elif not (halves and _scan_in_halves(source, fh, name, scan)):
                _scan_blocks(fh, name, scan, scan.evidence)
        return scan

    def parse(self, source: Source, ctx: ParseContext, report: ParseReport) -> Iterator[Record]:
        """The records of :meth:`parse_jsonl`'s lines, in one pass: each is its line read
        back (``records.line_record``), so that a record and its stored line cannot
        differ. ``report.records`` is left to the caller to count (as for every parser)."""
        lines = self._lines(source, ctx, report, self._prepare(source, ctx, report), Counter())
        return map(line_record, lines)

    def parse_jsonl(
        self, source: Source, ctx: ParseContext, report: ParseReport
    ) -> Iterator[bytes]:
        """The JSON Lines of :meth:`parse`'s records (``records.record_bytes``), counted
        into ``report.records``, a batch at a time. A large plain-text export is parsed in
        two halves at once, the second by a forked worker into a temporary file: the
        same bytes and the same report as one pass (the parent parses the second half
        itself if the worker fails)."""
        plan = self._prepare(source, ctx, report, halves=True)
        counts = report.records
        split = _split_point(source, plan) if _parallel(source, plan) else None
        if split is None:
            yield from _batches(self._lines(source, ctx, report, plan, counts))
            return
        try:
            worker = _Worker(
                report,
                lambda kinds: _batches(self._lines(source, ctx, report, plan, kinds, split)),
            )
        except OSError:  # cannot fork now: one pass
            yield from _batches(self._lines(source, ctx, report, plan, counts))
            return
        try:
            first = self._lines(source, ctx, report, plan, counts, stop=split.offset)
            yield from _batches(first)
            done = worker.result()
            if done is None:  # the worker failed: do its half here
                yield from _batches(self._lines(source, ctx, report, plan, counts, split))
                return
            got, warnings, skipped, output = done
            counts.update(got)
            report.warnings.extend(warnings)
            report.skipped.extend(skipped)
            while chunk := output.read(_BLOCK):
                yield chunk
        finally:
            worker.close()

    def _prepare(
        self, source: Source, ctx: ParseContext, report: ParseReport, halves: bool = False
    ) -> _Plan:
        """Pass 1 and what it decides (style, date order, line-ending convention)."""
        scan = self._scan(source, ctx, halves)
        # the most headers; a tie goes to Android, then iOS (as it always did)
        style = max(_PREFERENCE, key=scan.headers.__getitem__)
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
        if style in BRACKETED and not convention and scan.headers[style] > 1:
            report.warnings.append(
                "the iOS line-ending convention (\\r\\n between messages, \\n inside) is "
                "absent, so typed-in header lines cannot be told apart by line endings; the "
                "file may have been re-saved"
            )
        return _Plan(scan, style, order, convention)

    def _lines(
        self,
        source: Source,
        ctx: ParseContext,
        report: ParseReport,
        plan: _Plan,
        counts: Counter[str],
        start: _Start | None = None,
        stop: int | None = None,
    ) -> Iterator[bytes]:
        """Pass 2, the records' JSON Lines (:meth:`_Builder.line`), each record counted by
        kind into ``counts``: a block of whole lines in memory at a time (a message may
        span blocks); a message's line is written when the next header (or the end, or
        the fault found by pass 1) arrives. Header lines are found in the block by regex,
        and line numbers and byte offsets are counted between them. ``start`` (a header
        line) and ``stop`` (a byte offset at a header line) parse part of the file, as the
        whole parse would."""
        scan, style, order, convention = plan.scan, plan.style, plan.order, plan.convention
        finditer = _FIND[style].finditer
        emitted = 0
        # the message being collected: header line, its byte offset, reported byte start,
        # time as written, wall clock, flags, and its text so far (after the header)
        p_line = p_start = 0
        p_raw = ""
        p_wall: Wall | None = None
        p_flags: set[str] | None = None
        parts: list[str] = []
        pending = False
        prev_wall: Wall | None = None
        orphan: list[int] | None = None
        with self._open(source) as (fh, member, zf):
            name = _where(source, member)
            build: _Emit = _Builder(self, source, member, zf, report, ctx, order, counts).line
            others = tuple(
                _SCAN_FIND[other].search
                for other in scan.layouts
                if other != style and scan.headers[other]
            )
            if others:  # (only when pass 1 counted a header of another layout)
                build = _flag_other_layouts(build, others)
            chosen = report.date_order is not None and report.date_order.basis == "user"
            failed: list[BaseException] = []
            if zf is None:
                begin = start.offset if start is not None else 0
                end = stop if stop is not None else scan.good_bytes if scan.fault else None
                if begin:
                    fh.seek(begin)
                blocks = _file_blocks(fh, None if end is None else end - begin)
            else:
                blocks = _member_blocks(fh, scan.fault_line, failed)
            line = 1  # number of the block's first line
            offset = 0  # byte offset of the block
            prev_term = ""  # terminator of the line before the block
            if start is not None:
                line, offset, prev_term, prev_wall = start
            dates: dict[str, tuple[int, int, int] | None] = {}  # by the date as written
            regressed = {Flag.ORDER_REGRESSION.value, Flag.POSSIBLE_INSERTED_LINE.value}
            inserted = Flag.POSSIBLE_INSERTED_LINE.value
            for data in blocks:
                text = data.decode("utf-8")  # pass 1 stopped at any bad line
                buf = "\n" + text  # the sentinel "\n" stands for the line before
                count = buf.count
                find = data.find
                plain = buf.isascii()  # then byte offsets are character offsets
                seg = 1  # start of the text not yet given to a message
                # `at`: a "\n" of buf; the line after it is line `at_line`, at byte `at_off`
                # of the file and `at_raw` of the block
                at, at_line, at_off, at_raw = 0, line, offset, 0
                for m in finditer(buf):
                    p = m.start()  # the "\n" before the header line
                    lines = count("\n", at + 1, p + 1)
                    h_line = at_line + lines
                    if plain:
                        h_off = at_off + p - at
                    else:  # the same number of line ends further in the bytes
                        while lines:  # (none for a header opening the block)
                            at_raw = find(b"\n", at_raw) + 1
                            lines -= 1
                        h_off = offset + at_raw
                    at, at_line, at_off = p, h_line, h_off
                    # the terminator of the line before the header
                    if p:
                        term = 2 if buf[p - 1] == "\r" else 1
                        after_lf = term == 1
                    else:
                        term = len(prev_term)
                        after_lf = prev_term == "\n"
                    if pending:
                        if parts:
                            parts.append(buf[seg : p + 1])
                            body = "".join(parts)
                            body = body[: len(body) - term]
                            parts = []
                        else:
                            body = buf[seg : p + 1 - term]
                        yield build(
                            p_line, h_line - 1, p_start, h_off - term, p_raw, p_wall, body, p_flags
                        )
                        emitted += 1
                    else:
                        orphan = _orphans(buf[seg : p + 1], line, orphan)
                        if orphan is not None:
                            report.skip(
                                f"lines {orphan[0]}-{orphan[1]}",
                                "text before the first message header",
                            )
                            orphan = None
                        pending = True
                    flags: set[str] | None = {_CHOSEN} if chosen else None
                    # the wall clock as written (None when no such day or time)
                    written, h, mi, sec, mer1, mer2, raw = m.group(
                        "date", "h", "mi", "s", "mer1", "mer2", "dt"
                    )
                    try:
                        ymd = dates[written]
                    except KeyError:  # a few thousand dates in an export at most
                        if len(dates) >= 20_000:
                            dates.clear()
                        d1, d2, d3 = m.group("d1", "d2", "d3")
                        ymd = dates[written] = read_date(d1, d2, d3, order)
                    wall: Wall | None = None
                    if ymd is not None:
                        hour = int(h) if mer1 is None and mer2 is None else _hour(h, mer1 or mer2)
                        minute = int(mi)
                        second = int(sec) if sec else 0
                        if hour <= 23 and minute <= 59 and second <= 59:
                            wall = (ymd[0], ymd[1], ymd[2], hour, minute, second)
                            if prev_wall is not None and wall < prev_wall:
                                flags = flags | regressed if flags else set(regressed)
                            prev_wall = wall
                    if convention and after_lf:
                        if flags is None:
                            flags = set()
                        flags.add(inserted)
                    p_line, p_raw, p_wall, p_flags = h_line, raw, wall, flags
                    p_start = h_off + 3 if h_line == 1 and buf[p + 1] == BOM else h_off
                    seg = m.end()
                # the rest of the block belongs to the message being collected
                if pending:
                    parts.append(buf[seg:])
                else:
                    orphan = _orphans(buf[seg:], line, orphan)
                line = at_line + count("\n", at + 1) + (text[-1] != "\n")
                offset += len(data)
                prev_term = "\r\n" if text.endswith("\r\n") else text[-1]
            if failed and scan.fault is None:
                # A damaged member fails at the same read-ahead as in pass 1 (the CRC is
                # checked when the end is read), before the line pass 1 stopped at.
                scan.fault = _zip_fault(name, line - 1, failed[0])
            if pending:
                body = "".join(parts)
                end = 2 if body.endswith("\r\n") else 1 if body.endswith("\n") else 0
                body = body[: len(body) - end]
                yield build(
                    p_line,
                    p_line + body.count("\n"),
                    p_start,
                    offset - end,
                    p_raw,
                    p_wall,
                    body,
                    p_flags,
                )
                emitted += 1
                if scan.fault is not None:
                    report.warnings.append(
                        f"the message at line {p_line} may be incomplete: the fault that "
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


def _scan_lines(fh: IO[bytes], name: str, scan: _Scan) -> None:
    """Pass 1 over a zip member, a line at a time: a damaged member fails part-way
    through a read, and the lines read before the failing one are the ones kept."""
    headers, crlf_before, lf_before = scan.headers, scan.crlf_before, scan.lf_before
    evidence = scan.evidence
    bracketed = [(s, STYLES[s].match) for s in scan.layouts if s in BRACKETED]
    others = [(s, STYLES[s].match) for s in scan.layouts if s not in BRACKETED]
    limit = MAX_LINE_BYTES + 1
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
                for style, match in bracketed if "[" in text[:4] else others:
                    m = match(text)
                    if m is None:
                        continue
                    headers[style] += 1
                    evidence[style].add(m["d1"], m["d2"], m["d3"], number, m["dt"])
                    if prev_term == b"\r\n":
                        crlf_before[style] += 1
                    elif prev_term == b"\n":
                        lf_before[style] += 1
                    break
            prev_term = data[-2:] if data.endswith(b"\r\n") else data[-1:]
            offset += len(data)
            scan.lines = number
            scan.good_bytes = offset
    except ParseError as exc:
        scan.fault, scan.fault_line = exc, number
    except _FAULTS as exc:
        scan.fault, scan.fault_line = _zip_fault(name, scan.lines, exc), scan.lines + 1


def _scan_blocks(
    fh: IO[bytes],
    name: str,
    scan: _Scan,
    evidence: Mapping[str, _Dates],
    *,
    resume: _Resume | None = None,
    end: int | None = None,
) -> _Resume:
    """Pass 1 over a plain file, a block of whole lines at a time, with the same results
    as :func:`_scan_lines`: the fault (a line too long, invalid UTF-8) is the first one a
    line-by-line reading meets, at the same line and byte, and only the lines before it
    count. Dates go to ``evidence``.

    ``fh`` is read from where it is up to byte ``end`` (a line start) or its end. The
    scan goes on from ``resume``, what a scan that ended at ``fh``'s position left (by
    default the start of the file); it returns what it leaves."""
    limit = MAX_LINE_BYTES + 1
    state = resume or _Resume(0, 0, "", dict.fromkeys(STYLES))
    number, offset, prev_term, last_dates = state  # lines and bytes before the block,
    # the terminator of the line before it, each style's last date as written
    carry = b""
    read = fh.read
    try:
        while True:
            want = _BLOCK if end is None else min(_BLOCK, end - offset - len(carry))
            more = read(want) if want > 0 else b""
            data = carry + more if carry else more
            if not data:
                break
            if more:
                cut = data.rfind(b"\n") + 1
                if cut == 0:  # a line longer than the block: read on, up to the limit
                    if len(data) >= limit:
                        raise _too_long(name, number + 1, offset)
                    carry = data
                    continue
                data, carry = data[:cut], data[cut:]
            else:
                carry = b""
            fault: ParseError | None = None
            if len(data) >= limit:
                long_at = _long_line(data, limit)
                if long_at >= 0:
                    fault = _too_long(
                        name, number + data.count(b"\n", 0, long_at) + 1, offset + long_at
                    )
                    data = data[:long_at]
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                start = data.rfind(b"\n", 0, exc.start) + 1
                fault = decode_error(
                    name, number + data.count(b"\n", 0, start) + 1, offset, data, exc
                )
                data = data[:start]
                text = data.decode("utf-8")
            if text:
                scan.marks.append((offset, number + 1))
                _scan_text(text, prev_term, number, scan, evidence, last_dates)
                number += text.count("\n") + (text[-1] != "\n")
                prev_term = "\r\n" if text.endswith("\r\n") else text[-1]
                offset += len(data)
                scan.lines, scan.good_bytes = number, offset
            if fault is not None:
                raise fault
    except ParseError as exc:
        scan.fault, scan.fault_line = exc, scan.lines + 1
    except _FAULTS as exc:
        # a read error of the file itself: the lines of the blocks before it are kept
        scan.fault, scan.fault_line = _zip_fault(name, scan.lines, exc), scan.lines + 1
    return _Resume(number, offset, prev_term, last_dates)


def _scan_in_halves(source: Source, fh: IO[bytes], name: str, scan: _Scan) -> bool:
    """Pass 1 over a large plain file in two halves at once, the second by a forked
    worker: the same :class:`_Scan` as one pass. False (nothing read) when the file is
    small, the machine has one core for the process, or it cannot fork now.

    The halves meet at the first line start past the middle. The worker counts its lines
    from there and logs its dates (:class:`_DateLog`); they are added after the first
    half's, renumbered. A fault in the first half ends the scan there, as in one pass;
    a fault in the second half (or a failed worker) has the parent scan that half
    itself, going on from where the first half ended."""
    if not two_cores_free():
        return False
    fd = fh.fileno()
    size = os.fstat(fd).st_size
    if size < PARALLEL_MIN_BYTES:
        return False
    middle = size // 2
    ahead = os.pread(fd, 1 << 20, middle)
    split = middle + ahead.find(b"\n") + 1
    if split == middle or split >= size:
        return False  # no line end near the middle, or only the last line after it
    try:
        worker = Forked(lambda: _scan_part(source, name, split, scan.layouts))
    except OSError:  # cannot fork now: one pass
        return False
    try:
        resume = _scan_blocks(fh, name, scan, scan.evidence, end=split)
        if scan.fault is not None:
            return True  # one pass would stop there too
        part = worker.value()
        if part is None:  # a fault in the second half, or the worker failed
            _scan_blocks(fh, name, scan, scan.evidence, resume=resume)
            return True
        headers, crlf_before, lf_before, lines, good_bytes, marks, logs = part
        for style in STYLES:
            scan.headers[style] += headers[style]
            scan.crlf_before[style] += crlf_before[style]
            scan.lf_before[style] += lf_before[style]
            added, repeats = logs[style]
            evidence = scan.evidence[style]
            for a, b, c, line, raw in added:
                evidence.add(a, b, c, resume.lines + line, raw)
            evidence.add_repeat(repeats)
        scan.marks.extend((offset, resume.lines + line) for offset, line in marks)
        scan.lines = resume.lines + lines
        scan.good_bytes = good_bytes
        return True
    finally:
        worker.close()


def _scan_part(source: Source, name: str, split: int, layouts: tuple[str, ...]) -> list[Any] | None:
    """Pass 1 from byte ``split`` (a line start) to the end, in the worker: its counts,
    lines, the byte after its last good line, marks and each style's date log, with lines
    counted from ``split``; None on a fault (the parent then scans this half itself)."""
    part = _Scan(layouts=layouts)
    logs = {style: _DateLog() for style in STYLES}
    with source.open() as fh:
        before = os.pread(fh.fileno(), 2, max(0, split - 2))
        fh.seek(split)
        prev_term = "\r\n" if before.endswith(b"\r\n") else "\n"
        start = _Resume(0, split, prev_term, dict.fromkeys(STYLES))
        _scan_blocks(fh, name, part, logs, resume=start)
    if part.fault is not None:
        return None
    return [
        part.headers,
        part.crlf_before,
        part.lf_before,
        part.lines,
        part.good_bytes,
        part.marks,
        {style: [log.added, log.repeats] for style, log in logs.items()},
    ]


def _long_line(data: bytes, limit: int) -> int:
    """Offset of the first line of ``data`` (terminator included) of ``limit`` bytes or
    more, or -1."""
    start = 0
    size = len(data)
    while size - start >= limit:
        end = data.find(b"\n", start) + 1 or size
        if end - start >= limit:
            return start
        start = end
    return -1


def _layouts(head: bytes) -> tuple[str, ...]:
    """The layouts pass 1 counts in a file whose chat text starts with ``head``: the
    common ones (iOS and Android) always, the others only when a line of ``head`` has
    one (then a line of them typed into the file later is counted too). The rare layouts
    cost the common ones nothing."""
    text = "\n" + head.decode("utf-8", "ignore")
    extra = tuple(s for s in STYLES if s not in COMMON and _SCAN_FIND[s].search(text))
    return COMMON + extra


def _scan_text(
    text: str,
    prev_term: str,
    number: int,
    scan: _Scan,
    evidences: Mapping[str, _Dates],
    last_dates: dict[str, str | None],
) -> None:
    """Pass 1 over the whole lines ``text`` (line ``number + 1`` first): count each
    style's headers and the terminators before them, and give every header's date to
    that style's evidence (a date written as the previous one was is only counted)."""
    # Two characters stand for the end of the line before: "\r\n", else " \n" (for "\n",
    # and for none at the start of the file: a header on line 1 is then not counted).
    buf = ("\r\n" if prev_term == "\r\n" else " \n") + text
    for style in scan.layouts:
        finder = _SCAN_FIND[style]
        evidence = evidences[style]
        add = evidence.add
        last = last_dates[style]
        count = crlf = added = 0
        seen, seen_line = 1, number + 1  # the line starting after buf[seen]
        for m in finder.finditer(buf):
            p = m.start()
            if buf[p - 1] == "\r":
                crlf += 1
            count += 1
            written = m["date"]
            if written == last:
                continue
            seen_line += buf.count("\n", seen + 1, p + 1)
            seen = p
            d1, d2, d3, raw = m.group("d1", "d2", "d3", "dt")
            add(d1, d2, d3, seen_line, raw)  # (which counts the same date only once)
            added += 1
            last = written
        last_dates[style] = last
        evidence.add_repeat(count - added)
        if not prev_term and finder.match(buf, 1) is not None:
            count_lf = count - crlf - 1  # the file's first line: no line ends before it
        else:
            count_lf = count - crlf
        scan.headers[style] += count
        scan.crlf_before[style] += crlf
        scan.lf_before[style] += count_lf


def _file_blocks(fh: IO[bytes], size: int | None) -> Iterator[bytes]:
    """The file as blocks of whole lines (the last may lack its terminator), up to
    ``size`` bytes (a line end, from pass 1) or the end."""
    read = fh.read
    carry = b""
    left = size
    while True:
        want = _BLOCK if left is None else min(_BLOCK, left)
        more = read(want) if want else b""
        if left is not None:
            left -= len(more)
        data = carry + more if carry else more
        if not more:
            if data:
                yield data
            return
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            carry = data
        elif cut == len(data):
            carry = b""
            yield data
        else:
            carry = data[cut:]
            yield data[:cut]


def _member_blocks(fh: IO[bytes], stop: int | None, failed: list[BaseException]) -> Iterator[bytes]:
    """A zip member as blocks of whole lines, read a line at a time as pass 1 read it
    (a damaged member then fails at the same line), up to line ``stop`` (exclusive). A
    read fault goes into ``failed`` once the lines before it are given."""
    readline = fh.readline
    limit = MAX_LINE_BYTES + 1
    number = 0
    lines: list[bytes] = []
    size = 0
    try:
        while number + 1 != stop and (data := readline(limit)):
            number += 1
            lines.append(data)
            size += len(data)
            if size >= _BLOCK:
                yield b"".join(lines)
                lines.clear()
                size = 0
    except _FAULTS as exc:
        failed.append(exc)
    if lines:
        yield b"".join(lines)


def _orphans(region: str, first: int, orphan: list[int] | None) -> list[int] | None:
    """Lines before the first header (``region``, whole lines from line ``first``):
    widen ``orphan``, the first and last of them that hold text, by these."""
    if not region:
        return orphan
    lines = region.split("\n")
    whole = lines[-1] == ""  # every line has its terminator
    if whole:
        lines.pop()
    for i, content in enumerate(lines):
        if content[-1:] == "\r" and (whole or i < len(lines) - 1):
            content = content[:-1]
        if content.strip("\ufeff \t\u200e"):
            number = first + i
            orphan = [orphan[0] if orphan else number, number]
    return orphan


# ------------------------------------------------------------------ two halves at once

PARALLEL_MIN_BYTES = 4 << 20
"""A plain-text export at least this large is parsed in two halves at once (when the
machine has two cores for the process and can fork)."""


def _batches(lines: Iterator[bytes]) -> Iterator[bytes]:
    """The lines a batch (about 256 KiB) at a time. On a fault the lines before it are
    given first."""
    batch: list[bytes] = []
    add = batch.append
    try:
        for line in lines:
            add(line)
            if len(batch) >= 512:
                yield b"".join(batch)
                batch.clear()
    except Exception:
        if batch:
            yield b"".join(batch)
        raise
    if batch:
        yield b"".join(batch)


def _parallel(source: Source, plan: _Plan) -> bool:
    """Whether to parse in two halves: a large plain file with no fault, two cores, and
    only this thread in the process (as ``cyberstalk parse`` runs)."""
    if plan.scan.fault is not None or not plan.scan.marks:
        return False
    if plan.scan.good_bytes < PARALLEL_MIN_BYTES or _is_zip(source.head(4)):
        return False
    return two_cores_free()


def _split_point(source: Source, plan: _Plan) -> _Start | None:
    """The first header line past the middle of the file whose previous header has a
    wall clock, to start the second half at; None if there is none near the middle."""
    middle = plan.scan.good_bytes // 2
    offset, line = max(mark for mark in plan.scan.marks if mark[0] <= middle)
    with source.open() as fh:
        fh.seek(offset)
        data = fh.read(2 * _BLOCK)
    data = data[: data.rfind(b"\n") + 1]
    if not data:
        return None
    buf = "\n" + data.decode("utf-8")  # whole lines from a line start: pass 1 read them
    # where the middle falls in the characters, near enough
    near = (middle - offset) * len(buf) // len(data)
    before: re.Match[str] | None = None
    for m in _FIND[plan.style].finditer(buf, max(0, near - 65536)):
        if m.start() >= near and before is not None:
            wall = _wall(before, plan.order)
            if wall is not None:
                p = m.start()
                return _Start(
                    line=line + buf.count("\n", 1, p + 1),
                    offset=offset + len(buf[1 : p + 1].encode("utf-8")),
                    term="\r\n" if buf[p - 1] == "\r" else "\n",
                    wall=wall,
                )
        before = m
    return None


def _wall(m: re.Match[str], order: str) -> Wall | None:
    """The wall clock of a header match, as pass 2 reads it (None: no such day or time)."""
    ymd = read_date(m["d1"], m["d2"], m["d3"], order)
    if ymd is None:
        return None
    mer = m["mer1"] or m["mer2"]
    hour = int(m["h"]) if mer is None else _hour(m["h"], mer)
    minute = int(m["mi"])
    second = int(m["s"]) if m["s"] else 0
    if hour > 23 or minute > 59 or second > 59:
        return None
    return (ymd[0], ymd[1], ymd[2], hour, minute, second)


class _Worker:
    """A forked process that writes the chunks of ``work(counts)`` into a temporary file
    and hands back what it counted and what it added to the report (its copy of it, as
    it was at the fork): warnings and skipped items, in order."""

    def __init__(
        self, report: ParseReport, work: Callable[[Counter[str]], Iterator[bytes]]
    ) -> None:
        import tempfile  # (only a large export's parse uses it)

        self.output: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - see close()
        warned, skipped = len(report.warnings), len(report.skipped)

        def run() -> list[object]:
            counts: Counter[str] = Counter()
            for chunk in work(counts):
                self.output.write(chunk)
            self.output.flush()
            return [counts, report.warnings[warned:], report.skipped[skipped:]]

        try:
            self.child = Forked(run)
        except OSError:
            self.output.close()
            raise

    def result(
        self,
    ) -> tuple[dict[str, int], list[str], list[tuple[str, str]], IO[bytes]] | None:
        """Wait for the worker: its counts, warnings, skipped items and output (at its
        start), or None if it failed."""
        done = self.child.value()
        if done is None:
            return None
        counts, warnings, skipped = done
        self.output.seek(0)
        return counts, warnings, [(p, r) for p, r in skipped], self.output

    def close(self) -> None:
        """Stop the worker if it still runs (the parse was abandoned) and drop its file."""
        self.child.close()
        self.output.close()


def decode_error(
    name: str, number: int, offset: int, data: bytes, exc: UnicodeDecodeError
) -> ParseError:
    return ParseError(
        f"invalid UTF-8 (byte 0x{data[exc.start]:02x})",
        path=name,
        position=f"line {number}, byte {offset + exc.start}",
        advice="the file is damaged or was re-saved in another encoding; parse the original export",
    )


_TIME_RE = re.compile(_TIME)


def _invalid_why(time_raw: str) -> str:
    """Why a header's time is no time, when the reason is not plain (for the warning)."""
    for m in _TIME_RE.finditer(time_raw):
        mer = m["mer1"] or m["mer2"]
        if mer is not None and int(m["h"]) == 0 and _meridiem(mer) in _PM:
            return (
                " (hour 00 with a PM mark: no 12-hour clock has it, and it could mean "
                "00:xx or 12:xx, so it is not guessed)"
            )
    return ""


def _meridiem(meridiem: str) -> str:
    """An AM/PM mark as the sets _AM and _PM hold it."""
    return clean_header(meridiem).replace(" ", "").replace(".", "").lower()


def _where(source: Source, member: str | None) -> str:
    return f"{source.name}:{member}" if member else source.name


def _hour(h: str, meridiem: str) -> int:
    """The 24-hour hour of ``h`` (digits) with an AM/PM mark, or 99 when ``h`` is no
    12-hour hour. Some exports write the hour after midnight as ``00`` with AM
    (``00:04 AM``, ``00:08 a. m.``): that is 00. ``00`` with PM is a contradiction (no
    12-hour clock has it; 00:xx and 12:xx are both readings) and is not guessed: 99, and
    the record keeps no time (the report's warning says why)."""
    hour = int(h)
    if not 1 <= hour <= 12:
        if hour == 0 and _meridiem(meridiem) in _AM:
            return 0
        return 99
    token = _meridiem(meridiem)
    if token in _AM:
        return 0 if hour == 12 else hour
    if token in _PM:
        return 12 if hour == 12 else hour + 12
    return hour


class _Builder:
    """Turns a collected message into its record's JSON Lines line (classification,
    attachments, time)."""

    def __init__(
        self,
        parser: WhatsAppParser,
        source: Source,
        member: str | None,
        zf: zipfile.ZipFile | None,
        report: ParseReport,
        ctx: ParseContext,
        order: str,
        counts: Counter[str],
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
        self.senders: dict[str, tuple[str | None, bool]] = {}
        """Name as written -> the sender, and whether the name had the ``~`` marker."""
        self.hour_starts: dict[tuple[int, ...], tuple[datetime, str | None] | None] = {}
        """Wall-clock hour -> its start in UTC and that hour's :func:`records.hour_text`."""
        self.version = parser.version
        self.exhibit = source.exhibit
        self.path = source.name
        self.counts = counts
        """Records by kind, of those :meth:`line` wrote."""
        self.lines = TextLines(
            "whatsapp",
            self.basis,
            self.title,
            self.exhibit,
            self.path,
            member,
            "whatsapp",
            self.version,
        )

    def _hour_start(self, year: int, month: int, day: int, hour: int) -> datetime | None:
        """The UTC instant of a wall-clock hour's start, as :func:`records.times.localise` gives
        it, or None when the hour holds a clock change. An hour whose first and last
        second each have one offset (localise flags neither), the same one, has that
        offset throughout (clock changes are far more than an hour apart), so the zone is
        asked four times per wall-clock hour; hours that hold a change are localised
        second by second."""
        zone = self.zone
        start = datetime(year, month, day, hour, tzinfo=zone)
        end = datetime(year, month, day, hour, 59, 59, tzinfo=zone)
        offset = start.utcoffset()
        if (
            offset is None
            or start.replace(fold=1).utcoffset() != offset
            or end.utcoffset() != offset
            or end.replace(fold=1).utcoffset() != offset
        ):
            return None
        return datetime(year, month, day, hour, tzinfo=UTC) - offset

    def _sender(self, raw: str) -> tuple[str | None, bool]:
        """The sender of a name as written, and whether it had the ``~`` marker (iOS
        writes ``~ Name`` for a sender not in the phone's contacts): the marker is no
        part of the name."""
        got = self.senders.get(raw)
        if got is None:
            value = (raw if raw.isascii() else clean_header(raw)).strip()
            cleaned = value.removeprefix("~").strip() or None
            got = (cleaned, cleaned is not None and value[:1] == "~")
            if len(self.senders) < _CACHE_MAX:
                self.senders[raw] = got
        return got

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

    def line(
        self,
        line_start: int,
        line_end: int,
        byte_start: int,
        byte_end: int,
        time_raw: str,
        wall: Wall | None,
        rest: str,
        pflags: set[str] | None,
    ) -> bytes:
        """The JSON Lines line of the message whose header is on ``line_start`` (``rest``
        is its text after the header, ``pflags`` its own set of flags so far, added to
        here), counted by kind into ``self.counts``. With a time in an hour of a
        whole-hour offset it is written from the fields
        (:meth:`records.TextLines.line_in_hour`), with no Record built; else from the
        Record (``records.record_bytes``)."""
        fields = self._fields(line_start, time_raw, wall, rest, pflags)
        kind, _, _, sender, text, attachments, flags, subtype, extra, hour, second = fields
        self.counts[kind._value_] += 1
        if hour is not None:
            try:
                return self.lines.line_in_hour(
                    kind,
                    subtype,
                    hour,
                    second,
                    time_raw,
                    sender,
                    (),
                    text,
                    attachments,
                    flags,
                    line_start,
                    line_end,
                    byte_start,
                    byte_end,
                    extra,
                )
            except (TypeError, UnicodeEncodeError):
                pass  # record_bytes decides
        span = (line_start, line_end, byte_start, byte_end)
        return record_bytes(self._record(time_raw, span, fields))

    def _record(self, time_raw: str, span: tuple[int, int, int, int], fields: _Fields) -> Record:
        kind, utc, basis, sender, text, attachments, flags, subtype, extra, _, _ = fields
        return make_record(
            kind,
            "whatsapp",
            utc,
            time_raw,
            basis,
            make_locator(self.exhibit, self.path, *span, None, None, self.member),
            "whatsapp",
            self.version,
            sender,
            (),
            text,
            attachments,
            flags,
            subtype,
            self.title,
            extra,
        )

    def _fields(
        self, line_start: int, time_raw: str, wall: Wall | None, rest: str, pflags: set[str] | None
    ) -> _Fields:
        """A message's kind, time in UTC, zone basis, sender, text, attachments, flags,
        subtype and extra facts (see :meth:`line`); and, when its UTC hour starts on the
        hour, that hour's :func:`records.hour_text` and the seconds into it (else None)."""
        flags = pflags
        utc: datetime | None
        hour: str | None = None
        second = 0
        if wall is not None:
            key = wall[:4]
            try:
                start = self.hour_starts[key]
            except KeyError:
                if len(self.hour_starts) >= _CACHE_MAX:
                    self.hour_starts.clear()
                base = self._hour_start(*key)
                start = self.hour_starts[key] = None if base is None else (base, hour_text(base))
            if start is not None:
                second = wall[4] * 60 + wall[5]
                utc = start[0] + _SECONDS[second]
                hour = start[1]
            else:
                naive = datetime(*wall)  # noqa: DTZ001 - wall clock, localised here
                utc, tflags = localise(naive, self.zone)
                if tflags:
                    flags = flags or set()
                    flags.update(tflags)
            basis = self.basis
        else:
            utc, basis = None, TzBasis.UNKNOWN
            self.report.warnings.append(
                f"line {line_start}: {time_raw!r} is not a valid date and time"
                f"{_invalid_why(time_raw)}; the record is kept without a time"
            )
        kind = RecordKind.MESSAGE
        subtype: str | None = None
        sender: str | None = None
        extra: dict[str, JSON] | None = None
        attachments: tuple[Attachment, ...] = ()

        cut = rest.find(": ", 0, 102)
        name = rest[:cut] if cut > 0 else ""
        has_author = bool(name) and "\n" not in name
        unlisted = False
        if has_author:
            try:
                sender, unlisted = self.senders[name]
            except KeyError:
                sender, unlisted = self._sender(name)
            text = rest[cut + 2 :]
        else:
            text = rest
        core = text.strip()
        if not core.isascii() and _INVISIBLE_RE.search(core):
            core = strip_invisible(core).strip()
        ios_notice = text[:1] == "\u200e"

        if core[-1:] == ">" and core.endswith(EDITED_MARK):
            flags = flags or set()
            flags.add(Flag.EDITED.value)
            core = core[: -len(EDITED_MARK)].rstrip()
        lead = core[:1]
        if core in _DELETED:
            kind, subtype = RecordKind.SYSTEM, "deleted"
            flags = flags or set()
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
        if unlisted:
            extra = extra if extra is not None else {}
            extra["not_in_contacts"] = True

        return (
            kind,
            utc,
            basis,
            sender,
            text,
            attachments,
            frozenset(flags) if flags else _NO_FLAGS,
            subtype,
            extra if extra else _EMPTY_EXTRA,
            hour,
            second,
        )


_Fields = tuple[
    RecordKind,
    datetime | None,
    TzBasis,
    str | None,
    str,
    tuple[Attachment, ...],
    frozenset[str],
    str | None,
    Mapping[str, JSON],
    str | None,
    int,
]
"""What :meth:`_Builder._fields` makes of a message."""

_Emit = Callable[[int, int, int, int, str, Wall | None, str, set[str] | None], bytes]
"""What pass 2 gives each message to (``_Builder.line``)."""


def _flag_other_layouts(
    build: _Emit, others: tuple[Callable[[str], re.Match[str] | None], ...]
) -> _Emit:
    """``build``, flagging ``possible_inserted_line`` on a message one of whose
    continuation lines is a header of another layout (an iOS ``[date, time] Name:`` line
    in an Android export, an Android one in an iOS export...): no phone writes two
    layouts in one export, so such a line was typed or pasted in. Its text stays part of
    the message, as written."""

    def flagged(
        line_start: int,
        line_end: int,
        byte_start: int,
        byte_end: int,
        time_raw: str,
        wall: Wall | None,
        rest: str,
        pflags: set[str] | None,
    ) -> bytes:
        if line_end > line_start and any(search(rest) for search in others):
            pflags = pflags if pflags is not None else set()
            pflags.add(_INSERTED)
        return build(line_start, line_end, byte_start, byte_end, time_raw, wall, rest, pflags)

    return flagged


def _sniff_text(head: bytes) -> float:
    text = head.decode("utf-8", "ignore")
    lines = text.splitlines()[:200]
    if not lines:
        return 0.0
    if len(head) >= SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut short
    headers = [STYLES[style].match for style in STYLES]  # (compiled on the first sniff)
    hits = 0
    first_is_header = False
    for i, line in enumerate(lines):
        if any(match(line) for match in headers):
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
