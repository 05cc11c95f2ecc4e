"""The custody log's appends: one at a time and in batches give the same chain, and a torn
final line (power loss) is ended, never rewritten, by the next append of either kind."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cyberstalk.hashing.custody import CustodyLog, check_chain, read_lines

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
EVENTS = [
    ("case_opened", {"ref": "NWP/1"}),
    ("exhibit_received", {"ref": "RE/1", "name": "Llun \u0175.png"}),
    ("item_refused", None),
    ("exhibit_received", {"ref": "RE/2", "text": "<script>alert(1)</script>"}),
]


def _log(path: Path) -> CustodyLog:
    return CustodyLog(path, tool="cyberstalk test", actor="DC Test")


def test_batch_is_byte_identical_to_single_appends(tmp_path: Path) -> None:
    one, many = tmp_path / "one.jsonl", tmp_path / "many.jsonl"
    singles = [_log(one).append(e, d, time=WHEN) for e, d in EVENTS]
    log = _log(many)
    batched = log.append_many(EVENTS[:1], time=WHEN) + log.append_many(EVENTS[1:], time=WHEN)
    assert one.read_bytes() == many.read_bytes()
    assert singles == batched
    assert [r["seq"] for r in batched] == [1, 2, 3, 4]
    assert check_chain(read_lines(many)) == []
    # the log's own view (cached across appends) matches a fresh read of the file
    assert [ln.raw for ln in log.lines()] == [ln.raw for ln in read_lines(many)]
    assert log.head() == _log(many).head()


def test_empty_batch_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    _log(path).append("case_opened", {}, time=WHEN)
    before = path.read_bytes()
    assert _log(path).append_many([]) == []
    assert path.read_bytes() == before


@pytest.mark.parametrize("batched", [False, True])
def test_torn_line_is_ended_by_the_next_append(tmp_path: Path, batched: bool) -> None:
    path = tmp_path / "log.jsonl"
    _log(path).append_many(EVENTS[:2], time=WHEN)
    whole = path.read_bytes()
    with path.open("ab") as fh:
        fh.write(b'{"seq":3,"event":"exhib')  # a write cut short by a power loss
    log = _log(path)
    if batched:
        log.append_many(EVENTS[2:], time=WHEN)
    else:
        for event, details in EVENTS[2:]:
            log.append(event, details, time=WHEN)
    data = path.read_bytes()
    assert data.startswith(whole + b'{"seq":3,"event":"exhib\n')  # kept, not rewritten
    lines = read_lines(path)
    assert all(ln.terminated for ln in lines)
    problems = check_chain(lines)
    assert problems and all("line 3" in p for p in problems)  # only the torn line
    assert [ln.event["event"] for ln in lines[3:] if ln.event] == [
        "item_refused",
        "exhibit_received",
    ]
