"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cyberstalk.case import Case, init_case
from helpers.tsa import local_tsa, tsa_factory  # noqa: F401 - a TSA on 127.0.0.1 for any test


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Signing keys and user config go to a temp folder, never the real ~/.config."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg")))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def case(tmp_path: Path) -> Iterator[Case]:
    """A fresh case folder RE/..., Europe/London."""
    yield init_case(
        tmp_path / "case", reference="NWP/2026/0001", officer="DC Test Officer", initials="RE"
    )
