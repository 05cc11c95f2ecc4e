"""The block passes and the two-halves parse of WhatsApp exports give exactly what the
line-by-line parser gave: for varied damaged and odd exports (BOM, CRLF mixed with LF,
lone CR, marks, orphans, empty lines, invalid UTF-8, a cut multi-byte character, long
lines, zips), the JSON Lines, the report and the fault are the same bytes as with the
parser of commit 163a66d (a stored digest), whatever the block size, and when the second
half is parsed by a forked worker."""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cyberstalk.errors import CyberstalkError
from cyberstalk.parsers import whatsapp
from cyberstalk.parsers.base import ParseReport, Source
from cyberstalk.parsers.registry import parse_source
from cyberstalk.parsers.runner import make_context, write_jsonl
from cyberstalk.records import record_bytes

# sha256 over every case of _cases() (output, report, fault), recorded with the
# line-by-line parser of commit 163a66d by running this module's _digest() there:
# f4ed8e243a9e87227ce7da72302df27b44d1e4c7f9a2d826bc4c6faacf2c432d. Parser 1.2 (issue 24)
# differs from it in three ways only, checked record by record against that output: the
# version; extra.not_in_contacts on the messages of "~ Name" (1,018 record lines over
# both runs); and possible_inserted_line on the iOS messages with an Android header line
# typed into them ("99/99/2024, 08:00 - Dylan: ...", 492 lines). Re-recorded with 1.2:
EXPECTED_DIGEST = "2cc970d17231c2a84ed029bbbb682bb9ded01cb3af2107a443a3b11bf61cd3e0"

_HEADS_ANDROID = (
    "13/01/2024, 08:{m:02d} - ",
    "13/01/2024, 8:{m:02d}\u202fpm - ",
    "\u200e13/01/2024, 08:{m:02d} - ",
)
_HEADS_IOS = (
    "[13/01/2024, 08:{m:02d}:09] ",
    "\u200e[13/01/2024, 08:{m:02d}:09] ",
    "[13.01.24, 08:{m:02d}:09] ",
)
_BODIES = (
    "Dylan: hello",
    "Carys: caf\u00e9 \U0001f600",
    "Messages and calls are end-to-end encrypted.",
    "Dylan: <Media omitted>",
    "Carys: This message was deleted",
    "Dylan: \u200eMissed voice call",
    "Dylan: <attached: 00000012-PHOTO-2024-01-13-08-05-09.jpg>",
    "Dylan: IMG-1.jpg (file attached)",
    'Carys: a\u2028b \u0000 ctl \x1f "q" \\ back',
    "You blocked this contact",
    "Dylan: POLL:\nq",
    "Dylan: edit <This message was edited>",
    "~\u00a0Si\u00f4n: hi",
    "",
)
_MORE = (
    "continued",
    "",
    "   ",
    "\ufeff",
    "13/01/2024 not a header",
    "[bracket",
    "\u00e9\u00e9\u00e9" * 40,
    "\U0001f600" * 3,
    "\r",
    "x\ry",
    "99/99/2024, 08:00 - Dylan: no such day",
)


def _export(rng: random.Random) -> bytes:
    ios = rng.random() < 0.5
    heads = _HEADS_IOS if ios else _HEADS_ANDROID
    head = heads[0] if rng.random() < 0.7 else None  # one style of header, or a mixture
    parts = []
    if rng.random() < 0.2:
        parts.append("\ufeff")
    if rng.random() < 0.2:
        parts.append("orphan line\r\n\n  \n")
    minute = 0
    for _ in range(rng.randint(1, 80)):
        minute = (minute + rng.choice([0, 1, 1, 2, -3])) % 60
        crlf = rng.random() < (0.8 if ios else 0.2)
        parts.append((head or rng.choice(heads)).format(m=minute) + rng.choice(_BODIES))
        for _ in range(rng.choice([0, 0, 0, 1, 2, 5])):
            parts.append(rng.choice(["\n", "\r\n"]) + rng.choice(_MORE))
        parts.append("\r\n" if crlf else "\n")
    text = "".join(parts)
    if rng.random() < 0.3:
        text = text.rstrip("\r\n")
    data = text.encode("utf-8")
    roll = rng.random()
    if roll < 0.1:
        at = rng.randrange(len(data))
        data = data[:at] + b"\xff" + data[at:]
    elif roll < 0.15:
        data = data[:-1]  # perhaps the middle of a character
    return data


