"""Reading JSON exports so that a fault still yields what came before it.

Social-media exports (Meta, Discord, Snapchat, X) are single JSON documents. ``json.load``
is all-or-nothing: a file cut short by a failed download gives no records at all and an
error without the records that *were* readable. This module walks the outer containers of
the document by hand (down to a depth the parser chooses) and hands each inner item to the
C decoder whole. On a fault it keeps every complete item decoded so far, so the parser can
emit those records and then raise a :class:`~cyberstalk.errors.ParseError` that says where
the fault is (line and column) and how many records came before it.

Limits, each giving a clear error rather than a crash:

- files larger than :data:`MAX_BYTES` (override with the parser option ``max_bytes``) are
  refused before reading, because the document is held in memory;
- invalid UTF-8 is reported at its byte offset (line and column), and items before it are
  still read;
- nesting deeper than the interpreter's recursion limit and integers longer than Python's
  4,300-digit conversion limit are reported at the item that holds them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cyberstalk.errors import ParseError
from cyberstalk.parsers.base import ParseContext, Source

MAX_BYTES = 256 * 1024 * 1024
"""Size cap for one JSON export file (256 MiB). Meta pages threads at about 10,000
messages per ``message_N.json`` (a few MB); a larger file is almost certainly not a
message export, and the whole document must fit in memory."""

_WS = " \t\n\r"
_DECODER = json.JSONDecoder()
_TRUNCATED = "the file ends in the middle of the JSON document (truncated?)"


class _Fault(Exception):
    """A syntax fault at ``pos``; ``partial`` holds what was complete before it."""

    def __init__(self, message: str, pos: int, partial: Any) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.partial = partial


@dataclass
class Fault:
    """Where and why a document could not be read to the end."""

    message: str
    """What is wrong."""
    position: str
    """``line L, column C`` (and the byte offset for encoding faults)."""
    advice: str
    """One sentence for the user."""

    def error(self, source: Source, records_before_fault: int) -> ParseError:
        """The error to raise once the records before the fault have been emitted."""
        before = (
            f"; {records_before_fault} record{'s' if records_before_fault != 1 else ''} "
            "before the fault were read"
        )
        return ParseError(
            self.message + before,
            path=source.name,
            position=self.position,
            advice=self.advice,
            records_before_fault=records_before_fault,
        )


@dataclass
class Loaded:
    """A decoded document (complete, or the part before a fault) and the fault if any."""

    value: Any
    """The decoded value; on a fault, the containers hold only the complete items."""
    fault: Fault | None
    """Set when the document could not be read to the end."""
    text: str
    """The decoded text (for positions)."""


def top_level(
    loaded: Loaded,
    source: Source,
    kind: type,
    *,
    expected: str,
    advice: str,
    position: str | None = "line 1, column 1",
) -> Any:
    """The document's top-level value when it is a ``kind``.

    Otherwise the file's own fault is raised when it broke before its top level was read,
    else a ParseError saying what was ``expected`` and what was found.
    """
    value = loaded.value
    if isinstance(value, kind):
        return value
    if loaded.fault is not None:
        raise loaded.fault.error(source, 0)
    raise ParseError(
        f"expected {expected}, found {type(value).__name__}",
        path=source.name,
        position=position,
        advice=advice,
        records_before_fault=0,
    )


def line_col(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column of character offset ``pos``."""
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


def max_bytes(ctx: ParseContext) -> int:
    raw = ctx.options.get("max_bytes")
    if raw is None:
        return MAX_BYTES
    try:
        return int(raw)
    except ValueError:
        return MAX_BYTES


def read_bytes(source: Source, ctx: ParseContext) -> bytes:
    """The file's bytes, refusing files over the size cap before reading them."""
    cap = max_bytes(ctx)
    try:
        size = source.path.stat().st_size
    except OSError as exc:
        raise ParseError(f"cannot read the file: {exc.strerror}", path=source.name) from None
    if size > cap:
        raise ParseError(
            f"file is {size:,} bytes, over the {cap:,}-byte limit for a JSON export",
            path=source.name,
            advice="check this really is a message export; raise the limit with the "
            "parser option max_bytes if it is",
            records_before_fault=0,
        )
    with source.open() as fh:
        # read(n) allocates n bytes up front: ask for the size seen, not the cap.
        data = fh.read(size + 1)
    if len(data) > cap:
        raise ParseError(
            f"file grew past the {cap:,}-byte limit while being read",
            path=source.name,
            advice="parse a stored copy that is not being written to",
            records_before_fault=0,
        )
    return data


