"""SMS Backup & Restore XML parser: fixtures, variants, malformed files, round trip."""

from __future__ import annotations

import base64
import hashlib
import resource
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyberstalk.errors import ParseError
from cyberstalk.parsers import sms_backup
from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.registry import detect, get_parser
from cyberstalk.parsers.sms_backup import (
    SmsBackupParser,
    parse_many,
    repair_surrogate_refs,
)
from cyberstalk.records import Record, RecordKind, TzBasis
from helpers.fixture_scripts import load_fixture

ROOT = Path(__file__).resolve().parents[2]


sms_fixture = load_fixture("sms")


def parse(path: Path, exhibit: str | None = None) -> tuple[list[Record], ParseReport]:
    report = ParseReport(parser="sms-backup")
    source = Source(path=path, name=path.name, exhibit=exhibit)
    records = list(SmsBackupParser().parse(source, ParseContext(), report))
    return records, report


def write(tmp_path: Path, body: str | bytes, name: str = "sms-1.xml") -> Path:
    path = tmp_path / name
    data = body.encode("utf-8") if isinstance(body, str) else body
    path.write_bytes(data)
    return path


def smses(*items: str) -> str:
    return (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"
        f'<smses count="{len(items)}">\n' + "".join(f"  {i}\n" for i in items) + "</smses>\n"
    )


def sms(
    body: str, *, date: str = "1769414460000", type_: str = "1", address: str = "+447700900789"
) -> str:
    return (
        f'<sms protocol="0" address="{address}" date="{date}" type="{type_}" body="{body}" '
        'status="-1" readable_date="x" />'
    )


# ----------------------------------------------------------------- demo fixture


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("sms")
    return {p.name: p for p in sms_fixture.generate(out)}


def test_demo_sms_backup_records(demo: dict[str, Path]) -> None:
    path = demo["sms-20260301120000.xml"]
    records, report = parse(path, exhibit="RE/2")
    got = [(r.kind, r.subtype, r.time_utc, r.sender, r.recipients, r.text) for r in records]
    new = "+447700900789"
    assert got == [
        (
            RecordKind.MESSAGE,
            "incoming",
            datetime(2026, 1, 26, 8, 1, tzinfo=UTC),
            new,
            (),
            "New number. You can't block me forever",
        ),
        (
            RecordKind.MESSAGE,
            "incoming",
            datetime(2026, 1, 27, 23, 30, tzinfo=UTC),
            new,
            (),
            "I saw your car at Tesco in Bangor",
        ),
        (
            RecordKind.MESSAGE,
            "outgoing",
            datetime(2026, 1, 28, 7, 5, tzinfo=UTC),
            None,
            (new,),
            "Stop. I will go to the police.",
        ),
        (
            RecordKind.MESSAGE,
            "incoming",
            datetime(2026, 1, 30, 21, 10, tzinfo=UTC),
            new,
            ("+447700900123",),
            "Recognise this? \U0001f440",
        ),
        (
            RecordKind.MESSAGE,
            "incoming",
            datetime(2026, 2, 9, 22, 0, tzinfo=UTC),
            new,
            (),
            "Go on then, call them",
        ),
        (
            RecordKind.MESSAGE,
            "incoming",
            datetime(2026, 2, 15, 20, 12, tzinfo=UTC),
            new,
            (),
            "An order won't stop me talking to you",
        ),
    ]
    for r in records:
        assert r.tz_basis is TzBasis.EPOCH
        assert r.platform == "sms"
        assert r.parser == "sms-backup" and r.parser_version == SmsBackupParser.version
        assert r.locator.exhibit == "RE/2" and r.locator.path == path.name
        assert r.time_raw == str(int(r.time_utc.timestamp() * 1000))  # type: ignore[union-attr]
    # The locator's byte range is exactly the element in the file.
    data = path.read_bytes()
    for index, r in enumerate(records):
        loc = r.locator
        assert loc.xml_index == index
        element = data[loc.byte_start : loc.byte_end]
        assert element.startswith((b"<sms ", b"<mms ")) and element.endswith((b"/>", b"</mms>"))
        assert data[: loc.byte_start].count(b"\n") + 1 == loc.line_start
    mms = records[3]
    png = sms_fixture.tiny_png()
    assert mms.attachments[0].as_dict() == {
        "name": "IMG_20260130_211000.png",
        "mime": "image/png",
        "sha256": hashlib.sha256(png).hexdigest(),
        "size": len(png),
    }
    assert mms.extra["addrs"] == {"from": [new], "to": ["+447700900123"]}
    assert records[0].extra["status_label"] == "none"
    assert records[0].extra["readable_date"] == "26 Jan 2026 08:01:00"
    assert "1 emoji stored as split surrogate references were joined" in report.warnings
    assert report.duplicates == 0


