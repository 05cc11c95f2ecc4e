"""The direct serialiser (``records.record_bytes``) and the fast constructors
(``records.make_record``/``make_locator``) must be indistinguishable from the generic
paths they replace: the same bytes as ``json`` over ``Record.as_dict()`` (compact, UTF-8,
ASCII escapes for a line with a lone surrogate), the same ids, the same instances."""

from __future__ import annotations

import dataclasses
import json
import pickle
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberstalk.records import (
    Attachment,
    Flag,
    Locator,
    Record,
    RecordKind,
    TextLines,
    TzBasis,
    hour_text,
    line_record,
    make_locator,
    make_record,
    read_line,
    record_bytes,
    record_line,
)
from helpers.reference_records import reference_id, reference_line

_TRICKY = (
    "",
    " ",
    "hello",
    "caf\u00e9 paid \u00e2 chysylltu",
    "\U0001f600\U0001f469\u200d\U0001f467",
    "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
    'quote " and \\ backslash / slash',
    "tab\t nl\n cr\r crlf\r\n",
    "\x00\x01\x08\x0b\x0c\x1f\x7f control",
    "\u200e\u202e marks \ufeff \u2060",
    "\u2028\u2029 separators",
    "lone \ud800 high",
    "lone \udfff low",
    "pair \ud83d\ude00 as surrogates",
    "</script><!--",
    "\u00a0nbsp\u202f",
)


texts = st.one_of(st.sampled_from(_TRICKY), st.text(max_size=40))
maybe_texts = st.one_of(st.none(), texts)
maybe_ints = st.one_of(st.none(), st.integers(min_value=0, max_value=10**12))
zones = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=5, minutes=30)),
        timezone(timedelta(0), "UTC+0"),  # a zero offset that is not the UTC singleton
        ZoneInfo("Europe/London"),
    ]
)
times = st.one_of(
    st.none(),
    st.builds(
        lambda d, z: d.replace(tzinfo=z),
        st.one_of(
            st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31)),
            st.datetimes(min_value=datetime(2009, 1, 1), max_value=datetime(2030, 1, 1)).map(
                lambda d: d.replace(microsecond=0)
            ),
        ),
        zones,
    ),
)
locators = st.builds(
    Locator,
    exhibit=maybe_texts,
    path=texts,
    line_start=maybe_ints,
    line_end=maybe_ints,
    byte_start=maybe_ints,
    byte_end=maybe_ints,
    json_path=maybe_texts,
    xml_index=maybe_ints,
    member=maybe_texts,
)
attachments = st.builds(
    Attachment,
    name=texts,
    mime=maybe_texts,
    sha256=st.one_of(st.none(), st.just("ab" * 32)),
    size=maybe_ints,
    exhibit=maybe_texts,
    omitted=st.booleans(),
    caption=maybe_texts,
)
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        texts,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=8,
)
extras = st.one_of(
    st.just({}),
    st.just(MappingProxyType({})),
    st.dictionaries(texts, json_values, max_size=4),
    st.dictionaries(texts, json_values, max_size=4).map(MappingProxyType),
)
records = st.builds(
    Record,
    kind=st.sampled_from(list(RecordKind)),
    platform=texts,
    time_utc=times,
    time_raw=texts,
    tz_basis=st.sampled_from(list(TzBasis)),
    locator=locators,
    parser=texts,
    parser_version=texts,
    sender=maybe_texts,
    recipients=st.lists(texts, max_size=3).map(tuple),
    text=texts,
    attachments=st.lists(attachments, max_size=2).map(tuple),
    flags=st.frozensets(st.sampled_from([f.value for f in Flag]), max_size=4),
    subtype=maybe_texts,
    conversation=maybe_texts,
    extra=extras,
)


@settings(max_examples=600, deadline=None)
@given(records)
def test_record_bytes_match_json_over_as_dict(record: Record) -> None:
    assert record.id == reference_id(record)
    line = record_bytes(record)
    assert line == reference_line(record)
    assert line == record_line(record.as_dict())
    back = json.loads(line)
    assert back["id"] == record.id
    assert back == json.loads(reference_line(record))


@settings(max_examples=300, deadline=None)
@given(records)
def test_a_line_reads_back_as_its_record(record: Record) -> None:
    """``line_record`` (how the WhatsApp parser's records are made from its lines) is
    ``Record.from_dict`` of the line's JSON: the record the line was written from (but
    for a surrogate pair in a Python string, which JSON reads back as its character)."""
    line = record_bytes(record)
    back = line_record(line)
    assert back == Record.from_dict(json.loads(line))
    shown = json.dumps(record.as_dict(), ensure_ascii=False)
    if not any("\ud800" <= c <= "\udfff" for c in shown):
        assert back == record
        assert record_bytes(back) == line


