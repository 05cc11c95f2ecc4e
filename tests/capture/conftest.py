from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from cyberstalk.cli import app
from helpers.tsa import local_tsa, tsa_factory  # noqa: F401  (fixtures)

from .site import Site, start_site

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (`make setup` installs it: apt-get install chromium)",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    running = start_site(tmp_path_factory.mktemp("site"))
    yield running
    running.stop()


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def capture(root: Path, *args: str | Path) -> Result:
    return cli("capture", root, *args, "--source", "link sent by victim", "--no-process")


def events(root: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (root / "custody.jsonl").read_text().splitlines()]


def manifest(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / "manifest.json").read_bytes())
    return data


def members(root: Path, ref: str) -> dict[str, dict[str, Any]]:
    return {e["member_name"]: e for e in manifest(root)["exhibits"] if e.get("parent") == ref}