def load(
    source: Source,
    ctx: ParseContext,
    *,
    depth: int,
    start: int = 0,
    data: bytes | None = None,
) -> Loaded:
    """Decode the JSON document in ``source`` (from character ``start``).

    ``depth`` is how many levels of containers are walked by hand: items below that depth
    are decoded whole, so a fault inside one item drops that item only.
    """
    raw = read_bytes(source, ctx) if data is None else data
    bom = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    encoding_fault: Fault | None = None
    try:
        text = raw[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + bom
        line = raw.count(b"\n", 0, offset) + 1
        col = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
        encoding_fault = Fault(
            f"invalid UTF-8 (byte 0x{raw[offset]:02x} at offset {offset})",
            f"line {line}, column {col}",
            "the file is damaged or was re-saved in another encoding; obtain a fresh copy "
            "of the export",
        )
        text = raw[bom:offset].decode("utf-8")
    if encoding_fault is None and not text[start:].strip(_WS):
        return Loaded(
            None,
            Fault(
                "the file is empty: no JSON document in it",
                "line 1, column 1",
                "the export was not saved or not downloaded completely; obtain it again",
            ),
            text,
        )
    value, fault = _load_text(text, start, depth)
    if encoding_fault is not None:
        fault = encoding_fault
    return Loaded(value, fault, text)


def load_text(text: str, *, depth: int, start: int = 0) -> Loaded:
    """As :func:`load`, for text already in memory (tests, sniffing)."""
    value, fault = _load_text(text, start, depth)
    return Loaded(value, fault, text)


def _load_text(text: str, start: int, depth: int) -> tuple[Any, Fault | None]:
    try:
        value, pos = _value(text, start, depth)
        pos = _skip(text, pos)
        if pos < len(text) and text[pos] == ";":  # X's .js files may end with one
            pos = _skip(text, pos + 1)
        if pos < len(text):
            raise _Fault("unexpected data after the end of the JSON document", pos, value)
    except _Fault as fault:
        line, col = line_col(text, fault.pos)
        advice = (
            "the export looks cut short; download it again or check the copy"
            if fault.pos >= len(text)
            else "the file is not valid JSON at that point; compare it with the original download"
        )
        return fault.partial, Fault(fault.message, f"line {line}, column {col}", advice)
    return value, None


def _decode_fault(exc: json.JSONDecodeError, text: str, partial: Any) -> _Fault:
    # An unterminated string runs to the end of the text: the file was cut short there.
    if exc.pos >= len(text) or exc.msg.startswith("Unterminated string"):
        return _Fault(_TRUNCATED, len(text), partial)
    return _Fault(f"invalid JSON: {exc.msg}", exc.pos, partial)


def _skip(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] in _WS:
        pos += 1
    return pos


def _value(text: str, pos: int, depth: int) -> tuple[Any, int]:
    pos = _skip(text, pos)
    if pos >= len(text):
        raise _Fault(_TRUNCATED, pos, None)
    char = text[pos]
    if depth > 0 and char == "{":
        return _object(text, pos + 1, depth - 1)
    if depth > 0 and char == "[":
        return _array(text, pos + 1, depth - 1)
    try:
        return _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        raise _decode_fault(exc, text, None) from None
    except RecursionError:
        raise _Fault("JSON nested too deeply to read safely", pos, None) from None
    except ValueError as exc:  # e.g. an integer over the 4,300-digit conversion limit
        raise _Fault(f"unreadable JSON value ({exc})", pos, None) from None


def _object(text: str, pos: int, depth: int) -> tuple[dict[str, Any], int]:
    obj: dict[str, Any] = {}
    n = len(text)
    pos = _skip(text, pos)
    if pos < n and text[pos] == "}":
        return obj, pos + 1
    while True:
        pos = _skip(text, pos)
        if pos >= n:
            raise _Fault(_TRUNCATED, pos, obj)
        if text[pos] != '"':
            raise _Fault("invalid JSON: expected a property name in double quotes", pos, obj)
        try:
            key, pos = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise _decode_fault(exc, text, obj) from None
        pos = _skip(text, pos)
        if pos >= n:
            raise _Fault(_TRUNCATED, pos, obj)
        if text[pos] != ":":
            raise _Fault("invalid JSON: expected ':' after a property name", pos, obj)
        try:
            value, pos = _value(text, pos + 1, depth)
        except _Fault as fault:
            if fault.partial is not None:
                obj[key] = fault.partial
            raise _Fault(fault.message, fault.pos, obj) from None
        obj[key] = value
        pos = _skip(text, pos)
        if pos >= n:
            raise _Fault(_TRUNCATED, pos, obj)
        if text[pos] == ",":
            pos += 1
            continue
        if text[pos] == "}":
            return obj, pos + 1
        raise _Fault("invalid JSON: expected ',' or '}'", pos, obj)


def _array(text: str, pos: int, depth: int) -> tuple[list[Any], int]:
    items: list[Any] = []
    n = len(text)
    pos = _skip(text, pos)
    if pos < n and text[pos] == "]":
        return items, pos + 1
    while True:
        try:
            value, pos = _value(text, pos, depth)
        except _Fault as fault:
            if fault.partial is not None:
                items.append(fault.partial)
            raise _Fault(fault.message, fault.pos, items) from None
        items.append(value)
        pos = _skip(text, pos)
        if pos >= n:
            raise _Fault(_TRUNCATED, pos, items)
        if text[pos] == ",":
            pos += 1
            continue
        if text[pos] == "]":
            return items, pos + 1
        raise _Fault("invalid JSON: expected ',' or ']'", pos, items)


def head_text(source: Source) -> str:
    """The sniffing window as text (a cut multi-byte character at the end is dropped)."""
    head = source.head()
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return head.decode("utf-8", errors="ignore")
