"""Fixtures of the profile tests: the KNOWN cases built once per module as real case
folders (init, people, order, ingest, parse) with ``fixtures/many_cases.py``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from profile_helpers import KNOWN, mc


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the KNOWN cases (case-a ... case-f)."""
    root = tmp_path_factory.mktemp("known")
    key = root.parent / f"{root.name}-key.pem"
    from cyberstalk.hashing import signing

    signing.load_or_create_key(key)
    for name, s in KNOWN.items():
        mc.build_case(root / name, s, key, root.parent / f"{root.name}-work")
    return root


@pytest.fixture
def cases(known: Path, tmp_path: Path) -> Path:
    """A private copy of the KNOWN cases (tests may tamper with it)."""
    out = tmp_path / "cases"
    shutil.copytree(known, out, symlinks=True)
    return out
