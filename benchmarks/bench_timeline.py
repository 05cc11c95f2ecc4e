"""Timeline at scale: 200,000 records across four platforms.

Builds a synthetic case (derived/records/*.jsonl written directly), then runs the
command an officer runs, each in a process of its own: ``cyberstalk timeline CASE`` (HTML:
at this size an index page and one page per month) and ``cyberstalk timeline CASE -f pdf``,
with wall time, CPU time and peak RSS, and the size of every file written. Baseline,
measured in the same run: a subprocess that only reads every record file with
``json.loads`` (the least any analysis must do).

Targets (issue 20): ``cyberstalk timeline CASE`` (the HTML report, the default) at most
10 s wall and 300 MB peak RSS for 200,000 records; every HTML file at most 10 MB; and the
PDF "stays usable": its pages and size are printed, and its time and memory for
information (WeasyPrint lays out the pages after the same analysis). The figures and
their ratio to the targets are printed; "TARGETS MISSED" says when one is not met. This
machine's speed moves with its host's load: the json.loads baseline of the same run says
how fast it was.

    .venv/bin/python benchmarks/bench_timeline.py            # 200,000 records, best of 2
    .venv/bin/python benchmarks/bench_timeline.py --quick    # 20,000 records
    .venv/bin/python benchmarks/bench_timeline.py --no-pdf   # the HTML target only
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PLATFORMS = ("whatsapp", "sms", "instagram", "email")
TEXTS = (
    "Why are you ignoring me",
    "I saw you at the station today",
    "Answer me",
    "We need to talk",
    "You owe me an explanation",
    "Are you free this weekend?",
    "I know where you go running",
    "Pam ti'n fy anwybyddu?",
    "Good morning",
    "I'll be outside your flat later",
)
WORDS = ("tonight", "now", "again", "Carys", "please", "heno", "eto", "x", "!!", "ok")
PEOPLE = """
[[people]]
name = "Carys Hughes"
role = "victim"
identifiers = [
  { type = "phone", value = "07700 900123" },
  { type = "email", value = "carys.hughes@example.com" },
  { type = "display_name", value = "Carys", platform = "whatsapp" },
  { type = "username", value = "carys_h_example", platform = "instagram" },
]

[[people]]
name = "Dylan Price"
role = "suspect"
identifiers = [
  { type = "phone", value = "+447700900456" },
  { type = "email", value = "dylan.price@example.net" },
  { type = "display_name", value = "Dylan", platform = "whatsapp" },
  { type = "username", value = "dylan.p_example", platform = "instagram" },
]

