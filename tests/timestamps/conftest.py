from __future__ import annotations

from pathlib import Path

import pytest

from helpers.cases import make_case
from helpers.tsa import local_tsa, tsa_factory  # noqa: F401  (fixtures)


@pytest.fixture
def case_root(tmp_path: Path) -> Path:
    return make_case(tmp_path)
