"""Run parsers on hostile files, each in its own forked process with a time and memory
bound, and report what happened (used by ``test_fuzz_parsers.py``).

    python fuzz_worker.py SECONDS MEGABYTES < tasks.jsonl > results.jsonl

A task is ``{"parser": name, "path": file, "label": text}``. The worker imports the
parsers once, then forks a child per task (cheap, and each child's peak memory is its
own: ``os.wait4`` gives it). The child limits its address space to MEGABYTES more than
the worker's, arms a SECONDS timer, sniffs and parses the file, and writes one JSON
line:

``outcome``
    ``records`` (parsed), ``error`` (a CyberstalkError: ``message`` holds it),
    ``traceback`` (anything else: ``traceback`` holds it), ``hang`` (the timer fired,
    or the child was killed after SECONDS + 5) or ``killed`` (no answer: a crash).
``rss_mb``
    The child's peak resident memory above the worker's at the fork.
``sniff``
    Every parser's sniff score, or the sniff's own traceback.
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")


class Hang(Exception):
    """The per-case timer fired."""


def _alarm(_signum: int, _frame: Any) -> None:
    raise Hang


def _statm() -> tuple[int, int]:
    """(virtual size, resident size) of this process in bytes."""
    size, resident, *_ = Path("/proc/self/statm").read_text().split()
    return int(size) * PAGE, int(resident) * PAGE


def _child(task: dict[str, Any], seconds: float, megabytes: int, out: int) -> None:
    from cyberstalk.errors import CyberstalkError
    from cyberstalk.parsers.base import ParseContext, ParseReport, Source
    from cyberstalk.parsers.registry import all_parsers, get_parser

    virtual, _ = _statm()
    limit = virtual + megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    result: dict[str, Any] = {"records": 0}
    source = Source.loose(Path(task["path"]))
    started = time.monotonic()
    try:
        sniff: dict[str, Any] = {}
        for name, parser in all_parsers().items():
            try:
                score = parser.sniff(source)
                sniff[name] = score if isinstance(score, float) else repr(score)
            except Hang:
                raise
            except Exception:
                sniff[name] = "traceback: " + traceback.format_exc(limit=-6)
        result["sniff"] = sniff
        parser = get_parser(task["parser"])
        report = ParseReport(parser=parser.name)
        for record in parser.parse(source, ParseContext(), report):
            result["records"] += 1
            record.as_dict()
        result["outcome"] = "records"
    except Hang:
        result["outcome"] = "hang"
    except CyberstalkError as exc:
        result["outcome"] = "error"
        result["message"] = str(exc)
    except BaseException:
        result["outcome"] = "traceback"
        result["traceback"] = traceback.format_exc(limit=-8)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    result["seconds"] = round(time.monotonic() - started, 3)
    data = (json.dumps(result) + "\n").encode()
    while data:
        data = data[os.write(out, data) :]


def run_one(task: dict[str, Any], seconds: float, megabytes: int) -> dict[str, Any]:
    _, resident = _statm()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        code = 0
        try:
            _child(task, seconds, megabytes, write_end)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    chunks: list[bytes] = []
    deadline = time.monotonic() + seconds + 5
    killed = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            killed = True
            break
        ready, _, _ = select.select([read_end], [], [], left)
        if ready:
            block = os.read(read_end, 65536)
            if not block:
                break
            chunks.append(block)
    os.close(read_end)
    _, status, usage = os.wait4(pid, 0)
    text = b"".join(chunks).decode()
    result: dict[str, Any] = json.loads(text) if text.strip() else {"outcome": "killed"}
    if killed:
        result["outcome"] = "hang"
    result["status"] = status
    result["rss_mb"] = round((usage.ru_maxrss * 1024 - resident) / 2**20, 1)
    return {**task, **result}


def main() -> None:
    seconds = float(sys.argv[1])
    megabytes = int(sys.argv[2])
    from cyberstalk.parsers.registry import all_parsers

    all_parsers()  # import every parser once, before forking
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(run_one(json.loads(line), seconds, megabytes)), flush=True)


if __name__ == "__main__":
    main()
