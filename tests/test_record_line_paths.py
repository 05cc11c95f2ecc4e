"""``records.record_bytes`` writes every line with one template, whatever the locator
(a text export's lines and bytes, a JSON path, an XML index, bytes alone) and the time
(UTC, another zone, None): the same bytes as json over ``Record.as_dict()``, for a run of
records of one source (the parts a source's records share are written once and
remembered), and where an equal string of another type would give another id."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from cyberstalk.records import (
    Attachment,
    Flag,
    Locator,
    Record,
    RecordKind,
    TzBasis,
    line_record,
    record_bytes,
)
from helpers.reference_records import reference_id, reference_line

texts = st.one_of(
    st.sampled_from(["", "hello", "caf\u00e9 \U0001f600", 'q " \\ /', "\u2028\n\t", "\x00\x1f"]),
    st.text(max_size=20),
)
maybe_texts = st.one_of(st.none(), texts)
numbers = st.integers(min_value=0, max_value=10**12)

# The locators the parsers write: a text export's (lines and bytes), a JSON export's
# (a JSON path), an XML export's (lines, bytes and an XML index), and the odd ones.
place = st.one_of(
    st.fixed_dictionaries(
        {"line_start": numbers, "line_end": numbers, "byte_start": numbers, "byte_end": numbers}
    ),
    st.fixed_dictionaries({"json_path": texts.map(lambda t: f"$.messages[{len(t)}]{t}")}),
    st.fixed_dictionaries(
        {
            "line_start": numbers,
            "line_end": numbers,
            "byte_start": numbers,
            "byte_end": numbers,
            "xml_index": numbers,
        }
    ),
    st.fixed_dictionaries({"byte_start": numbers, "byte_end": numbers}),
    st.fixed_dictionaries({"line_start": numbers, "line_end": st.none() | numbers}),
    st.fixed_dictionaries({"xml_index": numbers, "json_path": maybe_texts}),
    st.just({}),
)

times = st.one_of(
    st.none(),
    st.datetimes(min_value=datetime(2009, 1, 1), max_value=datetime(2030, 1, 1)).map(
        lambda d: d.replace(microsecond=0, tzinfo=UTC)
    ),
    st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31)).map(
        lambda d: d.replace(tzinfo=UTC)
    ),
    st.builds(
        lambda d, z: d.replace(tzinfo=z),
        st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
        st.sampled_from(
            [
                timezone(timedelta(hours=-3, minutes=-30)),
                timezone(timedelta(0), "UTC+0"),
                ZoneInfo("Europe/London"),
                ZoneInfo("UTC"),
            ]
        ),
    ),
)

attachments = st.lists(
    st.builds(
        Attachment,
        name=texts,
        mime=maybe_texts,
        sha256=st.none() | st.just("ab" * 32),
        size=st.none() | numbers,
        exhibit=maybe_texts,
        omitted=st.booleans(),
        caption=maybe_texts,
    ),
    max_size=2,
).map(tuple)

extras: st.SearchStrategy[dict[str, Any]] = st.one_of(
    st.just({}),
    st.dictionaries(
        texts,
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), texts),
        max_size=3,
    ),
    st.just({"reactions": [{"reaction": "\U0001f622", "actor": "Carys"}], "n": 2**70}),
)

sources = st.fixed_dictionaries(
    {
        "platform": texts,
        "tz_basis": st.sampled_from(list(TzBasis)),
        "conversation": maybe_texts,
        "exhibit": maybe_texts,
        "path": texts,
        "member": maybe_texts,
        "parser": texts,
        "parser_version": texts,
    }
)


@st.composite
def runs_of_one_source(draw: st.DrawFn) -> list[Record]:
    """A few records of one source (shared platform, basis, conversation, exhibit, path,
    member, parser and version), each with its own locator place, time and fields."""
    source: dict[str, Any] = draw(sources)
    where: dict[str, Any] = {k: source.pop(k) for k in ("exhibit", "path", "member")}
    out = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        out.append(
            Record(
                kind=draw(st.sampled_from(list(RecordKind))),
                time_utc=draw(times),
                time_raw=draw(texts),
                locator=Locator(**where, **draw(place)),
                sender=draw(maybe_texts),
                recipients=tuple(draw(st.lists(texts, max_size=2))),
                text=draw(texts),
                attachments=draw(attachments),
                flags=draw(st.frozensets(st.sampled_from([f.value for f in Flag]), max_size=3)),
                subtype=draw(maybe_texts),
                extra=draw(extras),
                **source,
            )
        )
    return out


@settings(max_examples=400, deadline=None)
@given(runs_of_one_source())
def test_every_locator_and_time_is_written_as_json_over_as_dict(run: list[Record]) -> None:
    for record in run:
        line = record_bytes(record)
        assert line == reference_line(record)
        assert json.loads(line)["id"] == reference_id(record) == record.id
        assert line_record(line).id == record.id


class _Where(str, Enum):  # noqa: UP042 - a StrEnum's str() is its value; this one's is not
    """A str mixed into an Enum: equal to its value, but ``str()`` gives ``_Where.A``, and
    the id is made of the parts' ``str()`` (json writes the value)."""

    A = "RE/1"
    B = "chat.json"


