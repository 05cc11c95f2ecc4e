"""The FTS5 index over records and OCR text."""

from __future__ import annotations

import json

import pytest

from cyberstalk.errors import UsageError
from cyberstalk.media.search import fts_query, index_path, search
from cyberstalk.records import write_records

from .conftest import whatsapp_export_records, write_export


def test_finds_messages_oldest_first_with_locator_and_snippet(case) -> None:
    write_export(case)
    hits, rebuilt = search(case.derived_dir, "station")
    assert rebuilt is True
    (hit,) = hits
    assert hit.exhibit == "RE/90" and hit.locator == "RE/90 line 8"
    assert hit.time_utc == "2026-01-12T23:58:45+00:00"
    assert "[station]" in hit.snippet and hit.sender == "Dylan"
    assert index_path(case.derived_dir).is_file()


def test_welsh_without_accents_and_prefix(case) -> None:
    write_export(case)
    (hit,) = search(case.derived_dir, "paid a chysylltu")[0]
    assert "chysylltu" in hit.snippet
    hits = search(case.derived_dir, "expla*")[0]
    assert [h.locator for h in hits] == ["RE/90 line 14"]


def test_index_rebuilt_only_when_derived_changes(case) -> None:
    write_export(case)
    search(case.derived_dir, "station")
    assert search(case.derived_dir, "station")[1] is False
    extra = whatsapp_export_records("RE/91")[:1]
    write_records(case.derived_dir, "RE/91", extra, {})
    hits, rebuilt = search(case.derived_dir, "good to see you")
    assert rebuilt is True
    assert {h.exhibit for h in hits} == {"RE/90", "RE/91"}


def test_ocr_text_outside_chat_bubbles_is_searchable(case) -> None:
    ocr = case.derived_dir / "ocr"
    ocr.mkdir(parents=True)
    doc = {"exhibit": "RE/3", "original_name": "shot.png", "text": "Bangor station car park"}
    (ocr / "RE-3.json").write_text(json.dumps(doc))
    (hit,) = search(case.derived_dir, "car park")[0]
    assert hit.kind == "ocr_text" and hit.exhibit == "RE/3"


def test_user_text_is_never_fts_syntax(case) -> None:
    write_export(case)
    assert fts_query('you" OR (x') == '"you""" "OR" "(x"'
    assert search(case.derived_dir, 'NEAR( "station')[0] == []
    with pytest.raises(UsageError):
        search(case.derived_dir, "   ")
