"""Fuzzing EVERY registered parser with hostile versions of its own samples.

For each parser, its samples (tests/parsers/samples and the fixture factories of
conftest.py) are cut short at many offsets, have bytes flipped, invalid UTF-8 and NUL
bytes put in, a line longer than the text parsers' cap, and (for JSON formats) values of
the wrong type and 100k-deep nesting; the SMS backup parser gets entity expansion and
external entities; the email parsers get huge MIME messages. Each file is sniffed by
every parser and parsed by its own, in a forked process with a time and memory bound
(``fuzz_worker.py``). The rules:

- never a traceback: records, or a CyberstalkError (ParseError) with a message;
- never a hang: each case finishes within its time bound;
- bounded memory: each case's peak resident memory stays under a bound;
- sniffing never raises, and scores stay within 0.0-1.0;
- a case still verifies after ``cyberstalk ingest`` of hostile files (no exit 4).

The corpus is seeded (the same files on every run). Reproducers of the faults this
found are kept as their own tests below, one per fault.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fuzz_corpus import (
    Mutation,
    bad_utf8,
    byte_flips,
    json_mutations,
    long_lines,
    nul_bytes,
    truncations,
    write_huge_mime,
    xml_mutations,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyberstalk.errors import CyberstalkError, ParseError
from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.registry import all_parsers, get_parser

Samples = Callable[[str], list[Path]]
"""The ``parser_samples`` fixture of conftest.py: a parser's sample files."""

HERE = Path(__file__).resolve().parent
WORKER = HERE / "fuzz_worker.py"
NAMES = sorted(all_parsers())

SECONDS = 6.0
"""Time bound of one small hostile file (samples are a few KB; long lines 4-8 MB)."""
MEGABYTES = 1024
"""Address space a case may add; beyond it allocation fails (a MemoryError traceback)."""
RSS_MB = 150
"""Peak resident memory one small hostile file may add."""