def test_demo_calls(demo: dict[str, Path]) -> None:
    records, _ = parse(demo["calls-20260301120000.xml"])
    got = [(r.kind, r.subtype, r.sender, sorted(r.flags), r.extra["presentation"]) for r in records]
    assert got == [
        (RecordKind.CALL, "missed", "+447700900789", [], "allowed"),
        (RecordKind.CALL, "rejected", "+447700900789", [], "allowed"),
        (RecordKind.CALL, "missed", None, ["withheld_number"], "restricted"),
        (RecordKind.CALL, "blocked", "+447700900789", [], "allowed"),
    ]
    assert records[2].time_utc == datetime(2026, 1, 29, 1, 15, tzinfo=UTC)
    assert records[0].extra["duration_s"] == 0


def test_sniff_and_registry(demo: dict[str, Path], tmp_path: Path) -> None:
    for path in demo.values():
        assert detect(Source.loose(path)).parser is get_parser("sms-backup")
    other = write(tmp_path, "<?xml version='1.0'?><html><body/></html>", "x.xml")
    assert SmsBackupParser().sniff(Source.loose(other)) == 0.0
    assert SmsBackupParser.known_gaps


# ----------------------------------------------------------------- variants


def test_all_sms_type_codes_and_status(tmp_path: Path) -> None:
    items = [sms(f"t{code}", type_=str(code)) for code in range(1, 8)]
    records, report = parse(write(tmp_path, smses(*items)))
    assert [r.subtype for r in records] == [
        "incoming",
        "outgoing",
        "draft",
        "outbox",
        "failed",
        "queued",
        "type_7",
    ]
    assert records[0].sender == "+447700900789" and records[0].recipients == ()
    assert records[1].sender is None and records[1].recipients == ("+447700900789",)
    assert report.duplicates == 0


def test_all_call_types(tmp_path: Path) -> None:
    calls = "".join(
        f'<call number="+447700900789" duration="{code}" date="1769414460000" type="{code}" '
        f'presentation="{pres}" />'
        for code, pres in zip(range(1, 8), (1, 1, 2, 3, 4, 1, 1), strict=True)
    )
    records, _ = parse(write(tmp_path, f"<calls count='7'>{calls}</calls>", "calls-1.xml"))
    assert [r.subtype for r in records] == [
        "incoming",
        "outgoing",
        "missed",
        "voicemail",
        "rejected",
        "blocked",
        "answered_elsewhere",
    ]
    assert records[1].sender is None and records[1].recipients == ("+447700900789",)
    assert records[2].sender is None and "withheld_number" in records[2].flags
    assert records[3].extra["presentation"] == "unknown"
    assert records[4].extra["presentation"] == "payphone"
    assert records[6].extra["duration_s"] == 7


