"""Real cases for tests, made with the CLI (``case init`` + ``ingest``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from cyberstalk.cli import app


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def ingest(root: Path, sub: Path, files: dict[str, bytes], *extra: str) -> None:
    """Write ``files`` (relative name → bytes) under ``sub`` and ingest ``sub``."""
    for name, data in files.items():
        p = sub / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    r = cli("ingest", root, sub, "--source", "USB stick from victim", "--no-process", *extra)
    assert r.exit_code == 0, r.output


def make_case(tmp_path: Path, files: dict[str, bytes] | None = None) -> Path:
    """A case NWP/2026/0142 (officer DC Rhian Evans, exhibits RE/n) holding ``files``."""
    root = tmp_path / "case"
    r = cli(
        "case",
        "init",
        root,
        "--ref",
        "NWP/2026/0142",
        "--officer",
        "DC Rhian Evans",
        "--initials",
        "RE",
    )
    assert r.exit_code == 0, r.output
    ingest(root, tmp_path / "sub", files or {"IMG_0001.PNG": b"screenshot bytes"})
    return root


def events(root: Path, name: str) -> list[dict[str, Any]]:
    lines = (root / "custody.jsonl").read_text("utf-8").splitlines()
    return [e for e in map(json.loads, lines) if e["event"] == name]
