"""Copy a file and hash it in one read pass, with the CPU cores and the disk all busy.

The calling thread reads each chunk of the original once, into a buffer. Two consumers
then share that buffer: a hashing worker (every chunk of one file goes to the same worker,
in order; different files go to different workers, so the digests of a submission use
every core) and a writer thread (``pwrite`` at the chunk's offset). A buffer is reused only
when both are done with it, so the digests are of exactly the bytes written, and memory
stays flat.

Copies are written the ordinary way, through the page cache, as ``cp`` writes them; the
caller makes each durable with :func:`make_durable` (fsync), which then drops the copy's
pages from the cache. A large file's writeback is started every WRITEBACK_STEP bytes while
it is being copied, so that the disk works alongside the reading and the dirty pages of
one copy stay few.

Copies are not written with ``O_DIRECT``: the device takes the page cache's large
writeback requests better than small direct writes (README, Performance).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path

from cyberstalk.hashing.digest import DIGEST_NAMES, Digests
from cyberstalk.hashing.fsutil import WRITEBACK_STEP, drop_cached

CHUNK = 1 << 20
"""Read and write size. Per chunk, three threads pass the buffer along, so small chunks
cost more in hand-overs than they save in cache hits (benchmarks/bench_custody.py)."""
BUFFERS = 16
"""Buffers per pool (at most 16 MiB, made as needed): how far reading may run ahead of
hashing and writing."""
WRITERS = 2
"""Writer threads: a write into the page cache waits only when the kernel throttles a
writer with too many dirty pages."""
PROGRESS_STEP = 4 << 20
"""Bytes between progress reports (a report per chunk costs more than it shows)."""


def default_workers() -> int:
    """Hashing threads: one per usable core, at most four."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def open_output(path: Path) -> int:
    """Create ``path`` (it must not exist; never through a link) for a copy."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    return os.open(path, flags, 0o600)


def make_durable(copy: Copy, fd: int) -> None:
    """Wait for the copy's writes (raising a write error), fsync it, then drop its pages
    from the page cache: the evidence is on the disk, and an ingest of many gigabytes
    does not push everything else out of memory (a later read comes from the disk)."""
    copy.wait_written()  # settles first: no write is in flight once this returns or raises
    os.fsync(fd)
    drop_cached(fd, 0, 0)


class _Buffer:
    """A buffer, and how many of the hashing worker and the writer still need it."""

    __slots__ = ("mem", "users")

    def __init__(self) -> None:
        self.mem = bytearray(CHUNK)
        self.users = 0


class HashJob:
    """One digest of one stream, computed in order by one hashing worker. (The digests of
    one file are separate jobs, so that with SHA-1 and MD5 as well the work of a file is
    spread over the cores too.)

    ``result`` waits for the digest; a cancelled job (its stream failed) raises there.
    """

    def __init__(self, worker: _HashWorker, name: str) -> None:
        self.name = name
        self._worker = worker
        self._hash = hashlib.new(name)
        self._done = threading.Event()
        self._digest: str | None = None
        self._error: Exception | None = None
        self.cancelled = False

    def feed(self, buf: _Buffer, length: int) -> None:
        self._worker.queue.put((self, buf, length))

    def end(self) -> None:
        self._worker.queue.put((self, None, 0))

    def cancel(self) -> None:
        self.cancelled = True
        self.end()

    def settle(self) -> None:
        """Wait until the worker is done with this job (and its buffers)."""
        self._done.wait()

    def result(self) -> str:
        """The hex digest."""
        self._done.wait()
        if self._error is not None:
            raise RuntimeError(f"{self.name} hashing failed: {self._error}") from self._error
        if self._digest is None:
            raise RuntimeError("hashing was cancelled")
        return self._digest

    # -- on the worker thread (which must outlive any one job's failure)
    def _update(self, buf: _Buffer, length: int) -> None:
        if self.cancelled or self._error is not None:
            return
        try:
            with memoryview(buf.mem) as whole, whole[:length] as view:
                self._hash.update(view)
        except Exception as exc:  # pragma: no cover - hashlib does not fail on bytes
            self._error = exc

    def _finish(self) -> None:
        if not self.cancelled and self._error is None:
            self._digest = self._hash.hexdigest()
        self._done.set()


class _HashWorker:
    def __init__(self, pool: CopyPool, number: int) -> None:
        self.queue: queue.SimpleQueue[tuple[HashJob, _Buffer | None, int] | None] = (
            queue.SimpleQueue()
        )
        self.thread = threading.Thread(
            target=self._run, args=(pool,), name=f"hash-{number}", daemon=True
        )
        self.thread.start()

    def _run(self, pool: CopyPool) -> None:
        while (task := self.queue.get()) is not None:
            job, buf, length = task
            if buf is None:
                job._finish()
                continue
            try:
                job._update(buf, length)
            finally:
                pool._release(buf)


class Output:
    """The writes of one copy, done at their offsets by the pool's writer threads."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.error: Exception | None = None
        self._outstanding = 0
        self._written = 0
        self._kicked = 0
        """Bytes of the copy whose writeback has been started."""
        self._cond = threading.Condition()

    def wait(self) -> None:
        """Wait until every write queued so far is done; raise the first write error."""
        self.settle()
        if self.error is not None:
            raise self.error

    def settle(self) -> None:
        """Wait until no write is in flight (the fd may then be closed), ignoring errors."""
        with self._cond:
            self._cond.wait_for(lambda: self._outstanding == 0)

    # -- on the copying thread and the writers
    def _queued(self) -> None:
        with self._cond:
            self._outstanding += 1

    def _done(self, error: Exception | None) -> None:
        with self._cond:
            self._outstanding -= 1
            if error is not None and self.error is None:
                self.error = error
            self._cond.notify_all()

    def _write(self, buf: _Buffer, length: int, offset: int) -> None:
        with memoryview(buf.mem) as whole, whole[:length] as view:
            written = 0
            while written < length:
                written += os.pwrite(self.fd, view[written:], offset + written)
        with self._cond:
            self._written += length
            start, step = self._kicked, self._written - self._kicked
            if step < WRITEBACK_STEP:
                return
            self._kicked = self._written
        # chunks land out of order, so the range is the bytes written so far, roughly: a
        # page not yet written is simply not written back by this call
        drop_cached(self.fd, start, step)