def test_bom_file_is_detected_and_parsed(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbf" + smses(sms("hi")).encode())
    assert detect(Source.loose(path)).parser is get_parser("sms-backup")
    records, _ = parse(path)
    assert records[0].text == "hi" and records[0].locator.byte_start == path.read_bytes().index(
        b"<sms "
    )


def test_seconds_instead_of_ms(tmp_path: Path) -> None:
    records, _ = parse(write(tmp_path, smses(sms("a", date="1769414460"))))
    assert records[0].time_utc == datetime(2026, 1, 26, 8, 1, tzinfo=UTC)
    assert records[0].time_raw == "1769414460"


def test_missing_date_kept_with_unknown_time(tmp_path: Path) -> None:
    records, report = parse(write(tmp_path, smses(sms("a", date="null"))))
    assert records[0].time_utc is None and records[0].tz_basis is TzBasis.UNKNOWN
    assert any("no usable date" in w for w in report.warnings)


def test_body_is_exact(tmp_path: Path) -> None:
    body = (
        "  Line one&#10;&#13;&#10;&#9;Tabbed &amp; &lt;b&gt; &quot;q&quot; "
        "\u00a0\u200e caf\u0065\u0301  "
    )
    records, _ = parse(write(tmp_path, smses(sms(body))))
    assert records[0].text == '  Line one\n\r\n\tTabbed & <b> "q" \u00a0\u200e cafe\u0301  '


def test_group_mms_without_addrs_and_omitted_media(tmp_path: Path) -> None:
    mms = (
        '<mms date="1769414460000" msg_box="2" address="+447700900789~+447700900456" m_type="128">'
        '<parts><part seq="0" ct="text/plain" text="to you both" />'
        '<part seq="1" ct="image/jpeg" cl="gone.jpg" />'
        '<part seq="2" ct="text/plain" text="second" /></parts></mms>'
    )
    records, _ = parse(write(tmp_path, smses(mms)))
    (r,) = records
    assert r.subtype == "outgoing" and r.sender is None
    assert r.recipients == ("+447700900789", "+447700900456")
    assert r.text == "to you both\nsecond" and r.extra["text_parts"] == 2
    assert r.attachments[0].omitted and r.attachments[0].name == "gone.jpg"


def test_media_only_mms_is_media(tmp_path: Path) -> None:
    data = base64.b64encode(b"\x00\x01binary").decode()
    mms = (
        '<mms date="1769414460000" msg_box="1" address="+447700900789" m_type="132">'
        f'<parts><part seq="0" ct="video/mp4" name="v.mp4" cl="null" data="{data}" /></parts>'
        '<addrs><addr address="insert-address-token" type="151" />'
        '<addr address="+447700900789" type="137" /></addrs></mms>'
    )
    (r,), _ = parse(write(tmp_path, smses(mms)))
    assert r.kind is RecordKind.MEDIA and r.sender == "+447700900789" and r.recipients == ()
    assert r.attachments[0].name == "v.mp4"
    assert r.attachments[0].sha256 == hashlib.sha256(b"\x00\x01binary").hexdigest()


# ----------------------------------------------------------------- surrogate repair


@pytest.mark.parametrize(
    ("raw", "text", "pairs", "lone"),
    [
        ("&#55357;&#56832;", "\U0001f600", 1, 0),
        ("&#xD83D;&#xDE00;", "\U0001f600", 1, 0),
        ("&#xd83d;&#56832;", "\U0001f600", 1, 0),
        ("&#55357;", "\ufffd", 0, 1),
        ("&#56832;&#55357;&#56832;", "\ufffd\U0001f600", 1, 1),
        ("&#55357;x&#56832;", "\ufffdx\ufffd", 0, 2),
        ("&#55000;&#57999;", "\ud6d8\ue28f", 0, 0),
    ],
)
def test_surrogate_refs(tmp_path: Path, raw: str, text: str, pairs: int, lone: int) -> None:
    repaired, p, n = repair_surrogate_refs(raw.encode())
    assert len(repaired) == len(raw) and (p, n) == (pairs, lone)
    records, report = parse(write(tmp_path, smses(sms(raw))))
    assert records[0].text == text
    if lone:
        assert any("unpaired" in w for w in report.warnings)


def test_surrogate_pair_split_across_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sms_backup, "CHUNK", 97)
    bodies = ["x" * n + "&#55357;&#56832;" * 3 for n in range(40)]
    records, report = parse(write(tmp_path, smses(*(sms(b) for b in bodies))))
    assert [r.text for r in records] == ["x" * n + "\U0001f600" * 3 for n in range(40)]
    assert not any("unpaired" in w for w in report.warnings)