def _line_record(**changes: Any) -> Record:
    base = Record(
        kind=RecordKind.MESSAGE,
        platform="whatsapp",
        time_utc=datetime(2024, 1, 13, 8, 2, tzinfo=UTC),
        time_raw="13/01/2024, 08:02",
        tz_basis=TzBasis.DEFAULT_TIMEZONE,
        locator=Locator(
            exhibit="RE/1/3",
            path="WhatsApp Chat with Dylan.txt",
            line_start=2,
            line_end=3,
            byte_start=160,
            byte_end=255,
            member="_chat.txt",
        ),
        parser="whatsapp",
        parser_version="1.1",
        sender="Dylan",
        text="caf\u00e9 \U0001f600",
        conversation="Dylan",
    )
    return dataclasses.replace(base, **changes)


class _Str(str):
    """A str subclass (an enum-like value a parser might pass): written as its text."""

    __slots__ = ()


class _Local(datetime):
    """A datetime subclass: not the plain UTC datetime the fast path expects."""


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"time_utc": None, "tz_basis": TzBasis.UNKNOWN},
        {"time_utc": datetime(2024, 3, 31, 1, 30, 0, 1234, tzinfo=UTC)},
        {"time_utc": datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC)},
        {"time_utc": datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC)},
        {"time_utc": datetime(2024, 3, 31, 2, 30, tzinfo=ZoneInfo("Europe/London"))},
        {"time_utc": datetime(2024, 3, 31, 2, 30, tzinfo=ZoneInfo("UTC"))},
        {"time_utc": datetime(2024, 3, 31, 2, 30, tzinfo=timezone(timedelta(hours=-3)))},
        {"time_utc": _Local(2024, 3, 31, 2, 30, tzinfo=UTC)},
        {"sender": None, "subtype": "block", "conversation": None},
        {"sender": _Str("Dylan"), "platform": _Str("whatsapp"), "text": _Str("x\ny")},
        {"sender": 447700900123},  # not the model's type: the generic encoder decides
        {"text": "lone \ud83d surrogate"},
        {"sender": "\udc00", "text": "fine"},
        {"recipients": ("Carys", "+44 7700 900456")},
        {"flags": frozenset({"edited", "order_regression", "date_order_chosen"})},
        {"flags": {"edited"}},  # a set, not a frozenset
        {"extra": {"b": [1, 2.5, None, True], "a": {"z": "\u00e9", "y": []}}},
        {"extra": MappingProxyType({"call_type": "voice"})},
        {
            "attachments": (
                Attachment(
                    name='IMG "1".jpg',
                    mime="image/jpeg",
                    sha256="ab" * 32,
                    size=123,
                    exhibit="RE/1/4",
                    omitted=True,
                    caption="c\u00e9",
                ),
                Attachment(name="<Media omitted>", omitted=True),
            )
        },
        {"locator": Locator(exhibit=None, path="a.txt", line_start=1, line_end=1)},
        {"locator": Locator(exhibit="JS/2", path="m.json", json_path='$.messages[0]["x"]')},
        {"locator": Locator(exhibit=None, path="sms.xml", xml_index=4, byte_start=9)},
        {"locator": Locator(exhibit=None, path="b.txt", line_start=True, line_end=2)},
        {
            "locator": Locator(
                exhibit="\U0001f600/1",
                path="\ud800.txt",
                line_start=0,
                line_end=0,
                byte_start=0,
                byte_end=0,
                json_path="$",
                xml_index=0,
                member="m\u00e9",
            )
        },
    ],
)
def test_record_bytes_edge_cases(changes: dict[str, Any]) -> None:
    record = _line_record(**changes)
    assert record_bytes(record) == reference_line(record)


def test_record_bytes_every_kind_and_basis() -> None:
    for kind in RecordKind:
        for basis in TzBasis:
            record = _line_record(kind=kind, tz_basis=basis)
            assert record_bytes(record) == reference_line(record)


def test_lone_surrogate_line_is_ascii_and_reads_back() -> None:
    record = _line_record(text="a \ud83d b \U0001f600")
    line = record_bytes(record)
    assert line.isascii()
    assert json.loads(line)["text"] == record.text


def test_unserialisable_values_fail_as_before() -> None:
    record = _line_record(extra={"when": datetime(2024, 1, 1, tzinfo=UTC)})
    with pytest.raises(TypeError, match="not JSON serializable"):
        record_bytes(record)


# ------------------------------------------------------------------ lines from fields


