"""Ingest: take files, folders and zip archives into a case as exhibits.

Every original is opened once, without following links, and must be a regular file. It is
copied into ``evidence/`` while its digests are computed in the same read pass; the copy is
fsynced, renamed into place, made read-only, and only then recorded in the custody log.
The manifest is re-sealed (rebuilt from the log, written atomically, signed) after each
archive, at the end, and in between at most once every SEAL_INTERVAL (less often as seals
grow slower, see SEAL_SHARE). Copying, hashing, fsyncing and recording run at once in
separate threads (see ``_Ingest``).

Crash safety: the log is the source of truth. A kill at any moment leaves either
(a) a partial copy under ``evidence/.incoming/``, or (b) a stored file with no log event,
or (c) a log event the manifest does not yet show. ``verify`` names each of these; the
next write command recovers (a) and (b) by removing the unrecorded copies, logging what it
removed, and (c) by re-sealing. Re-running the same ingest then completes it: an item whose
content, path and source are already recorded is skipped, so no exhibit is made twice.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import itertools
import os
import queue
import re
import stat
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from cyberstalk.case import Case, tool_string
from cyberstalk.errors import ArchiveError, CaseError, IngestError, UsageError
from cyberstalk.hashing.copier import Copy, CopyPool, copy_and_hash, make_durable, open_output
from cyberstalk.hashing.custody import CustodyLog, LogLine, events
from cyberstalk.hashing.digest import Digests, FileIdentity, Hashers, open_regular
from cyberstalk.hashing.fsutil import fsync_dir
from cyberstalk.hashing.manifest import MANIFEST_EVENTS, load_manifest
from cyberstalk.intake.archive import ArchiveLimits, Member, list_members, open_zip, stream_member
from cyberstalk.intake.filetype import extension_disagrees, mime_from_extension, mime_of

if TYPE_CHECKING:
    import zipfile

    from cyberstalk.hashing.signing import PrivateKey

PIPELINE_DEPTH = 16
"""Copies that may wait to be recorded while later files are copied; also the largest
batch the recorder makes durable with one directory fsync."""
FINISHERS = 4
"""Threads that fsync and type finished copies (each thread has its own libmagic handle).
An fsync mostly waits on the device and typing a file takes a few ms of CPU: with several
threads, the waits of a submission of many small files overlap instead of adding up (a
submission of large files is bound by copying, and gains nothing)."""
SEAL_INTERVAL = 0.5
"""Least seconds between manifest seals during a long ingest (see _Ingest.reseal)."""
SEAL_SHARE = 0.1
"""Largest share of the recorder's time that interim seals may take. A seal rebuilds the
whole manifest from the log, so it costs more as the case grows: sealed every
SEAL_INTERVAL regardless, interim seals would take most of the time of an ingest of tens of
thousands of small files."""
INCOMING = ".incoming"
"""Folder under evidence/ for copies not yet recorded (removed by recovery)."""
SNIFF = 64 * 1024
ZIP_TYPES = ("application/zip", "application/x-zip-compressed")
_EXT_RE = re.compile(r"\.[a-z0-9]{1,8}")

Progress = Callable[[str, dict[str, Any]], None]
"""progress(kind, info): kinds are ``start`` (total_bytes, items), ``bytes`` (n),
``item`` (result) and ``recovered`` (message)."""


class IngestOptions(NamedTuple):
    """What an ingest records about who, where from and how."""

    source: str
    """How the submission arrived (e.g. "USB stick from victim, sealed bag SB123")."""
    operator: str
    """Who is doing the ingest (recorded on every event)."""
    received_from: str | None = None
    """Who handed the material over."""
    legacy_digests: bool = False
    """Also compute SHA-1 and MD5."""
    key_path: Path | None = None
    """Operator's Ed25519 signing key (default: outside the case, created on first use)."""
    archive_limits: ArchiveLimits = ArchiveLimits()


