"""Start-up of the console script, with and without the typer-free fast path
(src/cyberstalk/commands/fastpath.py): the figures behind keeping it.

Each command line runs ``--runs`` times (default 21), the variants interleaved, and the
median wall time is printed. "without" runs the same code with ``fast_command`` declining
every line, so typer parses it (and the fast path's module is not imported at all). The
target is 150 ms for ``--version`` and for an ingest of one small file: one the case has
recorded before (hashed, found in the log, nothing new recorded; the log and manifest are
still read, an event appended and the manifest sealed), and a new one.

    python benchmarks/bench_startup.py [--runs N] [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TARGET_MS = 150.0
WITH = "from cyberstalk.cli import main; main()"
WITHOUT = (
    "import sys, types; m = types.ModuleType('cyberstalk.commands.fastpath'); "
    "m.fast_command = lambda argv: None; m.Signature = lambda **kw: None; "
    "sys.modules[m.__name__] = m; from cyberstalk.cli import main; main()"
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--quick", action="store_true", help="7 runs")
    args = ap.parse_args()
    runs = 7 if args.quick else args.runs
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["XDG_CONFIG_HOME"] = str(tmp / "xdg")

        def run(prog: str, *argv: str) -> float:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c", prog, *argv], env=env, capture_output=True, check=True
            )
            return time.perf_counter() - started

        case, small = tmp / "case", tmp / "note.txt"
        small.write_text("hello\n", encoding="utf-8")
        run(WITH, "case", "init", str(case), "--ref", "B/1", "--officer", "B", "--initials", "BE")
        run(WITH, "ingest", str(case), str(small), "--source", "bench")  # then: already in
        made = itertools.count(1)

        def new_file() -> list[str]:
            """A note no run has ingested: copied, typed, fsynced, renamed, logged, sealed
            (not parsed: --no-process)."""
            note = tmp / f"new-{next(made)}.txt"
            note.write_text(f"{note.name}\n", encoding="utf-8")
            return ["ingest", str(case), str(note), "--source", "bench", "--no-process"]

        lines: dict[str, Callable[[], list[str]]] = {
            "--version": lambda: ["--version"],
            "ingest --help": lambda: ["ingest", "--help"],
            "ingest (recorded)": lambda: ["ingest", str(case), str(small), "--source", "bench"],
            "ingest (new file)": new_file,
        }
        variants = {"with fast path": WITH, "without": WITHOUT}
        for prog in variants.values():  # warm: .pyc written, files cached
            for argv in lines.values():
                run(prog, *argv())
        times: dict[tuple[str, str], list[float]] = {}
        bare: list[float] = []
        for _ in range(runs):
            bare.append(run("pass"))
            for vname, prog in variants.items():
                for lname, argv in lines.items():
                    times.setdefault((lname, vname), []).append(run(prog, *argv()))
    base = statistics.median(bare) * 1000
    print(f"median of {runs} runs, ms (target {TARGET_MS:.0f} ms)")
    print(
        f"baseline, the same run: python -c pass {base:.1f} ms (this machine's speed moves "
        "with its host's load: read the figures against it)"
    )
    print(f"{'command line':<20}" + "".join(f"{v:>16}" for v in variants))
    for lname in lines:
        cells = (statistics.median(times[(lname, v)]) * 1000 for v in variants)
        print(f"{lname:<20}" + "".join(f"{ms:>16.1f}" for ms in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
