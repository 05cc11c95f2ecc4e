"""Benchmark: a 200,000-message WhatsApp export parsed by cyberstalk and by the peers.

Peers (whatstk, chat-miner) are installed by this script into ``benchmarks/.peers-venv``
with ``uv venv`` + ``uv pip install`` (once; re-used afterwards). Each contender runs in
its own subprocess; wall time and peak RSS (``wait4`` rusage of that child) are measured
in the same run and printed with ratios against whatstk.

Contenders:
- ``cyberstalk-cli``: ``cyberstalk parse FILE --format whatsapp > /dev/null`` (end to end:
  detection scan, parse, JSON Lines out);
- ``cyberstalk-ingest``: ``cyberstalk ingest CASE FILE`` into a new case (copy, hash,
  sign, parse into ``derived/records``: what an investigator runs);
- ``cyberstalk-process``: ``cyberstalk process CASE`` (re-parse the stored exhibit);
- ``cyberstalk-lib``: the parser streaming Records in one process (each its JSON line
  read back: the parser writes lines only);
- ``cyberstalk-list``: the parser with every record kept in a list (like a DataFrame);
- ``whatstk``: ``df_from_whatsapp(..., max_size=None)`` (pandas);
- ``chat-miner``: ``WhatsAppParser(...).parse_file()`` + ``get_df``.

Python start-up counts in every figure. When ``PYTHONDONTWRITEBYTECODE`` is set (as in some
CI and sandbox shells) and the venvs hold no ``.pyc`` files, every contender compiles each
module it imports from source on every run: pandas' many modules cost the peers seconds.
``--bytecode-cache`` measures the steady state of a normal installation instead: every
contender writes and reads bytecode under ``benchmarks/out/pycache`` (one untimed warm-up
run each first); the venvs are not touched.

Usage: .venv/bin/python benchmarks/bench_whatsapp.py [--quick] [--messages N] [--repeat R]
       [--bytecode-cache] [--busy-core]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
PEERS = HERE / ".peers-venv"
PEER_PY = PEERS / "bin" / "python"
OUR_PY = Path(sys.executable)

SENTENCES = (
    "I saw you at the station today why are you ignoring me answer me we need to talk "
    "you owe me an explanation paid â chysylltu â fi eto outside your flat later café "
    "see you soon 😀 ok fine no stop please"
)
WORDS = tuple(SENTENCES.split())


def make_export(path: Path, count: int, seed: int = 4) -> None:
    """An Android en-GB export (minutes, 24 h) with multi-line messages, media and notices."""
    rng = random.Random(seed)
    when = datetime(2024, 1, 13, 8, 0)
    names = ("Dylan", "Carys")
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(
            when.strftime("%d/%m/%Y, %H:%M")
            + " - Messages and calls are end-to-end encrypted. No one outside of this chat, "
            "not even WhatsApp, can read or listen to them. Tap to learn more.\n"
        )
        for i in range(count - 1):
            when += timedelta(seconds=rng.randint(5, 400))
            stamp = when.strftime("%d/%m/%Y, %H:%M")
            roll = rng.random()
            sender = names[i % 2 if roll < 0.5 else (i // 3) % 2]
            if roll < 0.02:
                body = "<Media omitted>"
            elif roll < 0.025:
                body = "This message was deleted"
            else:
                body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 14)))
                if roll > 0.93:
                    body += "\n" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 8)))
            fh.write(f"{stamp} - {sender}: {body}\n")


OURS_LIB = """
import sys
from pathlib import Path
from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.registry import get_parser
keep = sys.argv[2] == "list"
report = ParseReport()
it = get_parser("whatsapp").parse(Source.loose(Path(sys.argv[1])), ParseContext(), report)
if keep:
    rows = list(it)
    n = len(rows)
else:
    n = sum(1 for _ in it)
