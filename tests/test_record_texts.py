"""``records.store.iter_record_texts`` reads each record's text out of its stored line
without decoding the rest: it must give exactly what decoding the whole line gives, for
texts and neighbouring values that look like the key it looks for."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cyberstalk.records import Attachment, Locator, Record, RecordKind, TzBasis, write_records
from cyberstalk.records.store import iter_record_dicts, iter_record_texts, records_dir

AWKWARD = [
    "plain",
    "",
    'she said "stop" ,"text":"not this one"',
    "back\\slash and \\u0041 written out",
    "Pam ti'n fy anwybyddu? \u2014 \U0001f600 emoji",
    "line\nbreak\ttab\x00nul",
    "\ud83d lone surrogate",
]


def _record(n: int, text: str) -> Record:
    return Record(
        kind=RecordKind.MESSAGE,
        platform="sms",
        time_utc=datetime(2026, 1, 1, 12, n, tzinfo=UTC),
        time_raw=f"12:{n:02d}",
        tz_basis=TzBasis.EPOCH,
        locator=Locator(exhibit="T/1", path="export.xml", xml_index=n),
        parser="test",
        parser_version="1",
        sender=',"text":"sender with the key"' if n % 2 else None,
        text=text,
        attachments=(Attachment(name='a,"text":"b.jpg'),) if n % 3 == 0 else (),
        extra={"text": "in extra", "n": n},
    )


def test_texts_read_out_of_lines_are_the_decoded_texts(tmp_path: Path) -> None:
    derived = tmp_path / "derived"
    write_records(derived, "T/1", [_record(n, t) for n, t in enumerate(AWKWARD)], {})
    write_records(derived, "T/2", [_record(n, t) for n, t in enumerate(reversed(AWKWARD))], {})
    folder = records_dir(derived)
    with (folder / "T-3.jsonl").open("w", encoding="utf-8") as fh:  # keys in another order
        fh.write('{"extra":{"text":"no"},"text":"own order","attachments":[]}\n\n')
        fh.write('{"a":1,"extra":{"b":1,"text":"nested"},"text":"real","attachments":[]}\n')
        fh.write('{"id":"x","kind":"message"}\n')  # no text at all
    decoded = [d.get("text", "") for d in iter_record_dicts(derived)]
    assert list(iter_record_texts(derived)) == decoded
    assert len(decoded) == 2 * len(AWKWARD) + 3
    assert decoded[-3:] == ["own order", "real", ""]
