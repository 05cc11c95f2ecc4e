"""OCR with tesseract: English and Welsh, one thread per process, a small pool.

Facts this module is built on (platform.md):

- tesseract is 3-5x slower unless ``OMP_THREAD_LIMIT=1``: its OpenMP threads fight each
  other (and any other tesseract) for the two cores. We set it for every run and get the
  parallelism from running :data:`WORKERS` tesseract processes at once instead.
- ``eng`` alone misreads Welsh ("Iawn"); we always load ``eng+cym``.
- ``--psm 4`` (one column of text of variable sizes) keeps a chat line and its trailing
  time together.
- Dark-mode screenshots lose grey text unless converted to greyscale, inverted to dark
  text on light, and thresholded (Otsu's threshold, computed from the histogram).

Images are handed to tesseract on stdin as binary PGM: no temporary files and no PNG
encode cost. Output is tesseract's TSV, kept in full (words, confidences, boxes).
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import subprocess
import tempfile
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from cyberstalk.errors import MediaError

LANGUAGES = "eng+cym"
PSM = 4
WORKERS = 2
MAX_BATCH = 8
"""Images per tesseract process (start-up and model loading are paid once per batch)."""
TIMEOUT_S = 120
MAX_OCR_PIXELS = 4096 * 4096
"""Larger images are scaled down before OCR (text on a phone screen does not need more)."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """An image ready for tesseract: PGM bytes and what was done to it."""

    pgm: bytes
    """Binary PGM (P5) of the preprocessed greyscale image."""
    steps: dict[str, Any]
    """Preprocessing record: greyscale, inverted, threshold, scale."""


def otsu_threshold(histogram: list[int]) -> int:
    """Otsu's threshold for a 256-bin histogram (the level that best splits two classes)."""
    total = sum(histogram)
    weighted = sum(i * h for i, h in enumerate(histogram))
    sum_b = 0.0
    w_b = 0
    best, level = -1.0, 127
    for t, count in enumerate(histogram):
        w_b += count
        if w_b == 0:
            continue
        w_f = total - w_b
        if w_f == 0:
            break
        sum_b += t * count
        m_b = sum_b / w_b
        m_f = (weighted - sum_b) / w_f
        between = w_b * w_f * (m_b - m_f) ** 2
        if between > best:
            best, level = between, t
    return level


def prepare(img: Image.Image) -> Prepared:
    """Greyscale; invert when the image is mostly dark (dark mode); Otsu threshold."""
    steps: dict[str, Any] = {"greyscale": True}
    grey = ImageOps.exif_transpose(img).convert("L")
    if grey.width * grey.height > MAX_OCR_PIXELS:
        scale = (MAX_OCR_PIXELS / (grey.width * grey.height)) ** 0.5
        grey = grey.resize((max(1, int(grey.width * scale)), max(1, int(grey.height * scale))))
        steps["scale"] = round(scale, 4)
    hist = grey.histogram()
    mean = sum(i * h for i, h in enumerate(hist)) / max(1, sum(hist))
    steps["mean_level"] = round(mean, 1)
    if mean < 128:
        grey = ImageOps.invert(grey)
        hist = grey.histogram()
        steps["inverted"] = True
    else:
        steps["inverted"] = False
    level = otsu_threshold(hist)
    lut = [255 if v > level else 0 for v in range(256)]
    binary = grey.point(lut)
    steps["threshold"] = level
    steps["threshold_method"] = "otsu"
    buf = io.BytesIO()
    binary.save(buf, "PPM")  # mode L saves as binary PGM (P5)
    return Prepared(pgm=buf.getvalue(), steps=steps)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_THREAD_LIMIT"] = "1"
    return env


@functools.cache
def tesseract_info() -> tuple[str, str, tuple[str, ...]]:
    """(path, version line, installed languages). Raises MediaError when unusable."""
    exe = shutil.which("tesseract")
    if exe is None:
        raise MediaError(
            "tesseract is not installed (no `tesseract` on PATH)",
            advice="install tesseract-ocr, tesseract-ocr-eng and tesseract-ocr-cym "
            "(`make setup` does this)",
        )
    version = subprocess.run(
        [exe, "--version"], capture_output=True, text=True, env=_env(), check=False, timeout=30
    )
    first = (version.stdout or version.stderr).splitlines()
    langs = subprocess.run(
        [exe, "--list-langs"], capture_output=True, text=True, env=_env(), check=False, timeout=30
    )
    installed = tuple(line.strip() for line in langs.stdout.splitlines()[1:] if line.strip())
    missing = [lang for lang in LANGUAGES.split("+") if lang not in installed]
    if missing:
        raise MediaError(
            f"tesseract has no {'+'.join(missing)} language data (installed: "
            f"{', '.join(installed) or 'none'})",
            advice="install tesseract-ocr-eng and tesseract-ocr-cym",
        )
    return exe, (first[0].strip() if first else "tesseract"), installed


