"""Force-level profile at scale: ``cyberstalk profile`` over 1,000 synthetic cases.

Generates the cases with ``fixtures/many_cases.py`` (real case folders that pass verify;
outside the timing), then times the whole command, start-up included, as a subprocess:
every case verified (custody chain, manifest, signature, evidence re-hashed) and
analysed, and the HTML, CSV and JSON written. Measured in the same run, the same way:
the same command with one process (``--jobs 1``), and the per-case baseline an analyst
without ``profile`` would run, ``cyberstalk verify --no-record`` plus ``cyberstalk
timeline --format json`` on a sample of cases (extrapolated).

Target (issue): 1,000 cases in under 60 s on the 2-core reference machine.

    .venv/bin/python benchmarks/bench_profile.py            # 1,000 cases
    .venv/bin/python benchmarks/bench_profile.py --quick    # 100 cases
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "cyberstalk"]


def load_generator():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(ROOT / "fixtures"))
    spec = importlib.util.spec_from_file_location("many_cases", ROOT / "fixtures" / "many_cases.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["many_cases"] = module
    spec.loader.exec_module(module)
    return module


def timed(cmd: list[str], *, ok: tuple[int, ...] = (0,)) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if proc.returncode not in ok:
        sys.exit(f"benchmark command failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 cases instead of 1,000")
    parser.add_argument("--cases", type=int, default=None, help="number of cases")
    parser.add_argument("--sample", type=int, default=20, help="cases in the per-case baseline")
    args = parser.parse_args()
    n = args.cases or (100 if args.quick else 1000)
    mc = load_generator()
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        cases_dir = Path(tmp) / "cases"
        t = time.perf_counter()
        paths = mc.generate(n, cases_dir, workers=os.cpu_count() or 1)
        print(f"generated {len(paths):,} case folders in {time.perf_counter() - t:.1f} s")
        dirs = [str(p) for p in paths]
        out = Path(tmp) / "profile"

        pooled = timed([*CLI, "profile", *dirs, "-o", str(out)])
        shutil.rmtree(out)
        single = timed([*CLI, "profile", *dirs, "-o", str(out), "--jobs", "1"])
        sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir())}

        sample = dirs[: max(1, min(args.sample, n))]
        t = time.perf_counter()
        for d in sample:
            timed([*CLI, "verify", d, "--no-record"])
            timed([*CLI, "timeline", d, "--format", "json", "-o", str(Path(tmp) / "t.json")])
        per_case = (time.perf_counter() - t) / len(sample)

    print(
        f"cyberstalk profile, {n:,} cases, every core ({os.cpu_count()}): {pooled:.2f} s "
        f"({n / pooled:.0f} cases/s; target < 60 s for 1,000)"
    )
    print(f"cyberstalk profile --jobs 1: {single:.2f} s ({n / single:.0f} cases/s)")
    print("written: " + ", ".join(f"{k} {v / 1024:.0f} KiB" for k, v in sizes.items()))
    print(
        f"baseline, verify + timeline per case ({len(sample)} sampled): {per_case:.2f} s a case, "
        f"{per_case * n:.0f} s for {n:,} (extrapolated)"
    )
    print(
        f"ratios: profile is x{per_case * n / pooled:.0f} faster than the per-case commands, "
        f"pool speed-up x{single / pooled:.2f} over one process"
    )
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} CPUs: wall times stretch under load")
    scaled = pooled * 1000 / n
    print("target met" if scaled < 60 else "TARGET MISSED", f"({scaled:.1f} s per 1,000 cases)")


if __name__ == "__main__":
    main()
