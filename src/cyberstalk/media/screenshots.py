"""Chat lines read from a screenshot's OCR become ``screenshot_text`` records.

How a screen is read (top to bottom, using each OCR line's box):

- The top eighth of the screen is the status bar (a clock, a battery percentage) and the
  app bar; the first line there that is not status-bar-like is the conversation title.
- A centred line that reads as a date ("12 January 2026", "20 Ionawr 2026", "1 Feb 2026,
  20:00", "12/01/2026", "Today", "Ddoe") is a date header: it dates the bubbles below it.
  When it also shows a time (Instagram style), bubbles without their own time get it.
- Lines ending in a time ("23:58", "9:43 pm", OCR'd "23.10") close a chat bubble; the
  lines since the previous bubble are its text. A vertical gap larger than a text line
  also separates bubbles.
- A bubble whose left edge is well away from the left margin is outgoing (sent from the
  phone that took the screenshot); otherwise incoming, from the conversation title. A
  first line "Name: text" names the sender (group chats).

Times are minute-precision wall-clock times read by OCR: records carry flag ``ocr``, their
OCR confidence, how the date was found (``date_source``) and ``time_basis``. They are
never exact, and a time without any date gets no ``time_utc`` at all.
"""

from __future__ import annotations

import difflib
import re
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from cyberstalk.records import Flag, Locator, Record, RecordKind, TzBasis
from cyberstalk.records.times import ZoneChoice, localise

PARSER = "media.screenshot"
PARSER_VERSION = "2"
PLATFORM = "screenshot"

TOP_ZONE = 0.125
"""Fraction of the screen height holding the status bar and the app bar."""
CENTRE_TOLERANCE = 0.12
"""A date header's centre lies within this fraction of the width from the middle."""
OUTGOING_LEFT = 0.15
"""A bubble starting further right than this fraction of the width is outgoing."""

_TIME = r"(?P<h>[01]?\d|2[0-3])\s?[:.\-]\s?(?P<m>[0-5]\d)(?:\s?(?P<ap>[AaPp])\.?\s?[Mm]\.?)?"
TIME_TAIL_RE = re.compile(r"(?:^|\s)" + _TIME + r"(?:\s+[vV✓/]{1,3})?\s*$")
HEADER_TIME_RE = re.compile(r"^" + _TIME + r"$")
STATUS_RE = re.compile(r"^\s*\d{1,2}[:.]\d{2}\b|\d{1,3}\s?%")

MONTHS: dict[str, int] = {}
for _n, _names in enumerate(
    (
        ("january", "jan", "ionawr", "ion"),
        ("february", "feb", "chwefror", "chwef"),
        ("march", "mar", "mawrth", "maw"),
        ("april", "apr", "ebrill", "ebr"),
        ("may", "mai"),
        ("june", "jun", "mehefin", "meh"),
        ("july", "jul", "gorffennaf", "gorff", "gor"),
        ("august", "aug", "awst"),
        ("september", "sep", "sept", "medi"),
        ("october", "oct", "hydref", "hyd"),
        ("november", "nov", "tachwedd", "tach"),
        ("december", "dec", "rhagfyr", "rhag"),
    ),
    1,
):
    for _name in _names:
        MONTHS[_name] = _n

RELATIVE_DAYS = {"today": 0, "heddiw": 0, "yesterday": -1, "ddoe": -1}

_WD = r"(?:(?P<wd>[^\W\d_]+(?:\s[^\W\d_]+)?),?\s+)?"
_TAIL = r"(?:,?\s+(?:at\s+|am\s+)?(?P<t>\S+(?:\s?[AaPp]\.?\s?[Mm]\.?)?))?"
DATE_PATTERNS = (
    re.compile(
        r"^" + _WD + r"(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mon>[^\W\d_]+)\.?"
        r"(?:,?\s+(?P<y>\d{4}))?" + _TAIL + r"$"
    ),
    re.compile(
        r"^" + _WD + r"(?P<mon>[^\W\d_]+)\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?"
        r"(?:,?\s+(?P<y>\d{4}))?" + _TAIL + r"$"
    ),
    re.compile(r"^" + _WD + r"(?P<d>\d{1,2})/(?P<mo>\d{1,2})/(?P<y>\d{4})" + _TAIL + r"$"),
    re.compile(r"^(?P<rel>[^\W\d_]+)" + _TAIL + r"$"),
)


