"""Case folder creation, case.toml, the write lock."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
import tomllib
from pathlib import Path

from cyberstalk.case import open_case
from cyberstalk.hashing.signing import default_key_path

from .helpers import cli, log_events, write


def test_case_init_creates_the_documented_layout(tmp_path: Path) -> None:
    root = tmp_path / "c"
    result = cli(
        "case",
        "init",
        root,
        "--ref",
        "NWP/2026/0142",
        "--officer",
        "DC Rhian Evans",
        "--initials",
        "RE",
        "--tz",
        "Europe/London",
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in root.iterdir()) == [
        ".lock",
        "case.toml",
        "custody.jsonl",
        "derived",
        "evidence",
        "keys",
        "reports",
        "timestamps",
    ]
    data = tomllib.loads((root / "case.toml").read_text())
    assert data["case"] == {
        "reference": "NWP/2026/0142",
        "officer": "DC Rhian Evans",
        "exhibit_prefix": "RE",
        "timezone": "Europe/London",
        "force": "North Wales Police",
    }
    events = log_events(root)
    assert [e["event"] for e in events] == ["case_created"]
    assert events[0]["prev"] == "0" * 64 and events[0]["seq"] == 1
    assert events[0]["time"].endswith("+00:00")


def test_case_init_refuses_bad_arguments(tmp_path: Path) -> None:
    bad_initials = cli(
        "case", "init", tmp_path / "a", "--ref", "R", "--officer", "O", "--initials", "re"
    )
    assert bad_initials.exit_code == 2 and "capital letters" in bad_initials.stderr
    bad_tz = cli(
        "case",
        "init",
        tmp_path / "b",
        "--ref",
        "R",
        "--officer",
        "O",
        "--initials",
        "RE",
        "--tz",
        "Mars/Olympus",
    )
    assert bad_tz.exit_code == 2 and "Mars/Olympus" in bad_tz.stderr
    write(tmp_path / "full" / "x", b"x")
    not_empty = cli(
        "case", "init", tmp_path / "full", "--ref", "R", "--officer", "O", "--initials", "RE"
    )
    assert not_empty.exit_code == 2 and "not an empty folder" in not_empty.stderr


def test_person_add_keeps_comments_and_is_logged(case) -> None:
    result = cli(
        "case",
        "person",
        "add",
        case.root,
        "--name",
        "Dylan Price",
        "--role",
        "suspect",
        "--id",
        "phone:07700 900456",
        "--id",
        "username:dylan.p_example@instagram",
        "--id",
        "email:dylan.price@example.net",
    )
    assert result.exit_code == 0, result.output
    text = (case.root / "case.toml").read_text()
    assert "# People and the identifiers" in text  # the officer's guidance survives
    person = open_case(case.root).config.people[0]
    assert person.name == "Dylan Price" and person.role == "suspect"
    assert [(i.type, i.value, i.platform) for i in person.identifiers] == [
        ("phone", "07700 900456", None),
        ("username", "dylan.p_example", "instagram"),
        ("email", "dylan.price@example.net", None),
    ]
    assert log_events(case.root)[-1]["event"] == "person_added"
    shown = cli("case", "show", case.root, "--json")
    assert shown.exit_code == 0 and '"Dylan Price"' in shown.stdout


def test_bad_case_toml_names_the_key(case) -> None:
    path = case.root / "case.toml"
    path.write_text(path.read_text() + '\n[[people]]\nname = "X"\nrole = "villain"\n')
    result = cli("case", "show", case.root)
    assert result.exit_code == 3
    assert "people[0] role 'villain'" in result.stderr


def test_second_writer_fails_at_once_naming_the_holder(case, tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time
            from pathlib import Path
            from cyberstalk.case import open_case
            with open_case(Path({str(case.root)!r})).lock("long job"):
                print("locked", flush=True)
                time.sleep(30)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        write(tmp_path / "sub" / "a.txt", b"a")
        started = time.monotonic()
        result = cli("ingest", case.root, tmp_path / "sub", "--source", "test")
        assert time.monotonic() - started < 5
        assert result.exit_code == 3
        assert f"locked by pid {holder.pid} (long job)" in result.stderr
        assert "custody.jsonl" not in result.stderr
        assert [e["event"] for e in log_events(case.root)] == ["case_created"]
        # the refused ingest made nothing, not even the operator's first signing key
        for thread in threading.enumerate():
            if thread.name == "signing-key":  # (one left running would make it)
                thread.join()
        assert not default_key_path(case.config.exhibit_prefix).exists()
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
    # once the holder is gone the lock is free again
    assert cli("ingest", case.root, tmp_path / "sub", "--source", "test").exit_code == 0


def test_read_only_case_is_refused_and_left_intact(case, tmp_path: Path) -> None:
    original = write(tmp_path / "sub" / "a.txt", b"evidence")
    assert cli("ingest", case.root, original, "--source", "t").exit_code == 0
    before = (case.root / "custody.jsonl").read_bytes()
    os.chmod(case.root, 0o555)
    try:
        write(tmp_path / "more" / "b.txt", b"more")
        result = cli("ingest", case.root, tmp_path / "more", "--source", "t")
        assert result.exit_code == 3
        assert "read-only" in result.stderr
        assert (case.root / "custody.jsonl").read_bytes() == before
        assert original.read_bytes() == b"evidence"
        verify = cli("verify", case.root)
        assert verify.exit_code == 0, verify.output
        assert "not recorded in the custody log" in verify.stderr
    finally:
        os.chmod(case.root, 0o755)


def test_order_add_records_service_time_in_case_zone(case) -> None:
    result = cli(
        "case",
        "order",
        "add",
        case.root,
        "--kind",
        "Stalking Protection Order",
        "--subject",
        "Dylan Price",
        "--made",
        "2026-02-13",
        "--served",
        "2026-06-14T11:00",
        "--condition",
        "No contact with Carys Hughes",
    )
    assert result.exit_code == 0, result.output
    order = open_case(case.root).config.orders[0]
    assert order.subject == "Dylan Price" and order.made.isoformat() == "2026-02-13"
    assert order.served.isoformat() == "2026-06-14T11:00:00+01:00"  # BST in June
    assert order.conditions == ("No contact with Carys Hughes",)
    logged = log_events(case.root)[-1]
    assert logged["event"] == "order_added"
    assert logged["details"]["served"] == "2026-06-14T11:00:00+01:00"
    bad = cli(
        "case",
        "order",
        "add",
        case.root,
        "--kind",
        "SPO",
        "--subject",
        "X",
        "--served",
        "14/02/2026",
    )
    assert bad.exit_code == 2 and "is not a date and time" in bad.stderr
    assert "YYYY-MM-DD" in bad.stderr
