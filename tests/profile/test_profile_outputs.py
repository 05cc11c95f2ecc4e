"""Outputs: no identity anywhere, same bytes every time, escaped HTML, usage errors."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from profile_helpers import case_dirs, mc
from test_profile_exclusion import flip_byte
from typer.testing import CliRunner

from cyberstalk.cli import app
from cyberstalk.hashing import signing


def profile(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, ["profile", *args])
    return r.exit_code, r.stdout, r.stderr


WITNESS = """
[[people]]
name = "Gwyn Witness-Example"
role = "witness"
address = ["1 Ffordd Ffug, Example Town LL00 0AA"]
identifiers = [{ type = "email", value = "gwyn.witness@example.org" }]
"""


def identities(case_toml: Path) -> set[str]:
    """Every name and identifier string in a case.toml (people, officer, order subjects)."""
    data = tomllib.loads(case_toml.read_text("utf-8"))
    out = {data["case"]["officer"]}
    for person in data.get("people", []):
        out.add(person["name"])
        out.update(str(i["value"]) for i in person.get("identifiers", []))
        address = person.get("address", [])
        out.update([address] if isinstance(address, str) else address)
    out.update(o["subject"] for o in data.get("orders", []))
    return {s for s in out if s}


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_no_identifier_of_any_case_in_any_output(cases: Path, tmp_path: Path) -> None:
    # an excluded case too: verify's own problems name the stored file, which carries the
    # suspect's WhatsApp name ("WhatsApp Chat with Osian S.txt")
    flip_byte(cases / "case-a")
    with (cases / "case-d" / "case.toml").open("a", encoding="utf-8") as fh:
        fh.write(WITNESS)  # edited by hand, as officers do: an address and an email
    for basis in ("report", "first-contact"):
        for exact in ([], ["--exact"]):
            out = tmp_path / f"out-{basis}-{len(exact)}"
            code, stdout, _ = profile(*case_dirs(cases), "-o", str(out), "--by", basis, *exact)
            assert code == 1
            blobs = {**outputs(out), "stdout": stdout.encode()}
            strings = set().union(*(identities(c / "case.toml") for c in cases.iterdir()))
            assert len(strings) >= 20
            for name, blob in blobs.items():
                low = blob.lower()
                for s in strings:
                    assert s.encode() not in blob, (name, s)
                    assert s.lower().encode() not in low, (name, s)
                    digits = re.sub(r"\D", "", s)
                    if s.startswith("+44") and len(digits) > 9:
                        assert digits[-10:].encode() not in blob, (name, s)  # national form


def test_same_cases_give_the_same_bytes(known: Path, tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert profile(*case_dirs(known), "-o", str(one))[0] == 0
    # a verify run appends to a custody log: an output event, it must not move the
    # generated-at time; the order of the folders must not matter either
    assert CliRunner().invoke(app, ["verify", str(known / "case-c")]).exit_code == 0
    assert profile(*reversed(case_dirs(known)), "-o", str(two))[0] == 0
    assert outputs(one) == outputs(two)


def test_generated_at_is_the_newest_custody_event_or_source_date_epoch(
    known: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile(*case_dirs(known), "-o", str(tmp_path / "a.json"), "-f", "json")
    data = json.loads((tmp_path / "a.json").read_text("utf-8"))
    assert data["generated_at_basis"] == "the newest custody event of the included cases"
    newest = max(
        datetime.fromisoformat(json.loads(line)["time"])
        for c in known.iterdir()
        for line in (c / "custody.jsonl").read_text("utf-8").splitlines()
        if json.loads(line)["event"] != "verify_run"
    )
    assert data["generated_at"] == newest.astimezone(UTC).isoformat(timespec="seconds")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    profile(*case_dirs(known), "-o", str(tmp_path / "b.json"), "-f", "json")
    data = json.loads((tmp_path / "b.json").read_text("utf-8"))
    assert data["generated_at"] == "2026-01-01T00:00:00+00:00"
    assert data["generated_at_basis"] == "SOURCE_DATE_EPOCH"


def test_a_process_pool_gives_the_same_bytes(tmp_path: Path) -> None:
    # 16 cases: the least for which examine_cases uses a pool
    many = tmp_path / "many"
    mc.generate(16, many, seed=3, workers=1)
    one, two = tmp_path / "one", tmp_path / "two"
    assert profile(*case_dirs(many), "-o", str(one), "--jobs", "1")[0] == 0
    assert profile(*case_dirs(many), "-o", str(two), "--jobs", "2")[0] == 0
    assert outputs(one) == outputs(two)
    data = json.loads((one / "profile.json").read_text("utf-8"))
    assert len(data["included"]) == 16


def test_html_escapes_case_references_and_folder_names(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    signing.load_or_create_key(key)
    base = mc.random_spec(1, 1)
    good = mc.build_case(tmp_path / "c" / "good", base, key, tmp_path / "work")
    evil = mc.CaseSpec(**{**base.__dict__, "reference": "NWP/<script>alert(1)</script>"})
    bad = mc.build_case(tmp_path / "c" / "<img src=x onerror=alert(2)>", evil, key, tmp_path / "w")
    flip_byte(bad)  # excluded: its reference and folder are shown in the HTML
    code, _, _ = profile(str(good), str(bad), "-o", str(tmp_path / "p.html"), "-f", "html")
    assert code == 1
    html = (tmp_path / "p.html").read_text("utf-8")
    assert "<script" not in html and "<img" not in html
    assert "NWP/&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert html.count("<svg") >= 5 and "@page { size: A4" in html


def test_one_format_to_a_file(known: Path, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "force.csv"
    code, stdout, _ = profile(*case_dirs(known), "-o", str(out), "--format", "csv", "--json")
    assert code == 0
    written = json.loads(stdout)["written"]
    assert [w["path"] for w in written] == [str(out)]
    assert out.read_bytes().startswith(b"month_basis,month,measure,category,value\r\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "pdf"], "--format 'pdf'"),
        (["--by", "week"], "--by 'week'"),
    ],
)
def test_usage_errors_exit_2(known: Path, tmp_path: Path, args: list[str], message: str) -> None:
    code, _, stderr = profile(*case_dirs(known), "-o", str(tmp_path / "out"), *args)
    assert code == 2
    assert message in stderr
    assert not (tmp_path / "out").exists()


def test_output_kind_must_fit_the_format(known: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "taken.txt"
    a_file.write_text("x")
    code, _, stderr = profile(*case_dirs(known), "-o", str(a_file))
    assert code == 2 and "names a folder" in stderr
    assert a_file.read_text() == "x"
    code, _, stderr = profile(*case_dirs(known), "-o", str(tmp_path), "--format", "json")
    assert code == 2 and "names the file" in stderr
