"""Killing ingest at random moments: the case verifies or names what is incomplete, and
re-running the same ingest completes it with no duplicate exhibits."""

from __future__ import annotations

import hashlib
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cyberstalk.case import init_case
from cyberstalk.hashing.verify import check_case

from .helpers import make_zip, write

INCOMPLETE = (
    "interrupted",
    "partial copy",
)


def submission(root: Path) -> set[str]:
    rng = random.Random(7)
    contents = set()
    for i in range(24):
        data = rng.randbytes(600_000 + i)
        write(root / f"f{i:02d}.bin", data)
        contents.add(hashlib.sha256(data).hexdigest())
    members = {f"m/{i}.bin": rng.randbytes(300_000) for i in range(12)}
    zpath = make_zip(root / "z.zip", members)
    contents.add(hashlib.sha256(zpath.read_bytes()).hexdigest())
    contents |= {hashlib.sha256(d).hexdigest() for d in members.values()}
    return contents


def run_ingest(case_root: Path, sub: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cyberstalk",
            "ingest",
            str(case_root),
            str(sub),
            "--source",
            "crash test",
            "--no-process",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )


@pytest.mark.slow
def test_kill_at_random_points_then_rerun(tmp_path: Path, monkeypatch) -> None:
    import os

    sub = tmp_path / "sub"
    expected = submission(sub)
    env = {**os.environ}
    # time full runs, to spread the kills over one: the quicker of two (the first also
    # makes the signing key), so that kills do not all land after a quick run has ended
    runs = []
    for probe_run in range(2):
        probe = init_case(tmp_path / f"probe{probe_run}", reference="R", officer="O", initials="AB")
        started = time.monotonic()
        assert run_ingest(probe.root, sub, env).wait() == 0
        runs.append(time.monotonic() - started)
    full = min(runs)
    fractions = [0.1, 0.25, 0.4, 0.55, 0.7, 0.85]
    random.Random(2026).shuffle(fractions)
    outcomes = []
    for attempt, fraction in enumerate(fractions):
        case = init_case(tmp_path / f"c{attempt}", reference="R", officer="O", initials="AB")
        proc = run_ingest(case.root, sub, env)
        time.sleep(full * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        report = check_case(case.root)
        unexplained = [
            p
            for p in report.problems
            if not any(w in p for w in INCOMPLETE) and "no exhibit records it" not in p
        ]
        # an empty case (killed before the first exhibit) is the one allowed "failure"
        if unexplained:
            assert all(
                "manifest.json is missing" in p or "lists no exhibits" in p for p in unexplained
            ), unexplained
        outcomes.append(len(report.problems))
        rerun = run_ingest(case.root, sub, env)
        assert rerun.wait() == 0
        final = check_case(case.root)
        assert final.problems == []
        manifest = json.loads((case.root / "manifest.json").read_bytes())
        refs = [e["ref"] for e in manifest["exhibits"]]
        assert len(refs) == len(set(refs))
        shas = [e["digests"]["sha256"] for e in manifest["exhibits"]]
        assert sorted(shas) == sorted(expected)  # every content once, none twice
        assert manifest["duplicates"] == []
    print("problems after each kill:", outcomes)
    assert len(outcomes) == 6 and any(outcomes)  # some kill did land mid-ingest