class ItemResult(NamedTuple):
    """What happened to one item of the submission."""

    path: str
    """The item as the user named it (display form)."""
    status: str
    """stored, duplicate, already (recorded before), refused."""
    ref: str | None = None
    """Exhibit reference (stored), or the existing exhibit (duplicate / already)."""
    size: int = 0
    mime: str | None = None
    message: str | None = None
    """Why it was refused, or a note."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "ref": self.ref,
            "size": self.size,
            "mime": self.mime,
            "message": self.message,
        }


class IngestSummary:
    """Everything an ingest did, item by item."""

    __slots__ = ("recovered", "results")

    def __init__(self) -> None:
        self.results: list[ItemResult] = []
        self.recovered: list[str] = []
        """What recovery did before the ingest began (see ``recover``)."""

    @property
    def stored(self) -> list[ItemResult]:
        return [r for r in self.results if r.status == "stored"]

    @property
    def refused(self) -> list[ItemResult]:
        return [r for r in self.results if r.status == "refused"]

    def as_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for r in self.results:
            counts[r.status] = counts.get(r.status, 0) + 1
        return {
            "counts": dict(sorted(counts.items())),
            "bytes_stored": sum(r.size for r in self.stored),
            "items": [r.as_dict() for r in self.results],
            "recovered": self.recovered,
        }


# ----------------------------------------------------------------------------- names


def name_fields(raw: bytes, key: str) -> dict[str, str]:
    """The exact name: as text when it is valid UTF-8, else text with replacement
    characters plus the exact bytes in base64 under ``<key>_b64``."""
    try:
        return {key: raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {
            key: raw.decode("utf-8", "replace"),
            f"{key}_b64": base64.b64encode(raw).decode("ascii"),
        }


def stored_name(ref: str, original: str) -> str:
    """``RE/1/3`` + ``IMG_0001.JPG`` -> ``RE-1-3.jpg``: safe on every file system."""
    ext = os.path.splitext(original)[1].lower()  # noqa: PTH122 - works on any string
    return ref.replace("/", "-") + (ext if _EXT_RE.fullmatch(ext) else "")


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat(timespec="microseconds")


# ----------------------------------------------------------------------------- walking


class _Item(NamedTuple):
    path: Path
    """Where to open it."""
    rel: bytes
    """Relative path within the submission, as bytes (exact)."""
    error: str | None = None
    """Set when the walk already knows the item cannot be taken."""


def refuse_case_paths(case_root: Path, paths: list[Path]) -> None:
    """UsageError for a path that is the case, is inside it or contains it: the case's
    own files (its lock, log, manifest, keys, derived data) must never become exhibits of
    itself. Paths are compared resolved, so ``./case/../case`` and links are seen through."""
    root = Path(os.path.realpath(case_root))
    for path in paths:
        real = Path(os.path.realpath(path))
        if real == root:
            why = "is the case folder itself"
        elif real.is_relative_to(root):
            why = f"is inside the case folder {case_root}"
        elif root.is_relative_to(real):
            why = f"contains the case folder {case_root}"
        else:
            continue
        raise UsageError(
            f"{path} {why}: a case cannot take its own files as evidence",
            advice="give the submission's files or folders, kept outside the case folder",
        )


def walk(paths: list[Path]) -> Iterator[_Item]:
    """Expand the user's paths: files as given, folders recursively in byte order. Links,
    FIFOs, devices and sockets become refused items (never followed)."""
    for top in paths:
        try:
            st = os.lstat(top)
        except FileNotFoundError:
            yield _Item(top, os.fsencode(top.name), "does not exist")
            continue
        except OSError as exc:
            yield _Item(top, os.fsencode(top.name), f"cannot be examined: {exc.strerror}")
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(top, os.fsencode(top.name))
        else:
            yield _Item(top, os.fsencode(top.name), _kind_error(st.st_mode))


def _kind_error(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "is a symbolic link (links are never followed; give the target itself)"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    return "is not a regular file"


def _walk_dir(folder: Path, rel: bytes) -> Iterator[_Item]:
    try:
        with os.scandir(os.fsencode(folder)) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield _Item(folder, rel, f"folder cannot be read: {exc.strerror}")
        return
    for entry in entries:
        name = entry.name if isinstance(entry.name, bytes) else os.fsencode(entry.name)
        child = Path(os.fsdecode(entry.path))
        child_rel = rel + b"/" + name
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as exc:
            yield _Item(child, child_rel, f"cannot be examined: {exc.strerror}")
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(child, child_rel)
        else:
            yield _Item(child, child_rel, _kind_error(st.st_mode))


# ----------------------------------------------------------------------------- state


class _CaseState:
    """What the log already holds, for numbering and de-duplication."""

    __slots__ = ("by_sha", "last_number", "members", "mime", "seen", "stored_as", "stored_files")

    def __init__(self) -> None:
        self.by_sha: dict[str, str] = {}
        """sha256 -> first exhibit ref with that content."""
        self.seen: set[tuple[str, str, str]] = set()
        """(sha256, original_path, source) of every receipt (stored or duplicate)."""
        self.members: dict[tuple[str, str], str] = {}
        """(parent ref, member name) -> exhibit ref (or the ref it duplicates)."""
        self.last_number = 0
        """The highest top-level exhibit number given so far (the next is one more)."""
        self.stored_files: set[str] = set()
        """stored_as of every recorded exhibit."""
        self.stored_as: dict[str, str] = {}
        """exhibit ref -> stored_as."""
        self.mime: dict[str, str] = {}
        """exhibit ref -> the MIME type recorded."""

    @classmethod
    def from_lines(cls, lines: list[LogLine]) -> _CaseState:
        state = cls()
        for ev in events(lines):
            name, d = ev.get("event"), ev.get("details") or {}
            if name not in ("exhibit_received", "duplicate_received"):
                continue
            sha = str(d.get("digests", {}).get("sha256") or d.get("sha256"))
            ref = str(d.get("ref") if name == "exhibit_received" else d.get("of"))
            state.seen.add((sha, str(d.get("original_path")), str(d.get("source"))))
            if d.get("parent") and d.get("member_name") is not None:
                state.members[(d["parent"], d["member_name"])] = ref
            if name == "exhibit_received":
                state.by_sha.setdefault(sha, ref)
                state.stored_files.add(d["stored_as"])
                state.stored_as[ref] = d["stored_as"]
                if isinstance(d.get("mime"), str):
                    state.mime[ref] = d["mime"]
                if not d.get("parent"):
                    state.last_number = max(state.last_number, int(ref.rsplit("/", 1)[1]))
        return state


# ----------------------------------------------------------------------------- signing key


class SigningKey:
    """The operator's signing key, loaded (or created on first use) on a thread of its own.

    Loading it means loading ctypes and OpenSSL's libcrypto (see
    :mod:`cyberstalk.hashing.libcrypto`), and reading or creating the key file: work a
    short ingest would otherwise do before its first byte is copied. Nothing is signed,
    and no event is recorded, before :meth:`get` has the key: a key that cannot be loaded
    stops the ingest with nothing recorded.
    """

    def __init__(self, path: Path | None, initials: str) -> None:
        self._path = path
        self._initials = initials
        self._key: PrivateKey | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._load, name="signing-key", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        try:
            from cyberstalk.hashing import signing

            path = self._path or signing.default_key_path(self._initials)
            self._key = signing.load_or_create_key(path)
        except BaseException as exc:  # raised by get(), in the thread that needs the key
            self._error = exc

    def get(self) -> PrivateKey:
        """The key, once loaded; raises what stopped it loading."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._key is not None
        return self._key


