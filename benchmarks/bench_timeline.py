"""Timeline at scale: 200,000 records across four platforms.

Builds a synthetic case (derived/records/*.jsonl written directly), then in a fresh
subprocess measures: load + analysis, the JSON report and the HTML report, with peak RSS
from ``resource``. Baseline, measured in the same run and the same way: a subprocess that
only reads every record file with ``json.loads`` (the least any analysis must do).

Targets (issue 6): analysis + JSON + HTML under 20 s and under 1 GB peak RSS.

    .venv/bin/python benchmarks/bench_timeline.py            # 200,000 records
    .venv/bin/python benchmarks/bench_timeline.py --quick    # 20,000 records
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


CHILD_WORK = r"""
import json, resource, sys, time
from pathlib import Path

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

t0, c0 = time.perf_counter(), cpu()
from cyberstalk.case import open_case
from cyberstalk.timeline import analyse
from cyberstalk.reports.timeline_report import write_report
case = open_case(Path(sys.argv[1]))
t1, c1 = time.perf_counter(), cpu()
a = analyse(case)
t2, c2 = time.perf_counter(), cpu()
j = write_report(case, a, "json")
t3, c3 = time.perf_counter(), cpu()
h = write_report(case, a, "html")
t4, c4 = time.perf_counter(), cpu()
print(json.dumps({
    "records": len(a.entries), "indicators": len(a.indicators), "occasions": len(a.occasions),
    "analyse_s": t2 - t1, "json_s": t3 - t2, "html_s": t4 - t3, "total_s": t4 - t0,
    "analyse_cpu": c2 - c1, "json_cpu": c3 - c2, "html_cpu": c4 - c3,
    "json_mb": j.size / 1e6, "html_mb": h.size / 1e6,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""

CHILD_BASELINE = r"""
import json, resource, sys, time
from pathlib import Path
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


def child(code: str, case: Path) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", code, str(case)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.exit(f"benchmark child failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 records instead of 200,000")
    parser.add_argument("--records", type=int, default=None, help="number of records")
    args = parser.parse_args()
    total = args.records or (20_000 if args.quick else 200_000)
    with tempfile.TemporaryDirectory(prefix="bench-timeline-") as tmp:
        t = time.perf_counter()
        case = build_case(Path(tmp) / "case", total)
        print(
            f"built a case of {total:,} records on {len(PLATFORMS)} platforms "
            f"in {time.perf_counter() - t:.1f} s"
        )
        base = child(CHILD_BASELINE, case)
        work = child(CHILD_WORK, case)
    print(
        f"baseline json.loads of every record: {base['total_s']:.2f} s wall, "
        f"{base['cpu_s']:.2f} s CPU, peak RSS {base['peak_rss_mb']:.0f} MB"
    )
    print(
        f"timeline ({work['records']:,} records, {work['occasions']:,} occasions, "
        f"{work['indicators']} indicators):\n"
        f"  load + analysis {work['analyse_s']:6.2f} s wall {work['analyse_cpu']:6.2f} s CPU\n"
        f"  JSON report     {work['json_s']:6.2f} s wall {work['json_cpu']:6.2f} s CPU "
        f"({work['json_mb']:.0f} MB)\n"
        f"  HTML report     {work['html_s']:6.2f} s wall {work['html_cpu']:6.2f} s CPU "
        f"({work['html_mb']:.0f} MB)"
    )
    wall = work["analyse_s"] + work["json_s"] + work["html_s"]
    cpu = work["analyse_cpu"] + work["json_cpu"] + work["html_cpu"]
    print(
        f"analysis + JSON + HTML: {wall:.2f} s wall, {cpu:.2f} s CPU (target < 20 s); "
        f"peak RSS {work['peak_rss_mb']:.0f} MB (target < 1024 MB)"
    )
    print(
        f"ratios vs baseline: wall x{wall / base['total_s']:.1f}, CPU x{cpu / base['cpu_s']:.1f}, "
        f"memory x{work['peak_rss_mb'] / base['peak_rss_mb']:.2f}"
    )
    load = os.getloadavg()[0]
    print(
        f"load average {load:.1f} on {os.cpu_count()} CPUs: wall times stretch when other "
        "work shares the machine; CPU times much less so"
    )
    ok = min(wall, cpu) < 20 and work["peak_rss_mb"] < 1024
    print("targets met" if ok else "TARGETS MISSED")


if __name__ == "__main__":
    main()
