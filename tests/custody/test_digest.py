"""The copy-and-hash engine: digests of exactly the bytes copied, whatever the sizes, with
many files in flight on several worker threads, and no buffer lost or reused too soon."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberstalk.hashing.digest import (
    CHUNK,
    HashPool,
    copy_and_hash,
    hash_fd,
    hash_path,
)


def _expected(data: bytes) -> tuple[str, str, str]:
    return (
        hashlib.sha256(data).hexdigest(),
        hashlib.sha1(data).hexdigest(),
        hashlib.md5(data).hexdigest(),
    )


def _copy(pool: HashPool, src: Path, dst: Path, **kwargs):
    fd = os.open(src, os.O_RDONLY)
    out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        return copy_and_hash(fd, out, pool=pool, **kwargs)
    finally:
        os.close(fd)
        os.close(out)


SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17]


@pytest.mark.parametrize("size", SIZES)
def test_copy_is_exact_and_digests_match_hashlib(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    (tmp_path / "src").write_bytes(data)
    with HashPool(workers=2, buffers=4) as pool:
        job, copied, head = _copy(pool, tmp_path / "src", tmp_path / "dst", sniff_size=100)
        digests = job.result()
    assert copied == size
    assert head == data[:100]
    assert (tmp_path / "dst").read_bytes() == data
    assert (digests.sha256, digests.sha1, digests.md5) == _expected(data)


def test_sha256_only_when_legacy_is_off(tmp_path: Path) -> None:
    (tmp_path / "src").write_bytes(b"abc")
    with HashPool(workers=1) as pool:
        job, _, _ = _copy(pool, tmp_path / "src", tmp_path / "dst", legacy=False)
        digests = job.result()
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
    with HashPool(workers=3, buffers=3) as pool:
        jobs = []
        for i, data in enumerate(payloads):
            (folder / f"s{i}").write_bytes(data)
            jobs.append(_copy(pool, folder / f"s{i}", folder / f"d{i}")[0])
        results = [job.result() for job in jobs]
        assert pool._free.qsize() == 3  # every buffer given back
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

    with HashPool(workers=1, buffers=2) as pool:
        monkeypatch.setattr(os, "readv", failing_readv)
        try:
            with pytest.raises(OSError, match="Input/output"):
                copy_and_hash(fd, None, pool=pool)
        finally:
            monkeypatch.undo()
            os.close(fd)
        # the pool still works, and no buffer was lost
        (tmp_path / "ok").write_bytes(b"fine")
        job, _, _ = _copy(pool, tmp_path / "ok", tmp_path / "ok-copy")
        assert job.result().sha256 == hashlib.sha256(b"fine").hexdigest()
        assert pool._free.qsize() == 2


def test_a_write_error_cancels_the_job(tmp_path: Path) -> None:
    (tmp_path / "src").write_bytes(b"x" * 10)
    fd = os.open(tmp_path / "src", os.O_RDONLY)
    read_only = os.open(tmp_path / "src", os.O_RDONLY)  # writing to it fails with EBADF
    with HashPool(workers=1, buffers=2) as pool:
        try:
            with pytest.raises(OSError):
                copy_and_hash(fd, read_only, pool=pool)
        finally:
            os.close(fd)
            os.close(read_only)
        assert pool._free.qsize() == 2


def test_cancelled_job_result_raises() -> None:
    with HashPool(workers=1) as pool:
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
