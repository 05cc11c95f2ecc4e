"""The copy-and-hash engine: digests of exactly the bytes copied, whatever the sizes, with
many files in flight on several threads, direct I/O where it can be had and ordinary writes
where not, write errors surfaced, and no buffer lost or reused too soon."""

from __future__ import annotations

import errno
import hashlib
import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberstalk.hashing import copier
from cyberstalk.hashing.copier import CHUNK, CopyPool, copy_and_hash, open_output
from cyberstalk.hashing.digest import hash_fd, hash_path


def _expected(data: bytes) -> tuple[str, str, str]:
    return (
        hashlib.sha256(data).hexdigest(),
        hashlib.sha1(data).hexdigest(),
        hashlib.md5(data).hexdigest(),
    )


def _copy(pool: CopyPool, src: Path, dst: Path, **kwargs):
    """Copy as ingest does; returns (digests, size, head)."""
    fd = os.open(src, os.O_RDONLY)
    out = open_output(dst)
    try:
        copy, size, head = copy_and_hash(fd, out, pool=pool, **kwargs)
        copy.wait_written()
        os.fsync(out)
        return copy.digests(), size, head
    finally:
        os.close(fd)
        os.close(out)


def _copy_open_fd_exactly(src_fd: int, dst: Path, data: bytes, *, writers: int) -> None:
    """Copy from ``src_fd`` (closed after) into ``dst``; the copy and its SHA-256 must be
    exactly ``data``'s."""
    out = open_output(dst)
    try:
        with CopyPool(workers=1, writers=writers) as pool:
            copy, size, _ = copy_and_hash(src_fd, out, pool=pool, legacy=False)
            copy.wait_written()
            digests = copy.digests()
    finally:
        os.close(src_fd)
        os.close(out)
    assert size == len(data)
    assert dst.read_bytes() == data
    assert digests.sha256 == hashlib.sha256(data).hexdigest()


SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17]


@pytest.mark.parametrize("size", SIZES)
def test_copy_is_exact_and_digests_match_hashlib(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    (tmp_path / "src").write_bytes(data)
    with CopyPool(workers=2, buffers=4) as pool:
        digests, copied, head = _copy(pool, tmp_path / "src", tmp_path / "dst", sniff_size=100)
    assert copied == size
    assert head == data[:100]
    assert (tmp_path / "dst").read_bytes() == data
    assert (digests.sha256, digests.sha1, digests.md5) == _expected(data)


def test_sha256_only_when_legacy_is_off(tmp_path: Path) -> None:
    (tmp_path / "src").write_bytes(b"abc")
    with CopyPool(workers=1) as pool:
        digests, _, _ = _copy(pool, tmp_path / "src", tmp_path / "dst", legacy=False)
    assert digests.sha256 == hashlib.sha256(b"abc").hexdigest()
    assert digests.sha1 is None and digests.md5 is None


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3 * CHUNK), min_size=1, max_size=12))
def test_many_files_in_flight_each_get_their_own_digests(tmp_path_factory, sizes) -> None:
    """Files are copied back to back while earlier ones are still being hashed, on
    several workers, with fewer buffers than chunks in flight: every digest still belongs
    to its own file, and every buffer comes back."""
    folder = tmp_path_factory.mktemp("many")
    payloads = [os.urandom(n) for n in sizes]
    with CopyPool(workers=3, writers=2, buffers=3) as pool:
        copies, outs = [], []
        for i, data in enumerate(payloads):
            (folder / f"s{i}").write_bytes(data)
            src = os.open(folder / f"s{i}", os.O_RDONLY)
            outs.append(open_output(folder / f"d{i}"))
            copies.append(copy_and_hash(src, outs[-1], pool=pool)[0])  # no waiting between
            os.close(src)
        results = []
        for copy, out in zip(copies, outs, strict=True):
            copy.wait_written()
            os.close(out)
            results.append(copy.digests())
        assert pool.free_buffers() == 3  # every buffer given back
    for i, (data, digests) in enumerate(zip(payloads, results, strict=True)):
        assert (folder / f"d{i}").read_bytes() == data
        assert (digests.sha256, digests.sha1, digests.md5) == _expected(data)


def test_a_read_error_cancels_the_job_and_returns_its_buffers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "src").write_bytes(os.urandom(3 * CHUNK))
    fd = os.open(tmp_path / "src", os.O_RDONLY)
    calls = {"n": 0}
    real_readv = os.readv

    def failing_readv(f, bufs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.EIO, "Input/output error")
        return real_readv(f, bufs)

    with CopyPool(workers=1, buffers=2) as pool:
        monkeypatch.setattr(os, "readv", failing_readv)
        try:
            with pytest.raises(OSError, match="Input/output"):
                copy_and_hash(fd, None, pool=pool)
        finally:
            monkeypatch.undo()
            os.close(fd)
        # the pool still works, and no buffer was lost
        (tmp_path / "ok").write_bytes(b"fine")
        digests, _, _ = _copy(pool, tmp_path / "ok", tmp_path / "ok-copy")
        assert digests.sha256 == hashlib.sha256(b"fine").hexdigest()
        assert pool.free_buffers() == 2