def run_cases(
    tasks: list[dict[str, Any]], seconds: float = SECONDS, megabytes: int = MEGABYTES
) -> list[dict[str, Any]]:
    """Run ``tasks`` in the worker (one forked child each); their results."""
    lines = "".join(json.dumps(t) + "\n" for t in tasks)
    done = subprocess.run(
        [sys.executable, str(WORKER), str(seconds), str(megabytes)],
        input=lines,
        capture_output=True,
        text=True,
        timeout=60 + len(tasks) * (seconds + 6),
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(tasks), done.stderr[-3000:]
    return results


def problems(results: list[dict[str, Any]], rss_mb: float = RSS_MB) -> list[str]:
    """Every broken rule, one line each (with the file, so it can be reproduced)."""
    out = []
    for r in results:
        where = f"{r['parser']} on {r['label']} ({r['path']})"
        outcome = r["outcome"]
        if outcome == "traceback":
            out.append(f"{where}: traceback\n{r['traceback']}")
        elif outcome in ("hang", "killed"):
            out.append(f"{where}: {outcome} after {r.get('seconds', '?')} s")
        elif outcome == "error" and not r.get("message", "").strip():
            out.append(f"{where}: an error without a message")
        if r["rss_mb"] > rss_mb:
            out.append(f"{where}: peak memory +{r['rss_mb']} MB (bound {rss_mb} MB)")
        for name, score in (r.get("sniff") or {}).items():
            if not isinstance(score, float) or not 0.0 <= score <= 1.0:
                out.append(f"{where}: sniff of {name} gave {str(score)[:2000]}")
    return out


# ----------------------------------------------------------------- the corpus


def _families(name: str, samples: list[Path], secret: Path) -> Iterator[tuple[Path, Mutation]]:
    """(sample, mutation) pairs for one parser; seeded by the parser's name."""
    rng = random.Random(f"fuzz-{name}")
    for n, sample in enumerate(samples):
        data = sample.read_bytes()
        muts: list[Mutation] = [("empty", b""), ("doubled", data + data)]
        muts += truncations(data, rng, count=10)
        muts += byte_flips(data, rng, count=10)
        muts += bad_utf8(data, rng, count=4)
        muts += nul_bytes(data, rng, count=3)
        muts += [("BOM twice", b"\xef\xbb\xbf\xef\xbb\xbf" + data)]
        muts += [("CR only", data.replace(b"\n", b"\r"))]
        if n == 0:  # the costly ones once per parser
            muts += long_lines(data, rng)
            muts += json_mutations(data, rng)
            if name == "sms-backup":
                muts += xml_mutations(data, secret)
        else:
            muts += [m for m in json_mutations(data, rng) if "nest" not in m[0]][:20]
        for mutation in muts:
            yield sample, mutation


def corpus(name: str, samples: list[Path], tmp: Path) -> list[dict[str, Any]]:
    """Write the hostile files of parser ``name`` under ``tmp``; their tasks."""
    secret = tmp / "secret.txt"
    secret.write_text("SECRET: an external entity must never be read\n")
    tasks = []
    for k, (sample, (label, data)) in enumerate(_families(name, samples, secret)):
        path = tmp / "cases" / str(k) / sample.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        tasks.append({"parser": name, "path": str(path), "label": f"{sample.name}: {label}"})
    return tasks


@pytest.mark.parametrize("name", NAMES)
def test_every_parser_survives_its_hostile_corpus(
    name: str, tmp_path: Path, parser_samples: Samples
) -> None:
    tasks = corpus(name, parser_samples(name), tmp_path)
    assert len(tasks) > 40
    results = run_cases(tasks)
    assert not problems(results), "\n\n".join(problems(results))
    # the corpus is hostile enough to matter: most files are refused, some still parse
    outcomes = {r["outcome"] for r in results}
    assert "error" in outcomes and "records" in outcomes
    # an external entity is never read, into a record or an error
    assert all("SECRET" not in r.get("message", "") for r in results)


def test_whatsapp_zip_bad_local_header_offset(tmp_path: Path) -> None:
    """zipfile raised OSError (EINVAL) from a negative seek when a zip's central directory
    points before the file's start: a ParseError now, as every damaged zip is."""
    path = whatsapp_zip_with_bad_offset(tmp_path)
    with pytest.raises(ParseError):
        list(get_parser("whatsapp").parse(Source.loose(path), ParseContext(), ParseReport()))


def whatsapp_zip_with_bad_offset(tmp: Path) -> Path:
    """A WhatsApp iOS export zip whose end-of-central-directory record gives the central
    directory's offset 1000 bytes too high: zipfile then seeks to -1000 for the member."""
    path = tmp / "WhatsApp Chat - Dylan.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("_chat.txt", "[15/03/2024, 07:59:30] Alex Doe: hello\r\n")
    data = bytearray(path.read_bytes())
    eocd = data.rindex(b"PK\x05\x06")
    offset = int.from_bytes(data[eocd + 16 : eocd + 20], "little")
    data[eocd + 16 : eocd + 20] = (offset + 1000).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


# ----------------------------------------------------------------- huge inputs

HUGE_SECONDS = 20.0
"""Time bound of one huge input (50 MB): linear work, about 3 s on a quiet machine."""


def test_huge_mime_messages_are_bounded(tmp_path: Path) -> None:
    tasks = []
    for kind in ("body", "oneline", "headers", "parts", "nested", "rfc822"):
        path = write_huge_mime(tmp_path / kind / "big.eml", kind)
        tasks.append({"parser": "eml", "path": str(path), "label": f"huge {kind}"})
        box = tmp_path / kind / "big.mbox"
        with box.open("wb") as fh, path.open("rb") as src:
            fh.write(b"From a@example.org Fri Mar 15 07:58:09 2024\n")
            while block := src.read(1 << 20):
                fh.write(block)
            fh.write(b"\nFrom b@example.org Fri Mar 15 08:00:00 2024\n")
            fh.write(b"From: b@example.org\nSubject: after\n\nstill read\n")
        tasks.append({"parser": "mbox", "path": str(box), "label": f"huge mbox {kind}"})
    results = run_cases(tasks, seconds=HUGE_SECONDS, megabytes=2048)
    # A 50 MB body is held as bytes and as text once each, and the record's text
    assert not problems(results, rss_mb=600), "\n\n".join(problems(results, rss_mb=600))
    got = {r["label"]: (r["outcome"], r["records"]) for r in results}
    assert got["huge body"] == ("records", 1)
    assert got["huge headers"] == ("records", 1)
    assert got["huge oneline"][0] == "error"  # one 50 MB line: over MAX_LINE
    for kind in ("parts", "nested", "rfc822"):
        assert got[f"huge {kind}"][0] == "error"
        # in a mailbox the one hostile message is skipped, the next one still read
        assert got[f"huge mbox {kind}"] == ("records", 1)
    assert got["huge mbox body"] == ("records", 2)


def test_xml_bombs_and_long_tokens_are_bounded(tmp_path: Path, parser_samples: Samples) -> None:
    (sample, *_) = [p for p in parser_samples("sms-backup") if p.name.startswith("sms")]
    data = sample.read_bytes()
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    tasks = []
    for k, (label, blob) in enumerate(xml_mutations(data, secret)):
        path = tmp_path / f"{k}" / "sms-20260301120000.xml"
        path.parent.mkdir()
        path.write_bytes(blob)
        tasks.append({"parser": "sms-backup", "path": str(path), "label": label})
    # an MMS part's base64 data of 32 MB: one attribute, one expat token
    path = tmp_path / "long" / "sms-20260301120000.xml"
    path.parent.mkdir()
    with path.open("wb") as fh:
        fh.write(b'<?xml version="1.0"?>\n<smses count="1"><mms date="1769400000000" ')
        fh.write(b'msg_box="1" address="+447700900789"><parts><part seq="0" ct="video/mp4" ')
        fh.write(b'name="v.mp4" data="')
        for _ in range(32):
            fh.write(b"QUJD" * (1 << 18))
        fh.write(b'"/></parts></mms></smses>\n')
    tasks.append({"parser": "sms-backup", "path": str(path), "label": "32 MB attribute"})
    results = run_cases(tasks, seconds=HUGE_SECONDS, megabytes=2048)
    assert not problems(results, rss_mb=400), "\n\n".join(problems(results, rss_mb=400))
    got = {r["label"]: r for r in results}
    for label in ("billion laughs", "external entity", "external DTD", "parameter entity"):
        assert got[label]["outcome"] == "error"
        assert "forbidden" in got[label]["message"]
    assert got["32 MB attribute"]["outcome"] == "records"


# ----------------------------------------------------------------- hypothesis: JSON shapes

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
JSON_PARSERS = [
    n
    for n in NAMES
    if n
    in (
        "discord",
        "facebook-messenger",
        "facebook-messenger-e2ee",
        "instagram",
        "snapchat",
        "telegram",
        "twitter-dm",
    )
]


def _json_doc(name: str, samples: Samples) -> tuple[str, Any, str]:
    """(JS prefix, decoded first sample, file name) of a JSON parser."""
    sample = samples(name)[0]
    data = sample.read_bytes()
    prefix = ""
    if name == "twitter-dm":
        cut = data.index(b"=") + 1
        prefix, data = data[:cut].decode() + " ", data[cut:]
    return prefix, json.loads(data), sample.name


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*here, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*here, i))
    return out