# ----------------------------------------------------------------------------- recovery


def recover(case: Case, log: CustodyLog, key: SigningKey, state: _CaseState) -> list[str]:
    """Finish what an interrupted command left: remove unrecorded copies (logging each),
    and re-seal when the manifest is behind the log. ``state`` is the log's (recovery
    records no exhibit, so it stays true). Returns what was done."""
    done: list[str] = []
    for stale in sorted(case.root.glob(".*.tmp-*")):  # atomic_write temp files
        stale.unlink()
        done.append(f"removed {stale.name}, a temporary file of an interrupted write")
    incoming = case.evidence_dir / INCOMING
    if incoming.is_dir():
        leftovers: list[str] = sorted(p.name for p in incoming.iterdir())
        for name in leftovers:
            (incoming / name).unlink()
        if leftovers:
            fsync_dir(incoming)
            done.append(f"removed {len(leftovers)} partial copies left by an interrupted ingest")
            log.append("recovery", {"removed_partial_copies": leftovers})
    orphans = []
    # sorted by name: Path's own comparison, over thousands of exhibits, costs more than
    # the rest of this loop
    for path in sorted(case.evidence_dir.iterdir(), key=lambda p: p.name):
        rel = f"evidence/{path.name}"
        if path.name == INCOMING or rel in state.stored_files:
            continue
        if path.is_file() and not path.is_symlink():
            from cyberstalk.hashing.digest import hash_path

            digests, size = hash_path(path)
            orphans.append({"stored_as": rel, "sha256": digests.sha256, "size": size})
            path.chmod(0o600)
            path.unlink()
    if orphans:
        fsync_dir(case.evidence_dir)
        done.append(
            f"removed {len(orphans)} unrecorded copies left by an interrupted ingest: "
            + ", ".join(str(o["stored_as"]) for o in orphans)
        )
        log.append("recovery", {"removed_unrecorded_copies": orphans})
    if _manifest_stale(case, log.lines()):
        from cyberstalk.hashing.seal import seal

        seal(case.root, log, key.get())
        done.append("re-sealed the manifest, which was behind the custody log")
    return done


def _manifest_stale(case: Case, lines: list[LogLine]) -> bool:
    """True when the manifest does not show every exhibit event of the log (``lines``)
    (or does not match the log at all): an interrupted command, to be completed by
    re-sealing."""
    try:
        manifest = load_manifest(case.manifest_path)
    except CaseError:
        return any(ln.event and ln.event.get("event") in MANIFEST_EVENTS[1:] for ln in lines)
    log_info = manifest.get("custody_log") or {}
    covered = int(log_info.get("lines") or 0)
    if covered > len(lines) or (
        covered and lines[covered - 1].sha256 != log_info.get("head_sha256")
    ):
        return True
    return any(ln.event and ln.event.get("event") in MANIFEST_EVENTS for ln in lines[covered:])


# ----------------------------------------------------------------------------- ingest


