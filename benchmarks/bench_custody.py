"""Benchmark: ingest and verify of 1 GiB in 256 files and, for information, of 256 MiB in
64 files and of 2,000 small files (32 MiB), against a plain copy (`cp -r`, then
`sync` so both sides pay for durable writes), against `sha256sum`, and against one thread
of hashlib SHA-256 over the same files, all measured in the same run. Every command is the
installed `cyberstalk` console script, so its start-up counts.

Targets: ingest (default options) <= 1.5x `cp -r` + `sync` at 1 GiB (issue 20: at 1 GiB
and above; at 256 MiB a fixed start-up cost that does not matter to a user weighs on the
ratio, so it is shown without a target); verify re-hashes at least at one core's SHA-256
rate, using the cores where there are several files.

    .venv/bin/python benchmarks/bench_custody.py [--quick] [--mib N --files N]
        [--rounds 5] [--settle 2]

Reading the figures on a virtual machine: the copy's time depends on the state of the
guest's memory more than on its disk. `cp -r` fills the page cache; where the VM has
handed freed memory back to its host (free page reporting), each new page costs a host
fault, and `cp -r` + `sync` of 256 MiB takes ~0.6-0.85 s instead of the ~0.2 s it takes
when the guest still holds the pages (1 GiB: ~3 s). Which state a round meets is not in
the benchmark's control (a rest between contenders, ``--settle``, makes the slow state
likelier, not certain), so the copy's times are bimodal. ingest writes through the page
cache too, and so meets the same state. Contenders alternate, each output is removed
before the next; the median of the rounds is the figure, and the ratio of the best round
of each is printed too, as the copy's best case.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = [(1024, 256)]
"""(MiB, files) measured by default, with the targets."""
INFO = [(256, 64), (32, 2000)]
"""Also measured by default, for information (no target): 256 MiB, and many small files,
as a phone dump or a folder of emails is, where the cost per file counts and not the
bytes."""


def timed(cmd: list[str], **kwargs: object) -> float:
    os.sync()  # start each contender with no dirty pages left over from the one before
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - started


def make_submission(folder: Path, total_mib: int, files: int) -> int:
    """``files`` files of random bytes, ``total_mib`` MiB in all. Sizes differ and are not
    multiples of the block size, as real evidence is not (a file's last block is then a
    partial one); they pair up so that the total is exact."""
    folder.mkdir(parents=True)
    size = (total_mib << 20) // files
    block = os.urandom(1 << 20)
    total = 0
    for i in range(files):
        step = (1237 * (i // 2 + 1) + 3) % max(1, size // 2)
        with (folder / f"item-{i:04d}.bin").open("wb") as fh:
            remaining = size + (step if i % 2 == 0 and i + 1 < files else -step if i % 2 else 0)
            total += remaining
            # vary content so no two files are identical (no de-duplication shortcuts)
            fh.write(i.to_bytes(8, "little"))
            remaining -= 8
            while remaining > 0:
                chunk = block[: min(remaining, len(block))]
                fh.write(chunk)
                remaining -= len(chunk)
    return total


def one_core_sha256(files: list[Path]) -> float:
    """Seconds for one thread to SHA-256 ``files`` (in the page cache) with hashlib in
    1 MiB reads: the single-core rate verify is held to."""
    buf = bytearray(1 << 20)
    started = time.perf_counter()
    for path in files:
        digest = hashlib.sha256()
        with path.open("rb", buffering=0) as fh:
            while n := fh.readinto(buf):
                digest.update(memoryview(buf)[:n])
    return time.perf_counter() - started


def run_size(
    mib: int, files: int, rounds: int, settle: float, *, target: bool = True
) -> dict[str, float]:
    """Ingest and verify of ``mib`` MiB in ``files`` files against ``cp -r`` + ``sync``,
    with ``settle`` seconds of rest between contenders; prints a table and returns the
    ratios."""
    cli = [str(Path(sys.executable).parent / "cyberstalk")]
    work = Path(tempfile.mkdtemp(prefix="cyberstalk-bench-", dir=ROOT / "benchmarks"))
    env = {**os.environ, "XDG_CONFIG_HOME": str(work / "xdg")}
    try:
        sub = work / "submission"
        total = make_submission(sub, mib, files)
        mb = total / 1e6
        # warm the page cache once so every contender reads from memory
        subprocess.run(
            ["cat", *map(str, sorted(sub.iterdir()))], stdout=subprocess.DEVNULL, check=True
        )
        ingest_cmd = [*cli, "ingest", str(work / "out"), str(sub), "--source", "bench",
                      "--no-process"]  # fmt: skip

        def init_case(case: Path) -> None:
            subprocess.run(
                [*cli, "case", "init", str(case), "--ref", "BENCH", "--officer", "B",
                 "--initials", "BM"],
                check=True,
                env=env,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip

        contenders: dict[str, list[str]] = {
            "cp -r + sync": ["sh", "-c", f"cp -r '{sub}' '{work}/out' && sync"],
            "ingest (default: sha256)": ingest_cmd,
            "ingest --legacy-digests": [*ingest_cmd, "--legacy-digests"],
        }
        runs: dict[str, list[float]] = {label: [] for label in contenders}
        for _ in range(rounds):
            # alternate, and remove each output before the next contender: every contender
            # then writes to the same kind of blocks and memory (on a VM, never-used blocks
            # and pages cost several times more than recycled ones)
            for label, cmd in contenders.items():
                if label.startswith("ingest"):
                    init_case(work / "out")
                runs[label].append(timed(cmd, env=env))
                clear(work / "out")
                # let the kernel finish with the freed memory (a VM hands freed pages back
                # to its host in the background, which would tax whoever runs next)
                time.sleep(settle)
        results = {label: statistics.median(times) for label, times in runs.items()}
        results["sha256sum"] = timed(["sh", "-c", f"sha256sum '{sub}'/* > /dev/null"])
        init_case(work / "out")
        subprocess.run(ingest_cmd, env=env, check=True, capture_output=True)
        os.sync()
        # ingest drops its copies from the page cache once fsynced: read them once, as
        # sha256sum's input is, so that both measure hashing and not this disk
        evidence = sorted((work / "out" / "evidence").iterdir())
        subprocess.run(["cat", *map(str, evidence)], stdout=subprocess.DEVNULL, check=True)
        one_core = min(one_core_sha256(evidence) for _ in range(2))
        verify_runs, rehash_runs = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            out = subprocess.run(
                [*cli, "verify", str(work / "out"), "--no-record", "--json"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            verify_runs.append(time.perf_counter() - started)
            rehash_runs.append(json.loads(out.stdout)["seconds"])
        results["verify"] = statistics.median(verify_runs)
        rehash = statistics.median(rehash_runs)
        startup = min(timed([*cli, "--version"], env=env) for _ in range(3))
        base_copy = results["cp -r + sync"]
        print(
            f"\n{total / 2**20:.0f} MiB in {files} files; CLI start-up {startup:.2f} s; "
            f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
        )
        print(f"{'operation':28} {'seconds':>8} {'MB/s':>8} {'vs cp -r':>9}")
        for label, secs in results.items():
            each = ", ".join(
                f"{t:.2f}" for t in runs.get(label, verify_runs if label == "verify" else [])
            )
            line = f"{label:28} {secs:8.2f} {mb / secs:8.0f} {secs / base_copy:8.2f}x"
            print(f"{line}   {'(median of ' + each + ')' if each else ''}")
        lean = results["ingest (default: sha256)"] / base_copy
        full = results["ingest --legacy-digests"] / base_copy
        best = min(runs["ingest (default: sha256)"]) / min(runs["cp -r + sync"])
        if not target:
            print(
                f"many small files, no target: ingest {lean:.2f}x cp -r + sync "
                f"({1000 * results['ingest (default: sha256)'] / files:.2f} ms a file)"
            )
            return {"ingest_ratio": lean, "best_ratio": best, "verify_ratio": one_core / rehash}
        print(
            f"target ingest <= 1.5x cp -r + sync: {'met' if lean <= 1.5 else 'NOT met'} "
            f"({lean:.2f}x; with --legacy-digests {full:.2f}x; best round of each "
            f"{best:.2f}x, the copy's time from the guest's best memory state)"
        )
        print(
            f"target verify re-hash >= one core's SHA-256 ({mb / one_core:.0f} MB/s, hashlib "
            f"in one thread): {'met' if one_core / rehash >= 1 else 'NOT met'} "
            f"({mb / rehash:.0f} MB/s, {one_core / rehash:.2f}x, over "
            f"{min(files, os.cpu_count() or 1)} cores; whole command incl. start-up "
            f"{mb / results['verify']:.0f} MB/s; sha256sum {mb / results['sha256sum']:.0f} MB/s)"
        )
        return {"ingest_ratio": lean, "best_ratio": best, "verify_ratio": one_core / rehash}
    finally:
        clear(work)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=None, help="one size only (MiB)")
    parser.add_argument("--files", type=int, default=None, help="files for --mib")
    parser.add_argument("--quick", action="store_true", help="128 MiB in 64 files, 1 round")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each (median shown)")
    parser.add_argument(
        "--settle", type=float, default=2.0, help="seconds of rest between contenders"
    )
    args = parser.parse_args()
    if args.mib is not None:
        sizes = [(args.mib, args.files or 64)]
    elif args.quick:
        sizes, args.rounds = [(128, 64)], 1
    else:
        sizes = SIZES
    met = best_met = True
    for mib, files in sizes:
        got = run_size(mib, files, args.rounds, args.settle)
        met = met and got["ingest_ratio"] <= 1.5 and got["verify_ratio"] >= 1
        best_met = best_met and got["best_ratio"] <= 1.5
    if args.mib is None and not args.quick:
        for mib, files in INFO:
            run_size(mib, files, min(args.rounds, 3), args.settle, target=False)
    print(
        f"\nall targets {'met' if met else 'NOT met'} (medians); ingest against the copy's "
        f"best round: {'met' if best_met else 'NOT met'}"
    )
    return 0


def clear(folder: Path) -> None:
    """Remove a folder holding read-only evidence copies."""
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            p = Path(dirpath, name)
            if not p.is_symlink():
                p.chmod(0o644)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
