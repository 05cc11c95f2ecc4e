"""Benchmark: OCR and perceptual hashing of phone-size chat screenshots.

    .venv/bin/python benchmarks/bench_media.py [--quick] [--count N] [--size WxH]

Generates N synthetic chat screenshots (light and dark, English and Welsh lines from the
demo story; default 200 at 750x1334), then measures in one run:

- hashing: full decode + pHash (cyberstalk.media.phash.method()), one process;
- OCR: cyberstalk's pipeline (preprocess, tesseract eng+cym --psm 4, OMP_THREAD_LIMIT=1,
  2 tesseract workers);
- baseline: the plain `tesseract IMAGE stdout --psm 4 -l eng+cym` CLI run serially on the
  same images without OMP_THREAD_LIMIT (on a subset, to keep the run short: it is a rate);
- and our pipeline with a single worker, to show what the pool adds.

Prints images/s and the ratios against the baseline. Targets from issue 5: OCR >= 5
images/s and hashing >= 50 images/s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "fixtures"))
sys.path.insert(0, str(ROOT / "src"))

import screenshots as fx  # noqa: E402  (fixtures/screenshots.py)
import story  # noqa: E402

from cyberstalk.media import ocr, phash  # noqa: E402


def make_images(out: Path, count: int, size: tuple[int, int]) -> list[Path]:
    fx.WIDTH, fx.HEIGHT = size
    lines = [(w, who, t) for w, who, t in story.WHATSAPP_MESSAGES]
    lines += [(w, who, t) for w, who, _a, t in story.INSTAGRAM_MESSAGES]
    paths = []
    for i in range(count):
        colours = fx.DARK if i % 2 else fx.LIGHT
        screen = fx.Screen(title="Dylan", subtitle="last seen recently", colours=colours)
        for k in range(4):
            when, who, text = lines[(i * 3 + k) % len(lines)]
            if k == 0:
                screen.header(fx._header_cy(when) if i % 3 == 0 else fx._header_en(when))
            screen.bubble(
                text, outgoing=who == "victim", time_shown=when.strftime("%H:%M"), sent=when,
                sender=None,
            )  # fmt: skip
        path = out / f"shot_{i:04d}.png"
        screen.img.save(path, "PNG")
        paths.append(path)
    return paths


def bench_hash(paths: list[Path]) -> float:
    start = time.perf_counter()
    for p in paths:
        with Image.open(p) as img:
            img.load()
            phash.perceptual_hash(img)
    return len(paths) / (time.perf_counter() - start)


def _hash_one(path: Path) -> str:
    with Image.open(path) as img:
        img.load()
        return phash.perceptual_hash(img)


def bench_hash_pool(paths: list[Path], workers: int) -> float:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_hash_one, paths[:workers]))  # warm the workers (imports)
        start = time.perf_counter()
        list(pool.map(_hash_one, paths, chunksize=8))
        return len(paths) / (time.perf_counter() - start)


def bench_ours(paths: list[Path], workers: int) -> float:
    start = time.perf_counter()

    def jobs():
        for p in paths:
            with Image.open(p) as img:
                img.load()
                yield str(p), ocr.prepare(img)

    results = ocr.ocr_many(jobs(), workers=workers)
    elapsed = time.perf_counter() - start
    failed = [k for k, v in results.items() if isinstance(v, Exception)]
    if failed:
        raise SystemExit(f"OCR failed on {len(failed)} images, e.g. {failed[0]}")
    return len(paths) / elapsed


def bench_baseline(paths: list[Path]) -> float:
    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    start = time.perf_counter()
    for p in paths:
        subprocess.run(
            ["tesseract", str(p), "stdout", "--psm", "4", "-l", "eng+cym"],
            capture_output=True,
            check=True,
            env=env,
        )
    return len(paths) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20 images (baseline on 10)")
    ap.add_argument("--count", type=int, default=200, help="screenshots to generate")
    ap.add_argument("--baseline-count", type=int, default=30, help="images for the baseline")
    ap.add_argument("--size", default="750x1334", help="screenshot size WxH")
    args = ap.parse_args()
    count = 20 if args.quick else args.count
    base_n = min(count, 10 if args.quick else args.baseline_count)
    size = tuple(int(x) for x in args.size.split("x"))
    print(f"cores: {os.cpu_count()}  tesseract: {ocr.tesseract_info()[1]}  pHash: {phash.method()}")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        paths = make_images(Path(tmp), count, size)  # type: ignore[arg-type]
        print(f"generated {count} screenshots {args.size} in {time.perf_counter() - t0:.1f} s")
        bench_hash(paths[:3])  # warm-up: scipy/imagehash imports
        hash_rate = bench_hash(paths)
        pool_rate = bench_hash_pool(paths, 2)
        name = phash.method().split("/")[0]
        print(f"hashing (decode + {name}), 1 process:   {hash_rate:7.1f} images/s")
        print(f"hashing (decode + {name}), 2 processes: {pool_rate:7.1f} images/s  target 50")
        ours = bench_ours(paths, workers=ocr.WORKERS)
        print(
            f"OCR cyberstalk ({ocr.WORKERS} workers, OMP_THREAD_LIMIT=1): {ours:5.2f} images/s"
            "  target 5"
        )
        single = bench_ours(paths[:base_n], workers=1)
        print(f"OCR cyberstalk (1 worker) on {base_n}:              {single:5.2f} images/s")
        base = bench_baseline(paths[:base_n])
        print(
            f"baseline: plain tesseract CLI, serial, no OMP limit, on {base_n}: "
            f"{base:5.2f} images/s"
        )
        print(
            f"ratio ours/baseline: {ours / base:4.2f}x   1 worker/baseline: {single / base:4.2f}x"
        )


if __name__ == "__main__":
    main()