class _Pending:
    """A copied file waiting for its digests, its fsync and its type before it is recorded."""

    __slots__ = (
        "common",
        "copy",
        "display",
        "fd",
        "fd_open",
        "finishing",
        "mtime_ns",
        "original_name",
        "rel_fields",
        "size",
        "tmp",
    )

    def __init__(
        self,
        *,
        tmp: Path,
        fd: int,
        copy: Copy,
        finishing: _Finishing,
        display: str,
        rel_fields: dict[str, str],
        original_name: bytes,
        size: int,
        mtime_ns: int,
        common: dict[str, Any],
    ) -> None:
        self.tmp, self.copy, self.display = tmp, copy, display
        self.fd = fd
        """The copy, open until its fsync is done."""
        self.fd_open = True
        self.finishing = finishing
        """The last writes and the fsync of the copy, then libmagic on its first bytes: the
        MIME type."""
        self.rel_fields, self.original_name = rel_fields, original_name
        self.size, self.mtime_ns = size, mtime_ns
        self.common = common
        """received_at, operator, source...: as they were when the copy was made."""

    def close_fd(self) -> None:
        """Close the copy's fd, once (a second close could hit a reused fd number)."""
        if self.fd_open:
            self.fd_open = False
            os.close(self.fd)

    def discard(self) -> None:
        """Drop a copy that will not be recorded (never raises: it runs while another
        error is being handled)."""
        with contextlib.suppress(Exception):
            self.finishing.result()  # never close an fd the finisher is still using
        with contextlib.suppress(OSError):
            self.close_fd()
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()


class _Refusal(NamedTuple):
    """An item that could not be taken, to be logged in its place in the order."""

    display: str
    reason: str
    rel: str | None

    def discard(self) -> None:
        """Nothing to clean up."""


Recorded = Callable[[Copy], "str | None"]
"""The type recorded for the item a finished copy is, when the log has it already (the
same content, path and source: the recorder drops such a copy), else None."""


def _finish_copy(copy: Copy, fd: int, head: bytes, recorded: Recorded) -> str:
    """The copy's MIME type, once it is durable; a copy of an item recorded before is
    neither fsynced nor typed (a re-run of an interrupted ingest has thousands): its type
    is the one recorded."""
    copy.wait_written()  # settles first: no write is in flight once this returns or raises
    known = recorded(copy)
    if known is not None:
        return known
    make_durable(copy, fd)
    return mime_of(head)


class _Finishing:
    """One copy's finishing: the last writes and the fsync of the copy, then libmagic on
    its first bytes. :meth:`result` waits for the MIME type, or raises what failed."""

    __slots__ = ("_done", "_error", "_mime", "copy", "fd", "head", "recorded")

    def __init__(self, copy: Copy, fd: int, head: bytes, recorded: Recorded) -> None:
        self.copy, self.fd, self.head, self.recorded = copy, fd, head, recorded
        self._done = threading.Event()
        self._mime: str | None = None
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            self._mime = _finish_copy(self.copy, self.fd, self.head, self.recorded)
        except BaseException as exc:  # raised by result(), on the recorder's thread
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> str:
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._mime is not None
        return self._mime