[[orders]]
kind = "Stalking Protection Order"
subject = "Dylan Price"
made = 2025-06-01
served = 2025-06-02T11:00:00+01:00
conditions = ["Must not contact Carys Hughes by any means"]
"""


def build_case(root: Path, total: int) -> Path:
    from cyberstalk.case import init_case
    from cyberstalk.records import Record

    os.environ.setdefault("SOURCE_DATE_EPOCH", "1774051200")
    case = init_case(root, reference="BENCH/1", officer="DC Bench", initials="BB")
    with case.case_toml.open("a", encoding="utf-8") as fh:
        fh.write(PEOPLE)
    rng = random.Random(20260101)
    start = datetime(2024, 6, 1, tzinfo=UTC)
    span = 2 * 365 * 86400
    senders = {
        "whatsapp": ("Dylan", "Carys"),
        "sms": ("07700 900456", None),
        "instagram": ("dylan.p_example", "carys_h_example"),
        "email": ("Dylan Price <dylan.price@example.net>", "carys.hughes@example.com"),
    }
    out = case.derived_dir / "records"
    out.mkdir(parents=True)
    per = total // len(PLATFORMS)
    for n, platform in enumerate(PLATFORMS, start=1):
        # Bursts, as harassment comes: ~3,000 episodes of a few hours each.
        bursts = [rng.randrange(span) for _ in range(750)]
        stamps = sorted(rng.choice(bursts) + rng.randrange(4 * 3600) for _ in range(per))
        ref = f"BB/{n}"
        with (out / f"BB-{n}.jsonl").open("w", encoding="utf-8") as fh:
            for i, offset in enumerate(stamps):
                when = start + timedelta(seconds=offset)
                from_victim = rng.random() < 0.1
                sender = senders[platform][1] if from_victim else senders[platform][0]
                subtype = None
                if platform == "sms":
                    subtype = "outgoing" if from_victim else "incoming"
                kind = "email" if platform == "email" else "message"
                text = "Please stop contacting me" if from_victim else rng.choice(TEXTS)
                text += f" ({rng.choice(WORDS)} {i})"  # real messages rarely repeat exactly
                if i == per // 3 and platform == "whatsapp":
                    kind, subtype, sender, text = (
                        "system",
                        "block",
                        None,
                        "You blocked this contact.",
                    )
                rec = {
                    "id": "",
                    "kind": kind,
                    "subtype": subtype,
                    "platform": platform,
                    "time_utc": when.isoformat(),
                    "time_raw": when.strftime("%d/%m/%Y %H:%M:%S"),
                    "tz_basis": "epoch",
                    "sender": sender,
                    "recipients": [],
                    "conversation": "Dylan" if platform == "whatsapp" else None,
                    "text": text,
                    "attachments": [],
                    "flags": [],
                    "locator": {"exhibit": ref, "path": f"export-{n}", "line_start": i + 1},
                    "parser": {"name": f"bench-{platform}", "version": "1"},
                    "extra": {},
                }
                rec["id"] = Record.from_dict(rec).id  # as the parsers write it
                fh.write(json.dumps(rec, separators=(",", ":")) + "\n")
    return root


CHILD_CLI = r"""
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
proc = subprocess.run(sys.argv[2:], capture_output=True, text=True)
wall = time.perf_counter() - t0
r = resource.getrusage(resource.RUSAGE_CHILDREN)
if proc.returncode != 0:
    sys.exit(proc.stderr)
print(json.dumps({"total_s": wall, "cpu_s": r.ru_utime + r.ru_stime,
                  "peak_rss_mb": r.ru_maxrss / 1024, "stdout": proc.stdout}))
"""
"""Runs the command as a user does, in a process of its own: wall and CPU time, and the
peak RSS of that process (``RUSAGE_CHILDREN`` of a wrapper that runs nothing else)."""

CHILD_BASELINE = r"""
import json, resource, sys, time
from pathlib import Path
from typing import Any
t0 = time.perf_counter()
r0 = resource.getrusage(resource.RUSAGE_SELF)
rows = []
for path in sorted((Path(sys.argv[1]) / "derived" / "records").glob("*.jsonl")):
    with path.open(encoding="utf-8") as fh:
        rows.extend(json.loads(line) for line in fh)
