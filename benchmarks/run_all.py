"""Run every benchmark in turn: ``make bench`` (full sizes) or ``make bench ARGS=--quick``.

Each script measures its own baseline in the same run and prints ratios; this runner only
sequences them (never in parallel: they would skew each other) and reports which failed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = [
    "bench_custody.py",  # issue 2: ingest vs cp -r, verify vs sha256sum
    "bench_export.py",  # issue 3: BagIt, timestamps
    "bench_whatsapp.py",  # issue 4: vs whatstk and chat-miner
    "bench_sms.py",  # issue 4: 1 GB SMS backup in constant memory
    "bench_meta.py",
    "bench_media.py",  # issue 5: OCR and perceptual hashing
    "bench_timeline.py",  # issue 6: 200,000 records
    "bench_advice.py",  # issue 7
    "bench_profile.py",  # force-level profile: 1,000 cases
    "bench_screen.py",  # issue 22: screen 100,000 crime records under 60 s
    "bench_startup.py",  # issue 20: start-up with and without the typer-free fast path
]


def main() -> int:
    args = sys.argv[1:]
    failed = []
    for name in ORDER:
        print(f"\n######## {name} {' '.join(args)}", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(HERE / name), *args])
        print(
            f"######## {name}: exit {code} after {time.perf_counter() - started:.0f} s", flush=True
        )
        if code:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