@pytest.mark.parametrize("chunk", [1, 7, 64, 1000])
def test_chunk_size_never_changes_records(
    demo: dict[str, Path], monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    path = demo["sms-20260301120000.xml"]
    expected = [r.as_dict() for r in parse(path)[0]]
    monkeypatch.setattr(sms_backup, "CHUNK", chunk)
    assert [r.as_dict() for r in parse(path)[0]] == expected


def test_unexpected_elements_are_skipped_with_reason(tmp_path: Path) -> None:
    text = smses(sms("a"), '<call number="1" date="1769414460000" type="1" />', "<note/>")
    records, report = parse(write(tmp_path, text))
    assert [r.text for r in records] == ["a"]
    assert report.skipped == [
        ("line 4", "unexpected element <call> in <smses>"),
        ("line 5", "unexpected element <note> in <smses>"),
    ]


# ----------------------------------------------------------------- dedupe


def test_duplicates_in_one_file_are_kept_and_flagged(tmp_path: Path) -> None:
    records, report = parse(
        write(tmp_path, smses(sms("same"), sms("same"), sms("other"), sms("same", type_="2")))
    )
    assert len(records) == 4
    assert [("duplicate" in r.flags) for r in records] == [False, True, False, False]
    assert records[1].extra["duplicate_of"] == "sms-1.xml line 3 element 0"
    assert records[1].extra["dedupe_key"] == records[0].extra["dedupe_key"]
    assert report.duplicates == 1
    assert any("kept and flagged 'duplicate'" in w for w in report.warnings)


def test_parse_many_overlapping_backups(tmp_path: Path) -> None:
    first = write(
        tmp_path, smses(sms("a", date="1769414460000"), sms("b", date="1769414470000")), "sms-1.xml"
    )
    second = write(
        tmp_path, smses(sms("b", date="1769414470000"), sms("c", date="1769414480000")), "sms-2.xml"
    )
    report = ParseReport(parser="sms-backup")
    sources = [Source(first, first.name, "RE/1"), Source(second, second.name, "RE/2")]
    records = list(parse_many(sources, ParseContext(), report))
    assert [(r.text, r.locator.exhibit, "duplicate" in r.flags) for r in records] == [
        ("a", "RE/1", False),
        ("b", "RE/1", False),
        ("b", "RE/2", True),
        ("c", "RE/2", False),
    ]
    assert records[2].extra["duplicate_of"] == "RE/1 line 4 element 1"
    assert report.duplicates == 1


# ----------------------------------------------------------------- malformed


def fault(path: Path) -> tuple[ParseError, int]:
    count = 0
    with pytest.raises(ParseError) as info:
        for _ in SmsBackupParser().parse(Source.loose(path), ParseContext(), ParseReport()):
            count += 1
    return info.value, count


def test_truncated(tmp_path: Path) -> None:
    text = smses(sms("one"), sms("two"), sms("three"))
    cut = text.index("three") - 5
    err, count = fault(write(tmp_path, text[:cut]))
    assert "the XML ends early" in err.message and "truncated" in err.message
    assert err.position is not None and err.position.startswith("line 5, column")
    assert err.records_before_fault == count == 2


def test_invalid_utf8(tmp_path: Path) -> None:
    data = smses(sms("fine"), sms("bad X here")).encode().replace(b"bad X", b"bad \xff")
    err, count = fault(write(tmp_path, data))
    assert "invalid UTF-8 byte 0xff" in err.message
    bad = b"\xff"
    column = data.split(b"\n")[3].index(bad) + 1
    assert err.position == f"line 4, column {column}, byte {data.index(bad)}"
    assert err.records_before_fault == count == 1


def test_doctype_entities_forbidden(tmp_path: Path) -> None:
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE smses [\n <!ENTITY a "aaaaaaaaaa">\n'
        + "".join(
            f' <!ENTITY a{i} "{"&a;" * 10 if i == 0 else f"&a{i - 1};" * 10}">\n' for i in range(9)
        )
        + ']>\n<smses><sms body="&a8;" date="1" type="1" address="x"/></smses>\n'
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    err, count = fault(write(tmp_path, bomb))
    assert "entities forbidden" in err.message
    assert err.position is not None and err.position.startswith("line 2")
    assert count == 0 and err.records_before_fault == 0
    # 10^10 bytes were never expanded.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000


def test_doctype_file_is_detected_then_refused(tmp_path: Path, runner) -> None:
    from cyberstalk.cli import app

    path = write(tmp_path, '<?xml version="1.0"?>\n<!DOCTYPE smses [<!ENTITY a "b">]>\n<smses/>')
    assert detect(Source.loose(path)).parser is get_parser("sms-backup")
    result = runner.invoke(app, ["parse", str(path)])
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "DTD and entities forbidden" in result.stderr


def test_cli_truncated_backup_writes_records_before_fault(tmp_path: Path, runner) -> None:
    import json

    from cyberstalk.cli import app

    text = smses(sms("one"), sms("two"), sms("three"))
    path = write(tmp_path, text[: text.index("three")])
    result = runner.invoke(app, ["parse", str(path)])
    assert result.exit_code == 3
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["text"] for d in lines] == ["one", "two"]
    assert "the XML ends early" in result.stderr


def test_undefined_entity(tmp_path: Path) -> None:
    err, _ = fault(write(tmp_path, smses(sms("&nbsp;"))))
    assert "entities forbidden: undefined entity" in err.message


def test_wrong_root(tmp_path: Path) -> None:
    err, _ = fault(write(tmp_path, "<messages><sms/></messages>"))
    assert "root element is <messages>, expected <smses> or <calls>" in err.message
    assert err.path == "sms-1.xml"


def test_empty_file(tmp_path: Path) -> None:
    err, _ = fault(write(tmp_path, b""))
    assert "ends early" in err.message


# ----------------------------------------------------------------- round trip

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
    | st.sampled_from("\n\r\t"),
    max_size=40,
)
_message = st.tuples(
    st.integers(min_value=946_684_800_000, max_value=4_102_444_800_000),
    st.sampled_from(["1", "2", "3", "4", "5", "6"]),
    st.sampled_from(["+447700900789", "+447700900123", "12345", "+447700900456~+447700900789"]),
    _text,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(messages=st.lists(_message, max_size=12), split=st.booleans())
def test_round_trip(tmp_path: Path, messages: list[tuple[int, str, str, str]], split: bool) -> None:
    items = [
        sms(
            sms_fixture.attr(body, split_surrogates=split),
            date=str(date),
            type_=type_,
            address=address,
        )
        for date, type_, address, body in messages
    ]
    records, report = parse(write(tmp_path, smses(*items)))
    assert len(records) == len(messages)
    seen = set()
    for (date, type_, address, body), r in zip(messages, records, strict=True):
        assert r.text == body
        assert r.time_utc == datetime.fromtimestamp(date / 1000, UTC)
        assert r.subtype == sms_backup.SMS_TYPES[type_]
        parties = tuple(address.split("~"))
        if type_ == "1" and len(parties) == 1:
            assert (r.sender, r.recipients) == (address, ())
        else:
            assert (r.sender, r.recipients) == (None, parties)
        key = (date, type_, address, body)
        assert ("duplicate" in r.flags) == (key in seen)
        seen.add(key)
    assert report.duplicates == len(messages) - len(seen)