def _text_lines(record: Record, hour: str | None = None) -> bytes:
    """``TextLines(...).line_in_hour(...)`` over ``record``'s fields; ``hour`` by default
    the hour_text of its time's hour."""
    loc = record.locator
    assert loc.json_path is None and loc.xml_index is None
    writer = TextLines(
        record.platform,
        record.tz_basis,
        record.conversation,
        loc.exhibit,
        loc.path,
        loc.member,
        record.parser,
        record.parser_version,
    )
    t = record.time_utc
    assert t is not None
    if hour is None:
        hour = hour_text(datetime(t.year, t.month, t.day, t.hour, tzinfo=UTC))
        assert hour is not None
    return writer.line_in_hour(
        record.kind,
        record.subtype,
        hour,
        t.minute * 60 + t.second,
        record.time_raw,
        record.sender,
        record.recipients,
        record.text,
        record.attachments,
        record.flags,
        loc.line_start,  # type: ignore[arg-type]
        loc.line_end,  # type: ignore[arg-type]
        loc.byte_start,  # type: ignore[arg-type]
        loc.byte_end,  # type: ignore[arg-type]
        record.extra,
    )


_ints = st.integers(min_value=0, max_value=10**12)
text_line_records = st.builds(
    lambda record, loc: dataclasses.replace(record, locator=loc),
    records.filter(lambda r: r.time_utc is not None).map(
        lambda r: dataclasses.replace(
            r,
            time_utc=r.time_utc.astimezone(UTC).replace(microsecond=0),  # type: ignore[union-attr]
        )
    ),
    st.builds(
        Locator,
        exhibit=maybe_texts,
        path=texts,
        line_start=_ints,
        line_end=_ints,
        byte_start=_ints,
        byte_end=_ints,
        member=maybe_texts,
    ),
)


@settings(max_examples=600, deadline=None)
@given(text_line_records)
def test_text_lines_write_what_record_bytes_writes(record: Record) -> None:
    try:
        line = _text_lines(record)
    except UnicodeEncodeError:  # a lone surrogate: the caller builds the Record
        assert b"\\u" in record_bytes(record) and record_bytes(record).isascii()
        return
    assert line == record_bytes(record) == reference_line(record)


def test_hour_text_is_the_start_of_the_time_text_of_a_utc_hour() -> None:
    start = datetime(2024, 3, 31, 1, tzinfo=UTC)
    assert hour_text(start) == "2024-03-31T01:"
    assert hour_text(start) + "59:59+00:00" == (start + timedelta(seconds=3599)).isoformat()
    assert hour_text(datetime(999, 1, 2, 3, tzinfo=UTC)) == "0999-01-02T03:"
    for off_the_hour in (
        start.replace(minute=30),
        start.replace(second=1),
        start.replace(microsecond=1),
        start.replace(tzinfo=timezone(timedelta(0), "UTC+0")),
        start.astimezone(timezone(timedelta(hours=5, minutes=30))),
        _Local(2024, 3, 31, 1, tzinfo=UTC),
    ):
        assert hour_text(off_the_hour) is None, off_the_hour


@pytest.mark.parametrize("second", [-1, 3600, True, 1.0])
def test_text_lines_refuse_a_second_out_of_the_hour(second: Any) -> None:
    record = _line_record()
    writer = TextLines(
        "whatsapp", TzBasis.DEFAULT_TIMEZONE, "Dylan", "RE/1/3", "c.txt", None, "whatsapp", "1.1"
    )
    with pytest.raises(TypeError):
        writer.line_in_hour(
            record.kind, None, "2024-01-13T08:", second, "t", None, (), "x", (), frozenset(),
            1, 1, 0, 9, {},
        )  # fmt: skip
    last = writer.line_in_hour(
        record.kind, None, "2024-01-13T08:", 3599, "t", None, (), "x", (), frozenset(),
        1, 1, 0, 9, {},
    )  # fmt: skip
    assert b'"time_utc":"2024-01-13T08:59:59+00:00"' in last


@pytest.mark.parametrize(
    "changes",
    [
        {"subtype": _Str("call")},
        {"text": _Str("hello")},
        {"time_raw": 1},
        {
            "locator": Locator(
                None, "chat.txt", line_start=True, line_end=1, byte_start=0, byte_end=9
            )
        },
        {
            "locator": Locator(
                None, "chat.txt", line_start=1, line_end=1, byte_start=0, byte_end=9.0
            )
        },
    ],
)
def test_text_lines_refuse_what_record_bytes_writes_the_generic_way(
    changes: dict[str, Any],
) -> None:
    record = _line_record(**changes)
    with pytest.raises(TypeError):
        _text_lines(record)
    assert _text_lines(_line_record()) == record_bytes(_line_record())


def test_text_lines_refuse_a_source_whose_path_is_not_text() -> None:
    with pytest.raises(TypeError):
        TextLines(
            "whatsapp",
            TzBasis.DEFAULT_TIMEZONE,
            None,
            None,
            _Str("chat.txt"),
            None,
            "whatsapp",
            "1",
        )


