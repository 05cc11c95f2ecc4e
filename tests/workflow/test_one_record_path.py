"""One record path (issue 20): ``ingest`` and ``process`` store exactly the lines that
``cyberstalk parse`` writes for the same exhibit, through the same writer, streamed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.fixture_scripts import FIXTURES

sys.path.insert(0, str(FIXTURES.parent / "benchmarks"))
import bench_whatsapp  # type: ignore[import-not-found]

sys.path.remove(str(FIXTURES.parent / "benchmarks"))


def _cli(*args: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "cyberstalk", *map(str, args)], env=env, capture_output=True
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}


def test_ingest_and_process_store_what_parse_writes(tmp_path: Path, env: dict[str, str]) -> None:
    chat = tmp_path / "in" / "WhatsApp Chat with Dylan.txt"
    chat.parent.mkdir()
    bench_whatsapp.make_export(chat, 12_000)  # large enough to be read in two halves
    case = tmp_path / "case"
    assert _cli("case", "init", case, "--ref", "T/1", "--officer", "DC T", "--initials",
                "TT", env=env).returncode == 0  # fmt: skip
    assert _cli("ingest", case, chat, "--source", "test", env=env).returncode == 0
    stored = case / "derived" / "records" / "TT-1.jsonl"
    after_ingest = stored.read_bytes()
    parsed = _cli("parse", case, "--exhibit", "TT/1", env=env)
    assert parsed.returncode == 0, parsed.stderr.decode()
    assert after_ingest == parsed.stdout
    assert after_ingest.count(b"\n") >= 12_000
    assert b'"dedupe_key"' not in after_ingest  # (lines written as they are: see workflow)
    assert _cli("process", case, env=env).returncode == 0
    assert stored.read_bytes() == parsed.stdout
    leftovers = [p.name for p in stored.parent.iterdir() if ".tmp-" in p.name]
    assert leftovers == []


def test_a_parse_fault_keeps_the_records_before_it(tmp_path: Path, env: dict[str, str]) -> None:
    chat = tmp_path / "in" / "WhatsApp Chat with Dylan.txt"
    chat.parent.mkdir()
    good = "13/01/2024, 08:00 - Dylan: hello\n13/01/2024, 08:01 - Dylan: answer me\n"
    chat.write_bytes(good.encode() + b"13/01/2024, 08:02 - Dylan: \xff broken\n")
    case = tmp_path / "case"
    _cli("case", "init", case, "--ref", "T/1", "--officer", "DC T", "--initials", "TT", env=env)
    result = _cli("ingest", case, chat, "--source", "test", env=env)
    assert result.returncode == 3
    lines = (case / "derived" / "records" / "TT-1.jsonl").read_bytes().splitlines()
    assert len(lines) == 2 and b"answer me" in lines[1]
    report = (case / "derived" / "records" / "TT-1.report.json").read_text()
    assert "parse stopped" in report
