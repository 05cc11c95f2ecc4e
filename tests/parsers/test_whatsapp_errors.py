"""WhatsApp parser faults: one malformed file per error, with its expected message."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from cyberstalk.errors import ParseError
from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.registry import get_parser, parse_source
from cyberstalk.records import Record

DATA = Path(__file__).parent / "data" / "whatsapp"


def run(path: Path, ctx: ParseContext | None = None) -> tuple[list[Record], ParseReport]:
    """Parse, collecting records yielded before any fault (re-raised with them attached)."""
    _, report, records = parse_source(Source.loose(path), ctx or ParseContext(), "whatsapp")
    got: list[Record] = []
    try:
        for record in records:
            got.append(record)
    except ParseError as exc:
        exc.got = got  # type: ignore[attr-defined]
        exc.report = report  # type: ignore[attr-defined]
        raise
    return got, report


@pytest.mark.parametrize(
    ("name", "ctx", "message", "before"),
    [
        (
            "invalid-utf8.txt",
            ParseContext(),
            "invalid-utf8.txt (line 4, byte 103): invalid UTF-8 (byte 0xff) "
            "(2 records before the fault were parsed)",
            2,
        ),
        (
            "truncated-utf8.txt",
            ParseContext(),
            "truncated-utf8.txt (line 2, byte 61): invalid UTF-8 (byte 0xc3) "
            "(1 records before the fault were parsed)",
            1,
        ),
        (
            "undecidable.txt",
            ParseContext(),
            "undecidable.txt: cannot tell the date order: all 2 dates exist as day/month/year "
            "and month/day/year, and they run forwards under each\n  hint: look at the "
            "phone's date settings (or a date you know) and re-run with --date-order dmy|mdy",
            None,
        ),
        (
            "mixed-orders.txt",
            ParseContext(),
            "mixed-orders.txt: the dates fit no single day/month/year order (as dmy, line 2 "
            "('01/13/2026, 09:00') is no date as day/month/year; as mdy, line 1 "
            "('13/01/2026, 08:00') is no date as month/day/year)",
            None,
        ),
        (
            "no-header.txt",
            ParseContext(),
            "no-header.txt: no WhatsApp message header found",
            None,
        ),
        (
            "day-first.txt",
            ParseContext(date_order="mdy"),
            "--date-order mdy contradicts the file: line 1 ('13/01/2026, 08:00') is no date as "
            "month/day/year",
            None,
        ),
    ],
)
def test_malformed_file(name: str, ctx: ParseContext, message: str, before: int | None) -> None:
    path = DATA / name
    with pytest.raises(ParseError) as info:
        run(path, ctx)
    assert message in str(info.value)
    assert info.value.records_before_fault == before
    if before is not None:
        assert len(info.value.got) == before  # type: ignore[attr-defined]


def test_records_before_fault_are_the_real_ones() -> None:
    with pytest.raises(ParseError) as info:
        run(DATA / "invalid-utf8.txt")
    got = info.value.got  # type: ignore[attr-defined]
    assert [r.text for r in got] == ["one", "two\nstill two"]
    report = info.value.report  # type: ignore[attr-defined]
    assert any("may be incomplete" in w for w in report.warnings)


def test_hundred_megabyte_line_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as fh:
        fh.write(b"13/01/2026, 08:00 - Dylan: start\n13/01/2026, 08:01 - Dylan: ")
        block = b"x" * (1 << 20)
        for _ in range(100):
            fh.write(block)
        fh.write(b"\n")
    with pytest.raises(ParseError) as info:
        run(path)
    assert str(info.value).startswith(
        "huge.txt (line 2, byte 33): line longer than 4,194,304 bytes "
        "(1 records before the fault were parsed)"
    )
    assert info.value.records_before_fault == 1


def test_zip_without_chat_text(tmp_path: Path) -> None:
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.jpg", b"\xff\xd8")
    assert get_parser("whatsapp").sniff(Source.loose(path)) == 0.0
    with pytest.raises(ParseError, match=r"photos.zip: no chat text in the zip"):
        run(path)


def test_truncated_zip(tmp_path: Path) -> None:
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("_chat.txt", b"[13/01/2026, 08:00:00] A: x\r\n" * 50)
    path = tmp_path / "cut.zip"
    path.write_bytes(good.read_bytes()[:60])
    with pytest.raises(ParseError, match=r"cut.zip: not a readable zip: .*\n  hint: the zip"):
        run(path)


def test_corrupt_zip_member_reports_records_before_fault(tmp_path: Path) -> None:
    body = b"".join(
        f"[13/01/2026, 08:{i // 60:02d}:{i % 60:02d}] A: message {i}\r\n".encode()
        for i in range(3000)
    )
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("_chat.txt", body)
    data = bytearray(path.read_bytes())
    offset = data.index(b"message 2500")
    data[offset : offset + 7] = b"MESSAGE"  # stored bytes change: CRC fails at the end
    path.write_bytes(bytes(data))
    with pytest.raises(ParseError) as info:
        run(path)
    assert "bad.zip:_chat.txt" in str(info.value)
    assert "the zip member is damaged: Bad CRC-32" in str(info.value)
    assert info.value.records_before_fault is not None
    assert 0 < info.value.records_before_fault < 3000


def test_forced_format_on_prose() -> None:
    parser = get_parser("whatsapp")
    with pytest.raises(ParseError, match="no WhatsApp message header found"):
        list(parser.parse(Source.loose(DATA / "no-header.txt"), ParseContext(), ParseReport()))
