"""The copy-and-hash engine: digests of exactly the bytes copied, whatever the sizes, with
many files in flight on several threads, write errors surfaced, no buffer lost or reused
too soon, copies made durable before their pages are dropped, and a large copy's
writeback started while it is being copied."""

from __future__ import annotations

import errno
import hashlib
import itertools
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberstalk.hashing import copier
from cyberstalk.hashing.copier import CHUNK, CopyPool, copy_and_hash, make_durable, open_output
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
        make_durable(copy, out)
        return copy.digests(), size, head
    finally:
        os.close(fd)
        os.close(out)


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


def test_make_durable_fsyncs_then_drops_the_cached_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy's pages leave the page cache only once fsync has put them on the disk."""
    data = os.urandom(CHUNK + 5)
    (tmp_path / "src").write_bytes(data)
    calls: list[tuple] = []
    real_fsync, real_fadvise = os.fsync, os.posix_fadvise

    def fsync(fd):
        calls.append(("fsync", fd))
        return real_fsync(fd)

    def fadvise(fd, offset, length, advice):
        calls.append(("fadvise", fd, offset, length, advice))
        return real_fadvise(fd, offset, length, advice)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "posix_fadvise", fadvise)
    with CopyPool(workers=1) as pool:
        digests, size, _ = _copy(pool, tmp_path / "src", tmp_path / "dst")
    fd = calls[0][1]
    assert calls == [("fsync", fd), ("fadvise", fd, 0, 0, os.POSIX_FADV_DONTNEED)]
    assert size == len(data) and (tmp_path / "dst").read_bytes() == data
    assert digests.sha256 == hashlib.sha256(data).hexdigest()


def test_a_large_copys_writeback_starts_while_it_is_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every WRITEBACK_STEP bytes written, the writeback of what was written since the
    last start is asked for: ranges in order, back to back from 0, inside the file."""
    monkeypatch.setattr(copier, "WRITEBACK_STEP", 2 * CHUNK)
    data = os.urandom(9 * CHUNK + 3)
    (tmp_path / "src").write_bytes(data)
    ranges: list[tuple[int, int]] = []
    real_fadvise = os.posix_fadvise

    def fadvise(fd, offset, length, advice):
        assert advice == os.POSIX_FADV_DONTNEED
        if length:  # not make_durable's whole-file drop
            ranges.append((offset, length))
        return real_fadvise(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", fadvise)
    with CopyPool(workers=1, writers=2) as pool:
        digests, size, _ = _copy(pool, tmp_path / "src", tmp_path / "dst")
    assert (tmp_path / "dst").read_bytes() == data
    assert digests.sha256 == hashlib.sha256(data).hexdigest()
    assert len(ranges) == 4  # after 2, 4, 6 and 8 MiB of the 9 MiB and 3 bytes
    assert ranges[0][0] == 0
    assert all(a + n == b for (a, n), (b, _) in itertools.pairwise(ranges))
    assert all(n >= 2 * CHUNK for _, n in ranges)
    assert ranges[-1][0] + ranges[-1][1] <= size


def test_a_record_files_writeback_starts_as_it_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """derived/records files are written front to back through WritebackFile: the
    writeback of each step is asked for as the file grows, so the fsync at the end has
    only the last step left; the bytes are exactly those written."""
    from cyberstalk.hashing import fsutil
    from cyberstalk.records.store import record_path, record_writer

    monkeypatch.setattr(fsutil, "WRITEBACK_STEP", 1 << 20)
    ranges: list[tuple[int, int]] = []
    real_fadvise = os.posix_fadvise

    def fadvise(fd, offset, length, advice):
        assert advice == os.POSIX_FADV_DONTNEED
        ranges.append((offset, length))
        return real_fadvise(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", fadvise)
    lines = [b'{"n": %d, "pad": "%s"}\n' % (i, b"x" * (i % 700)) for i in range(20_000)]
    with record_writer(tmp_path, "RE/1") as out:
        for line in lines:
            out.write(line)
    data = record_path(tmp_path, "RE/1").read_bytes()
    assert data == b"".join(lines)
    # a step ends at the first buffered write (256 KiB and more) that completes 1 MiB
    assert ranges[0][0] == 0
    assert all(a + n == b for (a, n), (b, _) in itertools.pairwise(ranges))
    assert all(1 << 20 <= n < (1 << 20) + (1 << 19) for _, n in ranges)
    assert len(data) - (ranges[-1][0] + ranges[-1][1]) < 2 << 20  # to the last step