t1 = time.perf_counter()
r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
print(json.dumps({"records": len(rows), "total_s": t1 - t0, "cpu_s": cpu,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def child(code: str, *args: str | Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.exit(f"benchmark child failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def pdf_page_count(path: Path) -> str:
    """Pages of a PDF, by poppler's ``pdfinfo`` ("?" without it)."""
    try:
        out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "?"
    pages = [line.split()[-1] for line in out.stdout.splitlines() if line.startswith("Pages:")]
    return pages[0] if pages else "?"


WALL_TARGET_S = 10.0
RSS_TARGET_MB = 300.0
FILE_TARGET_MB = 10.0


def cli(case: Path, *args: str) -> dict[str, Any]:
    """``cyberstalk timeline CASE ARGS`` as a user runs it."""
    exe = Path(sys.executable).with_name("cyberstalk")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "cyberstalk"]
    return child(CHILD_CLI, case, *command, "timeline", str(case), *args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 records instead of 200,000")
    parser.add_argument("--records", type=int, default=None, help="number of records")
    parser.add_argument(
        "--repeat",
        type=int,
        default=2,
        help="rounds of the baseline and of each command, interleaved; the best of each "
        "is shown (as bench_whatsapp.py does: the least the host's load allowed)",
    )
    parser.add_argument(
        "--no-pdf", action="store_true", help="leave out the PDF (it is for information)"
    )
    args = parser.parse_args()
    total = args.records or (20_000 if args.quick else 200_000)
    with tempfile.TemporaryDirectory(prefix="bench-timeline-") as tmp:
        t = time.perf_counter()
        case = build_case(Path(tmp) / "case", total)
        print(
            f"built a case of {total:,} records on {len(PLATFORMS)} platforms "
            f"in {time.perf_counter() - t:.1f} s"
        )
        kinds = ["base", "html"] + ([] if args.no_pdf else ["pdf"])
        rounds: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
        reports = case / "reports"
        for _ in range(max(1, args.repeat)):
            rounds["base"].append(child(CHILD_BASELINE, case))
            rounds["html"].append(cli(case))
            if not args.no_pdf:
                rounds["pdf"].append(cli(case, "-f", "pdf"))
        best = {k: min(v, key=lambda r: r["total_s"]) for k, v in rounds.items()}
        base, html = best["base"], best["html"]
        files = [reports / "timeline.html", *sorted((reports / "timeline").glob("*.html"))]
        sizes = [p.stat().st_size / 1e6 for p in files if p.exists()]
        if not args.no_pdf:
            pdf_mb = (reports / "timeline.pdf").stat().st_size / 1e6
            pdf_pages = pdf_page_count(reports / "timeline.pdf")
        walls = {k: ", ".join(f"{r['total_s']:.2f}" for r in v) for k, v in rounds.items()}
    print(
        f"baseline json.loads of every record: {base['total_s']:.2f} s wall, "
        f"{base['cpu_s']:.2f} s CPU, peak RSS {base['peak_rss_mb']:.0f} MB"
    )
    ok = True
    shown = [("cyberstalk timeline CASE", html)]
    if not args.no_pdf:
        shown.append(("cyberstalk timeline CASE -f pdf", best["pdf"]))
    for name, run in shown:
        wall, rss = run["total_s"], run["peak_rss_mb"]
        if run is html:
            met = wall <= WALL_TARGET_S and rss <= RSS_TARGET_MB
            ok &= met
            against = (
                f"targets {WALL_TARGET_S:g} s, {RSS_TARGET_MB:g} MB: x{wall / WALL_TARGET_S:.2f} "
                f"and x{rss / RSS_TARGET_MB:.2f}{'' if met else ', MISSED'}"
            )
        else:
            against = f"for information: {pdf_pages} A4 pages, {pdf_mb:.1f} MB"
        print(
            f"{name}: {wall:.2f} s wall, {run['cpu_s']:.2f} s CPU, peak RSS {rss:.0f} MB "
            f"({against}); vs baseline wall x{wall / base['total_s']:.1f}, "
            f"memory x{rss / base['peak_rss_mb']:.2f}"
        )
    largest = max(sizes)
    ok &= largest <= FILE_TARGET_MB
    print(
        f"HTML: {len(sizes)} file{'s' if len(sizes) > 1 else ''} "
        + (f"(index {sizes[0]:.2f} MB and {len(sizes) - 1} month pages) " if len(sizes) > 1 else "")
        + f"totalling {sum(sizes):.1f} MB, largest {largest:.2f} MB (target <= "
        f"{FILE_TARGET_MB:g} MB)" + ("" if args.no_pdf else f"; PDF {pdf_mb:.1f} MB")
    )
    print("rounds (wall s): " + "; ".join(f"{k} {v}" for k, v in walls.items()))
    load = os.getloadavg()[0]
    print(
        f"load average {load:.1f} on {os.cpu_count()} CPUs: wall times stretch when other "
        "work shares the machine; CPU times much less so"
    )
    print("targets met" if ok else "TARGETS MISSED")


if __name__ == "__main__":
    main()
