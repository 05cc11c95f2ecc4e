"""Record serialisation and ids are stable: derived data and reports refer to records by
id, so the JSON Lines bytes and the ids of a fixed, varied set of records must never change
unnoticed (a stored digest), and ids must match a reference copy of the algorithm."""

from __future__ import annotations

import hashlib
import io
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType, ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cyberstalk import records as models
from cyberstalk.errors import ParseError
from cyberstalk.records import Record, record_line, write_jsonl
from cyberstalk.records.jsonl import _BATCH
from helpers.reference_records import reference_id, reference_line

# sha256 of the JSON Lines of _varied_records(models, 600): ids as since commit 17edd29;
# lines with a lone surrogate ASCII-escaped (before, they were written as invalid UTF-8).
EXPECTED_DIGEST = "d60570b13dcc0f89475fffa3f9eb3ab6ff3d6039ed2ead8ff3df30fe736d73c1"

_WORDS = (
    "hello",
    "caf\u00e9",
    "paid \u00e2 chysylltu",
    "\U0001f600",
    "\u05e9\u05dc\u05d5\u05dd",
    'quote " and \\ backslash',
    "tab\there",
    "line\nbreak",
    "crlf\r\nend",
    "\x00\x01\x1f control",
    "\u200e\u202emarks\ufeff",
    "\u2028\u2029 separators",
    "lone \ud800 surrogate",
    "",
    " ",
    "<Media omitted>",
    "</script>",
    "\u00a0nbsp\u202f",
)


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(0, 5)))


def _varied_records(m: ModuleType, count: int) -> Iterator[Any]:
    """Deterministic records exercising every field and shape (``m`` is a models module,
    so that the same records can be built with an older copy of it)."""
    rng = random.Random(20240113)
    zones = [UTC, timezone(timedelta(hours=5, minutes=30)), ZoneInfo("Europe/London")]
    kinds = list(m.RecordKind)
    bases = list(m.TzBasis)
    # the flags the digest was recorded with (later flags would change the random draws)
    later = (m.Flag.DATE_ORDER_CHOSEN, m.Flag.TIME_CONFLICT)
    flags = [f.value for f in m.Flag if f not in later]
    for i in range(count):
        text_source = i % 5 in (0, 4) and rng.random() < 0.8
        roll = rng.random()
        if roll < 0.1:
            when = None
        else:
            naive = datetime(2023, 1, 1) + timedelta(
                seconds=rng.randint(0, 3 * 365 * 86400), microseconds=rng.choice([0, 0, 1234])
            )
            zone = UTC if text_source else rng.choice(zones)
            when = naive.replace(tzinfo=zone)
        shape = i % 5
        if shape == 0:
            loc = m.Locator(
                exhibit=rng.choice([None, "JS/1", "RE/1/3", "caf\u00e9/1"]),
                path=rng.choice(
                    ["WhatsApp Chat with Dylan.txt", 'chat "x".txt', "d\u00e9j\u00e0.txt"]
                ),
                line_start=i + 1,
                line_end=i + rng.randint(1, 3),
                byte_start=i * 40,
                byte_end=i * 40 + rng.randint(1, 400),
                member=rng.choice([None, None, "_chat.txt", "folder/WhatsApp Chat.txt"]),
            )
        elif shape == 1:
            loc = m.Locator(exhibit="JS/2", path="messages.json", json_path=f"$.messages[{i}]")
        elif shape == 2:
            loc = m.Locator(exhibit=None, path="sms.xml", xml_index=i, byte_start=i)
        elif shape == 3:
            loc = m.Locator(exhibit="JS/3", path="a.txt", line_start=i, line_end=None)
        else:
            loc = m.Locator(
                exhibit="JS/4", path="b.txt", line_start=i, line_end=i + 1, byte_start=0, byte_end=0
            )
        attachments: tuple[Any, ...] = ()
        if rng.random() < 0.3:
            attachments = tuple(
                m.Attachment(
                    name=rng.choice(["IMG-0001.jpg", "voice \u00e9.opus", "doc\n.pdf"]),
                    mime=rng.choice([None, "image/jpeg"]),
                    sha256=rng.choice([None, "ab" * 32]),
                    size=rng.choice([None, 0, 123456]),
                    exhibit=rng.choice([None, "JS/1/2"]),
                    omitted=rng.random() < 0.3,
                    caption=rng.choice([None, _text(rng)]),
                )
                for _ in range(rng.randint(1, 2))
            )
        extra: Any = {}
        if rng.random() < 0.4:
            extra = {
                "call_type": rng.choice(["voice", "video"]),
                "duration": rng.choice([0, 61, 3.5, None, True]),
                "z\u00e9": [1, "two", {"b": None, "a": 1.25}],
                "attributed_to": _text(rng),
            }
            if rng.random() < 0.5:
                extra = MappingProxyType(extra)
        elif rng.random() < 0.2:
            extra = MappingProxyType({})
        yield m.Record(
            kind=kinds[i % len(kinds)],
            platform=rng.choice(["whatsapp", "sms", "instagram", "email"]),
            time_utc=when,
            time_raw=rng.choice(["", "13/01/2024, 08:05", "[13/01/2024, 08:05:09]", _text(rng)]),
            tz_basis=bases[i % len(bases)],
            locator=loc,
            parser=rng.choice(["whatsapp", "sms_backup", "csv"]),
            parser_version=rng.choice(["1.0", "2.1"]),
            sender=rng.choice([None, "Dylan", "+44 7700 900123", "~\u00a0Carys", _text(rng)]),
            recipients=()
            if text_source
            else tuple(rng.sample(["Carys", "Dylan", "+447700900456"], rng.randint(0, 2))),
            text=_text(rng),
            attachments=attachments,
            flags=frozenset(rng.sample(flags, rng.choice([0, 0, 0, 1, 2, 3]))),
            subtype=rng.choice([None, "block", "missed", "attachment", "d\u00e9j\u00e0"]),
            conversation=rng.choice([None, "Dylan", "Grŵp \U0001f600"]),
            extra=extra,
        )


RECORDS = list(_varied_records(models, 600))


def test_ids_match_the_original_algorithm() -> None:
    for record in RECORDS:
        assert record.id == reference_id(record)
        assert record.as_dict()["id"] == record.id


def test_write_jsonl_bytes_match_the_reference_and_the_stored_digest() -> None:
    out = io.BytesIO()
    assert write_jsonl(iter(RECORDS), out) == len(RECORDS)
    data = out.getvalue()
    assert len(RECORDS) > _BATCH  # more than one batch is written
    assert data == b"".join(reference_line(r) for r in RECORDS)
    assert data == b"".join(record_line(r.as_dict()) for r in RECORDS)
    assert hashlib.sha256(data).hexdigest() == EXPECTED_DIGEST
    for line in data.splitlines():  # every line is valid UTF-8 JSON that reads back
        json.loads(line.decode("utf-8"))


def test_write_jsonl_keeps_records_before_a_fault() -> None:
    class Sink(io.BytesIO):
        flushed = 0

        def flush(self) -> None:
            self.flushed += 1
            super().flush()

    def faulty() -> Iterator[Record]:
        yield from RECORDS[:3]
        raise ParseError("broken", path="x.txt")

    sink = Sink()
    with pytest.raises(ParseError):
        write_jsonl(faulty(), sink)
    assert sink.flushed >= 1
    assert sink.getvalue() == b"".join(reference_line(r) for r in RECORDS[:3])
