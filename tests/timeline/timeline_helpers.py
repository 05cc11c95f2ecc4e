"""Helpers for the timeline tests: hand-made records, a config builder, the story fixture.

(A uniquely named module, not a package: a test package called ``timeline`` would shadow
``fixtures/timeline.py`` for any other test that imports it.)
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cyberstalk.case import CaseConfig, parse_config
from cyberstalk.records import Locator, Record, RecordKind, TzBasis
from helpers.fixture_scripts import load_fixture

ROOT = Path(__file__).resolve().parents[2]
EPOCH = "1774051200"


def _load_fixture() -> Any:
    return load_fixture("timeline")


story_fixture = _load_fixture()

_counter = iter(range(1, 10**9))


def rec(
    when: str | None,
    sender: str | None = None,
    text: str = "",
    *,
    platform: str = "whatsapp",
    kind: RecordKind = RecordKind.MESSAGE,
    recipients: tuple[str, ...] = (),
    subtype: str | None = None,
    flags: frozenset[str] = frozenset(),
    extra: dict[str, Any] | None = None,
    exhibit: str = "T/1",
    conversation: str | None = None,
) -> Record:
    """A record at ``when`` (``2026-01-05 18:00`` in UTC) with a unique line number."""
    t = datetime.fromisoformat(when).replace(tzinfo=UTC) if when else None
    return Record(
        kind=kind,
        platform=platform,
        time_utc=t,
        time_raw=when or "",
        tz_basis=TzBasis.EPOCH if t else TzBasis.UNKNOWN,
        locator=Locator(exhibit=exhibit, path="chat.txt", line_start=next(_counter)),
        parser="test",
        parser_version="1",
        sender=sender,
        recipients=recipients,
        text=text,
        flags=flags,
        subtype=subtype,
        extra=extra or {},
        conversation=conversation,
    )


BASIC_PEOPLE = """
[[people]]
name = "Vic Tim"
role = "victim"
identifiers = [
  { type = "phone", value = "07700 900111" },
  { type = "display_name", value = "Vic", platform = "whatsapp" },
  { type = "email", value = "vic@example.com" },
]

[[people]]
name = "Sam Suspect"
role = "suspect"
identifiers = [
  { type = "phone", value = "+44 7700 900222" },
  { type = "display_name", value = "Sam", platform = "whatsapp" },
  { type = "username", value = "@sam_x", platform = "instagram" },
  { type = "email", value = "Sam@Example.NET" },
]

[[people]]
name = "Wyn Witness"
role = "witness"
identifiers = [{ type = "phone", value = "07700900333" }]
"""


def config(extra: str = "", people: str = BASIC_PEOPLE, tz: str = "UTC") -> CaseConfig:
    text = (
        f'[case]\nreference = "T/1"\nofficer = "DC Test"\nexhibit_prefix = "T"\n'
        f'timezone = "{tz}"\n' + people + extra
    )
    return parse_config(tomllib.loads(text))
