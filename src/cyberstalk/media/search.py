"""Full-text search over every record (exports and OCR) with SQLite FTS5.

The index lives in ``derived/search.sqlite`` and is rebuilt whenever the files it was
built from change: a SHA-256 fingerprint over the names and bytes of
``derived/records/*.jsonl`` and ``derived/ocr/*.json`` is stored in the index and
compared on every search. Besides records, each screenshot's whole OCR text is indexed
(kind ``ocr_text``), so words outside chat bubbles are found too.

The tokenizer is ``unicode61 remove_diacritics 2``: "chysylltu â fi" is found by
"a fi", and Welsh circumflexes do not need typing. A query's words are each quoted, so
user text is never parsed as FTS5 syntax (all words must appear, in any order; a word
ending in ``*`` matches as a prefix).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cyberstalk.errors import CaseError, UsageError
from cyberstalk.hashing.fsutil import temp_beside
from cyberstalk.records import Locator, iter_record_dicts, records_dir

INDEX_NAME = "search.sqlite"
SCHEMA_VERSION = "1"


def index_path(derived: Path) -> Path:
    return derived / INDEX_NAME


def _sources(derived: Path) -> list[Path]:
    files = sorted(records_dir(derived).glob("*.jsonl")) if records_dir(derived).is_dir() else []
    ocr = derived / "ocr"
    if ocr.is_dir():
        files += sorted(ocr.glob("*.json"))
    return files


def fingerprint(derived: Path) -> str:
    """SHA-256 over the index's source files (relative names and contents)."""
    digest = hashlib.sha256(SCHEMA_VERSION.encode())
    for path in _sources(derived):
        digest.update(path.relative_to(derived).as_posix().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result."""

    record_id: str
    """Record id (or ``ocr-<ref>`` for a screenshot's whole OCR text)."""
    exhibit: str | None
    """Exhibit reference."""
    locator: str
    """Human form of the locator (``RE/2 line 14``)."""
    time_utc: str | None
    """ISO time in UTC, when the record has one."""
    kind: str
    """Record kind, or ``ocr_text``."""
    platform: str
    """Platform id."""
    sender: str | None
    """Sender as written."""
    snippet: str
    """The matching text with hits marked ``[like this]``."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.record_id,
            "exhibit": self.exhibit,
            "locator": self.locator,
            "time_utc": self.time_utc,
            "kind": self.kind,
            "platform": self.platform,
            "sender": self.sender,
            "snippet": self.snippet,
        }


def _ocr_docs(derived: Path) -> Iterator[dict[str, Any]]:
    folder = derived / "ocr"
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text("utf-8"))
        if not data.get("text"):
            continue
        ref = data.get("exhibit") or path.stem
        yield {
            "id": f"ocr-{path.stem}",
            "exhibit": ref,
            "locator": f"{ref} {data.get('original_name', '')} (whole OCR text)".strip(),
            "time_utc": None,
            "kind": "ocr_text",
            "platform": "screenshot",
            "sender": None,
            "conversation": None,
            "text": data["text"],
        }


def build_index(derived: Path) -> Path:
    """(Re)build the index from derived/ atomically; returns its path."""
    target = index_path(derived)
    tmp = temp_beside(target)
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fp = fingerprint(derived)
    con = sqlite3.connect(tmp)
    try:
        con.executescript(
            """
            CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
            CREATE TABLE docs(
                rowid INTEGER PRIMARY KEY, id TEXT, exhibit TEXT, locator TEXT,
                time_utc TEXT, kind TEXT, platform TEXT, sender TEXT, conversation TEXT,
                text TEXT);
            CREATE VIRTUAL TABLE fts USING fts5(
                text, sender, conversation, content='docs', content_rowid='rowid',
                tokenize='unicode61 remove_diacritics 2');
            """
        )
        rows: list[tuple[Any, ...]] = []
        for d in iter_record_dicts(derived):
            loc = Locator.from_dict(d.get("locator") or {"exhibit": None, "path": ""})
            rows.append(
                (
                    d.get("id"),
                    loc.exhibit,
                    loc.describe(),
                    d.get("time_utc"),
                    d.get("kind"),
                    d.get("platform"),
                    d.get("sender"),
                    d.get("conversation"),
                    d.get("text") or "",
                )
            )
        keys = ("id", "exhibit", "locator", "time_utc", "kind", "platform", "sender")
        for doc in _ocr_docs(derived):
            rows.append(tuple(doc[k] for k in (*keys, "conversation", "text")))
        con.executemany(
            "INSERT INTO docs(id, exhibit, locator, time_utc, kind, platform, sender, "
            "conversation, text) VALUES (?,?,?,?,?,?,?,?,?)",
            rows,
        )
        con.execute("INSERT INTO fts(fts) VALUES ('rebuild')")
        con.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (fp,))
        con.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        con.commit()
    except sqlite3.Error as exc:
        con.close()
        tmp.unlink(missing_ok=True)
        raise CaseError(
            f"cannot build the search index {target}: {exc}",
            advice="check that derived/ is writable and SQLite has FTS5",
        ) from exc
    con.close()
    tmp.replace(target)
    return target


def ensure_index(derived: Path) -> tuple[Path, bool]:
    """The index, rebuilt first when its sources changed. Returns (path, rebuilt)."""
    target = index_path(derived)
    if target.is_file():
        try:
            con = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
            try:
                row = con.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
            finally:
                con.close()
            if row and row[0] == fingerprint(derived):
                return target, False
        except sqlite3.Error:
            pass  # unreadable or old index: rebuild it
    return build_index(derived), True


def fts_query(text: str) -> str:
    """User words -> an FTS5 query where every word is a quoted string (AND)."""
    terms = []
    for word in text.split():
        prefix = word.endswith("*") and len(word) > 1
        core = word.rstrip("*") if prefix else word
        if not core:
            continue
        terms.append('"' + core.replace('"', '""') + '"' + ("*" if prefix else ""))
    if not terms:
        raise UsageError("the search text is empty", advice="give one or more words to look for")
    return " ".join(terms)


def search(derived: Path, text: str, *, limit: int = 100) -> tuple[list[Hit], bool]:
    """Records whose text, sender or conversation contain all the words, oldest first
    (undated last). Returns (hits, whether the index was rebuilt first)."""
    query = fts_query(text)
    target, rebuilt = ensure_index(derived)
    con = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    try:
        rows = con.execute(
            """
            SELECT d.id, d.exhibit, d.locator, d.time_utc, d.kind, d.platform, d.sender,
                   snippet(fts, 0, '[', ']', '…', 16)
            FROM fts JOIN docs d ON d.rowid = fts.rowid
            WHERE fts MATCH ?
            ORDER BY d.time_utc IS NULL, d.time_utc, d.exhibit, d.rowid
            LIMIT ?
            """,
            (query, limit),
        ).fetchall()
    except sqlite3.OperationalError as exc:
        raise UsageError(f"search text {text!r} could not be searched: {exc}") from exc
    finally:
        con.close()
    return [Hit(*row) for row in rows], rebuilt
