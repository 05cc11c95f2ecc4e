"""Linking screenshot records to export records over text and time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cyberstalk.media.link import ExportIndex, corroborate
from cyberstalk.records import Flag, Locator, Record, RecordKind, TzBasis

from .conftest import whatsapp_export_records

LONDON = ZoneInfo("Europe/London")


def shot(text: str, when: datetime | None, raw: str) -> Record:
    return Record(
        kind=RecordKind.SCREENSHOT_TEXT,
        platform="screenshot",
        time_utc=when,
        time_raw=raw,
        tz_basis=TzBasis.CASE_TIMEZONE if when else TzBasis.UNKNOWN,
        locator=Locator(exhibit="RE/5", path="s.png", line_start=3, line_end=3),
        parser="media.screenshot",
        parser_version="1",
        text=text,
        flags=frozenset({Flag.OCR.value}),
    )


EXPORTS = whatsapp_export_records()
INDEX = ExportIndex(EXPORTS, LONDON)
BY_TEXT = {r.text: r for r in EXPORTS}


def test_ocr_slips_and_line_wraps_still_link() -> None:
    target = BY_TEXT["I saw you at the station today\nYou looked tired"]
    s = shot(
        "I saw you at the statiom today You looked\ntired",
        target.time_utc.replace(second=0),
        "23:58",
    )
    (linked,), count = corroborate([s], INDEX)
    assert count == 1
    assert linked.extra["corroborates"] == [target.id]
    (detail,) = linked.extra["corroboration"]
    assert detail["time_difference_s"] == 45 and detail["text_match"] == "whole"
    assert 0.85 <= detail["text_similarity"] < 1


def test_same_text_at_another_time_does_not_link() -> None:
    target = BY_TEXT["Answer me"]
    s = shot("Answer me", target.time_utc + timedelta(minutes=10), "02:13")
    (linked,), count = corroborate([s], INDEX)
    assert count == 0 and "corroborates" not in linked.extra


def test_different_text_at_the_same_time_does_not_link() -> None:
    target = BY_TEXT["We need to talk"]
    s = shot("See you tomorrow", target.time_utc.replace(second=0), "09:16")
    assert corroborate([s], INDEX)[1] == 0


def test_export_with_an_edit_marker_links_by_its_start() -> None:
    target = BY_TEXT["You owe me an explanation"]
    edited = replace(target, text=target.text + " \u200e<This message was edited>")
    index = ExportIndex([edited], LONDON)
    s = shot("You owe me an explanation", target.time_utc, "23:10")
    (linked,), count = corroborate([s], index)
    assert count == 1 and linked.extra["corroboration"][0]["text_match"] == "part"
    # Short texts never link by part: "??" must not match the start of anything longer.
    short = shot("Hi", target.time_utc, "23:10")
    assert corroborate([short], ExportIndex([replace(target, text="Hi there")], LONDON))[1] == 0


def test_undated_screenshot_links_on_wall_clock_minute() -> None:
    target = BY_TEXT["I'll be outside your flat later"]
    local = target.time_utc.astimezone(LONDON)
    s = shot("I'll be outside your flat later", None, f"{local:%H:%M}")
    (linked,), _ = corroborate([s], INDEX)
    assert linked.extra["corroborates"] == [target.id]
    assert linked.extra["corroboration"][0]["time_difference_s"] is None


def test_records_of_the_same_exhibit_and_other_screenshots_are_ignored() -> None:
    target = BY_TEXT["Answer me"]
    own = replace(target, locator=Locator(exhibit="RE/5", path="s.png"))
    other_shot = replace(
        shot("Answer me", target.time_utc, "02:03"), locator=Locator("RE/6", "t.png")
    )
    index = ExportIndex([own, other_shot], LONDON)
    assert corroborate([shot("Answer me", target.time_utc, "02:03")], index)[1] == 0


def test_relinking_replaces_old_links() -> None:
    target = BY_TEXT["Answer me"]
    stale = replace(
        shot("Answer me", target.time_utc + timedelta(hours=5), "07:03"),
        extra={"corroborates": ["r-old"], "corroboration": []},
    )
    (linked,), _ = corroborate([stale], INDEX)
    assert "corroborates" not in linked.extra
    assert datetime(2026, 1, 15, 2, 3, tzinfo=UTC) == target.time_utc
