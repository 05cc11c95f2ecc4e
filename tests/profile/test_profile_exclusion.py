"""Cases that fail verification (or are not cases) are left out, named, and exit 1."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from profile_helpers import KNOWN, case_dirs
from typer.testing import CliRunner

from cyberstalk.cli import app
from cyberstalk.reports.profile import verification_reasons


def flip_byte(case: Path) -> Path:
    """Flip one byte of the first stored exhibit (mode kept read-only, as stored)."""
    target = sorted((case / "evidence").iterdir())[0]
    os.chmod(target, 0o644)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    os.chmod(target, 0o444)
    return target


def profile(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, ["profile", *args])
    return r.exit_code, r.stdout, r.stderr


def test_tampered_case_is_excluded_and_named(cases: Path, tmp_path: Path) -> None:
    flip_byte(cases / "case-b")
    out = tmp_path / "out"
    code, stdout, stderr = profile(*case_dirs(cases), "-o", str(out), "--exact")
    assert code == 1
    assert "excluded: KNOWN/B (folder case-b)" in stderr
    assert "a stored exhibit changed" in stderr
    assert "cyberstalk verify CASE" in stderr  # the hint names a real command
    data = json.loads((out / "profile.json").read_text("utf-8"))
    assert data["excluded"] == [
        {
            "reference": "KNOWN/B",
            "folder": "case-b",
            "reasons": ["verification failed: a stored exhibit changed (1 problem)"],
        }
    ]
    assert "KNOWN/B" not in data["included"]
    assert data["total"]["cases"] == 5
    assert data["total"]["platforms"]["sms"] == 2  # b's SMS no longer counted
    html = (out / "profile.html").read_text("utf-8")
    assert "KNOWN/B" in html and "a stored exhibit changed" in html
    assert str(out / "profile.html") in stdout


def test_every_case_ok_exits_0(known: Path, tmp_path: Path) -> None:
    code, _, stderr = profile(*case_dirs(known), "-o", str(tmp_path / "out"))
    assert code == 0
    assert f"{len(KNOWN)} included, 0 excluded" in stderr


def test_not_a_case_folder_is_excluded(known: Path, tmp_path: Path) -> None:
    stray = tmp_path / "holiday-photos"
    stray.mkdir()
    code, _, stderr = profile(*case_dirs(known), str(stray), "-o", str(tmp_path / "out"))
    assert code == 1
    assert "folder holiday-photos" in stderr
    data = json.loads((tmp_path / "out" / "profile.json").read_text("utf-8"))
    assert data["excluded"] == [
        {
            "reference": None,
            "folder": "holiday-photos",
            "reasons": ["not a readable case folder (case.toml)"],
        }
    ]
    assert data["total"]["cases"] == len(KNOWN)


def test_broken_custody_log_is_excluded(cases: Path, tmp_path: Path) -> None:
    log = cases / "case-a" / "custody.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:1] + lines[2:]))  # a line removed
    code, _, _ = profile(*case_dirs(cases), "-o", str(tmp_path / "p.json"), "-f", "json")
    assert code == 1
    data = json.loads((tmp_path / "p.json").read_text("utf-8"))
    (ex,) = data["excluded"]
    assert ex["reference"] == "KNOWN/A"
    assert any("custody log" in r for r in ex["reasons"])


def test_no_case_included_writes_nothing(cases: Path, tmp_path: Path) -> None:
    flip_byte(cases / "case-a")
    out = tmp_path / "p.json"
    code, _, stderr = profile(str(cases / "case-a"), "-o", str(out), "-f", "json")
    assert code == 1
    assert "no profile was written" in stderr
    assert not out.exists()


def test_same_case_twice_is_counted_once(cases: Path, tmp_path: Path) -> None:
    shutil.copytree(cases / "case-a", cases / "case-a-copy", symlinks=True)
    a = str(cases / "case-a")
    out = str(tmp_path / "p.json")
    code, _, stderr = profile(a, a, str(cases / "case-a-copy"), "-o", out, "-f", "json", "--exact")
    assert code == 1  # the second folder of one case is named
    assert "(folder case-a-copy)" in stderr
    data = json.loads((tmp_path / "p.json").read_text("utf-8"))
    assert data["total"]["cases"] == 1
    assert data["included"] == ["KNOWN/A"]
    assert data["excluded"][0]["folder"] == "case-a-copy"
    assert "counted once" in data["excluded"][0]["reasons"][0]


@pytest.mark.parametrize(
    ("problem", "reason"),
    [
        ("RE/1: evidence/RE-1-WhatsApp Chat with Sam P.txt SHA-256 is ab, manifest says cd",
         "a stored exhibit changed"),
        ("custody.jsonl line 3: hash chain broken: 'prev' is 'x'", "the custody log"),
        ("manifest.sig: bad signature (key k)", "the signature"),
        ("manifest-sha256.txt does not match manifest.json", "the checksum file"),
        ("RE/2: evidence/RE-2-Sam.txt is missing", "a stored exhibit is missing"),
        ("evidence/RE-9-Sam.txt is in evidence/ but no exhibit records it", "files in evidence/"),
        ("something new", "another verification problem"),
    ],
)  # fmt: skip
def test_reasons_never_repeat_file_names(problem: str, reason: str) -> None:
    (got,) = verification_reasons([problem, problem])
    assert reason in got and got.endswith("(2 problems)")
    assert "Sam" not in got and "evidence/RE" not in got
