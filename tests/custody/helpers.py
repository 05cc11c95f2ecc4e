"""Helpers for custody tests: build submissions, run the CLI, tamper with cases."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

from typer.testing import CliRunner, Result

from cyberstalk.cli import app


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def tree_digest(root: Path) -> dict[str, tuple[str, int]]:
    """sha256 and mode of every file under root (symlinks not followed): proves the
    originals were not touched."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath, name)
            if p.is_symlink() or not p.is_file():
                continue
            out[str(p)] = (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mode)
    return out


def make_zip(path: Path, members: dict[str, bytes], **kwargs: int) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, **kwargs) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def manifest(case_root: Path) -> dict:
    return json.loads((case_root / "manifest.json").read_bytes())


def log_events(case_root: Path) -> list[dict]:
    return [json.loads(x) for x in (case_root / "custody.jsonl").read_text().splitlines()]