class Copy:
    """A copy whose hashing and writing finish in the pool's threads."""

    def __init__(self, jobs: list[HashJob], output: Output | None) -> None:
        self.jobs = jobs
        self.output = output

    def digests(self) -> Digests:
        return Digests.from_dict({job.name: job.result() for job in self.jobs})

    def wait_written(self) -> None:
        """Every byte handed to the file system (fsync still to do, see make_durable);
        raises write errors."""
        if self.output is not None:
            self.output.wait()

    def settle(self) -> None:
        """No write in flight any more, whatever happened: the fd may be closed."""
        if self.output is not None:
            self.output.settle()


class CopyPool:
    """Threads and buffers for copying and hashing many files, one after another.

    One thread reads (calls ``copy_and_hash``); ``workers`` threads hash and ``writers``
    threads write. hashlib and os.pwrite release the GIL, so all of them run at once.
    """

    def __init__(
        self,
        *,
        workers: int | None = None,
        writers: int = WRITERS,
        buffers: int = BUFFERS,
    ) -> None:
        self._free: queue.SimpleQueue[_Buffer] = queue.SimpleQueue()
        self._unmade = buffers
        """Buffers not allocated yet: each is made when reading first needs it, so that a
        pool that copies a few small files does not zero 16 MiB it never uses."""
        self._lock = threading.Lock()
        self._hashers = [_HashWorker(self, i) for i in range(workers or default_workers())]
        self._writes: queue.SimpleQueue[tuple[Output, _Buffer, int, int] | None] = (
            queue.SimpleQueue()
        )
        self._writers = [
            threading.Thread(target=self._write_loop, name=f"write-{i}", daemon=True)
            for i in range(writers)
        ]
        for thread in self._writers:
            thread.start()
        self._next = 0

    def __enter__(self) -> CopyPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Finish the queued work and stop the threads."""
        for _ in self._writers:
            self._writes.put(None)
        for worker in self._hashers:
            worker.queue.put(None)
        for thread in [*self._writers, *(w.thread for w in self._hashers)]:
            thread.join()

    def free_buffers(self) -> int:
        """Buffers not in use (made or not)."""
        return self._free.qsize() + self._unmade

    def job(self, name: str = "sha256") -> HashJob:
        """A new digest to compute, given to the worker with the least work queued (ties
        taken in turn, so the digests of one file go to different workers)."""
        count = len(self._hashers)
        order = [self._hashers[(self._next + i) % count] for i in range(count)]
        self._next = (self._next + 1) % count
        return HashJob(min(order, key=lambda w: w.queue.qsize()), name)

    # -- buffers
    def _take(self) -> _Buffer:
        """A free buffer (only the reading thread takes them): a returned one, else a new
        one while fewer than ``buffers`` are made, else wait for one to come back."""
        try:
            return self._free.get_nowait()
        except queue.Empty:
            if self._unmade:
                self._unmade -= 1
                return _Buffer()
            return self._free.get()

    def _release(self, buf: _Buffer) -> None:
        with self._lock:
            buf.users -= 1
            free = buf.users == 0
        if free:
            self._free.put(buf)

    def _share(
        self,
        buf: _Buffer,
        length: int,
        jobs: list[HashJob],
        output: Output | None,
        offset: int,
    ) -> None:
        """Hand ``length`` bytes to the hashing jobs and to a writer."""
        buf.users = len(jobs) + (output is not None)
        if output is not None:
            output._queued()
            self._writes.put((output, buf, length, offset))
        for job in jobs:
            job.feed(buf, length)

    def _write_loop(self) -> None:
        while (task := self._writes.get()) is not None:
            output, buf, length, offset = task
            error: Exception | None = None
            try:
                if output.error is None:  # after a failed write, the rest is moot
                    output._write(buf, length, offset)
            except Exception as exc:  # kept for the copy; the writer lives on
                error = exc
            finally:
                self._release(buf)  # before _done: a waiter then finds the buffer free
                output._done(error)


def copy_and_hash(
    src_fd: int,
    dst_fd: int | None,
    *,
    pool: CopyPool,
    legacy: bool = True,
    on_bytes: Callable[[int], None] | None = None,
    sniff_size: int = 0,
) -> tuple[Copy, int, bytes]:
    """Read ``src_fd`` to its end once; each chunk is written to ``dst_fd`` (if given) and
    hashed by the pool's threads.

    Returns (the copy, bytes read, the first ``sniff_size`` bytes for file typing); the
    last writes and the hashing may still be running. :func:`make_durable` (which
    raises a write error) before trusting the copy, and before closing ``dst_fd``;
    ``copy.digests()`` waits for the digests. On a read error, or a write
    error seen while reading, no write is left in flight, the hashing is cancelled and the
    error raised.
    """
    jobs = [pool.job(name) for name in (DIGEST_NAMES if legacy else DIGEST_NAMES[:1])]
    output = Output(dst_fd) if dst_fd is not None else None
    offset = 0
    unreported = 0
    head = bytearray()
    try:
        while True:
            if output is not None and output.error is not None:
                raise output.error
            buf = pool._take()
            try:
                length = os.readv(src_fd, [buf.mem])
            except BaseException:
                pool._free.put(buf)
                raise
            if not length:
                pool._free.put(buf)
                break
            if len(head) < sniff_size:
                head += buf.mem[: min(length, sniff_size - len(head))]
            pool._share(buf, length, jobs, output, offset)
            offset += length
            unreported += length
            if on_bytes is not None and unreported >= PROGRESS_STEP:
                on_bytes(unreported)
                unreported = 0
    except BaseException:
        for job in jobs:
            job.cancel()
        with contextlib.suppress(BaseException):
            if output is not None:
                output.settle()  # never leave a write running on an fd the caller closes
            for job in jobs:
                job.settle()  # and every buffer is back in the pool
        raise
    for job in jobs:
        job.end()
    if on_bytes is not None and unreported:
        on_bytes(unreported)
    return Copy(jobs, output), offset, bytes(head)
