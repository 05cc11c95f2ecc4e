"""Benchmark: Messenger/Instagram DYI thread parsing against the usual quick script.

Writes a synthetic paginated thread (pages of 10,000 messages, Meta-escaped, newest
first), then parses it twice in the same run:

- baseline: what most DIY scripts and chat-miner do: ``json.load`` each page, loop over
  ``messages``, repair mojibake, convert ``timestamp_ms``; no provenance, no attachments,
  no fault handling;
- ours: ``facebook-messenger`` (full records with locators, flags, attachments, extra).

Prints seconds, messages per second and peak traced Python memory for each, and the
ratios. Usage: ``python benchmarks/bench_meta.py [--quick] [--messages N]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.registry import get_parser

PAGE = 10_000
T0 = 1_770_000_000_000
TEXTS = [
    "Answer me",
    "Saw you at the café on Stryd Fawr 👀",
    "Paid â chysylltu â fi eto",
    "I know where you go running",
]


def escape(value: str) -> str:
    return value.encode("utf-8").decode("latin-1")


def write_thread(folder: Path, total: int) -> list[Path]:
    paths: list[Path] = []
    for page, start in enumerate(range(0, total, PAGE), 1):
        messages = []
        for i in range(start, min(total, start + PAGE)):
            msg: dict[str, object] = {
                "sender_name": escape("Dylan Price" if i % 3 else "Carys Hughes"),
                "timestamp_ms": T0 - i * 1000,
                "content": escape(TEXTS[i % len(TEXTS)]),
            }
            if i % 50 == 0:
                msg["reactions"] = [{"reaction": escape("😢"), "actor": "Carys Hughes"}]
            if i % 97 == 0:
                msg["photos"] = [{"uri": f"messages/inbox/t/photos/{i}.jpg"}]
            messages.append(msg)
        doc = {
            "participants": [{"name": "Dylan Price"}, {"name": "Carys Hughes"}],
            "messages": messages,
            "title": "Dylan Price",
            "thread_path": "inbox/t",
        }
        path = folder / f"message_{page}.json"
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=True), encoding="ascii")
        paths.append(path)
    return paths


def fix(value: str) -> str:
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def baseline(paths: list[Path]) -> int:
    rows = []
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            doc = json.load(fh)
        for m in doc["messages"]:
            rows.append(
                (
                    datetime.fromtimestamp(m["timestamp_ms"] / 1000, UTC),
                    fix(m.get("sender_name", "")),
                    fix(m.get("content", "")),
                )
            )
    return len(rows)


def ours(paths: list[Path]) -> int:
    parser = get_parser("facebook-messenger")
    ctx = ParseContext()
    records = []
    for path in paths:
        records.extend(parser.parse(Source.loose(path), ctx, ParseReport()))
    return len(records)


def measure(func: Callable[[list[Path]], int], paths: list[Path]) -> tuple[float, int, int]:
    """(best of 3 wall seconds, count, peak traced bytes); tracing slows code, so apart."""
    elapsed = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        count = func(paths)
        elapsed = min(elapsed, time.perf_counter() - start)
    tracemalloc.start()
    func(paths)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, count, peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20,000 messages instead of 200,000")
    ap.add_argument("--messages", type=int, default=None, help="number of messages")
    args = ap.parse_args()
    total = args.messages or (20_000 if args.quick else 200_000)
    get_parser("facebook-messenger")  # load the registry (imports every parser) untimed
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_thread(Path(tmp), total)
        size = sum(p.stat().st_size for p in paths)
        print(f"{total:,} messages in {len(paths)} pages, {size / 1e6:.1f} MB")
        b_time, b_count, b_peak = measure(baseline, paths)
        o_time, o_count, o_peak = measure(ours, paths)
    assert b_count == o_count == total, (b_count, o_count)
    for label, secs, peak in (("baseline json.load", b_time, b_peak), ("ours", o_time, o_peak)):
        print(
            f"{label:<20} {secs:7.2f} s  {total / secs:10,.0f} msg/s  "
            f"peak traced {peak / 1e6:7.1f} MB"
        )
    print(f"time ratio ours/baseline: {o_time / b_time:.2f}x")
    print(f"peak memory ratio ours/baseline: {o_peak / b_peak:.2f}x")


if __name__ == "__main__":
    main()
