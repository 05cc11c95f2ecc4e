"""Work in a forked child beside this process, on the machine's second core.

Two jobs use it: the WhatsApp parser reads the second half of a large export in a child,
and the timeline writes part of a large case's month pages in one. Either way the child's
result is only a help: when it cannot fork, or the child fails, the parent does the work
itself, so the output never depends on whether a child ran.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
from collections.abc import Callable
from typing import Any


def two_cores_free() -> bool:
    """Whether a forked worker can run beside this process: it can fork, only this
    thread runs (a fork copies one thread: a lock another one holds stays held), and
    the process may use two cores."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return False
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return cores >= 2


class Forked:
    """A forked child that runs ``work`` and hands its result (JSON) back through a pipe;
    its failure is the parent's to make good, so the child never raises."""

    def __init__(self, work: Callable[[], object]) -> None:
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            raise
        if pid == 0:  # pragma: no cover - the child (coverage does not follow it)
            os.close(read_end)
            payload = b""
            try:
                payload = json.dumps(work()).encode("utf-8")
            except BaseException:  # noqa: S110 - any failure: the parent does the work instead
                pass
            finally:
                try:
                    view = memoryview(payload)
                    while view:
                        view = view[os.write(write_end, view) :]
                finally:
                    os._exit(0)  # no atexit handlers, no flushing the parent's buffers
        os.close(write_end)
        self.pid = pid
        self.pipe = read_end

    def value(self) -> Any:
        """Wait for the child: what ``work`` returned (null: None), or None if it failed."""
        chunks = []
        while data := os.read(self.pipe, 1 << 16):
            chunks.append(data)
        os.close(self.pipe)
        self.pipe = -1
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        if status != 0 or not chunks:
            return None
        return json.loads(b"".join(chunks))

    def close(self) -> None:
        """Stop the child if it still runs (its result is not wanted)."""
        if self.pipe >= 0:
            os.close(self.pipe)
            self.pipe = -1
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0
