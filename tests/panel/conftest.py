"""The demo story as a case folder for the panel pack, with a victim's address and a
hostile record written the way a suspect could write it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cyberstalk.case import open_case
from cyberstalk.records import Attachment, Locator, Record, RecordKind, TzBasis, write_records
from helpers.fixture_scripts import load_fixture

EPOCH = "1774051200"  # 2026-03-21
ADDRESS = "12 Ffordd Example, Bangor LL57 1AA"
HOSTILE_TEXT = (
    "<script>alert('x')</script> I know Carys Hughes lives at 12 Ffordd Example, "
    "Bangor LL57 1AA. Ring 07700 900123 or mail CARYS.HUGHES@example.com"
)

story = load_fixture("story")
timeline_fixture = load_fixture("timeline")


@dataclass(frozen=True)
class PanelCase:
    root: Path
    hostile: str
    """Id of the hostile record (a counted contact from the suspect)."""


def hostile_record() -> Record:
    return Record(
        kind=RecordKind.MESSAGE,
        platform="telegram",
        time_utc=datetime(2026, 3, 21, 22, 0, tzinfo=UTC),
        time_raw="21/03/2026, 22:00:00",
        tz_basis=TzBasis.EPOCH,
        locator=Locator(exhibit="RE/9", path="Carys_Hughes <script>.json", json_path="$[0]"),
        parser="test",
        parser_version="1",
        sender=story.SUSPECT["telegram"],
        recipients=("Carys H",),
        text=HOSTILE_TEXT,
        conversation="<script>x</script> chat with Carys Hughes (+44 7700 900123)",
        attachments=(Attachment(name="Carys_Hughes_<img src=x onerror=y>.jpg"),),
    )


@pytest.fixture
def panel_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PanelCase:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root = timeline_fixture.build_case(tmp_path / "panel-case")
    toml = root / "case.toml"
    text = toml.read_text("utf-8")
    # The officer adds the victim's address by hand, as the case.toml comments describe.
    victim = f'name = "{story.VICTIM["name"]}"\nrole = "victim"\n'
    assert victim in text
    text = text.replace(victim, f'{victim}address = "{ADDRESS}"\n')
    toml.write_text(text, "utf-8")
    rec = hostile_record()
    write_records(open_case(root).derived_dir, "RE/9", [rec], {})
    return PanelCase(root, rec.id)
