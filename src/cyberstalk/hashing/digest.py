"""Streaming digests: SHA-256 (primary) with optional SHA-1 and MD5 (legacy), computed in
the same read pass as a copy.

hashlib releases the GIL on buffers over 2 KiB, so each digest runs in its own worker
thread while the main thread reads and writes: on two cores a copy-and-hash costs little
more than the copy (platform.md, "Throughput reference").
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

CHUNK = 1 << 20
"""Read size: 1 MiB keeps hashlib at full speed and memory flat."""
THREAD_THRESHOLD = 4 << 20
"""Files at least this big are hashed in worker threads; below it threads cost more."""


class _HashThread:
    """One digest fed chunks through a small queue by the reading thread."""

    def __init__(self, name: str) -> None:
        self.hasher = hashlib.new(name)
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (chunk := self.queue.get()) is not None:
            self.hasher.update(chunk)

    def finish(self) -> str:
        self.queue.put(None)
        self.thread.join()
        return self.hasher.hexdigest()


class MultiHasher:
    """Feed bytes once; get SHA-256 and, when ``legacy``, SHA-1 and MD5.

    With ``threaded`` each digest runs in its own thread (large inputs); otherwise inline.
    """

    def __init__(self, *, legacy: bool = True, threaded: bool = True) -> None:
        self.names = ("sha256", "sha1", "md5") if legacy else ("sha256",)
        self.threaded = threaded
        self._threads = [_HashThread(n) for n in self.names] if threaded else []
        self._inline = [hashlib.new(n) for n in self.names] if not threaded else []

    def update(self, chunk: bytes) -> None:
        if self.threaded:
            for worker in self._threads:
                worker.queue.put(chunk)
        else:
            for h in self._inline:
                h.update(chunk)

    def digests(self) -> Digests:
        values = (
            [w.finish() for w in self._threads]
            if self.threaded
            else [h.hexdigest() for h in self._inline]
        )
        found = dict(zip(self.names, values, strict=True))
        return Digests(sha256=found["sha256"], sha1=found.get("sha1"), md5=found.get("md5"))


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
    legacy: bool = True,
    on_chunk: Callable[[int], None] | None = None,
    sniff_size: int = 0,
    threaded: bool = True,
) -> tuple[Digests, int, bytes]:
    """Read ``src_fd`` to its end once, writing to ``dst_fd`` (if given) and hashing.

    Returns (digests, bytes read, the first ``sniff_size`` bytes for file typing).
    ``threaded`` hashes in worker threads (worth it for files of several MiB).
    """
    hasher = MultiHasher(legacy=legacy, threaded=threaded)
    total = 0
    head = b""
    try:
        while chunk := os.read(src_fd, CHUNK):
            hasher.update(chunk)
            if dst_fd is not None:
                view = memoryview(chunk)
                while view:
                    view = view[os.write(dst_fd, view) :]
            if len(head) < sniff_size:
                head += chunk[: sniff_size - len(head)]
            total += len(chunk)
            if on_chunk is not None:
                on_chunk(len(chunk))
    finally:
        digests = hasher.digests()  # always join the worker threads
    return digests, total, head


def hash_path(path: Path, *, legacy: bool = False) -> tuple[Digests, int]:
    """Digest a regular file (no symlinks followed)."""
    fd, st = open_regular(path)
    try:
        digests, size, _ = copy_and_hash(
            fd, None, legacy=legacy, threaded=st.st_size >= THREAD_THRESHOLD
        )
    finally:
        os.close(fd)
    return digests, size


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
