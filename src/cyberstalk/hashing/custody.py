"""The custody log: an append-only JSON Lines file in which every line carries the SHA-256
of the line before it (a hash chain). Every append is fsynced before it returns; the events
of a batch (an ingest records many at once) share one write and one fsync.

Removing, editing or reordering any line breaks the chain at that point, which
:func:`check_chain` reports. The log is the source of truth of a case: the manifest is a
pure function of its exhibit events (see :mod:`cyberstalk.hashing.manifest`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from cyberstalk.errors import CaseError

GENESIS = "0" * 64
"""The ``prev`` value of the first line."""


def line_hash(raw: bytes) -> str:
    """SHA-256 of one log line's bytes, without its trailing newline."""
    return hashlib.sha256(raw.rstrip(b"\n")).hexdigest()


def canonical_json(obj: Any) -> bytes:
    """The one JSON encoding used for hashed lines: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


class LogLine(NamedTuple):
    """One line of the log as read from disk."""

    number: int
    """1-based line number."""
    raw: bytes
    """The line's bytes without the newline."""
    event: dict[str, Any] | None
    """The parsed event, or None when the line is not valid JSON."""
    terminated: bool
    """False for a final line with no newline (a torn write)."""

    @property
    def sha256(self) -> str:
        return line_hash(self.raw)


def read_lines(path: Path) -> list[LogLine]:
    """Read every line of the log. Never raises for content problems: see check_chain."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    parts = data.split(b"\n")
    torn = parts[-1] != b""
    if not torn:
        parts.pop()
    lines: list[LogLine] = []
    for number, chunk in enumerate(parts, start=1):
        terminated = not (torn and number == len(parts))
        event: dict[str, Any] | None
        try:
            parsed = json.loads(chunk.decode("utf-8"))
            event = parsed if isinstance(parsed, dict) else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            event = None
        lines.append(LogLine(number, chunk, event, terminated))
    return lines


def check_chain(lines: list[LogLine]) -> list[str]:
    """Every problem with the chain, as sentences naming the line. Empty means intact."""
    problems: list[str] = []
    prev = GENESIS
    for line in lines:
        where = f"custody.jsonl line {line.number}"
        if not line.terminated:
            problems.append(f"{where}: final line has no newline (a write was interrupted)")
        if line.event is None:
            problems.append(f"{where}: not a JSON object (edited or corrupted)")
        else:
            if line.event.get("prev") != prev:
                problems.append(
                    f"{where}: hash chain broken: 'prev' is {line.event.get('prev')!r}, the line "
                    f"before hashes to {prev!r} (a line was removed, edited or reordered)"
                )
            if line.event.get("seq") != line.number:
                problems.append(
                    f"{where}: sequence number is {line.event.get('seq')!r}, expected "
                    f"{line.number} (lines removed or reordered)"
                )
        prev = line.sha256
    return problems


class CustodyLog:
    """Appends events to ``custody.jsonl``. The caller holds the case lock."""

    def __init__(self, path: Path, *, tool: str, actor: str) -> None:
        self.path = path
        self.tool = tool
        self.actor = actor
        # (file size, line count, last line hash, torn) after our last read or write:
        # re-reading the whole log for every append would make big ingests quadratic.
        self._cache: tuple[int, int, str, bool] | None = None
        self._lines: list[LogLine] | None = None
        self._lines_size = -1

    def lines(self) -> list[LogLine]:
        """Every line, read once and then kept up to date by our own appends."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            size = 0
        if self._lines is None or size != self._lines_size:
            self._lines = read_lines(self.path)
            self._lines_size = size
        return self._lines

    def _state(self) -> tuple[int, str, bool]:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            size = 0
        if self._cache is not None and self._cache[0] == size:
            return self._cache[1], self._cache[2], self._cache[3]
        if self._lines is not None and self._lines_size == size:
            lines = self._lines  # read by lines() since: the log has not changed
        else:
            lines = read_lines(self.path)
        count = len(lines)
        prev = lines[-1].sha256 if lines else GENESIS
        torn = bool(lines) and not lines[-1].terminated
        self._cache = (size, count, prev, torn)
        return count, prev, torn

    def head(self) -> tuple[int, str]:
        """(number of lines, SHA-256 of the last line) as on disk now."""
        count, prev, _ = self._state()
        return count, prev

    def append(
        self,
        event: str,
        details: Mapping[str, Any] | None = None,
        *,
        time: datetime | None = None,
    ) -> dict[str, Any]:
        """Append one event and fsync it. Returns the event as written."""
        return self.append_many([(event, details)], time=time)[0]

    def append_many(
        self,
        batch: list[tuple[str, Mapping[str, Any] | None]],
        *,
        time: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Append ``(event, details)`` pairs in order, chained as if appended one by one,
        with one write() and one fsync. Returns the events as written.

        A power cut during the write can keep a prefix of the lines, the last one torn, as
        with a single line: verify names the torn line and the next append ends it.
        """
        count, prev, torn = self._state()
        records: list[dict[str, Any]] = []
        encoded: list[bytes] = []
        for offset, (event, details) in enumerate(batch):
            when = (time or datetime.now(UTC)).astimezone(UTC)
            record: dict[str, Any] = {
                "seq": count + offset + 1,
                "time": when.isoformat(timespec="microseconds"),
                "event": event,
                "actor": self.actor,
                "tool": self.tool,
                "prev": prev,
                "details": dict(details or {}),
            }
            raw = canonical_json(record)
            prev = line_hash(raw)
            records.append(record)
            encoded.append(raw)
        if not records:
            return []
        data = b"".join(raw + b"\n" for raw in encoded)
        if torn:
            # A previous write was cut short (power loss): end that line so these stay
            # whole. verify keeps reporting the torn line; nothing is rewritten.
            data = b"\n" + data
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            raise CaseError(
                f"cannot append to custody log {self.path}: {exc.strerror}",
                advice="check that the case folder is writable and the disk is not full",
            ) from exc
        try:
            # One write() of every line: a kill leaves each whole or absent.
            written = os.write(fd, data)
            if written != len(data):
                raise CaseError(f"short write to custody log {self.path}")
            os.fsync(fd)
            size = os.fstat(fd).st_size
        except OSError as exc:
            raise CaseError(
                f"cannot append to custody log {self.path}: {exc.strerror}",
                advice="free disk space, then re-run the command; recorded events are intact",
            ) from exc
        finally:
            os.close(fd)
        self._cache = (size, count + len(records), prev, False)
        if self._lines is not None and self._lines_size + len(data) == size and not torn:
            for offset, (raw, record) in enumerate(zip(encoded, records, strict=True)):
                self._lines.append(LogLine(count + offset + 1, raw, record, True))
            self._lines_size = size
        return records


def events(lines: list[LogLine]) -> list[dict[str, Any]]:
    """The parsed events of intact lines, in order."""
    return [line.event for line in lines if line.event is not None]
