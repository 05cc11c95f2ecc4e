"""Digests: SHA-256 (primary) with optional SHA-1 and MD5 (legacy), and opening an
original safely (no link followed, regular files only, identity compared before and after
reading).

Copying while hashing, for ingest, is in ``copier``; ``hash_fd`` here hashes in the calling
thread, for callers (verify) that hash many files in parallel.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

CHUNK = 256 << 10
"""Read size for hashing a file."""
DIGEST_NAMES = ("sha256", "sha1", "md5")


class Digests(NamedTuple):
    """Hex digests of one byte stream."""

    sha256: str
    """SHA-256, the primary digest every check relies on."""
    sha1: str | None = None
    """SHA-1, a legacy value for tools that still ask for it (optional)."""
    md5: str | None = None
    """MD5, a legacy value for tools that still ask for it (optional)."""

    @classmethod
    def from_dict(cls, found: Mapping[str, str]) -> Digests:
        """The inverse of ``as_dict``: the legacy digests may be absent."""
        return cls(sha256=found["sha256"], sha1=found.get("sha1"), md5=found.get("md5"))

    def as_dict(self) -> dict[str, str]:
        out = {"sha256": self.sha256}
        if self.sha1 is not None:
            out["sha1"] = self.sha1
        if self.md5 is not None:
            out["md5"] = self.md5
        return out


class Hashers:
    """SHA-256 and, when ``legacy``, SHA-1 and MD5 over the same bytes, in one thread."""

    def __init__(self, *, legacy: bool = True) -> None:
        self.names = DIGEST_NAMES if legacy else DIGEST_NAMES[:1]
        self._hashers = [hashlib.new(n) for n in self.names]

    def update(self, data: bytes | bytearray | memoryview) -> None:
        for h in self._hashers:
            h.update(data)

    def digests(self) -> Digests:
        return Digests.from_dict(
            {n: h.hexdigest() for n, h in zip(self.names, self._hashers, strict=True)}
        )


class FileIdentity(NamedTuple):
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