class _Name(str):
    """A str subclass whose ``str()`` is not its value."""

    __slots__ = ()

    def __str__(self) -> str:
        return "other"


def _record(**changes: Any) -> Record:
    base = Record(
        kind=RecordKind.MESSAGE,
        platform="messenger",
        time_utc=datetime(2024, 1, 13, 8, 2, 3, 456000, tzinfo=UTC),
        time_raw="1705132923456",
        tz_basis=TzBasis.EPOCH,
        locator=Locator(exhibit="RE/1", path="chat.json", json_path="$.messages[3]"),
        parser="facebook-messenger",
        parser_version="1.0",
        sender="Dylan",
        text="hi",
        conversation="Dylan",
    )
    return dataclasses.replace(base, **changes)


def test_an_equal_string_of_another_type_does_not_share_a_remembered_source() -> None:
    plain_json = _record()
    plain_text = _record(locator=Locator("RE/1", "chat.json", 1, 1, 0, 9, member="m"))
    odd = [
        _record(locator=Locator(exhibit=_Where.A, path="chat.json", json_path="$.messages[3]")),
        _record(locator=Locator(exhibit="RE/1", path=_Where.B, json_path="$.messages[3]")),
        _record(locator=Locator("RE/1", "chat.json", 1, 1, 0, 9, member=_Name("m"))),
        _record(parser=_Name("facebook-messenger")),
        _record(parser=_Where.A),
    ]
    for record in [plain_json, plain_text, *odd, plain_json, plain_text, *reversed(odd)]:
        line = record_bytes(record)
        assert line == reference_line(record), record
        assert json.loads(line)["id"] == reference_id(record)
    assert reference_id(odd[0]) != reference_id(plain_json)  # (the case is a real one)


def test_a_text_exports_locator_of_other_numbers_is_written_from_its_fields() -> None:
    for loc in (
        Locator("RE/1", "chat.txt", True, 1, 0, 9),
        Locator("RE/1", "chat.txt", 1, 1, 0, 9.0),  # type: ignore[arg-type]
        Locator("RE/1", "chat.txt", 1, 1, 0, None),
        Locator("RE/1", "chat.txt", 1, 1, 0, 9, json_path="$"),
        Locator("RE/1", "chat.txt", 1, 1, 0, 9, xml_index=0),
        Locator(None, "chat.txt", 2**70, 1, 0, 9, member=""),
    ):
        for when in (None, datetime(2024, 1, 13, 8, 2, tzinfo=UTC)):
            record = _record(locator=loc, time_utc=when)
            assert record_bytes(record) == reference_line(record), loc
