"""Benchmark: parse a large SMS Backup & Restore file in constant memory.

Writes a synthetic backup (~1 GB by default, ~100 MB with ``--quick``) streamed to disk:
mostly SMS (some with emoji stored as split surrogate references, as the app's "store
emoji" option writes them) and about one MMS in ten with a base64 photo part. Then, each
in its own subprocess so that peak memory is that run's alone (``os.wait4`` rusage):

1. ``raw read``: read the file in 1 MiB blocks (the I/O floor);
2. ``iterparse+clear``: ``xml.etree.ElementTree.iterparse`` with ``elem.clear()`` on a
   copy without surrogate references (ElementTree refuses them), the usual streaming idiom;
3. ``iterparse (no clear)``: the same without clearing (the naive approach), only when the
   machine has memory to spare (it builds the whole tree);
4. ``cyberstalk``: ``SmsBackupParser.parse`` producing full records (attachments hashed,
   dedupe index, locators).

Target: cyberstalk peak RSS < 200 MB whatever the file size.

Run: ``.venv/bin/python benchmarks/bench_sms.py [--quick] [--size-mb N] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# fmt: off
WORDS = (
    "I", "saw", "you", "at", "the", "station", "today", "why", "are", "ignoring", "me",
    "answer", "we", "need", "to", "talk", "can't", "block", "forever", "paid", "â",
    "chysylltu", "fi", "eto", "caf\u00e9", "Bangor", "Tesco", "car",
)
# fmt: on


def generate(
    path: Path, size_mb: int, seed: int = 1, emoji: str = "&#55357;&#56832;"
) -> tuple[int, int]:
    """Write a backup of about ``size_mb`` MB; return (elements, bytes).

    ``emoji`` is how the emoji is written: split surrogate references as the app
    writes them, or (for ElementTree, which refuses those) one valid reference."""
    rng = random.Random(seed)
    photos = [base64.b64encode(rng.randbytes(rng.randint(3000, 9000))).decode() for _ in range(16)]
    target = size_mb * 1024 * 1024
    date = 1_735_689_600_000
    count = 0
    written = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        head = (
            "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"
            "<!--File Created By SMS Backup & Restore v10.20.002 (benchmark)-->\n"
            '<smses count="0" backup_set="bench" backup_date="1772366400000" type="full">\n'
        )
        fh.write(head)
        written += len(head.encode())
        buf: list[str] = []
        while written < target:
            date += rng.randint(1000, 600_000)
            count += 1
            address = f"+4477009{rng.randint(0, 99999):05d}"
            if count % 10 == 0:
                photo = photos[count % len(photos)]
                item = (
                    f'  <mms date="{date}" msg_box="{rng.choice("12")}" address="{address}" '
                    'm_type="132" read="1" sub_id="1" readable_date="x" '
                    'contact_name="(Unknown)">\n'
                    "    <parts>\n"
                    '      <part seq="-1" ct="application/smil" name="null" chset="null" '
                    'cl="smil.xml" text="&lt;smil/&gt;" />\n'
                    f'      <part seq="0" ct="image/jpeg" name="IMG_{count}.jpg" chset="null" '
                    f'cl="IMG_{count}.jpg" text="null" data="{photo}" />\n'
                    '      <part seq="1" ct="text/plain" name="null" chset="106" cl="text_0.txt" '
                    'text="look" />\n'
                    "    </parts>\n"
                    "    <addrs>\n"
                    f'      <addr address="{address}" type="137" charset="106" />\n'
                    '      <addr address="+447700900123" type="151" charset="106" />\n'
                    "    </addrs>\n"
                    "  </mms>\n"
                )
            else:
                body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 40)))
                if count % 7 == 0:
                    body += " " + emoji
                if count % 5 == 0:
                    body += "&#10;second line"
                item = (
                    f'  <sms protocol="0" address="{address}" date="{date}" '
                    f'type="{rng.choice("12")}" subject="null" body="{body}" toa="null" '
                    f'sc_toa="null" service_center="null" read="1" status="-1" locked="0" '
                    f'date_sent="{date - 1500}" sub_id="1" readable_date="x" '
                    f'contact_name="(Unknown)" />\n'
                )
            buf.append(item)
            written += len(item.encode())
            if len(buf) >= 2000:
                fh.write("".join(buf))
                buf.clear()
        fh.write("".join(buf))
        fh.write("</smses>\n")
    return count, path.stat().st_size


CHILD = {
    "raw read": """
