"""The README's ``cyberstalk screen`` examples run as written, on the labelled synthetic set
saved as the file names the README uses (records.csv, records.json)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from helpers.fixture_scripts import load_fixture

ROOT = Path(__file__).resolve().parents[2]


def readme_screen_examples() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Screening other crimes for stalking", 1)[1].split("\n## ", 1)[0]
    joined = re.sub(r"\\\n\s+", " ", section)
    commands = []
    for line in joined.splitlines():
        stripped = line.strip()
        if line.startswith("    cyberstalk screen "):
            commands.append(stripped.split("#", 1)[0].strip())
    return commands


def test_readme_screen_examples_run(tmp_path: Path) -> None:
    csv_path, json_path = load_fixture("crime_records").generate(tmp_path / "set")
    shutil.copy(csv_path, tmp_path / "records.csv")
    # the README's JSON example uses the {"records": [...]} shape
    rows = json.loads(json_path.read_text(encoding="utf-8"))
    (tmp_path / "records.json").write_text(json.dumps({"records": rows}), encoding="utf-8")
    commands = readme_screen_examples()
    assert len(commands) == 3
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    outputs = []
    for command in commands:
        result = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, check=False
        )
        # the set holds stalking summaries: every example flags records (exit 1)
        assert result.returncode == 1, f"{command}\n{result.stderr.decode()}"
        outputs.append(result.stdout)
    assert b"show possible stalking behaviour" in outputs[0]
    data = json.loads(outputs[1])
    assert data["findings"] and data["source"]["name"] == "records.csv"
    page = (tmp_path / "screening.html").read_text(encoding="utf-8")
    assert "s2A3-" in page and "<script" not in page