def _put(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: (_put(v, rest, new) if k == head else v) for k, v in value.items()}
    return [(_put(v, rest, new) if i == head else v) for i, v in enumerate(value)]


@pytest.mark.parametrize("name", JSON_PARSERS)
def test_json_parsers_take_any_value_anywhere(
    name: str, tmp_path: Path, parser_samples: Samples
) -> None:
    prefix, doc, filename = _json_doc(name, parser_samples)
    paths = _paths(doc)
    parser = get_parser(name)

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(where=st.sampled_from(paths), value=_json)
    def check(where: tuple[Any, ...], value: Any) -> None:
        path = tmp_path / "h" / filename
        path.parent.mkdir(exist_ok=True)
        path.write_text(prefix + json.dumps(_put(doc, where, value)), encoding="utf-8")
        source = Source.loose(path)
        assert 0.0 <= parser.sniff(source) <= 1.0
        try:
            for record in parser.parse(source, ParseContext(), ParseReport(parser=name)):
                record.as_dict()
        except CyberstalkError as exc:
            assert str(exc).strip()

    check()


# ----------------------------------------------------------------- reproducers


def _parse(name: str, path: Path) -> tuple[list[Any], ParseReport]:
    report = ParseReport(parser=name)
    records = list(get_parser(name).parse(Source.loose(path), ParseContext(), report))
    return records, report


def _sample_json(name: str, samples: Samples, tmp: Path) -> tuple[Any, Path]:
    sample = samples(name)[0]
    return json.loads(sample.read_bytes()), tmp / "out" / sample.name


