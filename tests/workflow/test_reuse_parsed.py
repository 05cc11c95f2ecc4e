"""An ingest keeps the records of exports parsed before from the same inputs.

Every ingest processes the case; re-parsing a large export each time a screenshot is
added would cost the officer its whole parse again. ``derived/parsed.json`` records what
each export was parsed from, and an ingest keeps the records of one whose inputs and
files are unchanged. What is checked here: the records an ingest keeps or writes are
byte for byte the ones a full ``cyberstalk process`` writes, overlapping SMS backups
included (a repeat is judged against the exports before it); a change of the inputs or
of the files, a parse error, and ``process`` itself parse again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from helpers.cases import cli

PHONE = "+447700900789"
DMY = {"order": "dmy", "basis": "file"}


def _sms(*items: tuple[str, str]) -> bytes:
    """An SMS Backup & Restore file of (body, epoch ms) messages."""
    rows = "".join(
        f'  <sms protocol="0" address="{PHONE}" date="{date}" type="1" body="{body}" '
        'status="-1" readable_date="x" />\n'
        for body, date in items
    )
    return (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"
        f'<smses count="{len(items)}">\n{rows}</smses>\n'
    ).encode()


def _chat(*lines: str) -> bytes:
    return "".join(
        f"13/01/2024, 08:0{i} - Dylan: {text}\n" for i, text in enumerate(lines)
    ).encode()


def _case(tmp_path: Path) -> Path:
    root = tmp_path / "case"
    got = cli("case", "init", root, "--ref", "T/1", "--officer", "DC T", "--initials", "TT")
    assert got.exit_code == 0, got.output
    return root


def _ingest(root: Path, path: Path, data: bytes) -> str:
    """Ingest ``path`` holding ``data``; what it said on stderr (its progress)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    got = cli("ingest", root, path, "--source", "test")
    assert got.exit_code == 0, got.output
    return str(got.stderr)


def _records(root: Path) -> dict[str, bytes]:
    folder = root / "derived" / "records"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns


def test_an_ingest_keeps_what_was_parsed_and_matches_a_full_process(tmp_path: Path) -> None:
    root = _case(tmp_path)
    sub = tmp_path / "sub"
    _ingest(root, sub / "WhatsApp Chat with Dylan.txt", _chat("hi", "where are you"))
    _ingest(root, sub / "sms-1.xml", _sms(("a", "1769414460000"), ("b", "1769414470000")))
    records = root / "derived" / "records"
    chat, first = _stamp(records / "TT-1.jsonl"), _stamp(records / "TT-2.jsonl")
    # overlaps sms-1 (message b), and sms-3 overlaps both: repeats judged against the
    # records kept, as a parse of every export in turn judges them
    _ingest(root, sub / "sms-2.xml", _sms(("b", "1769414470000"), ("c", "1769414480000")))
    _ingest(
        root,
        sub / "sms-3.xml",
        _sms(("a", "1769414460000"), ("c", "1769414480000"), ("d", "1769414490000")),
    )
    assert (_stamp(records / "TT-1.jsonl"), _stamp(records / "TT-2.jsonl")) == (chat, first)
    incremental = _records(root)
    third = [json.loads(line) for line in incremental["TT-4.jsonl"].splitlines()]
    assert [("duplicate" in r["flags"], r["extra"].get("duplicate_of")) for r in third] == [
        (True, "TT/2 line 3 element 0"),
        (True, "TT/3 line 4 element 1"),
        (False, None),
    ]
    state = json.loads((root / "derived" / "parsed.json").read_bytes())["exhibits"]
    assert sorted(state) == ["TT/1", "TT/2", "TT/3", "TT/4"]
    assert state["TT/1"]["result"] == {
        "parser": "whatsapp",
        "records": 2,
        "date_order": DMY,
    }

    got = cli("process", root)  # a full rebuild: every export parsed again
    assert got.exit_code == 0, got.output
    assert _stamp(records / "TT-1.jsonl") != chat
    assert _records(root) == incremental


def test_a_kept_export_is_said_so(tmp_path: Path) -> None:
    root = _case(tmp_path)
    sub = tmp_path / "sub"
    _ingest(root, sub / "WhatsApp Chat with Dylan.txt", _chat("hi"))
    (sub / "sms.xml").write_bytes(_sms(("a", "1769414460000")))
    got = cli("ingest", root, sub / "sms.xml", "--source", "test", "--json")
    assert got.exit_code == 0, got.output
    result = json.loads(got.stdout)
    assert result["processed"]["parse"]["parsed"] == {
        "TT/1": {
            "parser": "whatsapp",
            "records": 1,
            "date_order": {"order": "dmy", "basis": "file"},
        },
        "TT/2": {"parser": "sms-backup", "records": 1},
    }
    assert "kept TT/1 (whatsapp): 1 records, parsed before" in got.stderr
    assert "parsed TT/2 (sms-backup): 1 records" in got.stderr
    assert "derived: 2 records from 2 exports" in result["processed"]["messages"]


def test_changed_inputs_or_files_are_parsed_again(tmp_path: Path) -> None:
    root = _case(tmp_path)
    sub = tmp_path / "sub"
    _ingest(root, sub / "WhatsApp Chat with Dylan.txt", _chat("hi"))
    records = root / "derived" / "records" / "TT-1.jsonl"
    before = records.read_bytes()

    # the case's timezone is a parse input: the chat's times are read in it
    toml = root / "case.toml"
    os.chmod(toml, 0o644)
    toml.write_text(
        toml.read_text("utf-8").replace('"Europe/London"', '"America/New_York"'), "utf-8"
    )
    out = _ingest(root, sub / "one.txt", b"a note\n")
    assert "kept TT/1" not in out
    assert records.read_bytes() != before  # 08:00 in New York is 13:00 UTC
    assert b'"time_utc":"2024-01-13T13:00:00+00:00"' in records.read_bytes()

    # a records file removed (derived/ can always be deleted) is written again
    stamp = _stamp(records)
    got = cli("ingest", root, _write(sub / "two.txt", b"another note\n"), "--source", "t")
    assert got.exit_code == 0, got.output
    assert "kept TT/1 (whatsapp)" in got.stderr and _stamp(records) == stamp
    records.unlink()
    got = cli("ingest", root, _write(sub / "three.txt", b"a third note\n"), "--source", "t")
    assert got.exit_code == 0, got.output
    assert "parsed TT/1 (whatsapp): 1 records" in got.stderr and records.is_file()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_an_export_that_failed_is_parsed_and_reported_again(tmp_path: Path) -> None:
    root = _case(tmp_path)
    sub = tmp_path / "sub"
    bad = _sms(("a", "1769414460000"), ("b", "1769414470000"))[:-20]  # cut short
    sub.mkdir()
    got = cli("ingest", root, _write(sub / "sms.xml", bad), "--source", "t")
    assert got.exit_code == 3 and "parse error: TT/1" in got.stderr
    assert not (root / "derived" / "parsed.json").exists()  # nothing parsed whole
    got = cli("ingest", root, _write(sub / "n.txt", b"a note\n"), "--source", "t")
    assert got.exit_code == 3 and "parse error: TT/1" in got.stderr
