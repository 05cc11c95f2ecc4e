"""``parse_source`` gives a RecordStream: records counted as they pass, or (for a parser
that writes its own JSON Lines) the lines, once, with the same counts."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cyberstalk.parsers.base import ParseContext, Source
from cyberstalk.parsers.registry import RecordStream, parse_source
from cyberstalk.parsers.runner import make_context, write_jsonl
from cyberstalk.records import TextLines, record_bytes

SAMPLE = Path(__file__).parent / "samples" / "whatsapp" / "android-en-gb.txt"


def test_iterating_counts_and_jsonl_is_then_refused() -> None:
    _, report, records = parse_source(Source.loose(SAMPLE), ParseContext(), "whatsapp")
    assert isinstance(records, RecordStream)
    first = next(records)
    assert report.total == 1
    assert records.jsonl() is None  # a record was taken: the rest come as records
    rest = list(records)
    assert report.total == 1 + len(rest) > 1
    assert first.locator.line_start == 1


def test_jsonl_gives_the_lines_of_the_records_with_the_same_report() -> None:
    _, by_record, records = parse_source(Source.loose(SAMPLE), ParseContext(), "whatsapp")
    lines = b"".join(record_bytes(r) for r in records)
    _, by_line, stream = parse_source(Source.loose(SAMPLE), ParseContext(), "whatsapp")
    out = io.BytesIO()
    assert write_jsonl(stream, out) == by_record.total == by_line.total
    assert out.getvalue() == lines
    assert by_line.as_dict() == by_record.as_dict()
    assert list(stream) == []  # the lines were the records
    assert isinstance(stream, RecordStream) and stream.jsonl() is None


def test_a_parser_without_jsonl_is_iterated() -> None:
    path = Path(__file__).parent / "samples" / "csv"
    sample = sorted(p for p in path.iterdir() if p.suffix == ".csv")[0]
    _, report, records = parse_source(Source.loose(sample), ParseContext(), "auto")
    assert isinstance(records, RecordStream) and records.jsonl() is None
    out = io.BytesIO()
    count = write_jsonl(records, out)
    assert count == report.total == out.getvalue().count(b"\n") > 0


def _lines_both_ways(path: Path, tz: str) -> tuple[bytes, bytes]:
    ctx = make_context(
        tz=tz, case_tz=None, date_order="dmy", latest=datetime(2026, 1, 1, tzinfo=UTC)
    )
    _, by_record, records = parse_source(Source.loose(path), ctx, "whatsapp")
    lines = b"".join(record_bytes(r) for r in records)
    _, by_line, stream = parse_source(Source.loose(path), ctx, "whatsapp")
    out = io.BytesIO()
    write_jsonl(stream, out)
    assert by_line.as_dict() == by_record.as_dict()
    return out.getvalue(), lines


@pytest.mark.parametrize(
    "tz", ["Europe/London", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe", "UTC"]
)
def test_lines_are_the_records_across_clock_changes_and_part_hour_zones(
    tmp_path: Path, tz: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Messages every 7 minutes over both of 2024's UK clock changes (and Lord Howe's
    half-hour change): hours that hold a change, and zones whose hours do not start on
    the UTC hour, are written the slow way; the rest from the hour's text. Same bytes."""
    lines = []
    for start in (datetime(2024, 3, 30, 22), datetime(2024, 10, 26, 22), datetime(2024, 4, 6, 12)):
        for i in range(90):
            when = start + timedelta(minutes=7 * i)
            lines.append(f"{when:%d/%m/%Y, %H:%M} - Dylan: m{i} caf\u00e9\n")
    path = tmp_path / "WhatsApp Chat with Dylan.txt"
    path.write_text("".join(lines), encoding="utf-8")
    fast: list[int] = []
    line_in_hour = TextLines.line_in_hour

    def counted(self: TextLines, *fields: Any) -> bytes:
        fast.append(1)
        return line_in_hour(self, *fields)

    monkeypatch.setattr(TextLines, "line_in_hour", counted)
    by_line, by_record = _lines_both_ways(path, tz)
    assert by_line == by_record
    assert by_line.count(b"\n") == 270
    # both parses write the lines (parse()'s records are its lines read back)
    assert len(fast) % 2 == 0
    per_parse = len(fast) // 2
    if tz == "Europe/London":  # the gap and the overlap were met, and flagged
        assert b'"dst_nonexistent"' in by_line and b'"dst_ambiguous"' in by_line
        assert 200 < per_parse < 270  # the hours that hold a change went the slow way
    elif tz in ("Asia/Kolkata", "Asia/Kathmandu"):
        assert not fast  # no hour starts on the UTC hour
    elif tz == "UTC":
        assert per_parse == 270
