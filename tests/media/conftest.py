"""Shared fixtures for the media tests: the generated screenshots and a hand-built case.

The case is built the way ingest leaves it (evidence/ files, manifest.json with ref,
stored_as, original_name, mime from real libmagic, sha256), so process_case is tested
against the on-disk contract rather than against ingest's code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import magic
import pytest

from cyberstalk.case import Case, init_case
from cyberstalk.records import Locator, Record, RecordKind, TzBasis, write_records
from helpers.fixture_scripts import load_fixture

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"


def _load(name: str) -> Any:
    return load_fixture(name)


story = _load("story")
screenshots_fixture = _load("screenshots")


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated screenshot fixtures (and expected.json), made once per session."""
    out = tmp_path_factory.mktemp("screenshots")
    screenshots_fixture.generate(out)
    return out


@pytest.fixture(scope="session")
def expected(shots: Path) -> dict[str, Any]:
    return json.loads((shots / "expected.json").read_text("utf-8"))


CaseBuilder = Callable[[list[tuple[str, bytes]]], Case]


def build_case(root: Path, files: list[tuple[str, bytes]]) -> Case:
    """A case whose manifest lists the given (original name, bytes) as RE/1, RE/2..."""
    case = init_case(root, reference="NWP/2026/0142", officer="DC Rhian Evans", initials="RE")
    exhibits = []
    for n, (name, data) in enumerate(files, 1):
        suffix = Path(name).suffix
        stored = f"evidence/RE-{n}{suffix}"
        path = case.root / stored
        path.write_bytes(data)
        path.chmod(0o444)
        exhibits.append(
            {
                "ref": f"RE/{n}",
                "stored_as": stored,
                "original_name": name,
                "mime": magic.from_buffer(data, mime=True) if data else "application/x-empty",
                "size": len(data),
                "digests": {"sha256": hashlib.sha256(data).hexdigest()},
                "parent": None,
                "member_name": None,
            }
        )
    manifest = {"format": "cyberstalk-manifest/1", "exhibits": exhibits}
    (case.root / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    return case


@pytest.fixture
def make_case(tmp_path: Path) -> CaseBuilder:
    return lambda files: build_case(tmp_path / "case", files)


def whatsapp_export_records(ref: str = "RE/90") -> list[Record]:
    """The story's WhatsApp chat as an export parser would emit it (exact times)."""
    out = []
    for n, (when, who, text) in enumerate(story.WHATSAPP_MESSAGES, 1):
        sender = story.SUSPECT if who == "suspect" else story.VICTIM
        out.append(
            Record(
                kind=RecordKind.MESSAGE,
                platform="whatsapp",
                time_utc=when.astimezone(UTC),
                time_raw=when.strftime("%d/%m/%Y, %H:%M:%S"),
                tz_basis=TzBasis.CASE_TIMEZONE,
                locator=Locator(exhibit=ref, path="_chat.txt", line_start=n, line_end=n),
                parser="test-export",
                parser_version="0",
                sender=sender["whatsapp_name"],
                text=text,
            )
        )
    return out


def write_export(case: Case, ref: str = "RE/90") -> list[Record]:
    records = whatsapp_export_records(ref)
    write_records(case.derived_dir, ref, records, {"parser": "test-export"})
    return records