SCREENSHOT_NAME_RE = re.compile(
    r"^screen\s?shot[_ -]*(?P<y>20\d{2})-?(?P<mo>\d{2})-?(?P<d>\d{2})(?:[-_ ]|\s+at\s+)"
    r"(?P<h>\d{1,2})[-.:]?(?P<mi>\d{2})[-.:]?(?P<s>\d{2})(?:\s?(?P<ap>[AaPp][Mm]))?",
    re.IGNORECASE,
)
"""The capture time phones and computers put in a screenshot's file name:
``Screenshot_20240514-214700.png`` (Android), ``Screenshot_2024-05-14-21-47-00-123_com.
whatsapp.jpg`` (Samsung), ``Screenshot 2024-05-14 at 21.47.00.png`` (macOS)."""


def capture_from_name(name: str) -> dict[str, Any] | None:
    """A capture-time record (as :func:`media.metadata.capture_time` gives) from a
    screenshot's file name, or None when the name holds no valid date and time."""
    m = SCREENSHOT_NAME_RE.match(name.rsplit("/", 1)[-1])
    if m is None:
        return None
    hour = int(m["h"])
    if m["ap"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m["ap"].lower() == "pm" else 0)
    try:
        when = datetime(  # noqa: DTZ001 - the phone's wall clock, localised by the reader
            int(m["y"]), int(m["mo"]), int(m["d"]), hour, int(m["mi"]), int(m["s"])
        )
    except ValueError:
        return None
    return {
        "tag": "screenshot file name",
        "raw": when.strftime("%Y-%m-%d %H:%M:%S"),
        "name": m.group(0),
        "local_date": when.date().isoformat(),
    }


def month_number(token: str) -> int | None:
    """Month from an English or Welsh name or abbreviation, tolerant of OCR's I/l mix-up."""
    word = token.lower().strip(".")
    for candidate in (word, "i" + word[1:] if word.startswith("l") else word):
        if candidate in MONTHS:
            return MONTHS[candidate]
    if len(word) >= 4:
        close = difflib.get_close_matches(word, [k for k in MONTHS if len(k) >= 4], 1, 0.8)
        if close:
            return MONTHS[close[0]]
    return None


def parse_clock(h: str, m: str, ap: str | None) -> tuple[int, int] | None:
    hour, minute = int(h), int(m)
    if ap:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ap.lower() == "p" else 0)
    return hour, minute


@dataclass(frozen=True, slots=True)
class DateHeader:
    """A date (and maybe a time) read from a centred on-screen header."""

    raw: str
    day: date | None
    clock: tuple[int, int] | None
    clock_raw: str | None
    relative: bool = False


def parse_date_header(text: str, capture_date: date | None) -> DateHeader | None:
    """Read an on-screen date header; None when the line is not one."""
    clean = " ".join(text.replace("|", "I").split())
    for pattern in DATE_PATTERNS:
        m = pattern.match(clean)
        if not m:
            continue
        groups = m.groupdict()
        clock = None
        clock_raw = groups.get("t")
        if clock_raw:
            tm = HEADER_TIME_RE.match(clock_raw.strip())
            if not tm:
                continue
            clock = parse_clock(tm.group("h"), tm.group("m"), tm.group("ap"))
            if clock is None:
                continue
        if groups.get("rel") is not None:
            offset = RELATIVE_DAYS.get(groups["rel"].lower())
            if offset is None:
                continue
            day = capture_date + timedelta(days=offset) if capture_date else None
            return DateHeader(clean, day, clock, clock_raw, relative=True)
        if groups.get("mo"):
            month: int | None = int(groups["mo"])
        else:
            month = month_number(groups["mon"])
        if month is None:
            continue
        year = int(groups["y"]) if groups.get("y") else None
        if year is None:
            if capture_date is None:
                return DateHeader(clean, None, clock, clock_raw)
            year = capture_date.year
            try:
                if date(year, month, int(groups["d"])) > capture_date:
                    year -= 1  # a year-less header dates the past, never the future
            except ValueError:
                continue
        try:
            day = date(year, month, int(groups["d"]))
        except ValueError:
            continue
        return DateHeader(clean, day, clock, clock_raw)
    return None


def _fix_ocr(text: str) -> tuple[str, list[str]]:
    """Corrections tesseract needs on chat text, each recorded: a lone '|' is 'I'."""
    fixes: list[str] = []
    lines = []
    for line in text.split("\n"):
        words = line.split(" ")
        for i, word in enumerate(words):
            if word == "|":
                words[i] = "I"
                fixes.append("'|' read as 'I'")
        lines.append(" ".join(words))
    return "\n".join(lines), fixes


