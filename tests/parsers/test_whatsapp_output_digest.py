"""The JSON Lines that ``cyberstalk parse`` writes for varied WhatsApp exports must stay
byte-identical: digests recorded with the parser and serialisation of commit 17edd29."""

from __future__ import annotations

import hashlib
import io
import random
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.registry import get_parser
from cyberstalk.parsers.runner import make_context, write_jsonl

_BODIES = (
    "hello",
    "caf\u00e9 \U0001f600 paid \u00e2 chysylltu",
    'quote " backslash \\ tab\t',
    "<Media omitted>",
    "This message was deleted",
    "You deleted this message.",
    "Missed voice call",
    "Missed group video call, 3 people",
    "<attached: 00000012-PHOTO-2024-01-13-08-05-09.jpg>",
    "<attached: 00000013-AUDIO-2024-01-13-08-06-00.opus>",
    "IMG-20240113-WA0001.jpg (file attached)\ncaption line",
    "POLL:\nWhere?\nOPTION: here",
    "sorry <This message was edited>",
    "\u200e\u202emarks\ufeff inside",
    "line one\nline two\nFAKE_HEADER Fake: typed header",
)


def _export(path: Path, style: str, count: int, seed: int) -> None:
    rng = random.Random(seed)
    when = datetime(2024, 3, 30, 23, 0)
    names = ("Dylan", "Carys", "~\u00a0Siôn", "+44 7700 900123")
    lines: list[str] = []
    sep = "\r\n" if style == "ios" else "\n"
    for i in range(count):
        when += timedelta(seconds=rng.choice([7, 59, 300, 1800, 3600]))
        if i == count // 2:
            when -= timedelta(hours=2)  # order regression
        body = rng.choice(_BODIES)
        if style == "ios":
            stamp = when.strftime("[%d/%m/%Y, %H:%M:%S]")
            body = body.replace("FAKE_HEADER", "[31/03/2024, 02:30:00]")
            if body.startswith("Missed"):
                body = "\u200e" + body
            head = f"{stamp} {rng.choice(names)}: " if rng.random() > 0.05 else f"{stamp} "
            if rng.random() < 0.05:
                head = f"{stamp} \u200eMessages and calls are end-to-end encrypted."
                body = ""
            lines.append(head + body.replace("\r", ""))
        else:
            hour = when.hour % 12 or 12
            stamp = f"{when.month}/{when.day}/{when:%y}, {hour}:{when:%M}\u202f{when:%p}"
            body = body.replace("FAKE_HEADER", "3/31/24, 2:30\u202fAM -")
            if rng.random() < 0.05:
                lines.append(f"{stamp} - You blocked this contact. Tap to unblock.")
                continue
            lines.append(f"{stamp} - {rng.choice(names)}: {body}")
    text = sep.join(lines) + sep
    data = text.encode("utf-8")
    path.write_bytes(data)


def _jsonl(source: Source, tz: str | None) -> bytes:
    ctx: ParseContext = make_context(tz=tz, case_tz=None, date_order=None)
    records = get_parser("whatsapp").parse(source, ctx, ParseReport(parser="whatsapp"))
    out = io.BytesIO()
    write_jsonl(records, out)
    return out.getvalue()


EXPECTED = {
    ("android", None): "967c239f7f652b1298f28a7a6717b8ed8be9ba7d0dbe91608b4f5e3ef9555d53",
    (
        "android",
        "America/New_York",
    ): "6ce6f9c85a91347fa224b1730b1dc573e3a7fb82aa15992605b6549a7def45e2",
    ("ios", None): "dae61c1f8fa58adf1394fbe715c1e15310173c08d2a1c47ae12e23834b7c86d6",
    (
        "ios-zip",
        "Europe/London",
    ): "b77ff41ca8f9712435474f10361ee48a3aac2e9adae8dbbaafaa0a0ce163a8ff",
}


@pytest.mark.parametrize(("style", "tz"), sorted(EXPECTED, key=str))
def test_whatsapp_jsonl_is_byte_identical(tmp_path: Path, style: str, tz: str | None) -> None:
    base = style.removesuffix("-zip")
    chat = tmp_path / f"WhatsApp Chat with Dylan {base}.txt"
    _export(chat, base, 400, seed=len(style))
    if style.endswith("-zip"):
        archive = tmp_path / "WhatsApp Chat - Dylan.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(chat, "_chat.txt")
            zf.writestr("00000012-PHOTO-2024-01-13-08-05-09.jpg", b"\xff\xd8\xff jpeg bytes")
        source = Source.loose(archive)
    else:
        source = Source.loose(chat)
    data = _jsonl(source, tz)
    assert data.count(b"\n") >= 380
    # Parser 1.1 (date orders weighed against the whole file) decides these files as 1.0
    # did: the bytes are the same but for the version, and then exactly the same again.
    # Parser 1.2 adds extra.not_in_contacts to the messages of "~ Name" (the iOS marker
    # of a sender not in the contacts, dropped from the sender before): without that
    # key, and with the version, the bytes are 1.0's.
    now, then = b'"name":"whatsapp","version":"1.2"}', b'"name":"whatsapp","version":"1.0"}'
    assert data.count(now) == data.count(b"\n")
    unlisted = sum(1 for line in data.splitlines() if b'"sender":"Si\xc3\xb4n"' in line)
    assert unlisted > 20
    assert data.count(b'"not_in_contacts":true') == unlisted
    recorded = (
        data.replace(now, then)
        .replace(b'"extra":{"not_in_contacts":true}', b'"extra":{}')
        .replace(b',"not_in_contacts":true}', b"}")
    )
    assert b"not_in_contacts" not in recorded
    assert hashlib.sha256(recorded).hexdigest() == EXPECTED[(style, tz)]