def engine_description() -> dict[str, Any]:
    """What OCR ran: recorded with every result so a third party can repeat it."""
    _, version, _ = tesseract_info()
    return {"engine": version, "languages": LANGUAGES, "psm": PSM, "omp_thread_limit": 1}


def run_tesseract(pgm: bytes, *, label: str) -> str:
    """tesseract TSV for one prepared image (stdin -> stdout, OMP_THREAD_LIMIT=1)."""
    exe, _, _ = tesseract_info()
    try:
        proc = subprocess.run(
            [exe, "stdin", "stdout", "--psm", str(PSM), "-l", LANGUAGES, "tsv"],
            input=pgm,
            capture_output=True,
            env=_env(),
            check=False,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise MediaError(
            f"{label}: tesseract took longer than {TIMEOUT_S} s",
            advice="the image may be unusually large or noisy; OCR it by hand",
        ) from None
    if proc.returncode != 0:
        raise MediaError(
            f"{label}: tesseract exited {proc.returncode}: "
            f"{proc.stderr.decode('utf-8', 'replace').strip()[:300]}"
        )
    return proc.stdout.decode("utf-8", "replace")


def parse_tsv(tsv: str) -> dict[str, Any]:
    """Words grouped into lines (top to bottom), each with its box and mean confidence."""
    lines: dict[tuple[int, int, int], dict[str, Any]] = {}
    rows = tsv.splitlines()
    for row in rows[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = "\t".join(cols[11:]).strip()
        if not text:
            continue
        block, par, line = int(cols[2]), int(cols[3]), int(cols[4])
        left, top, width, height = (int(c) for c in cols[6:10])
        conf = round(float(cols[10]), 2)
        entry = lines.setdefault((block, par, line), {"words": []})
        entry["words"].append({"text": text, "confidence": conf, "box": [left, top, width, height]})
    out_lines: list[dict[str, Any]] = []
    for entry in lines.values():
        words = entry["words"]
        x0 = min(w["box"][0] for w in words)
        y0 = min(w["box"][1] for w in words)
        x1 = max(w["box"][0] + w["box"][2] for w in words)
        y1 = max(w["box"][1] + w["box"][3] for w in words)
        confs = [w["confidence"] for w in words if w["confidence"] >= 0]
        out_lines.append(
            {
                "text": " ".join(w["text"] for w in words),
                "box": [x0, y0, x1 - x0, y1 - y0],
                "confidence": round(sum(confs) / len(confs), 2) if confs else 0.0,
                "words": words,
            }
        )
    out_lines.sort(key=lambda ln: (ln["box"][1], ln["box"][0]))
    for n, line_ in enumerate(out_lines, 1):
        line_["n"] = n
    all_confs = [w["confidence"] for ln in out_lines for w in ln["words"] if w["confidence"] >= 0]
    return {
        "text": "\n".join(ln["text"] for ln in out_lines),
        "mean_confidence": round(sum(all_confs) / len(all_confs), 2) if all_confs else 0.0,
        "lines": [
            {k: ln[k] for k in ("n", "text", "box", "confidence", "words")} for ln in out_lines
        ],
    }


def ocr_prepared(prepared: Prepared, *, label: str) -> dict[str, Any]:
    """OCR one prepared image: the full result dict stored in derived/ocr."""
    result = parse_tsv(run_tesseract(prepared.pgm, label=label))
    return {**engine_description(), "preprocessing": prepared.steps, **result}


def run_tesseract_batch(pgms: list[bytes], *, label: str) -> list[str]:
    """One tesseract process for several images (a list file): TSV per image, in order.

    Starting tesseract and loading eng+cym costs about as much as reading one screenshot,
    so a batch nearly halves the time per image; the output per page is identical to a
    single run (checked when this was written, and by the tests)."""
    exe, _, _ = tesseract_info()
    with tempfile.TemporaryDirectory(prefix="cyberstalk-ocr-") as tmp:
        folder = Path(tmp)
        names = []
        for n, pgm in enumerate(pgms):
            path = folder / f"{n:04d}.pgm"
            path.write_bytes(pgm)
            names.append(str(path))
        listing = folder / "list.txt"
        listing.write_text("\n".join(names) + "\n", "utf-8")
        try:
            proc = subprocess.run(
                [exe, str(listing), "stdout", "--psm", str(PSM), "-l", LANGUAGES, "tsv"],
                capture_output=True,
                env=_env(),
                check=False,
                timeout=TIMEOUT_S * len(pgms),
            )
        except subprocess.TimeoutExpired:
            raise MediaError(f"{label}: tesseract batch timed out") from None
    if proc.returncode != 0:
        raise MediaError(
            f"{label}: tesseract exited {proc.returncode}: "
            f"{proc.stderr.decode('utf-8', 'replace').strip()[:300]}"
        )
    rows = proc.stdout.decode("utf-8", "replace").splitlines()
    header = rows[0] if rows else ""
    pages: list[list[str]] = [[] for _ in pgms]
    for row in rows[1:]:
        cols = row.split("\t", 2)
        if len(cols) > 1 and cols[1].isdigit() and 1 <= int(cols[1]) <= len(pgms):
            pages[int(cols[1]) - 1].append(row)
    return ["\n".join([header, *page]) for page in pages]


Outcome = dict[str, Any] | MediaError


def _ocr_batch(batch: list[tuple[str, Prepared]]) -> list[tuple[str, Outcome]]:
    if len(batch) > 1:
        try:
            tsvs = run_tesseract_batch([p.pgm for _, p in batch], label=batch[0][0])
        except MediaError:
            pass  # one bad page fails the batch: fall back to one run per image below
        else:
            return [
                (key, {**engine_description(), "preprocessing": prep.steps, **parse_tsv(tsv)})
                for (key, prep), tsv in zip(batch, tsvs, strict=True)
            ]
    out: list[tuple[str, Outcome]] = []
    for key, prep in batch:
        try:
            out.append((key, ocr_prepared(prep, label=key)))
        except MediaError as exc:
            out.append((key, exc))
    return out


def batch_size_for(count: int | None, workers: int) -> int:
    """Images per tesseract run: enough to amortise start-up, few enough to use every
    worker on a small case."""
    if count is None:
        return MAX_BATCH
    return max(1, min(MAX_BATCH, -(-count // max(1, workers))))


def ocr_many(
    jobs: Iterable[tuple[str, Prepared]],
    *,
    workers: int = WORKERS,
    expected: int | None = None,
    on_done: Callable[[str], None] | None = None,
) -> dict[str, Outcome]:
    """OCR many prepared images with ``workers`` tesseract processes running at once.

    The pool holds threads, each waiting on its own tesseract process (which reads a
    batch of images, see :func:`run_tesseract_batch`): the OCR runs in separate
    processes, one thread each, and Python only writes and reads files. ``expected`` (how
    many jobs are coming, if known) sizes the batches. Results (or the per-image
    MediaError) are keyed by the job's key.
    """
    tesseract_info()  # fail once, clearly, before starting the pool
    size = batch_size_for(expected, workers)
    results: dict[str, Outcome] = {}

    def collect(fut: Future[list[tuple[str, Outcome]]]) -> None:
        for key, res in fut.result():
            results[key] = res
            if on_done is not None:
                on_done(key)

    # Bounded in-flight work: the caller's generator prepares the next images (decode,
    # threshold) in this thread while tesseract processes run, without holding them all.
    in_flight: deque[Future[list[tuple[str, Outcome]]]] = deque()
    batch: list[tuple[str, Prepared]] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for key, prepared in jobs:
            batch.append((key, prepared))
            if len(batch) >= size:
                in_flight.append(pool.submit(_ocr_batch, batch))
                batch = []
            while len(in_flight) > workers:
                collect(in_flight.popleft())
        if batch:
            in_flight.append(pool.submit(_ocr_batch, batch))
        while in_flight:
            collect(in_flight.popleft())
    return results
