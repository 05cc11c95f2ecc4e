"""Generic CSV parser: mappings, time formats, provenance, and faults."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cyberstalk.errors import ParseError
from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.registry import detect, get_parser
from cyberstalk.records import Record, RecordKind, TzBasis
from cyberstalk.records.times import choose_zone


def parse(
    path: Path, options: dict[str, str] | None = None, tz: str | None = None
) -> tuple[list[Record], ParseReport]:
    ctx = ParseContext(zone=choose_zone(tz, None), options=options or {})
    report = ParseReport(parser="csv")
    return list(get_parser("csv").parse(Source.loose(path), ctx, report)), report


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


MAP = {
    "time": "Date",
    "sender": "From",
    "text": "Body",
    "time_format": "%d/%m/%Y %H:%M",
}


def test_mapped_columns_with_multiline_quoted_body(tmp_path: Path) -> None:
    data = (
        b"Date,From,To,Body\r\n"
        b'13/01/2026 21:06,Dylan,Carys,"I saw you\r\nat the station"\r\n'
        b"14/07/2026 07:00,Carys,Dylan,stop\r\n"
    )
    path = write(tmp_path, "texts.csv", data)
    records, report = parse(path, {**MAP, "recipients": "To", "platform": "signal"})
    assert [(r.sender, r.recipients, r.text, r.time_utc) for r in records] == [
        (
            "Dylan",
            ("Carys",),
            "I saw you\r\nat the station",
            datetime(2026, 1, 13, 21, 6, tzinfo=UTC),
        ),
        ("Carys", ("Dylan",), "stop", datetime(2026, 7, 14, 6, 0, tzinfo=UTC)),  # BST
    ]
    assert [r.platform for r in records] == ["signal", "signal"]
    assert [r.time_raw for r in records] == ["13/01/2026 21:06", "14/07/2026 07:00"]
    assert records[0].tz_basis is TzBasis.DEFAULT_TIMEZONE
    first, second = records[0].locator, records[1].locator
    assert (first.line_start, first.line_end, second.line_start) == (2, 3, 4)
    assert data[first.byte_start : first.byte_end] == (
        b'13/01/2026 21:06,Dylan,Carys,"I saw you\r\nat the station"'
    )
    assert data[second.byte_start : second.byte_end] == b"14/07/2026 07:00,Carys,Dylan,stop"
    assert report.warnings[0].startswith("column mapping: time='Date', text='Body'")


def test_default_mapping_iso_offsets_and_epoch(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "export.csv",
        "\ufefftime,sender,text,kind\n"
        "2026-01-13T21:06:00+01:00,Dylan,hi,message\n"
        "2026-01-13T21:07:00,Dylan,missed,call\n"
        "2026-01-13T21:08:00,Dylan,odd,banana\n".encode(),
    )
    records, report = parse(path, tz="Europe/Paris")
    assert records[0].tz_basis is TzBasis.EXPLICIT_OFFSET
    assert records[0].time_utc == datetime(2026, 1, 13, 20, 6, tzinfo=UTC)
    assert records[1].tz_basis is TzBasis.USER_SUPPLIED
    assert records[1].time_utc == datetime(2026, 1, 13, 20, 7, tzinfo=UTC)
    assert [r.kind for r in records] == [RecordKind.MESSAGE, RecordKind.CALL, RecordKind.MESSAGE]
    assert any("line 4: kind 'banana' is not one of" in w for w in report.warnings)
    assert detect(Source.loose(path)).parser is get_parser("csv")

    epoch = write(tmp_path, "e.csv", b"ts,msg\n1768338360000,hello\n")
    records, _ = parse(epoch, {"time": "ts", "text": "msg", "time_format": "epoch_ms"})
    assert records[0].time_utc == datetime(2026, 1, 13, 21, 6, tzinfo=UTC)
    assert records[0].tz_basis is TzBasis.EPOCH


def test_short_and_empty_rows_are_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "t.csv",
        b"Date;From;Body\n13/01/2026 21:06;Dylan;hi\n\n13/01/2026 21:07;Dylan\n"
        b"32/01/2026 21:08;Dylan;bad date\n",
    )
    records, report = parse(path, {**MAP, "delimiter": ";"})
    assert [r.text for r in records] == ["hi", "bad date"]
    assert report.skipped == [
        ("line 3", "empty row"),
        ("line 4", "row has 2 fields; no value for text"),
    ]
    assert records[1].time_utc is None and records[1].tz_basis is TzBasis.UNKNOWN
    assert any("line 5: time '32/01/2026 21:08' does not match" in w for w in report.warnings)


def test_sniff_is_low_without_named_columns(tmp_path: Path) -> None:
    plain = write(tmp_path, "texts.csv", b"Date,From,Body\n13/01/2026 21:06,Dylan,hi\n")
    assert get_parser("csv").sniff(Source.loose(plain)) == 0.1
    assert detect(Source.loose(plain)).parser is None
    named = write(tmp_path, "x.csv", b"time,sender,text\n2026-01-13T21:06:00,Dylan,hi\n")
    assert get_parser("csv").sniff(Source.loose(named)) == 0.6


@pytest.mark.parametrize(
    ("data", "options", "message"),
    [
        (b"", {}, "e.csv: empty file: no header row"),
        (
            b"Date,From,Body\n13/01/2026 21:06,Dylan,hi\n",
            {"time": "When", "text": "Body"},
            "e.csv (line 1): --map time=When: no such column; the header has: 'Date', 'From', "
            "'Body'",
        ),
        (
            b"Date,From,Body\n",
            {"time": "Date"},
            "e.csv (line 1): no column for text; the header has: 'Date', 'From', 'Body'",
        ),
        (
            b"Date,From,Body\n13/01/2026 21:06,Dylan,hi\n",
            {"time": "Date", "text": "Body"},
            "e.csv (line 2): time '13/01/2026 21:06' in column 'Date' does not match "
            "time_format 'iso'",
        ),
        (b"a,b\n", {"colour": "a"}, "e.csv: unknown --map key(s): colour"),
        (
            b'Date,From,Body\n13/01/2026 21:06,Dylan,"hi\n',
            MAP,
            "e.csv (line 2, byte 15): malformed CSV: unexpected end of data (0 records before "
            "the fault were parsed)",
        ),
        (
            b"Date,From,Body\n13/01/2026 21:06,Dylan,caf\xc3\n",
            MAP,
            "e.csv (line 2, byte 41): invalid UTF-8 (byte 0xc3) (0 records before the fault "
            "were parsed)",
        ),
        (b"a,b\n", {"delimiter": "::"}, "--map delimiter='::' must be one character"),
    ],
)
def test_malformed(tmp_path: Path, data: bytes, options: dict[str, str], message: str) -> None:
    path = write(tmp_path, "e.csv", data)
    with pytest.raises(ParseError) as info:
        parse(path, options)
    assert message in str(info.value)


def test_records_before_fault_counted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "e.csv",
        b'Date,From,Body\n13/01/2026 21:06,Dylan,hi\n13/01/2026 21:07,Dylan,"x"y\n',
    )
    got: list[Record] = []
    ctx = ParseContext(options=MAP)
    with pytest.raises(ParseError) as info:
        for record in get_parser("csv").parse(Source.loose(path), ctx, ParseReport()):
            got.append(record)
    assert len(got) == 1 and info.value.records_before_fault == 1
    assert "(line 3, byte 41)" in str(info.value)
