"""Screening at scale: 100,000 crime records (issue 22).

Writes a synthetic export (the labelled templates of ``fixtures/crime_records.py``, filled
at random: English and Welsh, stalking and other), then measures in fresh subprocesses:
``cyberstalk screen FILE --map ... -o result.json`` on the CSV, and the same on an .xlsx
copy. Baseline, measured in the same run and the same way: a subprocess that only reads the
CSV with ``csv.DictReader`` (the least any screen must do).

Target (issue 22): 100,000 records screened in under 60 s.

    .venv/bin/python benchmarks/bench_screen.py            # 100,000 records
    .venv/bin/python benchmarks/bench_screen.py --quick    # 10,000 records
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "fixtures"))

import crime_records as cr  # noqa: E402

TARGET_S = 60.0
MAP = ["--map", "id=CrimeRef", "--map", "text=Summary", "--map", "date=Recorded",
       "--map", "offence=Offence"]  # fmt: skip
BASELINE = """import csv, sys
with open(sys.argv[1], encoding="utf-8", newline="") as fh:
    print(sum(1 for _ in csv.DictReader(fh)))
"""


def write_export(path: Path, n: int) -> None:
    rng = random.Random(22)
    groups = [(cr.EN_STALKING, "en"), (cr.EN_OTHER, "en"), (cr.CY_STALKING, "cy"),
              (cr.CY_OTHER, "cy")]  # fmt: skip
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["CrimeRef", "Recorded", "Offence", "Summary"])
        for i in range(n):
            templates, lang = rng.choice(groups)
            offence, template = rng.choice(templates)
            summary = cr._fill(template, rng, lang == "cy")
            out.writerow([f"NWP/26/{i:06d}", f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}", offence,
                          summary])  # fmt: skip


def write_xlsx(csv_path: Path, path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Crimes")
    with csv_path.open(encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh):
            sheet.append(row)
    book.save(path)


def timed(cmd: list[str]) -> tuple[float, int]:
    started = time.perf_counter()
    code = subprocess.run(cmd, capture_output=True, check=False).returncode
    return time.perf_counter() - started, code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 records")
    parser.add_argument("--records", type=int, default=None)
    args = parser.parse_args()
    n = args.records or (10_000 if args.quick else 100_000)
    cli = str(Path(sys.executable).parent / "cyberstalk")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        export = work / "records.csv"
        write_export(export, n)
        write_xlsx(export, work / "records.xlsx")
        size = export.stat().st_size
        print(f"{n} records, {size / 1e6:.1f} MB CSV")
        base, _ = timed([sys.executable, "-c", BASELINE, str(export)])
        print(f"baseline (csv.DictReader read only): {base:.2f} s")
        ok = True
        for name in ("records.csv", "records.xlsx"):
            out = work / f"{name}.json"
            took, code = timed([cli, "screen", str(work / name), *MAP, "-o", str(out)])
            flagged = out.read_text(encoding="utf-8").count('"reason"') if out.exists() else 0
            rate = n / took if took else 0.0
            print(
                f"screen {name}: {took:.2f} s ({rate:,.0f} records/s, exit {code}, "
                f"{flagged} flagged), {took / base:.1f}x the baseline"
            )
            if code not in (0, 1):
                ok = False
            if name.endswith(".csv") and n >= 100_000:
                verdict = "meets" if took < TARGET_S else "MISSES"
                print(f"target: {n} records under {TARGET_S:.0f} s: {verdict}")
                ok = ok and took < TARGET_S
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
