"""The fixture script is deterministic: the same bytes every run (so derived data and
reports made from it can be compared byte for byte)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def digest_tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_fixture_script_is_deterministic(tmp_path: Path) -> None:
    runs = []
    for name in ("one", "two"):
        out = tmp_path / name
        subprocess.run(
            [sys.executable, str(ROOT / "fixtures" / "make_fixtures.py"), str(out)],
            check=True,
            capture_output=True,
        )
        runs.append(digest_tree(out))
    assert runs[0] == runs[1]
    submission = [k for k in runs[0] if k.startswith("submission/")]
    folders = {k.split("/")[1] for k in submission}
    assert folders == {"WhatsApp", "Phone backup", "Email", "Telegram", "Instagram", "Screenshots"}
