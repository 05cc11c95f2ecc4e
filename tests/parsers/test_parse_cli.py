"""``cyberstalk parse``, run in-process: exit codes, stdout JSON Lines, stderr summary."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from typer.testing import CliRunner

from cyberstalk.case import Case
from cyberstalk.cli import app
from cyberstalk.records import Record, write_records

SAMPLES = Path(__file__).parent / "samples" / "whatsapp"
DATA = Path(__file__).parent / "data" / "whatsapp"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def fixture_files(out: Path) -> list[Path]:
    sys.path.insert(0, str(FIXTURES))
    try:
        import whatsapp as wa_fixture
    finally:
        sys.path.remove(str(FIXTURES))
    return list(wa_fixture.generate(out))


def lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_parse_zip_writes_jsonl_and_summary(runner: CliRunner, tmp_path: Path) -> None:
    zip_path, _ = fixture_files(tmp_path)
    result = runner.invoke(app, ["parse", str(zip_path)])
    assert result.exit_code == 0, result.stderr
    records = lines(result.stdout)
    assert len(records) == 18
    assert {r["parser"]["name"] for r in records} == {"whatsapp"}  # type: ignore[index]
    assert records[-1]["subtype"] == "block"
    assert records[-1]["tz_basis"] == "default_timezone"
    assert (
        "parsed WhatsApp Chat - Dylan.zip as whatsapp (parser version 1.2): 18 records "
        "(call 1, media 1, message 14, system 2)"
    ) in result.stderr
    assert "skipped: nothing" in result.stderr
    assert "known gaps of this source:" in result.stderr
    assert "drop the OLDEST messages" in result.stderr
    # stdout carries only records; same bytes on a second run and as in derived/
    again = runner.invoke(app, ["parse", str(zip_path)])
    assert again.stdout_bytes == result.stdout_bytes
    derived = tmp_path / "derived"
    write_records(derived, "X/1", [Record.from_dict(r) for r in records], {})
    assert (derived / "records" / "X-1.jsonl").read_bytes() == result.stdout_bytes
    assert "Paid â chysylltu â fi eto." in result.stdout  # not \u-escaped


def test_tz_option_changes_times_and_basis(runner: CliRunner) -> None:
    result = runner.invoke(app, ["parse", str(SAMPLES / "ios-ko.txt"), "--tz", "Asia/Seoul"])
    assert result.exit_code == 0, result.stderr
    first = lines(result.stdout)[0]
    assert first["time_utc"] == "2026-01-13T12:06:15+00:00"
    assert first["tz_basis"] == "user_supplied"
    bad = runner.invoke(app, ["parse", str(SAMPLES / "ios-ko.txt"), "--tz", "Mars/Base"])
    assert bad.exit_code == 2
    assert "--tz 'Mars/Base' is not a known IANA timezone" in bad.stderr


def test_list_formats(runner: CliRunner) -> None:
    result = runner.invoke(app, ["parse", "--list"])
    assert result.exit_code == 0
    assert "whatsapp" in result.stdout and "WhatsApp 'Export chat'" in result.stdout
    assert "csv " in result.stdout
    as_json = runner.invoke(app, ["parse", "--list", "--json"])
    data = json.loads(as_json.stdout)
    names = [d["name"] for d in data]
    assert names == sorted(names) and "whatsapp" in names
    assert all(d["known_gaps"] for d in data)


def test_unrecognised_file_exit_3_with_candidates(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n" * 5 + "01/02/2026, 10:00 - x: y\n" + "hello\n" * 20)
    result = runner.invoke(app, ["parse", str(path)])
    assert result.exit_code == 3
    assert "error: notes.txt: not a recognised export format; closest candidates: whatsapp" in (
        result.stderr
    )
    assert "hint: name the format with --format" in result.stderr
    assert result.stdout == ""


def test_undecidable_date_order_then_user_choice(runner: CliRunner) -> None:
    path = DATA / "undecidable.txt"
    refused = runner.invoke(app, ["parse", str(path), "--format", "whatsapp"])
    assert refused.exit_code == 3
    assert "cannot tell the date order" in refused.stderr
    assert "re-run with --date-order dmy|mdy" in refused.stderr
    assert refused.stdout == ""
    ok = runner.invoke(app, ["parse", str(path), "--format", "whatsapp", "--date-order", "mdy"])
    assert ok.exit_code == 0, ok.stderr
    assert [r["time_utc"] for r in lines(ok.stdout)] == [
        "2026-01-02T08:00:00+00:00",
        "2026-03-04T09:00:00+00:00",
    ]
    bad = runner.invoke(app, ["parse", str(path), "--date-order", "ydm"])
    assert bad.exit_code == 2


def test_fault_keeps_records_before_it(runner: CliRunner) -> None:
    result = runner.invoke(app, ["parse", str(DATA / "invalid-utf8.txt")])
    assert result.exit_code == 3
    assert [r["text"] for r in lines(result.stdout)] == ["one", "two\nstill two"]
    assert "2 record(s) parsed before the fault were written to stdout" in result.stderr
    assert "error: invalid-utf8.txt (line 4, byte 103): invalid UTF-8 (byte 0xff)" in (
        result.stderr
    )


def test_map_implies_csv(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "texts.csv"
    path.write_text("Date,From,Body\n13/01/2026 21:06,Dylan,I saw you\n", encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "parse",
            str(path),
            "--map",
            "time=Date",
            "--map",
            "sender=From",
            "--map",
            "text=Body",
            "--map",
            "time_format=%d/%m/%Y %H:%M",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "note: --map given, so the file is read as --format csv" in result.stderr
    (record,) = lines(result.stdout)
    assert (record["sender"], record["text"], record["time_utc"]) == (
        "Dylan",
        "I saw you",
        "2026-01-13T21:06:00+00:00",
    )
    bad = runner.invoke(app, ["parse", str(path), "--map", "nonsense"])
    assert bad.exit_code == 2 and "--map 'nonsense' must be KEY=VALUE" in bad.stderr


def _manifest_case(case: Case, tmp_path: Path) -> None:
    """A case with the demo zip ingested by hand: RE/1 the zip, RE/1/1 _chat.txt,
    RE/1/2 the photo (the manifest shape of cyberstalk.hashing.manifest)."""
    import zipfile

    zip_path, _ = fixture_files(tmp_path / "fx")
    evidence = case.evidence_dir
    shutil.copy(zip_path, evidence / "RE-1.zip")
    with zipfile.ZipFile(zip_path) as zf:
        members = zf.namelist()
        (evidence / "RE-1-1.txt").write_bytes(zf.read("_chat.txt"))
        photo = next(m for m in members if m.endswith(".jpg"))
        (evidence / "RE-1-2.jpg").write_bytes(zf.read(photo))
    exhibits = [
        {
            "ref": "RE/1",
            "stored_as": "evidence/RE-1.zip",
            "original_name": zip_path.name,
            "member_name": None,
            "parent": None,
        },
        {
            "ref": "RE/1/1",
            "stored_as": "evidence/RE-1-1.txt",
            "original_name": "_chat.txt",
            "member_name": "_chat.txt",
            "parent": "RE/1",
        },
        {
            "ref": "RE/1/2",
            "stored_as": "evidence/RE-1-2.jpg",
            "original_name": photo,
            "member_name": photo,
            "parent": "RE/1",
        },
    ]
    manifest = {"format": "cyberstalk-manifest/1", "case": {}, "exhibits": exhibits}
    case.manifest_path.write_text(json.dumps(manifest), encoding="utf-8")


def test_parse_case_exhibit(runner: CliRunner, case: Case, tmp_path: Path) -> None:
    _manifest_case(case, tmp_path)
    result = runner.invoke(app, ["parse", str(case.root), "--exhibit", "RE/1/1"])
    assert result.exit_code == 0, result.stderr
    records = lines(result.stdout)
    assert len(records) == 18
    assert {json.dumps(r["locator"]["exhibit"]) for r in records} == {'"RE/1/1"'}  # type: ignore[index]
    assert {r["locator"]["path"] for r in records} == {"_chat.txt"}  # type: ignore[index]
    assert {r["tz_basis"] for r in records} == {"case_timezone"}
    photo = next(r for r in records if r["subtype"] == "attachment")
    assert photo["attachments"][0]["exhibit"] == "RE/1/2"  # type: ignore[index]
    assert "parsed RE/1/1 (_chat.txt) as whatsapp" in result.stderr

    # the zip exhibit itself: members link to their sub-exhibits and are hashed
    whole = runner.invoke(app, ["parse", str(case.root), "--exhibit", "RE/1"])
    assert whole.exit_code == 0, whole.stderr
    photo = next(r for r in lines(whole.stdout) if r["subtype"] == "attachment")
    att = photo["attachments"][0]  # type: ignore[index]
    assert att["exhibit"] == "RE/1/2" and len(att["sha256"]) == 64

    user_tz = runner.invoke(
        app, ["parse", str(case.root), "--exhibit", "RE/1/1", "--tz", "America/New_York"]
    )
    assert {r["tz_basis"] for r in lines(user_tz.stdout)} == {"user_supplied"}


def test_parse_case_errors(runner: CliRunner, case: Case, tmp_path: Path) -> None:
    no_ref = runner.invoke(app, ["parse", str(case.root)])
    assert no_ref.exit_code == 2 and "name the exhibit to parse with --exhibit" in no_ref.stderr
    missing_manifest = runner.invoke(app, ["parse", str(case.root), "--exhibit", "RE/1"])
    assert missing_manifest.exit_code == 3 and "manifest.json is missing" in missing_manifest.stderr
    _manifest_case(case, tmp_path)
    unknown = runner.invoke(app, ["parse", str(case.root), "--exhibit", "RE/9"])
    assert unknown.exit_code == 2
    assert "no exhibit 'RE/9'" in unknown.stderr and "RE/1, RE/1/1, RE/1/2" in unknown.stderr
    loose = runner.invoke(app, ["parse", str(SAMPLES / "ios-ko.txt"), "--exhibit", "RE/1"])
    assert loose.exit_code == 2


def test_help_documents_every_option(runner: CliRunner) -> None:
    result = runner.invoke(app, ["parse", "--help"])
    assert result.exit_code == 0
    for option in ("--format", "--tz", "--date-order", "--map", "--exhibit", "--list", "--json"):
        assert option in result.stdout
    assert "time_format" in result.stdout