def _cases(folder: Path) -> Iterator[Path]:
    rng = random.Random(20260113)
    for i in range(160):
        path = folder / f"WhatsApp Chat with F{i}.txt"
        path.write_bytes(_export(rng))
        yield path
    for i in range(12):
        path = folder / f"WhatsApp Chat - Z{i}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("_chat.txt", _export(rng))
            zf.writestr("00000012-PHOTO-2024-01-13-08-05-09.jpg", b"jpeg")
        yield path
    body = "".join(rng.choice("ab \u00e9\U0001f600\n") for _ in range(300_000))
    big = folder / "WhatsApp Chat with Big.txt"
    big.write_bytes(
        (
            "13/01/2024, 08:00 - Dylan: a\n13/01/2024, 08:01 - Carys: "
            + body
            + "\n13/01/2024, 08:02 - Dylan: end\r\n13/01/2024, 08:03 - Dylan: x"
        ).encode()
    )
    yield big


def _outcome(path: Path, order: str | None) -> bytes:
    ctx = make_context(
        tz="Europe/London", case_tz=None, date_order=order, latest=datetime(2026, 1, 1, tzinfo=UTC)
    )
    out = io.BytesIO()
    fault = ""
    try:
        _, report, records = parse_source(Source.loose(path), ctx, "whatsapp")
        try:
            write_jsonl(records, out)
        except CyberstalkError as exc:
            fault = f"{type(exc).__name__}: {exc} ({exc.records_before_fault})"
        shown = json.dumps(report.as_dict(), sort_keys=True, ensure_ascii=False)
    except CyberstalkError as exc:
        fault, shown = f"early {type(exc).__name__}: {exc}", ""
    return b"\0".join([out.getvalue(), shown.encode(), fault.encode()])


def _digest(folder: Path) -> str:
    total = hashlib.sha256()
    for path in _cases(folder):
        for order in (None, "dmy"):
            total.update(hashlib.sha256(_outcome(path, order)).digest())
    return total.hexdigest()


def _halves_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read every plain export in two halves from here on, as if it were large and the
    process had two cores."""
    monkeypatch.setattr(whatsapp, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(whatsapp.os, "sched_getaffinity", lambda pid: {0, 1})


def _watch(monkeypatch: pytest.MonkeyPatch, owner: type, name: str) -> list[bool]:
    """Whether each call of ``owner.name`` returned something (True) or None (False)."""
    done: list[bool] = []
    method = getattr(owner, name)

    def watched(self: Any) -> Any:
        got = method(self)
        done.append(got is not None)
        return got

    monkeypatch.setattr(owner, name, watched)
    return done


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each two-halves parse got its worker's half (True) or did it itself."""
    return _watch(monkeypatch, whatsapp._Worker, "result")


@pytest.mark.parametrize("block", [None, 4099, 64])
def test_same_as_the_line_by_line_parser(
    block: int | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spy: list[bool]
) -> None:
    if block is not None:  # (None: as shipped)
        monkeypatch.setattr(whatsapp, "_BLOCK", block)
    assert _digest(tmp_path) == EXPECTED_DIGEST
    assert not spy  # (nothing here is large enough for two halves)


@pytest.mark.parametrize("block", [4099, 512])
def test_two_halves_give_the_same_bytes(
    block: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spy: list[bool]
) -> None:
    monkeypatch.setattr(whatsapp, "_BLOCK", block)
    _halves_everywhere(monkeypatch)
    assert _digest(tmp_path) == EXPECTED_DIGEST
    assert spy and all(spy)  # halves were parsed by workers, and every worker delivered


def test_a_failed_worker_leaves_the_parent_to_do_its_half(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spy: list[bool]
) -> None:
    rng = random.Random(7)
    path = tmp_path / "WhatsApp Chat with Dylan.txt"
    lines = [
        f"13/01/2024, {i // 60 % 24:02d}:{i % 60:02d} - {rng.choice(_BODIES)}\n"
        for i in range(3000)
    ]
    path.write_bytes("".join(lines).encode())
    serial = _outcome(path, None)
    assert serial.count(b"\n") >= 3000  # (and no fault)
    assert serial.endswith(b"\0")
    monkeypatch.setattr(whatsapp, "_BLOCK", 4099)
    _halves_everywhere(monkeypatch)
    assert _outcome(path, None) == serial
    assert spy == [True]

    parent = os.getpid()
    real = whatsapp.TextLines.line_in_hour

    def failing(self: Any, *fields: Any) -> bytes:
        if os.getpid() != parent:
            raise OSError("no space left on device")  # in the worker only
        return real(self, *fields)

    monkeypatch.setattr(whatsapp.TextLines, "line_in_hour", failing)
    assert _outcome(path, None) == serial
    assert spy == [True, False]


