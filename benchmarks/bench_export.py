"""Benchmark: BagIt export and validation against bagit-python, and RFC 3161 timestamping
against a bare HTTP round trip, all measured in the same run on the same data.

- ``cyberstalk export --bagit`` (copy + SHA-256 + SHA-512 + tag files + self-validation)
  vs ``bagit.make_bag`` (sha256, sha512, one process) on a copy of the same files;
- our ``validate_bag`` vs bagit-python's full ``Bag.validate()``;
- ``request_token`` (query, POST, verify with rfc3161-client) vs a bare POST of the same
  query to the same local OpenSSL TSA (no verification), median of N;
- CASE/UCO graph and exhibit list for the case.

    .venv/bin/python benchmarks/bench_export.py [--quick] [--mib 256] [--files 200]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bagit
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import demo_tsa  # noqa: E402

from cyberstalk.case import open_case  # noqa: E402
from cyberstalk.export.bagit import validate_bag  # noqa: E402
from cyberstalk.export.case_uco import write_case_uco  # noqa: E402
from cyberstalk.export.exhibits import write_exhibit_list  # noqa: E402
from cyberstalk.hashing.timestamps import TsaSpec, request_token  # noqa: E402


def timed(fn, *args, **kwargs) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - started


def make_submission(folder: Path, total_mib: int, files: int) -> int:
    folder.mkdir(parents=True)
    size = max(16, (total_mib << 20) // files)
    block = os.urandom(1 << 20)
    for i in range(files):
        with (folder / f"screenshot-{i:04d}.bin").open("wb") as fh:
            fh.write(i.to_bytes(8, "little"))
            remaining = size - 8
            while remaining > 0:
                chunk = block[: min(remaining, len(block))]
                fh.write(chunk)
                remaining -= len(chunk)
    return size * files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=256, help="total payload (MiB)")
    parser.add_argument("--files", type=int, default=200, help="number of files")
    parser.add_argument("--tokens", type=int, default=20, help="timestamp requests to time")
    parser.add_argument("--quick", action="store_true", help="32 MiB in 50 files, 5 tokens")
    args = parser.parse_args()
    if args.quick:
        args.mib, args.files, args.tokens = 32, 50, 5
    work = Path(tempfile.mkdtemp(prefix="cyberstalk-bench-export-"))
    env = {**os.environ, "XDG_CONFIG_HOME": str(work / "xdg")}
    try:
        sub = work / "submission"
        total = make_submission(sub, args.mib, args.files)
        case_dir = work / "case"
        run = [sys.executable, "-c", "from cyberstalk.cli import main; main()"]
        subprocess.run(
            [
                *run,
                "case",
                "init",
                str(case_dir),
                "--ref",
                "BENCH/1",
                "--officer",
                "DC Bench",
                "--initials",
                "BN",
            ],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [*run, "ingest", str(case_dir), str(sub), "--source", "bench", "--no-process"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        case = open_case(case_dir)
        print(f"payload: {args.files} files, {total / 2**20:.0f} MiB")

        from cyberstalk.export.bagit import write_bag

        ours = timed(write_bag, case, work / "bag-ours")
        copy = work / "bag-theirs"

        def copy_then_bag() -> None:
            # make_bag turns a folder into a bag in place (moving the files), so keeping the
            # originals means copying them first: time both, and sync like we fsync.
            shutil.copytree(sub, copy)
            subprocess.run(["sync"], check=False)
            bagit.make_bag(str(copy), checksums=["sha256", "sha512"], processes=1)

        theirs = timed(copy_then_bag)
        print(
            f"bag write   cyberstalk {ours:7.2f} s   cp -r + sync + bagit.make_bag {theirs:7.2f} s"
            f"   ratio {ours / theirs:5.2f}x  (ours checks every copy against the manifest)"
        )

        v_ours = timed(validate_bag, work / "bag-ours")
        v_theirs = timed(bagit.Bag(str(copy)).validate)
        print(
            f"bag verify  cyberstalk {v_ours:7.2f} s   bagit validate {v_theirs:7.2f} s   "
            f"ratio {v_ours / v_theirs:5.2f}x  ({total / 2**20 / v_ours:6.0f} MiB/s ours)"
        )

        tsa = demo_tsa.start_tsa(work / "tsa")
        try:
            spec = TsaSpec(tsa.url, tsa.root_pem, "root")
            data = case.manifest_path.read_bytes()
            full, bare = [], []
            with httpx.Client() as client:
                for _ in range(args.tokens):
                    full.append(timed(request_token, data, spec))
                    query = request_token(data, spec).tsq
                    bare.append(
                        timed(
                            client.post,
                            tsa.url,
                            content=query,
                            headers={"Content-Type": "application/timestamp-query"},
                        )
                    )
            f_med, b_med = statistics.median(full), statistics.median(bare)
            print(
                f"timestamp   request+verify {f_med * 1000:6.1f} ms   bare POST "
                f"{b_med * 1000:6.1f} ms   ratio {f_med / b_med:5.2f}x  (median of {args.tokens})"
            )
        finally:
            tsa.stop()

        t_uco = timed(write_case_uco, case, work / "case.jsonld")
        t_csv = timed(write_exhibit_list, case, work / "exhibits.csv")
        t_html = timed(write_exhibit_list, case, work / "exhibits.html")
        print(
            f"case-uco {t_uco * 1000:.0f} ms, exhibit list csv {t_csv * 1000:.0f} ms, "
            f"html {t_html * 1000:.0f} ms for {args.files} exhibits"
        )
    finally:
        for dirpath, dirs, files in os.walk(work):
            for name in dirs + files:
                p = Path(dirpath) / name
                if not p.is_symlink():
                    p.chmod(0o700)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
