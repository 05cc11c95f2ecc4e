"""Crash-safe file writing: temp file, fsync, rename, fsync the directory."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path


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