def _scan_facts(scan: Any) -> tuple[object, ...]:
    """What pass 1 hands on (marks aside: any line start a block apart will do)."""
    fault = None if scan.fault is None else (str(scan.fault), scan.fault_line)
    return (
        scan.headers,
        scan.crlf_before,
        scan.lf_before,
        scan.evidence,  # (dataclasses: every order's counts, first lines, last date)
        scan.lines,
        scan.good_bytes,
        fault,
    )


@pytest.fixture
def delivered(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each forked child handed back a result (True) or nothing (False)."""
    return _watch(monkeypatch, whatsapp.Forked, "value")


@pytest.mark.parametrize("block", [4099, 512])
def test_a_scan_in_two_halves_learns_what_one_pass_learns(
    block: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, delivered: list[bool]
) -> None:
    monkeypatch.setattr(whatsapp, "_BLOCK", block)
    _halves_everywhere(monkeypatch)
    parser = whatsapp.WhatsAppParser()
    ctx = make_context(
        tz="Europe/London", case_tz=None, date_order=None, latest=datetime(2026, 1, 1, tzinfo=UTC)
    )
    compared = 0
    for path in _cases(tmp_path):
        if path.suffix == ".zip":
            continue
        source = Source.loose(path)
        one_pass = parser._scan(source, ctx)
        before = len(delivered)
        halves = parser._scan(source, ctx, halves=True)
        assert _scan_facts(halves) == _scan_facts(one_pass), path.name
        compared += 1
        if len(delivered) > before and one_pass.fault is not None:
            # the worker scanned the second half only if the first had no fault, and it
            # hands back nothing for a half with a fault: the parent scanned it
            assert delivered[-1] is False
    assert compared == 161
    # most files were scanned in halves by a worker that delivered; some fell back
    assert delivered.count(True) > 100
    assert delivered.count(False) > 5


def test_a_scan_worker_that_dies_leaves_the_parent_to_scan_its_half(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, delivered: list[bool]
) -> None:
    path = tmp_path / "WhatsApp Chat with Dylan.txt"
    path.write_bytes(
        "".join(
            f"{d % 28 + 1:02d}/01/2024, 08:{i % 60:02d} - Dylan: m{i}\n"
            for i, d in enumerate(range(0, 3000, 7))
        ).encode()
    )
    _halves_everywhere(monkeypatch)
    parser = whatsapp.WhatsAppParser()
    ctx = make_context(tz="Europe/London", case_tz=None, date_order=None)
    source = Source.loose(path)
    one_pass = parser._scan(source, ctx)
    parent = os.getpid()
    real = whatsapp._scan_text

    def dying(*args: Any) -> None:
        if os.getpid() != parent:
            os._exit(3)  # the worker dies without a word
        real(*args)

    monkeypatch.setattr(whatsapp, "_scan_text", dying)
    assert _scan_facts(parser._scan(source, ctx, halves=True)) == _scan_facts(one_pass)
    assert delivered == [False]  # (the parent scanned the whole file)


# ------------------------------------------------------------- the layouts of issue 24

_AR_DIGITS = str.maketrans(
    "0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"
)


def _arabic(t: datetime) -> str:
    return f"[{t.day}\u200f/{t.month}\u200f/{t.year}\u060c 8:{t.minute:02d}:{t.second:02d} \u0645] "


# (each layout's header for a wall clock, hours aside; the newline between messages)
_LAYOUTS: dict[str, tuple[Callable[[datetime], str], str]] = {
    "ios-arabic-indic": (lambda t: _arabic(t).translate(_AR_DIGITS), "\r\n"),
    "ios-arabic-western": (_arabic, "\r\n"),
    "ios-time-first": (lambda t: f"[08:{t:%M:%S}, {t.month}/{t.day}/{t:%y}] ", "\r\n"),
    "ios-bare": (lambda t: f"{t.month}/{t.day}/{t:%y}, 8:{t:%M:%S} PM: ", "\n"),
    "android-zero-hour": (lambda t: f"{t.month}/{t.day}/{t:%y}, 00:{t:%M}\u202fAM - ", "\n"),
    "android-same-day": (lambda t: f"1/1/21, 10:{t:%M} - ", "\n"),
}
_TYPED = (
    "[13/01/2024, 08:00:09] Dylan: an iOS line typed in",
    "13/01/2024, 08:00 - Dylan: an Android line typed in",
    "~\u202fSi\u00f4n: not a header",
)


def _layout_export(rng: random.Random, layout: str, count: int) -> bytes:
    head, newline = _LAYOUTS[layout]
    when = datetime(2024, 1, 13, 8, 0, 9)  # a wall clock
    parts = []
    for _ in range(count):
        when += timedelta(seconds=rng.choice([0, 7, 60, 61, 300]))
        body = rng.choice((*_BODIES, "~\u202fSi\u00f4n: hi", "~ +44 7700 900123: ok"))
        parts.append(head(when) + body)
        for _ in range(rng.choice([0, 0, 0, 1, 2])):
            parts.append(rng.choice(["\n", "\r\n"]) + rng.choice((*_MORE, *_TYPED)))
        parts.append(newline)
    return "".join(parts).encode("utf-8")


def _both_paths(path: Path) -> tuple[bytes, bytes]:
    """The Records of ``parse()`` (one pass, each its line read back) written again with
    ``record_bytes``, and the lines of ``parse_jsonl`` (what ``cyberstalk parse`` and the
    store write; in two halves when large), each followed by its report: a record must
    say exactly what its line says."""
    ctx = make_context(
        tz="Europe/London", case_tz=None, date_order=None, latest=datetime(2026, 1, 1, tzinfo=UTC)
    )
    parser = whatsapp.WhatsAppParser()
    out = []
    for fast in (False, True):
        report = ParseReport(parser="whatsapp")
        source = Source.loose(path)
        if fast:
            data = b"".join(parser.parse_jsonl(source, ctx, report))
        else:
            records = list(parser.parse(source, ctx, report))
            report.records.update(r.kind.value for r in records)  # (as the runner counts)
            data = b"".join(record_bytes(r) for r in records)
        shown = json.dumps(report.as_dict(), sort_keys=True, ensure_ascii=False)
        out.append(data + b"\0" + shown.encode())
    return out[0], out[1]


@pytest.mark.parametrize("layout", sorted(_LAYOUTS))
@pytest.mark.parametrize("block", [None, 4099, 512])
def test_new_layouts_give_the_same_bytes_on_both_paths_and_in_halves(
    layout: str, block: int | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spy: list[bool]
) -> None:
    ios = _LAYOUTS[layout][1] == "\r\n"
    path = tmp_path / ("_chat.txt" if ios else "WhatsApp Chat with D.txt")
    path.write_bytes(_layout_export(random.Random(layout), layout, 2000))
    records, fast = _both_paths(path)
    assert records == fast
    lines = [json.loads(line) for line in records.split(b"\0")[0].splitlines()]
    # every generated header dated (a typed line of the file's own layout is a header)
    assert sum(1 for line in lines if line["time_utc"]) >= 2000
    assert any("possible_inserted_line" in line["flags"] for line in lines)
    assert any(line["extra"].get("not_in_contacts") for line in lines)
    if block is not None:
        monkeypatch.setattr(whatsapp, "_BLOCK", block)
        _halves_everywhere(monkeypatch)
        assert _both_paths(path) == (records, fast)
        assert spy and all(spy)  # the fast path's second half was a worker's


def test_a_large_arabic_export_is_parsed_in_halves_as_in_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spy: list[bool]
) -> None:
    path = tmp_path / "_chat.txt"
    data = _layout_export(random.Random(24), "ios-arabic-indic", 60_000)
    assert len(data) > whatsapp.PARALLEL_MIN_BYTES
    path.write_bytes(data)
    monkeypatch.setattr(whatsapp.os, "sched_getaffinity", lambda pid: {0, 1})
    records, fast = _both_paths(path)
    assert spy == [True]  # split into halves, the second parsed by a worker
    assert records == fast
    assert records.count(b'"time_utc":null') == 0


def test_header_patterns_are_compiled_when_first_used() -> None:
    """A pattern of a layout is compiled on first use, once: pass 1's and pass 2's
    pattern of a layout without brackets is the same object, and every layout's pattern
    matches its own header line."""
    patterns = whatsapp._Patterns({"a": "^x(?P<n>\\d+)", "b": "^x(?P<n>\\d+)", "c": "^y"})
    assert list(patterns) == ["a", "b", "c"] and len(patterns) == 3
    assert "c" in patterns and "d" not in patterns
    assert patterns["a"] is patterns["b"]
    assert patterns["c"].match("y1") and not patterns["a"].match("y1")
    with pytest.raises(KeyError):
        patterns["d"]
    for style in ("android", "ios_bare"):
        assert whatsapp._SCAN_FIND[style] is whatsapp._FIND[style]
    lines = {
        "ios": "[13/01/2024, 08:00:00] Dylan: hi",
        "android": "13/01/2024, 08:00 - Dylan: hi",
        "ios_time_first": "[08:00:00, 13/01/2024] Dylan: hi",
        "ios_bare": "13/01/2024, 08:00:00: Dylan: hi",
    }
    assert set(lines) == set(whatsapp.STYLES)
    for style, line in lines.items():
        assert whatsapp.STYLES[style].match(line), style
        assert whatsapp._FIND[style].search("\n" + line), style