class _Finishers:
    """Up to ``count`` threads that finish copies in the order they are given: a
    ThreadPoolExecutor's work, without importing concurrent.futures (and logging with
    it), ~10 ms of every ingest's start-up. A thread is started with each of the first
    ``count`` copies, so an ingest of one file starts one."""

    def __init__(self, count: int) -> None:
        self._count = count
        self._jobs: queue.SimpleQueue[_Finishing | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def submit(self, copy: Copy, fd: int, head: bytes, recorded: Recorded) -> _Finishing:
        job = _Finishing(copy, fd, head, recorded)
        self._jobs.put(job)
        if len(self._threads) < self._count:
            thread = threading.Thread(
                target=self._loop, name=f"fsync-{len(self._threads)}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return job

    def _loop(self) -> None:
        while (job := self._jobs.get()) is not None:
            job.run()

    def shutdown(self) -> None:
        """Finish every copy given, then stop the threads."""
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()


class _Ingest:
    """One ingest, as a pipeline of threads so that the CPU, the disk and the custody log
    all work at once:

    - the caller's thread opens and reads each file once (``ingest_item``);
    - a CopyPool's threads write each chunk and hash it (see ``hashing.copier``);
    - finisher threads wait for each copy's writes, fsync it and type it (libmagic);
    - a recorder thread records finished copies in submission order: numbering,
      de-duplication, rename into place, the directory fsync and the fsynced custody
      event, at most PIPELINE_DEPTH items behind the copying.

    Only the recorder touches the log and the case state while it runs, so the log is in
    submission order and no event names a copy that is not durable.
    """

    def __init__(
        self, case: Case, options: IngestOptions, progress: Progress | None, key: SigningKey
    ) -> None:
        self.case = case
        self.options = options
        self.progress = progress or (lambda kind, info: None)
        self.key = key
        self.log = case.log(options.operator)
        self.state = _CaseState()
        """What the log holds: read by ingest() before recovery, which records no exhibit."""
        self.prefix = case.config.exhibit_prefix
        self.incoming = case.evidence_dir / INCOMING
        self._incoming_made = False
        self.summary = IngestSummary()
        self._tmp_numbers = itertools.count(1)
        self._queue: queue.Queue[_Pending | _Refusal | None] = queue.Queue(PIPELINE_DEPTH)
        self._failure: BaseException | None = None
        self._batch: list[tuple[str | None, dict[str, Any], ItemResult]] = []
        self._renamed = False
        """The batch has renamed copies into evidence/ (a directory fsync is due)."""
        self._ending = False
        """Nothing more will be queued: ingest() seals once recording is over, so the
        recorder's interim seals stop (one would be rewritten at once)."""
        self._recorder = threading.Thread(target=self._record_loop, name="record", daemon=True)
        self._copier = CopyPool()
        self._finisher = _Finishers(FINISHERS)
        # the first interim seal is due one interval in: an ingest shorter than that is
        # sealed once, at its end, with no seal competing with its copying
        self._next_seal = time.monotonic() + SEAL_INTERVAL
        """When the next interim seal is due (``time.monotonic``)."""

    # -- the pipeline
    def start(self) -> None:
        self._recorder.start()

    def finish_recording(self) -> None:
        """Wait until everything queued is recorded (or dropped after a failure). The
        caller seals the manifest after it, whatever happened (see ingest())."""
        if self._recorder.is_alive():
            self._ending = True
            self._put(None)
            self._recorder.join()

    def raise_failure(self) -> None:
        """Re-raise, in the caller's thread, what stopped the recorder."""
        if self._failure is not None:
            raise self._failure

    def close(self) -> None:
        """Stop the worker threads."""
        self.finish_recording()
        self._finisher.shutdown()
        self._copier.close()

    def _submit(self, entry: _Pending | _Refusal) -> None:
        if self._failure is not None:
            entry.discard()
            self.raise_failure()
        try:
            self._put(entry)  # waits while PIPELINE_DEPTH items are not yet recorded
        except RuntimeError:
            entry.discard()
            raise

    def _put(self, entry: _Pending | _Refusal | None) -> None:
        """Queue for the recorder; never wait forever on a recorder that has stopped."""
        while True:
            try:
                self._queue.put(entry, timeout=0.5)
                return
            except queue.Full:
                if not self._recorder.is_alive():
                    raise RuntimeError("the recorder thread stopped unexpectedly") from None

    def _record_loop(self) -> None:
        """Record what the copying thread queues, a batch at a time: the renames of a
        batch share one directory fsync, then its events are appended in submission order
        with one fsync. Nothing is recorded until the signing key is loaded."""
        try:
            self.key.get()
        except BaseException as exc:  # every copy is then dropped, and the error raised
            self._failure = exc
        stop = False
        while not stop:
            batch: list[_Pending | _Refusal] = []
            item = self._queue.get()
            while True:
                if item is None:
                    stop = True
                    break
                batch.append(item)
                if len(batch) == PIPELINE_DEPTH:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            for entry in batch:
                if self._failure is not None:  # after a failure, drop the rest
                    entry.discard()
                    continue
                try:
                    if isinstance(entry, _Refusal):
                        self._log_refusal(entry)
                    else:
                        self._record(entry)
                except BaseException as exc:  # handed to the copying thread, raised there
                    self._failure = exc
                    entry.discard()
            try:
                self._write_batch()  # what was decided before a failure is still logged
            except BaseException as exc:
                self._failure = self._failure or exc

    def _emit(self, event: str | None, details: dict[str, Any], result: ItemResult) -> None:
        """Queue an event (and the item's result) for the end of the batch."""
        self._batch.append((event, details, result))

    def _write_batch(self) -> None:
        """Make the batch's renames durable with one directory fsync, then append its
        events in order, in one write with one fsync, then re-seal if one is due (none
        once the ingest is ending). A kill in between leaves stored files with no event,
        which verify names and the next ingest removes (see ``recover``)."""
        batch, self._batch = self._batch, []
        if self._renamed:
            fsync_dir(self.case.evidence_dir)
            self._renamed = False
        self.log.append_many([(event, details) for event, details, _ in batch if event])
        for _event, _details, result in batch:
            self._result(result)
        if batch and not self._ending:
            self.reseal()

    # -- helpers
    def _tmp(self) -> Path:
        """A new name under .incoming/, made on the first call (once: a mkdir per file
        would be a real share of the copying thread's time on small files; the case lock
        keeps anything else from removing it)."""
        if not self._incoming_made:
            self.incoming.mkdir(exist_ok=True)
            self._incoming_made = True
        return self.incoming / f"part-{os.getpid()}-{next(self._tmp_numbers)}"

    def _common(self) -> dict[str, Any]:
        return {
            "received_at": datetime.now(UTC).isoformat(timespec="microseconds"),
            "operator": self.options.operator,
            "source": self.options.source,
            "received_from": self.options.received_from,
            "tool": tool_string(),
        }

    def _result(self, result: ItemResult) -> None:
        self.summary.results.append(result)
        self.progress("item", {"result": result})

    def _refuse(self, display: str, reason: str, rel: str | None = None) -> None:
        self._submit(_Refusal(display, reason, rel))

    def _log_refusal(self, refusal: _Refusal) -> None:
        self._emit(
            "item_refused",
            {"original_path": refusal.rel or refusal.display, "reason": refusal.reason},
            ItemResult(refusal.display, "refused", message=refusal.reason),
        )

    def _place(
        self, tmp: Path, ref: str, original_name: str, details: dict[str, Any]
    ) -> dict[str, Any]:
        """Make a verified copy read-only and rename it into evidence/ (the directory fsync
        and the custody event are the caller's). Returns the event's details."""
        name = stored_name(ref, original_name)
        target = self.case.evidence_dir / name
        if target.exists():  # never overwrite evidence, whatever the numbering says
            raise CaseError(
                f"{target} already exists but is not in the custody log",
                advice="run `cyberstalk verify` and examine the case before ingesting more",
            )
        os.chmod(tmp, 0o444)  # noqa: PTH101 - same call on the fd-less temp path
        os.rename(tmp, target)  # noqa: PTH104
        details = {"ref": ref, "stored_as": f"evidence/{name}", **details}
        self.state.by_sha.setdefault(details["digests"]["sha256"], ref)
        self.state.stored_files.add(details["stored_as"])
        self.state.stored_as[ref] = details["stored_as"]
        self.state.mime[ref] = details["mime"]
        return details

    def _commit(self, tmp: Path, ref: str, original_name: str, details: dict[str, Any]) -> None:
        """Place a copy, make the rename durable, then record it."""
        placed = self._place(tmp, ref, original_name, details)
        fsync_dir(self.case.evidence_dir)
        self.log.append("exhibit_received", placed)

    # -- one file
    def ingest_item(self, item: _Item) -> None:
        """Copy one item and queue it for the recorder."""
        # printable whatever the bytes: invalid UTF-8 shows as \xNN, never a crash
        display = os.fsencode(item.path).decode("utf-8", "backslashreplace")
        rel_fields = name_fields(item.rel, "original_path")
        rel = rel_fields["original_path"]
        if item.error:
            self._refuse(display, f"{display} {item.error}", rel)
            return
        try:
            fd, before = open_regular(item.path)
        except FileNotFoundError:
            self._refuse(display, f"{display} does not exist", rel)
            return
        except PermissionError as exc:
            self._refuse(display, f"{display} cannot be read: {exc.strerror}", rel)
            return
        except OSError as exc:
            reason = "is a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
            self._refuse(display, f"{display} {reason}", rel)
            return
        except ValueError as exc:
            self._refuse(display, f"{display} {exc}", rel)
            return
        tmp = self._tmp()
        try:
            copied = self._copy(fd, tmp, display)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        finally:
            os.close(fd)
        if isinstance(copied, str):  # a read error: refused, nothing recorded
            tmp.unlink()
            self._refuse(display, copied, rel)
            return
        copy, size, head, after, out = copied
        if FileIdentity.of(before) != FileIdentity.of(after) or size != before.st_size:
            copy.settle()
            os.close(out)
            tmp.unlink()
            self._refuse(display, f"{display} changed while it was being read; not recorded", rel)
            return
        self._submit(
            _Pending(
                tmp=tmp,
                fd=out,
                copy=copy,
                finishing=self._finisher.submit(
                    copy, out, head, lambda done: self._recorded_type(done, rel)
                ),
                display=display,
                rel_fields=rel_fields,
                original_name=item.rel.rsplit(b"/", 1)[-1],
                size=size,
                mtime_ns=before.st_mtime_ns,
                common=self._common(),
            )
        )

    def _copy(
        self, fd: int, tmp: Path, display: str
    ) -> tuple[Copy, int, bytes, os.stat_result, int] | str:
        """Copy from the open original into ``tmp`` while the pool hashes it, leaving the
        copy's fd open for its fsync (done in the background while the next file is
        copied). A read error returns the reason as a string; a write error (full disk,
        read-only) raises."""
        try:
            out = open_output(tmp)
        except OSError as exc:
            raise CaseError(
                f"cannot write to {self.incoming}: {exc.strerror}",
                advice="check the case folder is writable and the disk has space",
            ) from exc
        try:
            copy, size, head = copy_and_hash(
                fd,
                out,
                pool=self._copier,
                legacy=self.options.legacy_digests,
                on_bytes=lambda n: self.progress("bytes", {"n": n}),
                sniff_size=SNIFF,
            )
        except OSError as exc:
            os.close(out)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise IngestError(
                    f"disk full while copying {display}: nothing of it was recorded",
                    path=display,
                    advice="free space on the case's disk, then re-run the same ingest",
                ) from exc
            if exc.errno == errno.EROFS:
                raise CaseError(f"the case folder is on a read-only file system: {exc}") from exc
            return f"{display} could not be read: {exc.strerror}"
        except BaseException:
            os.close(out)
            raise
        return copy, size, head, os.fstat(fd), out

    def _record(self, pending: _Pending) -> None:
        """Record one finished copy (on the recorder thread)."""
        try:
            mime = pending.finishing.result()
        except OSError as exc:
            pending.discard()
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise IngestError(
                    f"disk full while writing {pending.display}: nothing of it was recorded",
                    path=pending.display,
                    advice="free space on the case's disk, then re-run the same ingest",
                ) from exc
            raise CaseError(f"cannot write {pending.tmp}: {exc.strerror}") from exc
        except BaseException:
            pending.discard()
            raise
        pending.close_fd()
        digests = pending.copy.digests()
        display, rel = pending.display, pending.rel_fields["original_path"]
        is_zip = mime in ZIP_TYPES
        size = pending.size
        receipt = self._receipt(digests.sha256, rel)
        if receipt in self.state.seen:  # nothing to record: no event details are made
            pending.tmp.unlink()
            ref = self.state.by_sha.get(digests.sha256)
            self._emit(None, {}, ItemResult(display, "already", ref, size, mime, "recorded before"))
            if is_zip and ref and self._is_top_level(ref):
                self._write_batch()  # members follow their archive in the log
                self._members(ref, display)
            return
        name_info = name_fields(pending.original_name, "original_name")
        base = {
            **name_info,
            **pending.rel_fields,
            "parent": None,
            "member_name": None,
            "size": pending.size,
            "mtime": _iso(pending.mtime_ns),
            "mtime_ns": pending.mtime_ns,
            "digests": digests.as_dict(),
            "mime": mime,
            "mime_from_extension": mime_from_extension(name_info["original_name"]),
            "extension_mismatch": extension_disagrees(name_info["original_name"], mime),
            **pending.common,
            "notes": [],
        }
        if digests.sha256 in self.state.by_sha:
            pending.tmp.unlink()
            of = self.state.by_sha[digests.sha256]
            dup = {k: base[k] for k in base if k not in ("digests", "mime_from_extension")}
            self.state.seen.add(receipt)
            self._emit(
                "duplicate_received",
                {"of": of, "sha256": digests.sha256, **dup},
                ItemResult(display, "duplicate", of, size, mime, f"same content as {of}"),
            )
            return
        number = self.state.last_number + 1
        ref = f"{self.prefix}/{number}"
        self.state.last_number = number
        self.state.seen.add(receipt)
        placed = self._place(pending.tmp, ref, name_info["original_name"], base)
        self._renamed = True
        self._emit("exhibit_received", placed, ItemResult(display, "stored", ref, size, mime))
        if is_zip:  # its members are read from the stored copy, once it is recorded
            self._write_batch()
            self._members(ref, display)
            self.reseal(now=True)

    def _receipt(self, sha256: str, rel: str) -> tuple[str, str, str]:
        """An item's key in ``state.seen``: the same content, path and source is the same
        receipt (recorded before: "already")."""
        return (sha256, rel, self.options.source)

    def _recorded_type(self, copy: Copy, rel: str) -> str | None:
        """On a finisher thread: the recorded type of the item ``copy`` is, if the log has
        it already (see :data:`Recorded`). The recorder adds to the state meanwhile, never
        removes: an item seen here as recorded is seen so by the recorder too."""
        sha256 = copy.digests().sha256
        if self._receipt(sha256, rel) not in self.state.seen:
            return None
        ref = self.state.by_sha.get(sha256)
        return None if ref is None else self.state.mime.get(ref)

    def _is_top_level(self, ref: str) -> bool:
        return ref.count("/") == 1

    def reseal(self, *, now: bool = False) -> None:
        """Re-seal the manifest: at once with ``now``, else when the gap since the last
        seal is over (SEAL_INTERVAL, or the last seal's time over SEAL_SHARE).

        Every event is in the fsynced log the moment it happens, and the log is what the
        manifest is rebuilt from; sealing (three atomic writes and a signature) after
        every event would cost an ingest of many small files as much again as copying.
        The manifest is always sealed at the end of an ingest and after each archive; a
        kill in between leaves a log that verify names and the next ingest re-seals.
        """
        started = time.monotonic()
        if now or started >= self._next_seal:
            from cyberstalk.hashing.seal import seal

            seal(self.case.root, self.log, self.key.get())
            ended = time.monotonic()
            self._next_seal = ended + max(SEAL_INTERVAL, (ended - started) / SEAL_SHARE)

    # -- archive members
    def _members(self, parent: str, display: str) -> None:
        stored = self.case.root / self.state.stored_as[parent]
        limits = self.options.archive_limits
        staged: list[tuple[Member, Path, Digests, int, bytes]] = []
        temps: list[Path] = []
        try:
            with open_zip(str(stored), display) as zf:
                members = list_members(zf, display, limits)
                todo = [m for m in members if (parent, m.name) not in self.state.members]
                total = 0
                for member in todo:
                    tmp = self._tmp()
                    temps.append(tmp)
                    staged_entry = self._stage_member(zf, member, tmp, display, limits, total)
                    staged.append(staged_entry)
                    total += staged_entry[3]
        except BaseException as exc:
            for tmp in temps:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
            if not isinstance(exc, ArchiveError):
                raise
            self.log.append(
                "archive_refused",
                {"ref": parent, "member": exc.member, "reason": exc.message},
            )
            self._result(
                ItemResult(f"{display} (members)", "refused", parent, message=str(exc.message))
            )
            return
        for member, tmp, digests, size, head in staged:
            self._commit_member(parent, display, member, tmp, digests, size, head)
        if staged:
            self.reseal()

    def _stage_member(
        self,
        zf: zipfile.ZipFile,
        member: Member,
        tmp: Path,
        display: str,
        limits: ArchiveLimits,
        total: int,
    ) -> tuple[Member, Path, Digests, int, bytes]:
        hasher = Hashers(legacy=self.options.legacy_digests)
        head = bytearray()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:

            def sink(chunk: bytes) -> None:
                hasher.update(chunk)
                if len(head) < SNIFF:
                    head.extend(chunk[: SNIFF - len(head)])
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]

            try:
                size = stream_member(
                    zf, member, sink, archive=display, limits=limits, total_so_far=total
                )
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise IngestError(
                        f"disk full while extracting {member.name!r} from {display}",
                        path=display,
                        advice="free space on the case's disk, then re-run the same ingest",
                    ) from exc
                raise
            os.fsync(fd)
        finally:
            os.close(fd)
        return member, tmp, hasher.digests(), size, bytes(head)

    def _commit_member(
        self,
        parent: str,
        display: str,
        member: Member,
        tmp: Path,
        digests: Digests,
        size: int,
        head: bytes,
    ) -> None:
        leaf = member.name.rsplit("/", 1)[-1]
        mime = mime_of(head)
        shown = f"{display}:{member.name}"
        base = {
            "original_name": leaf,
            "original_path": member.name,
            "parent": parent,
            "member_name": member.name,
            "size": size,
            "mtime": None,
            "zip_datetime": member.zip_datetime,
            "digests": digests.as_dict(),
            "mime": mime,
            "mime_from_extension": mime_from_extension(leaf),
            "extension_mismatch": extension_disagrees(leaf, mime),
            **self._common(),
            "notes": ["zip timestamps are local time with no zone"],
        }
        if digests.sha256 in self.state.by_sha:
            tmp.unlink()
            of = self.state.by_sha[digests.sha256]
            dup = {k: base[k] for k in base if k not in ("digests", "mime_from_extension")}
            self.log.append("duplicate_received", {"of": of, "sha256": digests.sha256, **dup})
            self.state.members[(parent, member.name)] = of
            self._result(ItemResult(shown, "duplicate", of, size, mime, f"same content as {of}"))
            return
        ref = f"{parent}/{member.number}"
        self._commit(tmp, ref, leaf, base)
        self.state.members[(parent, member.name)] = ref
        self._result(ItemResult(shown, "stored", ref, size, mime))


def ingest(
    case: Case,
    paths: list[Path],
    options: IngestOptions,
    progress: Progress | None = None,
) -> IngestSummary:
    """Take ``paths`` into ``case``. Refused items are reported, not fatal; a full disk or an
    unwritable case stops the ingest with what was recorded so far intact. A path that is
    the case folder, lies inside it or holds it is refused before anything is recorded."""
    refuse_case_paths(case.root, paths)
    with case.lock("ingest"):  # (a refused ingest leaves no key thread behind)
        key = SigningKey(options.key_path, case.config.exhibit_prefix)
        job = _Ingest(case, options, progress, key)
        try:
            job.state = _CaseState.from_lines(job.log.lines())
            job.summary.recovered = recover(case, job.log, key, job.state)
            for message in job.summary.recovered:
                job.progress("recovered", {"message": message})
            items = list(walk(paths))
            total = 0
            for item in items:
                if item.error is None:
                    with contextlib.suppress(OSError):
                        total += os.lstat(item.path).st_size
            job.progress("start", {"total_bytes": total, "items": len(items)})
            job.start()
            try:
                try:
                    for item in items:
                        job.ingest_item(item)
                finally:
                    # what was copied is recorded before stopping, even on an error; what
                    # cannot be recorded stays under .incoming/ for recovery, never half
                    job.finish_recording()
                job.raise_failure()
            except BaseException:
                with contextlib.suppress(Exception):
                    job.reseal(now=True)  # what was recorded is sealed before the error shows
                raise
        finally:
            job.close()
            with contextlib.suppress(FileNotFoundError, OSError):
                job.incoming.rmdir()
        job.log.append("ingest_completed", job.summary.as_dict()["counts"])
        job.reseal(now=True)
    return job.summary