def test_a_write_error_is_raised_and_no_write_is_left_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk seen by a writer thread: raised by the copying thread (at the next
    chunk) or by wait_written, never lost; every buffer comes back."""
    (tmp_path / "src").write_bytes(os.urandom(6 * CHUNK))

    def full_disk(fd, data, offset):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full_disk)
    fd = os.open(tmp_path / "src", os.O_RDONLY)
    out = open_output(tmp_path / "dst")
    with CopyPool(workers=1, writers=1, buffers=2) as pool:
        try:
            with pytest.raises(OSError) as caught:
                copy, _, _ = copy_and_hash(fd, out, pool=pool)
                copy.wait_written()
        finally:
            os.close(fd)
            os.close(out)
        assert caught.value.errno == errno.ENOSPC
        assert pool.free_buffers() == 2


def test_an_unexpected_writer_error_is_raised_not_hung_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any exception in a writer thread reaches the copy; the writer lives on for the next
    file (a dead writer would leave the copy waiting for ever)."""
    (tmp_path / "src").write_bytes(os.urandom(2 * CHUNK))
    real_pwrite = os.pwrite
    calls = {"n": 0}

    def broken_once(fd, view, offset):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ValueError("simulated bug")
        return real_pwrite(fd, view, offset)

    monkeypatch.setattr(os, "pwrite", broken_once)
    with CopyPool(workers=1, writers=1, buffers=2) as pool:
        with pytest.raises(ValueError, match="simulated bug"):
            _copy(pool, tmp_path / "src", tmp_path / "dst")
        digests, size, _ = _copy(pool, tmp_path / "src", tmp_path / "dst2")
        assert size == 2 * CHUNK
        assert (tmp_path / "dst2").read_bytes() == (tmp_path / "src").read_bytes()
        assert digests.sha256 == hashlib.sha256((tmp_path / "src").read_bytes()).hexdigest()
        assert pool.free_buffers() == 2


def _supports_direct(folder: Path) -> bool:
    """Whether this file system takes O_DIRECT (probed with a plain os.open)."""
    if not copier.O_DIRECT:
        return False
    probe = folder / "probe"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | copier.O_DIRECT, 0o600)
    except OSError:
        return False
    os.close(fd)
    probe.unlink()
    return True


def test_direct_io_where_possible_and_ordinary_writes_for_the_tail(tmp_path: Path) -> None:
    data = os.urandom(2 * CHUNK + 100)  # two aligned chunks, then an unaligned tail
    (tmp_path / "src").write_bytes(data)
    out = open_output(tmp_path / "dst")
    try:
        assert copier.Output(out).direct == _supports_direct(tmp_path)
    finally:
        os.close(out)
    (tmp_path / "dst").unlink()
    with CopyPool(workers=1) as pool:
        digests, size, _ = _copy(pool, tmp_path / "src", tmp_path / "dst")
    assert size == len(data)
    assert (tmp_path / "dst").read_bytes() == data
    assert digests.sha256 == hashlib.sha256(data).hexdigest()