# ------------------------------------------------------------------ fast construction


@settings(max_examples=300, deadline=None)
@given(records)
def test_make_record_equals_the_dataclass_init(record: Record) -> None:
    fields = [getattr(record, f.name) for f in dataclasses.fields(Record)]
    loc = record.locator
    fast_loc = make_locator(*[getattr(loc, f.name) for f in dataclasses.fields(Locator)])
    assert fast_loc == loc and hash(fast_loc) == hash(loc) and type(fast_loc) is Locator
    fast = make_record(*fields[:5], fast_loc, *fields[6:])
    assert type(fast) is Record
    assert fast == record and repr(fast) == repr(record)  # (a dict extra is unhashable)
    assert fast.id == record.id
    assert record_bytes(fast) == record_bytes(record)
    if type(record.extra) is dict:  # (a mappingproxy cannot be pickled, made either way)
        assert pickle.loads(pickle.dumps(fast)) == record


def test_made_records_stay_immutable_and_replaceable() -> None:
    record = _line_record()
    loc = record.locator
    fast = make_record(
        record.kind,
        record.platform,
        record.time_utc,
        record.time_raw,
        record.tz_basis,
        make_locator(loc.exhibit, loc.path, 2, 3, 160, 255, None, None, loc.member),
        record.parser,
        record.parser_version,
        record.sender,
        (),
        record.text,
        (),
        frozenset(),
        None,
        record.conversation,
        {},
    )
    assert fast == record
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.text = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.locator.line_start = 9  # type: ignore[misc]
    moved = dataclasses.replace(fast, text="other")
    assert moved.text == "other" and moved.locator == fast.locator and fast.text == record.text
    assert [f.name for f in dataclasses.fields(fast)] == [
        f.name for f in dataclasses.fields(Record)
    ]


def test_make_record_refuses_a_naive_time_like_init() -> None:
    loc = make_locator(None, "a.txt", 1, 1, 0, 1, None, None, None)
    args: list[Any] = [RecordKind.MESSAGE, "whatsapp", None, "", TzBasis.UNKNOWN, loc, "p", "1"]
    args += [None, (), "", (), frozenset(), None, None, {}]
    make_record(*args)
    args[2] = datetime(2024, 1, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        make_record(*args)
    with pytest.raises(ValueError, match="timezone-aware"):
        Record(*args)


# ------------------------------------------------------------------ the line reader

_json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),  # beyond 64 bits too: orjson would read those as floats
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        texts,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)


def _same(a: Any, b: Any) -> bool:
    """Equal with the same types all the way down (1 and 1.0 differ)."""
    return repr(a) == repr(b)


@settings(max_examples=800, deadline=None)
@given(_json_values, st.booleans())
def test_read_line_gives_what_json_gives(value: Any, ascii_only: bool) -> None:
    line = (json.dumps(value, ensure_ascii=ascii_only) + "\n").encode("utf-8", "surrogatepass")
    try:
        expected = json.loads(line)
    except ValueError as exc:  # a raw surrogate in UTF-8 bytes: json refuses it too
        with pytest.raises(type(exc)):
            read_line(line)
        return
    assert _same(read_line(line), expected)


@pytest.mark.parametrize(
    "text",
    [
        '{"n":123456789012345678901234567890}',
        '{"n":-9223372036854775809}',
        '{"n":18446744073709551616}',
        '{"a":[1,{"b":99999999999999999999}]}',
        '{"t":"\\ud800"}',
        '{"x":NaN,"y":Infinity}',
        '{"big":1e400}',
        '{"a":1,"a":2}',
        ' {"a":"caf\u00e9"} \r\n',
        '\ufeff{"a":1}',  # a byte-order mark: json reads past it, orjson refuses
    ],
)
def test_read_line_keeps_what_orjson_alone_would_change_or_refuse(text: str) -> None:
    line = text.encode("utf-8")
    assert _same(read_line(line), json.loads(line))


@pytest.mark.parametrize("text", ['{"a":1}x', "[1,2", '{"a":"\\x"}'])
def test_read_line_refuses_what_json_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        read_line(text.encode("utf-8"))


def test_a_record_with_a_long_integer_reads_back_exactly(tmp_path: Any) -> None:
    from cyberstalk.records import write_records
    from cyberstalk.records.store import iter_record_dicts, iter_records

    big = 2**80 + 1
    rec = _line_record(extra={"message_id": big, "ratio": 0.5})
    write_records(tmp_path, "EX/1", [rec], {"records": 1})
    ((got, _),) = iter_records(tmp_path)
    assert got == rec and type(got.extra["message_id"]) is int
    assert next(iter_record_dicts(tmp_path))["extra"]["message_id"] == big