def _write(path: Path, doc: Any, prefix: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(prefix + json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("value", [12, -1, 1.5e308, True])
def test_discord_attachments_of_the_wrong_type(
    tmp_path: Path, parser_samples: Samples, value: Any
) -> None:
    # was: TypeError: 'int' object is not iterable
    doc, path = _sample_json("discord", parser_samples, tmp_path)
    doc[0]["Attachments"] = value
    records, report = _parse("discord", _write(path, doc))
    assert len(records) == len(doc) and records[0].attachments == ()
    assert (
        f"$[0].Attachments: a {type(value).__name__}, expected text or an array"
        in (report.warnings[0])
    )


@pytest.mark.parametrize("name", ["facebook-messenger", "instagram"])
def test_meta_participants_and_media_of_the_wrong_type(
    tmp_path: Path, parser_samples: Samples, name: str
) -> None:
    # was: TypeError: 'int' object is not iterable (participants; photos, videos...)
    doc, path = _sample_json(name, parser_samples, tmp_path)
    doc["participants"] = 10**30
    doc["messages"][0]["photos"] = 12
    records, report = _parse(name, _write(path, doc))
    assert len(records) == len(doc["messages"])
    assert any("$.participants: a int, expected an array" in w for w in report.warnings)
    assert any("$.messages[0].photos: a int, expected an array" in w for w in report.warnings)


def test_meta_e2ee_participants_and_media_of_the_wrong_type(
    tmp_path: Path, parser_samples: Samples
) -> None:
    # was: TypeError: 'int' object is not iterable
    doc, path = _sample_json("facebook-messenger-e2ee", parser_samples, tmp_path)
    doc["participants"] = 12
    with_media = next(i for i, m in enumerate(doc["messages"]) if m.get("media"))
    doc["messages"][with_media]["media"] = 1.5
    records, report = _parse("facebook-messenger-e2ee", _write(path, doc))
    assert len(records) == len(doc["messages"])
    assert records[with_media].attachments == ()
    assert any("$.participants: a int" in w for w in report.warnings)
    assert any(f"$.messages[{with_media}].media: a float" in w for w in report.warnings)


def test_twitter_media_urls_of_the_wrong_type(tmp_path: Path, parser_samples: Samples) -> None:
    # was: TypeError: 'float' object is not iterable
    sample = parser_samples("twitter-dm")[0]
    data = sample.read_bytes()
    cut = data.index(b"=") + 1
    doc = json.loads(data[cut:])
    body = doc[0]["dmConversation"]["messages"][0]["messageCreate"]
    body["mediaUrls"] = 1.5e308
    path = _write(tmp_path / "out" / sample.name, doc, data[:cut].decode() + " ")
    records, report = _parse("twitter-dm", path)
    assert records and records[0].attachments == ()
    assert any("mediaUrls: a float, expected an array" in w for w in report.warnings)


@pytest.mark.parametrize("encoding", ["UTFj8", "shift_jis", "rot13", "idna", "punycode"])
def test_sms_xml_declaring_an_unreadable_encoding(tmp_path: Path, encoding: str) -> None:
    # was: LookupError / ValueError / UnicodeError out of pyexpat's encoding handler
    path = tmp_path / "sms-20260301120000.xml"
    path.write_bytes(
        f'<?xml version="1.0" encoding="{encoding}"?>\n'.encode()
        + b'<smses count="1"><sms protocol="0" address="1" date="1769400000000" type="1" '
        b'body="x" read="1" status="-1" /></smses>\n'
    )
    with pytest.raises(ParseError) as info:
        _parse("sms-backup", path)
    assert "sms-20260301120000.xml (line 1): the XML declaration names an encoding" in str(
        info.value
    )
    assert info.value.advice and "UTF-8" in info.value.advice


def test_sms_long_attribute_is_linear(tmp_path: Path) -> None:
    # was: 28 s for a 32 MB attribute (expat re-reads an unfinished token on each 64 KiB
    # feed), minutes for a real MMS video; now about 2 s
    path = tmp_path / "sms-20260301120000.xml"
    with path.open("wb") as fh:
        fh.write(b'<?xml version="1.0"?>\n<smses count="1"><sms protocol="0" address="1" ')
        fh.write(b'date="1769400000000" type="1" read="1" status="-1" body="')
        for _ in range(32):
            fh.write(b"y" * (1 << 20))
        fh.write(b'" /></smses>\n')
    (result,) = run_cases(
        [{"parser": "sms-backup", "path": str(path), "label": "32 MB body"}], seconds=12.0
    )
    assert result["outcome"] == "records" and result["records"] == 1, result


@pytest.mark.parametrize("charset", ["utf-8\x00", "idna", "punycode"])
def test_email_charset_names_that_break_decode(tmp_path: Path, charset: str) -> None:
    # was: ValueError: embedded null character; UnicodeError from idna and punycode
    path = tmp_path / "m.eml"
    path.write_bytes(
        b"From: a@example.org\r\nDate: Fri, 15 Mar 2024 07:58:09 +0000\r\n"
        + f'Content-Type: text/plain; charset="{charset}"\r\n\r\n'.encode()
        + b"caf\xc3\xa9 \xff\r\n"
    )
    (record,), _ = _parse("eml", path)
    assert record.text == "caf\u00e9 \ufffd\r\n"
    assert record.extra["decode_errors"] is True


def test_csv_sniff_of_a_long_first_line_is_quick(tmp_path: Path) -> None:
    # was: 15 s in csv.Sniffer (quadratic) for 64 KiB of '{"a":', on every detect()
    path = tmp_path / "odd.json"
    path.write_bytes(b'{"a":' * 100_000)
    (result,) = run_cases([{"parser": "csv", "path": str(path), "label": "long line"}], 3.0)
    assert result["outcome"] != "hang" and result["sniff"]["csv"] == 0.0, result


def test_mbox_whose_first_line_is_not_a_separator(tmp_path: Path) -> None:
    # was: AssertionError (a "From " line without a year left no message to feed)
    path = tmp_path / "Inbox.mbox"
    path.write_bytes(b"From nobody\nFrom: a@example.org\n\nbody\n")
    with pytest.raises(ParseError) as info:
        _parse("mbox", path)
    assert "Inbox.mbox (line 1, byte 0): not an mbox: the first line starts with 'From ' but" in (
        str(info.value)
    )


def _eml(tmp: Path, kind: str, name: str = "m.eml") -> Path:
    return write_huge_mime(tmp / name, kind)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("parts", "more than 10000 MIME parts (at line "),  # was: minutes (a hang)
        ("nested", "multiparts nested more than 50 deep (at line "),  # was: RecursionError
        ("rfc822", "parts nested too deeply for Python's email package"),  # RecursionError
    ],
)
def test_email_with_too_many_or_too_deep_parts(tmp_path: Path, kind: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        _parse("eml", _eml(tmp_path, kind))
    assert "m.eml: the message was not parsed: " in str(info.value)
    assert message in str(info.value)


def test_mbox_skips_only_the_hostile_message(tmp_path: Path) -> None:
    box = tmp_path / "Inbox.mbox"
    nested = _eml(tmp_path, "nested").read_bytes().replace(b"\r\n", b"\n")
    box.write_bytes(
        b"From a@example.org Fri Mar 15 07:58:09 2024\nFrom: a@example.org\n\nfirst\n\n"
        b"From b@example.org Fri Mar 15 07:59:09 2024\n"
        + nested
        + b"\nFrom c@example.org Fri Mar 15 08:00:09 2024\nFrom: c@example.org\n\nthird\n"
    )
    records, report = _parse("mbox", box)
    assert [r.text for r in records] == ["first\n", "third\n"]
    ((position, reason),) = report.skipped
    assert position.startswith("Inbox.mbox lines 6-")
    assert reason.startswith("message 1 not parsed: multiparts nested more than 50 deep")


# ----------------------------------------------------------------- ingest + verify


def test_hostile_files_ingest_and_the_case_verifies(tmp_path: Path) -> None:
    from cyberstalk.case import init_case

    case = init_case(tmp_path / "case", reference="R/1", officer="DC T", initials="RE")
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / "sms-20260301120000.xml").write_bytes(xml_bomb())
    (sub / "sms-20260302120000.xml").write_bytes(
        b'<?xml version="1.0" encoding="UTFj8"?>\n<smses count="0"></smses>\n'
    )
    (sub / "message_1.json").write_bytes(b'{"participants": [], "messages": ' + b"[" * 100_000)
    (sub / "result.json").write_bytes(
        b'{"name": "x", "type": "personal_chat", "messages": [{"id": 1, "type": "message", '
        b'"date_unixtime": "99999999999999999999", "date": "2026-03-02T22:10:00", "text": ""}'
    )
    _eml(sub, "parts", "many-parts.eml")
    _eml(sub, "nested", "nested.eml")
    charset = sub / "charset.eml"
    charset.write_bytes(
        b'From: a@example.org\r\nContent-Type: text/plain; charset="utf-8\x00"\r\n\r\nx\r\n'
    )
    cmd = [sys.executable, "-m", "cyberstalk"]
    ingest = subprocess.run(
        [*cmd, "ingest", str(case.root), str(sub), "--source", "USB stick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ingest.returncode in (0, 3), ingest.stderr  # 4 would be an internal fault
    assert "Traceback" not in ingest.stderr and "internal error" not in ingest.stderr
    assert "forbidden" in ingest.stderr  # the bomb was refused, not expanded
    verify = subprocess.run(
        [*cmd, "verify", str(case.root)], capture_output=True, text=True, timeout=120, check=False
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    manifest = json.loads((case.root / "manifest.json").read_bytes())
    assert len(manifest["exhibits"]) == 7  # every hostile file is kept as an exhibit


def xml_bomb() -> bytes:
    from fuzz_corpus import BILLION_LAUGHS

    return BILLION_LAUGHS