import sys
n = 0
with open(sys.argv[1], "rb") as fh:
    while b := fh.read(1 << 20):
        n += len(b)
print(n)
""",
    "iterparse+clear": """
import sys
import xml.etree.ElementTree as ET
n = 0
for _, elem in ET.iterparse(sys.argv[1], events=("end",)):
    if elem.tag in ("sms", "mms"):
        n += 1
        elem.clear()
print(n)
""",
    "iterparse (no clear)": """
import sys
import xml.etree.ElementTree as ET
n = 0
for _, elem in ET.iterparse(sys.argv[1], events=("end",)):
    if elem.tag in ("sms", "mms"):
        n += 1
print(n)
""",
    "cyberstalk": """
import sys
from pathlib import Path
from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.sms_backup import SmsBackupParser
report = ParseReport()
n = 0
for record in SmsBackupParser().parse(Source.loose(Path(sys.argv[1])), ParseContext(), report):
    n += 1
print(n)
""",
}


def run(label: str, path: Path) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS MiB, output) for one child run."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD[label], str(path)],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert proc.stdout is not None
    out = proc.stdout.read().decode().strip()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{label} failed with exit code {proc.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out


def mem_available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="~100 MB instead of ~1 GB")
    ap.add_argument("--size-mb", type=int, help="backup size in MB (overrides --quick)")
    ap.add_argument("--keep", type=Path, help="write the backup here and keep it")
    args = ap.parse_args()
    size_mb = args.size_mb or (100 if args.quick else 1024)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-sms-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sms-bench.xml"
    plain = folder / "sms-bench-plain.xml"
    try:
        t0 = time.perf_counter()
        count, size = generate(path, size_mb)
        # ElementTree refuses split surrogate references: give it a copy without them.
        generate(plain, size_mb, emoji="&#128512;")
        print(
            f"generated {size / 1e6:.1f} MB, {count} messages "
            f"({count // 10} MMS) in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        # CPU seconds are printed too: wall time suffers on a busy machine, CPU time less.
        print(f"{'run':<22}{'wall s':>9}{'cpu s':>9}{'MB/s cpu':>10}{'peak RSS MiB':>15}  result")
        results: dict[str, tuple[float, float]] = {}
        labels = ["raw read", "iterparse+clear", "iterparse (no clear)", "cyberstalk"]
        for label in labels:
            target = plain if label.startswith("iterparse") else path
            if label == "iterparse (no clear)" and mem_available_mb() < size / 1e6 * 12:
                print(f"{label:<22}  skipped: needs about {size / 1e6 * 10:.0f} MB of RAM")
                continue
            elapsed, cpu, rss, out = run(label, target)
            results[label] = (cpu, rss)
            print(
                f"{label:<22}{elapsed:>9.2f}{cpu:>9.2f}{size / 1e6 / max(cpu, 1e-9):>10.1f}"
                f"{rss:>15.1f}  {out}",
                flush=True,
            )
        ours = results["cyberstalk"]
        base = results["iterparse+clear"]
        print()
        print(f"cyberstalk / iterparse+clear CPU time: {ours[0] / base[0]:.2f}x")
        print(f"cyberstalk / raw read CPU time:        {ours[0] / results['raw read'][0]:.2f}x")
        if "iterparse (no clear)" in results:
            naive = results["iterparse (no clear)"]
            print(f"cyberstalk / iterparse (no clear) peak RSS: {ours[1] / naive[1]:.3f}x")
        verdict = "PASS" if ours[1] < 200 else "FAIL"
        print(f"constant-memory target (< 200 MB RSS): {verdict} ({ours[1]:.1f} MiB)")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
