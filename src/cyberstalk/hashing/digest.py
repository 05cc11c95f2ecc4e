"""Streaming digests: SHA-256 (primary) with optional SHA-1 and MD5 (legacy), computed in
the same read pass as a copy.

hashlib releases the GIL on buffers over 2 KiB, so a HashPool's worker threads hash the
chunks one thread has read and written while that thread reads the next: on two cores a
copy-and-hash costs little more than the copy (platform.md, "Throughput reference").
"""

from __future__ import annotations

import hashlib
import os
import queue
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cyberstalk.models import Digests

CHUNK = 256 << 10
"""Read size. A 256 KiB buffer is still in the CPU caches when it is written and hashed;
1 MiB and larger chunks measured slower and far less steady on the two-core reference
machine (benchmarks/bench_custody.py)."""
BUFFERS = 32
"""Buffers in flight per HashPool (8 MiB): how far reading may run ahead of hashing."""
DIGEST_NAMES = ("sha256", "sha1", "md5")


def default_workers() -> int:
    """Hashing threads: one per usable core, at most four."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


class Hashers:
    """SHA-256 and, when ``legacy``, SHA-1 and MD5 over the same bytes, in one thread."""

    def __init__(self, *, legacy: bool = True) -> None:
        self.names = DIGEST_NAMES if legacy else DIGEST_NAMES[:1]
        self._hashers = [hashlib.new(n) for n in self.names]

    def update(self, data: bytes | bytearray | memoryview) -> None:
        for h in self._hashers:
            h.update(data)

    def digests(self) -> Digests:
        found = {n: h.hexdigest() for n, h in zip(self.names, self._hashers, strict=True)}
        return Digests(sha256=found["sha256"], sha1=found.get("sha1"), md5=found.get("md5"))


class HashJob:
    """The digests of one stream, computed in order by one worker thread of a HashPool.

    The reading thread ``feed``s buffers and calls ``end``; ``result`` waits for the
    digests. A job whose stream failed is ``cancel``led: its buffers are still returned
    to the pool, and ``result`` raises.
    """

    def __init__(self, pool: HashPool, worker: _Worker, *, legacy: bool) -> None:
        self._pool = pool
        self._worker = worker
        self._hashers = Hashers(legacy=legacy)
        self._done = threading.Event()
        self._digests: Digests | None = None
        self._error: BaseException | None = None
        self.cancelled = False

    def feed(self, buf: bytearray, length: int) -> None:
        """Hash ``buf[:length]``; the worker gives ``buf`` back to the pool afterwards, so
        the caller must not touch it once the next buffer has been taken."""
        self._worker.queue.put((self, buf, length))

    def end(self) -> None:
        self._worker.queue.put((self, None, 0))

    def cancel(self) -> None:
        self.cancelled = True
        self.end()

    def result(self) -> Digests:
        self._done.wait()
        if self._error is not None:
            raise self._error
        if self._digests is None:
            raise RuntimeError("hashing was cancelled")
        return self._digests

    # -- on the worker thread
    def _update(self, buf: bytearray, length: int) -> None:
        if self.cancelled or self._error is not None:
            return
        try:
            with memoryview(buf) as view:
                self._hashers.update(view[:length])
        except BaseException as exc:  # pragma: no cover - hashlib does not fail on bytes
            self._error = exc

    def _finish(self) -> None:
        if not self.cancelled and self._error is None:
            self._digests = self._hashers.digests()
        self._done.set()


class _Worker:
    def __init__(self, pool: HashPool, number: int) -> None:
        self.queue: queue.SimpleQueue[tuple[HashJob, bytearray | None, int] | None] = (
            queue.SimpleQueue()
        )
        self.thread = threading.Thread(
            target=self._run, args=(pool,), name=f"hash-{number}", daemon=True
        )
        self.thread.start()

    @staticmethod
    def _run_task(pool: HashPool, job: HashJob, buf: bytearray | None, length: int) -> None:
        if buf is None:
            job._finish()
            return
        try:
            job._update(buf, length)
        finally:
            pool._free.put(buf)

    def _run(self, pool: HashPool) -> None:
        while (task := self.queue.get()) is not None:
            self._run_task(pool, *task)


class HashPool:
    """Hash many streams at once, each in one worker thread, from a fixed set of buffers.

    hashlib releases the GIL on large buffers, so while the caller's thread reads and
    writes one file, the workers hash the chunks already read (of that file and of the
    ones before it) on the other cores. SHA-256 cannot be split within a file, but files
    can be spread over cores: with two cores the copy, not the hashing, sets the pace.
    Memory stays flat: reading waits for a free buffer.
    """

    def __init__(self, *, workers: int | None = None, buffers: int = BUFFERS) -> None:
        self._free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        for _ in range(buffers):
            self._free.put(bytearray(CHUNK))
        self._workers = [_Worker(self, i) for i in range(workers or default_workers())]
        self._next = 0

    def __enter__(self) -> HashPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Finish the queued work and stop the worker threads."""
        for worker in self._workers:
            worker.queue.put(None)
        for worker in self._workers:
            worker.thread.join()

    def take(self) -> bytearray:
        """A free buffer (waits while all are being hashed). One thread reads and takes."""
        return self._free.get()

    def give_back(self, buf: bytearray) -> None:
        """Return a buffer that was taken but not fed."""
        self._free.put(buf)

    def job(self, *, legacy: bool = True) -> HashJob:
        """A new stream, given to the worker with the least work queued."""
        count = len(self._workers)
        order = [self._workers[(self._next + i) % count] for i in range(count)]
        self._next = (self._next + 1) % count
        worker = min(order, key=lambda w: w.queue.qsize())
        return HashJob(self, worker, legacy=legacy)


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """What fstat says about a file: compared before and after reading (TOCTOU check)."""

    dev: int
    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int
    """Changes on every write and cannot be set from user space (unlike mtime)."""

    @classmethod
    def of(cls, st: os.stat_result) -> FileIdentity:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def open_regular(path: Path | str, *, dir_fd: int | None = None) -> tuple[int, os.stat_result]:
    """Open a file for reading without following a final symlink; it must be a regular file.

    Returns (fd, fstat). Raises OSError (ELOOP for a symlink) or ValueError (not regular).
    O_NONBLOCK stops a FIFO from blocking the open; the S_ISREG check then refuses it.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"not a regular file ({_kind(st.st_mode)})")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def copy_and_hash(
    src_fd: int,
    dst_fd: int | None,
    *,
    pool: HashPool,
    legacy: bool = True,
    on_bytes: Callable[[int], None] | None = None,
    sniff_size: int = 0,
) -> tuple[HashJob, int, bytes]:
    """Read ``src_fd`` to its end once, writing each chunk to ``dst_fd`` (if given) while a
    worker of ``pool`` hashes the same chunk: one read pass, so the digests are of exactly
    the bytes written.

    Returns (the hash job, bytes read, the first ``sniff_size`` bytes for file typing);
    ``job.result()`` gives the digests. ``on_bytes`` is told of progress every few MiB.
    On an error the job is cancelled and the error raised.
    """
    job = pool.job(legacy=legacy)
    total = 0
    unreported = 0
    head = bytearray()
    try:
        while True:
            buf = pool.take()
            try:
                length = os.readv(src_fd, [buf])
            except BaseException:
                pool.give_back(buf)
                raise
            if not length:
                pool.give_back(buf)
                break
            try:
                with memoryview(buf) as whole, whole[:length] as view:
                    if dst_fd is not None:
                        written = 0
                        while written < length:
                            written += os.write(dst_fd, view[written:])
                    if len(head) < sniff_size:
                        head += view[: sniff_size - len(head)]
            except BaseException:
                pool.give_back(buf)
                raise
            # only now, with the write done, may a worker hash it and free the buffer: the
            # digests are of exactly the bytes written, and no buffer is reused too soon
            job.feed(buf, length)
            total += length
            unreported += length
            if on_bytes is not None and unreported >= PROGRESS_STEP:
                on_bytes(unreported)
                unreported = 0
    except BaseException:
        job.cancel()
        raise
    job.end()
    if on_bytes is not None and unreported:
        on_bytes(unreported)
    return job, total, bytes(head)


PROGRESS_STEP = 4 << 20
"""Bytes between progress reports (a report per chunk costs more than it shows)."""


def hash_fd(fd: int, *, legacy: bool = False) -> tuple[Digests, int]:
    """Digest an open file in the calling thread (callers hash many files in parallel)."""
    hashers = Hashers(legacy=legacy)
    total = 0
    buf = bytearray(CHUNK)
    with memoryview(buf) as view:
        while length := os.readv(fd, [buf]):
            hashers.update(view[:length])
            total += length
    return hashers.digests(), total


def hash_path(path: Path, *, legacy: bool = False) -> tuple[Digests, int]:
    """Digest a regular file (no symlinks followed)."""
    fd, _ = open_regular(path)
    try:
        return hash_fd(fd, legacy=legacy)
    finally:
        os.close(fd)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