print(n)
"""

WHATSTK = """
import sys, warnings
warnings.filterwarnings("ignore")
from whatstk import df_from_whatsapp
df = df_from_whatsapp(sys.argv[1], encoding="utf-8-sig", max_size=None)
print(len(df))
"""

CHATMINER = """
import sys, logging
logging.disable(logging.CRITICAL)
import os
os.environ["TQDM_DISABLE"] = "1"
from chatminer.chatparsers import WhatsAppParser
p = WhatsAppParser(sys.argv[1])
p.parse_file()
df = p.parsed_messages.get_df(as_pandas=True)
print(len(df))
"""


def ensure_peers() -> bool:
    """The peers, at the versions pinned in ``benchmarks/peers.txt``, in their own venv
    (pandas and polars stay out of the project's), byte-compiled at install as ours is by
    ``make setup``: neither side then compiles its imports on every run."""
    pins = (HERE / "peers.txt").read_text(encoding="utf-8")
    stamp = PEERS / ".installed"
    if PEER_PY.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == pins:
        return True
    uv = shutil.which("uv") or str(OUR_PY.parent / "uv")
    if not Path(uv).exists():
        print("uv not found: cannot install the peers; only our figures are printed")
        return False
    print(f"installing whatstk and chat-miner into {PEERS} ...", file=sys.stderr)
    subprocess.run([uv, "venv", "--quiet", "--allow-existing", "--python", "3.11", str(PEERS)],
                   check=True)  # fmt: skip
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", str(PEER_PY),
         "-r", str(HERE / "peers.txt")],
        check=True,
    )  # fmt: skip
    stamp.write_text(pins, encoding="utf-8")
    return True


CASE = OUT / "bench-whatsapp-case"


def new_case(env: dict[str, str]) -> None:
    """An empty case folder at :data:`CASE` (made with the CLI, untimed)."""
    if CASE.exists():
        subprocess.run(["chmod", "-R", "u+w", str(CASE)], check=True)
        shutil.rmtree(CASE)
    subprocess.run(
        [str(OUR_PY.parent / "cyberstalk"), "case", "init", str(CASE), "--ref", "BENCH/1",
         "--officer", "DC Bench", "--initials", "BW"],
        check=True, capture_output=True, env={**env, "XDG_CONFIG_HOME": str(OUT / "config")},
    )  # fmt: skip


def child_env(bytecode_cache: bool) -> dict[str, str]:
    env = {**os.environ, "TQDM_DISABLE": "1", "PYTHONHASHSEED": "0"}
    env["XDG_CONFIG_HOME"] = str(OUT / "config")  # (the bench case's signing key)
    if bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(OUT / "pycache")
    return env


def measure(
    cmd: list[str], stdout_file: Path | None = None, env: dict[str, str] | None = None
) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS MiB, stdout) of one child process."""
    env = env if env is not None else child_env(False)
    with (stdout_file or Path(os.devnull)).open("wb") as sink:
        out = sink if stdout_file else subprocess.PIPE
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env)
        captured = proc.stdout.read() if proc.stdout is not None else b""
        err = proc.stderr.read() if proc.stderr is not None else b""
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code != 0:
        raise SystemExit(f"{cmd[0]} failed ({code}): {err.decode()[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024, captured.decode().strip()


SETUP: dict[str, Callable[[], None]] = {}
"""Untimed set-up run before a contender's every round (a new case for an ingest)."""


def run_rounds(
    contenders: list[tuple[str, list[str], Path | None]], repeat: int, env: dict[str, str]
) -> dict[str, tuple[float, float, float, str]]:
    """Best wall and CPU time, and highest peak RSS, of each contender over ``repeat``
    interleaved rounds (load changes hit every contender alike); and the rows it printed."""
    results: dict[str, tuple[float, float, float, str]] = {}
    for _ in range(repeat):
        for name, cmd, outfile in contenders:
            if name in SETUP:
                SETUP[name]()
            wall, cpu, rss, printed = measure(cmd, outfile, env)
            if name in ("cyberstalk-ingest", "cyberstalk-process"):  # the stored records
                with (CASE / "derived" / "records" / "BW-1.jsonl").open("rb") as fh:
                    printed = str(sum(1 for _ in fh))
            if outfile is not None:
                with outfile.open("rb") as fh:
                    printed = str(sum(1 for _ in fh))
            old = results.get(name)
            if old is None:
                results[name] = (wall, cpu, rss, printed)
            else:
                results[name] = (min(wall, old[0]), min(cpu, old[1]), max(rss, old[2]), printed)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20,000 messages, one run each")
    ap.add_argument("--messages", type=int, default=None)
    ap.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="interleaved rounds; each contender's best is taken (default 3, 1 with --quick: "
        "the host's speed moves by a third from minute to minute)",
    )
    ap.add_argument(
        "--bytecode-cache",
        action="store_true",
        help="every contender keeps compiled bytecode (benchmarks/out/pycache), as installed",
    )
    ap.add_argument(
        "--busy-core",
        action="store_true",
        help="a busy loop takes one core's worth of CPU throughout (a host under load)",
    )
    args = ap.parse_args()
    env = child_env(args.bytecode_cache)
    count = args.messages or (20_000 if args.quick else 200_000)
    repeat = args.repeat or (1 if args.quick else 3)
    OUT.mkdir(exist_ok=True)
    export = OUT / f"WhatsApp Chat with Dylan {count}.txt"
    if not export.exists():
        make_export(export, count)
    size_mb = export.stat().st_size / 1e6
    print(f"export: {export.name}, {count:,} messages, {size_mb:.1f} MB; best of {repeat}")
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    dont_write = "PYTHONDONTWRITEBYTECODE" in env
    print(
        "bytecode: "
        + (
            "cached under benchmarks/out/pycache (--bytecode-cache)"
            if args.bytecode_cache
            else "PYTHONDONTWRITEBYTECODE is set: every run reads the bytecode compiled at "
            "install (make setup; the peers' install) and writes none"
            if dont_write
            else "as the venvs and the shell leave it"
        )
    )

    cyberstalk = OUR_PY.parent / "cyberstalk"
    contenders: list[tuple[str, list[str], Path | None]] = [
        (
            "cyberstalk-cli",
            [str(cyberstalk), "parse", str(export), "--format", "whatsapp"],
            OUT / "bench-whatsapp.jsonl",
        ),
        (
            "cyberstalk-ingest",
            [str(cyberstalk), "ingest", str(CASE), str(export), "--source", "bench"],
            None,
        ),
        ("cyberstalk-process", [str(cyberstalk), "process", str(CASE)], None),
        ("cyberstalk-lib", [str(OUR_PY), "-c", OURS_LIB, str(export), "stream"], None),
        ("cyberstalk-list", [str(OUR_PY), "-c", OURS_LIB, str(export), "list"], None),
    ]
    SETUP["cyberstalk-ingest"] = lambda: new_case(env)
    if ensure_peers():
        contenders += [
            ("whatstk", [str(PEER_PY), "-c", WHATSTK, str(export)], None),
            ("chat-miner", [str(PEER_PY), "-c", CHATMINER, str(export)], None),
        ]
    if args.bytecode_cache:  # untimed warm-up: writes every contender's bytecode
        warm = OUT / "WhatsApp Chat with Dylan 500.txt"
        if not warm.exists():
            make_export(warm, 500)
        for _name, cmd, _outfile in contenders:
            measure([str(warm) if arg == str(export) else arg for arg in cmd], None, env)
    busy = None
    if args.busy_core:
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        print("a busy loop takes one core's worth of CPU throughout (--busy-core)")
    try:
        results = run_rounds(contenders, repeat, env)
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()

    base = results.get("whatstk")
    print(
        f"{'parser':<16}{'rows':>8}{'wall s':>8}{'CPU s':>8}{'peak MiB':>10}"
        f"{'CPU vs whatstk':>16}{'wall vs whatstk':>17}{'RSS vs whatstk':>16}"
    )
    for name, (wall, cpu, rss, rows) in results.items():
        c_ratio = f"{base[1] / cpu:.2f}x faster" if base else "-"
        w_ratio = f"{base[0] / wall:.2f}x faster" if base else "-"
        m_ratio = f"{rss / base[2]:.2f}" if base else "-"
        print(
            f"{name:<16}{rows:>8}{wall:>8.2f}{cpu:>8.2f}{rss:>10.0f}"
            f"{c_ratio:>16}{w_ratio:>17}{m_ratio:>16}"
        )
    peers = {k: v for k, v in results.items() if k in ("whatstk", "chat-miner")}
    if peers:
        fastest = min(peers, key=lambda k: peers[k][0])
        peer = peers[fastest]
        ours = results["cyberstalk-cli"]
        speed, cpu_speed, mem = peer[0] / ours[0], peer[1] / ours[1], ours[2] / peer[2]
        print(
            f"target (cyberstalk parse vs the faster peer, {fastest}): >=2x faster "
            f"{'met' if speed >= 2 else 'NOT met'} ({speed:.2f}x wall, {cpu_speed:.2f}x "
            f"CPU); < 1/3 of its peak memory {'met' if mem < 1 / 3 else 'NOT met'} "
            f"({mem:.2f})"
        )
        for step in ("ingest", "process"):
            got = results[f"cyberstalk-{step}"]
            ratio, vs_peer = got[0] / ours[0], peer[0] / got[0]
            met = ratio <= 1.3 and got[2] <= 100 and vs_peer >= 2
            print(
                f"target (cyberstalk {step} <= 1.3x cyberstalk parse, <= 100 MB, >= 2x faster "
                f"than {fastest}): {'met' if met else 'NOT met'} "
                f"({ratio:.2f}x parse, {got[2]:.0f} MiB, {vs_peer:.2f}x faster than {fastest})"
            )
        lib = results["cyberstalk-lib"]
        print(
            f"for information, no target: the parser as a library (one process, Records "
            f"read back from their lines) is {peer[0] / lib[0]:.2f}x faster than {fastest}, with "
            f"{lib[2] / peer[2]:.2f} of its peak memory"
        )
    print("rows differ by design: the peers drop or merge system lines; ours keeps every event")


if __name__ == "__main__":
    main()
