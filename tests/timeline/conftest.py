"""Fixtures for the timeline tests: the demo story as a case folder and as a config."""

from __future__ import annotations

from pathlib import Path

import pytest
from timeline_helpers import EPOCH, config, story_fixture

from cyberstalk.case import CaseConfig


@pytest.fixture
def story_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo story as a case folder with derived records (no parsers needed)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    return story_fixture.build_case(tmp_path / "timeline-case")  # type: ignore[no-any-return]


@pytest.fixture
def story_config() -> CaseConfig:
    return config(people=story_fixture.people_toml(), tz="Europe/London")
