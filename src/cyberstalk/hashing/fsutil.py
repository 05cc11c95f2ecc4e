"""Crash-safe file writing: temp file, fsync, rename, fsync the directory."""

from __future__ import annotations

import contextlib
import io
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

WRITEBACK_STEP = 16 << 20
"""Bytes written between the starts of a file's writeback (a smaller file is written back
whole by its fsync, in the device's largest requests)."""
_DONTNEED: int | None = getattr(os, "POSIX_FADV_DONTNEED", None)


def drop_cached(fd: int, offset: int, length: int) -> None:
    """``POSIX_FADV_DONTNEED``: Linux starts the writeback of the range's dirty pages and
    drops its clean ones (length 0: to the end). A hint: where it is missing, or refused,
    nothing is lost but memory."""
    if _DONTNEED is not None:
        with contextlib.suppress(OSError):
            os.posix_fadvise(fd, offset, length, _DONTNEED)


class WritebackFile(io.FileIO):
    """A file written front to back whose writeback starts every :data:`WRITEBACK_STEP`
    bytes, so that the disk writes while the writer computes and the fsync at the end
    waits for the last step only, not the whole file. The pages just written are dirty
    when the hint comes, so they stay cached for the next reader."""

    def __init__(self, fd: int) -> None:
        super().__init__(fd, "wb")
        self._written = 0
        self._kicked = 0

    def write(self, data: ReadableBuffer, /) -> int:
        written = super().write(data)
        self._written += written
        if self._written - self._kicked >= WRITEBACK_STEP:
            drop_cached(self.fileno(), self._kicked, self._written - self._kicked)
            self._kicked = self._written
        return written


def fsync_dir(path: Path) -> None:
    """fsync a directory so that a rename or unlink inside it survives a crash."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` so that a reader (or a crash) sees old or new, never half.

    The temp file lives beside the target (same filesystem, so ``os.replace`` is atomic).
    """
    atomic_write_many([(path, data, mode)])


def atomic_write_many(files: list[tuple[Path, bytes, int]]) -> None:
    """Atomically replace several files in one folder: write and fsync every temp file,
    rename each into place, then fsync the folder once. Each file is old or new after a
    crash (never half); files are replaced in the order given."""
    temps = [(_write_temp(path, data, mode), path) for path, data, mode in files]
    for tmp, path in temps:
        tmp.replace(path)
    for folder in sorted({path.parent for _, path in temps}):
        fsync_dir(folder)


def temp_beside(path: Path) -> Path:
    """A temp name beside ``path`` that no other live thread or process uses:
    ``.<name>.tmp-<pid>.<thread id>`` (an interrupted write's leftovers match ``.*.tmp-*``)."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}.{threading.get_native_id()}")


def create_once(path: Path, data: bytes, *, mode: int = 0o644) -> bool:
    """Create ``path`` holding ``data`` unless it exists; False when it already did.

    Of writers racing to create one file, exactly one wins and the others see the
    winner's file whole (temp file, fsync, then a hard link, which never replaces).
    """
    tmp = _write_temp(path, data, mode)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink()
    fsync_dir(path.parent)
    return True


def _write_temp(path: Path, data: bytes, mode: int) -> Path:
    tmp = temp_beside(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    os.close(fd)
    return tmp