def test_a_file_system_refusing_direct_writes_gets_ordinary_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EINVAL from a direct write (no direct I/O here, or misaligned) switches the file to
    ordinary writes and retries: the copy is whole and exact."""
    if not _supports_direct(tmp_path):
        pytest.skip("this file system has no direct I/O to refuse")
    data = os.urandom(3 * CHUNK)
    (tmp_path / "src").write_bytes(data)
    real_pwrite = os.pwrite
    refused = {"n": 0}

    def refusing(fd, view, offset):
        if _is_direct(fd):
            refused["n"] += 1
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_pwrite(fd, view, offset)

    monkeypatch.setattr(os, "pwrite", refusing)
    with CopyPool(workers=1, writers=2) as pool:
        digests, size, _ = _copy(pool, tmp_path / "src", tmp_path / "dst")
    assert size == len(data)
    assert (tmp_path / "dst").read_bytes() == data
    assert digests.sha256 == hashlib.sha256(data).hexdigest()
    assert 1 <= refused["n"] <= 2  # refused once per writer at most, then ordinary writes


def _is_direct(fd: int) -> bool:
    import fcntl

    return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & copier.O_DIRECT)


def test_cancelled_job_result_raises() -> None:
    with CopyPool(workers=1) as pool:
        job = pool.job()
        job.cancel()
        with pytest.raises(RuntimeError, match="cancelled"):
            job.result()


def test_hash_fd_and_hash_path_agree_with_hashlib(tmp_path: Path) -> None:
    data = os.urandom(2 * CHUNK + 5)
    path = tmp_path / "f"
    path.write_bytes(data)
    digests, size = hash_path(path, legacy=True)
    assert size == len(data)
    assert (digests.sha256, digests.sha1, digests.md5) == _expected(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert hash_fd(fd)[0].sha256 == hashlib.sha256(data).hexdigest()
    finally:
        os.close(fd)


def test_hash_path_refuses_links(tmp_path: Path) -> None:
    (tmp_path / "target").write_bytes(b"x")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    with pytest.raises(OSError) as caught:
        hash_path(tmp_path / "link")
    assert caught.value.errno == errno.ELOOP


TAIL_SIZES = [1, 100, 4095, 4096, 4097, CHUNK + 1, CHUNK + 4095, 2 * CHUNK + 100]


@pytest.mark.parametrize("size", TAIL_SIZES)
def test_last_block_is_written_direct_and_cut_back(
    tmp_path: Path, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The partial last block goes out direct, padded with zeros to the block size; the
    copy is then cut back to exactly the original's bytes."""
    if not _supports_direct(tmp_path):
        pytest.skip("this file system has no direct I/O")
    data = os.urandom(size)
    (tmp_path / "src").write_bytes(data)
    real_pwrite = os.pwrite
    writes: list[tuple[bool, int, int]] = []

    def recording(fd, view, offset):
        writes.append((_is_direct(fd), len(view), offset))
        return real_pwrite(fd, view, offset)

    monkeypatch.setattr(os, "pwrite", recording)
    with CopyPool(workers=1, writers=2) as pool:
        digests, copied, _ = _copy(pool, tmp_path / "src", tmp_path / "dst")
    assert copied == size
    assert (tmp_path / "dst").read_bytes() == data  # no padding left
    assert digests.sha256 == hashlib.sha256(data).hexdigest()  # of the data, not padding
    assert all(direct and length % copier.ALIGN == 0 for direct, length, _ in writes)
    assert sum(length for _, length, _ in writes) == -(-size // copier.ALIGN) * copier.ALIGN


def test_bytes_after_a_padded_block_overwrite_the_padding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An original that grows after it was opened (ingest then refuses it) must still be
    copied exactly: the padding of what looked like the last block is on disk before the
    bytes that follow it are written over it."""
    if not _supports_direct(tmp_path):
        pytest.skip("this file system has no direct I/O")
    data = os.urandom(3 * CHUNK + 321)
    (tmp_path / "src").write_bytes(data)
    src_fd = os.open(tmp_path / "src", os.O_RDONLY)
    real_fstat, real_readv = os.fstat, os.readv
    calls = {"n": 0}

    class _Grown:
        st_size = 5000  # the size when opened; the rest appeared later

    def fstat(fd):
        return _Grown() if fd == src_fd else real_fstat(fd)

    def readv(fd, buffers):
        calls["n"] += 1
        if fd == src_fd and calls["n"] == 1:  # the first read ends where the file did
            chunk = os.read(fd, 5000)
            buffers[0][: len(chunk)] = chunk
            return len(chunk)
        return real_readv(fd, buffers)

    real_pwrite = os.pwrite

    def slow_padded_write(fd, view, offset):
        if offset == 0 and _is_direct(fd):
            time.sleep(0.05)  # the padded block lands late, unless waited for
        return real_pwrite(fd, view, offset)

    monkeypatch.setattr(os, "fstat", fstat)
    monkeypatch.setattr(os, "readv", readv)
    monkeypatch.setattr(os, "pwrite", slow_padded_write)
    _copy_open_fd_exactly(src_fd, tmp_path / "dst", data, writers=4)


def test_an_original_shorter_than_its_size_is_copied_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An original that shrank after it was opened (ingest then refuses it) ends before the
    size it was opened with: its real last block is not mistaken for a padded one, and the
    copy holds exactly the bytes read."""
    if not _supports_direct(tmp_path):
        pytest.skip("this file system has no direct I/O")
    data = os.urandom(2 * CHUNK + 700)
    (tmp_path / "src").write_bytes(data)
    src_fd = os.open(tmp_path / "src", os.O_RDONLY)
    real_fstat = os.fstat

    class _Larger:
        st_size = len(data) + 9000  # the size when opened

    real_pwrite = os.pwrite
    written: list[int] = []

    def recording(fd, view, offset):
        written.append(len(view))
        return real_pwrite(fd, view, offset)

    monkeypatch.setattr(os, "fstat", lambda fd: _Larger() if fd == src_fd else real_fstat(fd))
    monkeypatch.setattr(os, "pwrite", recording)
    _copy_open_fd_exactly(src_fd, tmp_path / "dst", data, writers=2)
    assert sum(written) == len(data)  # no block was padded