@dataclass
class _Bubble:
    lines: list[dict[str, Any]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ImageContext:
    """What the chat reader knows about the image besides its OCR lines."""

    ref: str
    """Exhibit reference."""
    name: str
    """Original file name (shown in locators)."""
    width: int
    """Image width in pixels (of the OCR'd image)."""
    height: int
    """Image height in pixels."""
    sha256: str
    """SHA-256 of the exhibit."""
    capture: dict[str, Any] | None
    """Capture time from metadata (see media.metadata.capture_time)."""
    member: str | None = None
    """Archive member name when the image came from an archive."""


def read_chat(
    ocr: dict[str, Any], ctx: ImageContext, zone: ZoneChoice
) -> tuple[list[Record], dict[str, Any]]:
    """Chat records from one screenshot's OCR result, and a report of what was skipped."""
    lines: list[dict[str, Any]] = list(ocr.get("lines", []))
    skipped: list[list[str]] = []
    top_limit = ctx.height * TOP_ZONE

    def centre_y(ln: dict[str, Any]) -> float:
        return float(ln["box"][1] + ln["box"][3] / 2)

    # The top of the screen holds the status bar (clock, battery), then the app bar: the
    # conversation title and maybe a subtitle under it ("online", "last seen ..."). Only
    # those are taken out; any other line, even high up on a short or cropped screenshot,
    # is chat text (the first message can sit inside the top eighth).
    title = None
    chrome: set[int] = set()
    title_box: list[int] | None = None
    for ln in sorted(lines, key=lambda ln: (ln["box"][1], ln["box"][0])):
        if centre_y(ln) >= top_limit:
            break
        if title_box is None:
            chrome.add(id(ln))
            if STATUS_RE.search(ln["text"]) or sum(c.isalpha() for c in ln["text"]) < 2:
                continue
            title = ln["text"].strip()
            title_box = ln["box"]
            continue
        if title_box[1] <= centre_y(ln) <= title_box[1] + title_box[3]:
            chrome.add(id(ln))  # on the title's row: app-bar icons read as text
            continue
        below = ln["box"][1] - (title_box[1] + title_box[3])
        if below <= title_box[3] and abs(ln["box"][0] - title_box[0]) <= ctx.width * 0.03:
            chrome.add(id(ln))  # the subtitle, set under the title and aligned with it
        break
    body = [ln for ln in lines if id(ln) not in chrome]

    capture = ctx.capture or capture_from_name(ctx.name) or {}
    capture_date = date.fromisoformat(capture["local_date"]) if capture.get("local_date") else None
    capture_clock = None
    if capture.get("raw"):
        mt = re.search(r"[ T](\d{2}):(\d{2})", capture["raw"])
        if mt:
            capture_clock = (int(mt.group(1)), int(mt.group(2)))

    heights = [ln["box"][3] for ln in body] or [20]
    gap_limit = statistics.median(heights)
    records: list[Record] = []
    header: DateHeader | None = None
    bubble = _Bubble()
    last_bottom: int | None = None

    def emit(b: _Bubble, clock: tuple[int, int], clock_raw: str, from_header: bool) -> None:
        text, fixes = _fix_ocr("\n".join(b.texts))
        sender = None
        sender_basis = None
        left = min(ln["box"][0] for ln in b.lines)
        direction = "outgoing" if left > ctx.width * OUTGOING_LEFT else "incoming"
        named = re.match(r"^([A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,2}):\s+(\S.*)$", text, re.S)
        if named:
            sender, text = named.group(1), text[named.end(1) + 1 :].lstrip()
            sender_basis = "name shown in the bubble"
        elif direction == "incoming" and title:
            sender, sender_basis = title, "incoming bubble: the conversation title"
        elif direction == "outgoing":
            sender_basis = "outgoing bubble: the owner of the phone that took the screenshot"
        confs = [w["confidence"] for ln in b.lines for w in ln["words"] if w["confidence"] >= 0]
        x0 = min(ln["box"][0] for ln in b.lines)
        y0 = min(ln["box"][1] for ln in b.lines)
        x1 = max(ln["box"][0] + ln["box"][2] for ln in b.lines)
        y1 = max(ln["box"][1] + ln["box"][3] for ln in b.lines)
        extra: dict[str, Any] = {
            "confidence": round(sum(confs) / len(confs) / 100, 3) if confs else 0.0,
            "region": [x0, y0, x1 - x0, y1 - y0],
            "ocr_lines": [ln["n"] for ln in b.lines],
            "time_precision": "minute",
            "image_sha256": ctx.sha256,
            "sender_basis": sender_basis,
        }
        if fixes:
            extra["ocr_corrections"] = fixes
        day: date | None = None
        if header is not None and header.day is not None:
            day = header.day
            if header.relative:
                extra["date_source"] = "on-screen relative date header and the image metadata date"
            elif from_header:
                extra["date_source"] = "on-screen date-time header"
            else:
                extra["date_source"] = "on-screen date header"
            extra["date_raw"] = header.raw
        elif header is not None:
            extra["date_source"] = None
            extra["date_raw"] = header.raw
        elif capture_date is not None:
            day = capture_date
            if capture.get("tag") == "screenshot file name":
                extra["date_source"] = "the screenshot's file name (its capture time)"
                extra["date_raw"] = capture.get("name")
            else:
                extra["date_source"] = f"image metadata ({capture.get('tag')})"
                extra["date_raw"] = capture.get("raw")
            if capture_clock is not None and clock > capture_clock:
                day = None
                extra["date_note"] = (
                    f"on-screen time {clock_raw} is later than the capture time "
                    f"{capture_clock[0]:02d}:{capture_clock[1]:02d}: the message is from an "
                    "earlier day than the capture date, which one is not shown"
                )
        else:
            extra["date_source"] = None
        time_utc = None
        tz_basis = TzBasis.UNKNOWN
        flags = {Flag.OCR.value}
        when_what = (
            f"the date-time header {header.raw!r} above the message (sent at or after it)"
            if from_header and header is not None
            else f"the on-screen time {clock_raw!r}"
        )
        if day is not None:
            naive = datetime.combine(day, time(*clock))
            time_utc, dst = localise(naive, zone.zone)
            flags |= dst
            tz_basis = zone.basis
            extra["time_basis"] = "on_screen_header_time" if from_header else "on_screen_time"
            extra["time_note"] = (
                f"OCR of {when_what}, to the minute, dated by {extra['date_source']}; read as "
                f"wall-clock time in {zone.zone.key} ({zone.basis.value.replace('_', ' ')}). "
                "Approximate, never exact."
            )
        else:
            extra["time_basis"] = "on_screen_time_without_date"
            extra["time_note"] = f"OCR of {when_what}; no date is known, so no instant is given."
        records.append(
            Record(
                kind=RecordKind.SCREENSHOT_TEXT,
                platform=PLATFORM,
                time_utc=time_utc,
                time_raw=clock_raw,
                tz_basis=tz_basis,
                locator=Locator(
                    exhibit=ctx.ref,
                    path=ctx.name,
                    line_start=b.lines[0]["n"],
                    line_end=b.lines[-1]["n"],
                    member=ctx.member,
                ),
                parser=PARSER,
                parser_version=PARSER_VERSION,
                sender=sender,
                recipients=(title,) if direction == "outgoing" and title else (),
                text=text,
                flags=frozenset(flags),
                subtype=direction,
                conversation=title,
                extra=extra,
            )
        )

    def flush() -> None:
        nonlocal bubble
        if bubble.lines:
            if header is not None and header.clock is not None and header.clock_raw:
                emit(bubble, header.clock, header.clock_raw, from_header=True)
            else:
                first, last = bubble.lines[0]["n"], bubble.lines[-1]["n"]
                skipped.append([f"OCR lines {first}-{last}", "chat text with no visible time"])
        bubble = _Bubble()

    for ln in body:
        text = ln["text"].strip()
        box = ln["box"]
        centre_x = box[0] + box[2] / 2
        if abs(centre_x - ctx.width / 2) < ctx.width * CENTRE_TOLERANCE:
            parsed = parse_date_header(text, capture_date)
            if parsed is not None:
                flush()
                header = parsed
                last_bottom = box[1] + box[3]
                continue
        if bubble.lines and last_bottom is not None and box[1] - last_bottom > gap_limit:
            flush()
        last_bottom = box[1] + box[3]
        m = TIME_TAIL_RE.search(text)
        if m:
            clock = parse_clock(m.group("h"), m.group("m"), m.group("ap"))
            rest = text[: m.start()].strip()
            if rest:
                bubble.lines.append(ln)
                bubble.texts.append(rest)
            elif bubble.lines:
                bubble.lines.append(ln)
            if clock is not None and bubble.lines:
                emit(bubble, clock, m.group(0).strip(), from_header=False)
                bubble = _Bubble()
            continue
        bubble.lines.append(ln)
        bubble.texts.append(text)
    flush()

    report = {
        "parser": PARSER,
        "version": PARSER_VERSION,
        "records": {RecordKind.SCREENSHOT_TEXT.value: len(records)} if records else {},
        "skipped": skipped,
        "warnings": [],
        "conversation": title,
        "ocr_lines": len(lines),
    }
    return records, report
