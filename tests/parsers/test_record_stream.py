"""``parse_source`` gives a RecordStream: records counted as they pass, or (for a parser
that writes its own JSON Lines) the lines, once, with the same counts."""

from __future__ import annotations

import io
from pathlib import Path

from cyberstalk.models import record_bytes
from cyberstalk.parsers.base import ParseContext, Source
from cyberstalk.parsers.registry import RecordStream, parse_source
from cyberstalk.parsers.runner import write_jsonl

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
