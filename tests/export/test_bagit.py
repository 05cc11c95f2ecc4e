"""BagIt export: RFC 8493 names, bagit-python and our validator, refusals, custody."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import bagit
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cyberstalk.export.bagit import decode_path, encode_path, payload_path, validate_bag
from helpers.cases import cli, events, ingest, make_case

PLAIN = {
    "IMG_0001.PNG": b"\x89PNG screenshot",
    "chats/WhatsApp Chat with Dylan.txt": b"05/01/2026, 18:02 - Dylan: Hi Carys",
    "Llun sgrin – Ionawr.png": b"welsh name",
    "e\u0301 nfd.txt": b"nfd",
}
AWKWARD = {
    "100% proof.txt": b"percent",
    "line\nbreak.txt": b"lf",
    "carriage\rreturn.txt": b"cr",
    "%0A literally.txt": b"looks encoded",
    "trailing space .txt": b"space",
}


def zip_bytes(members: dict[str, bytes]) -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def bag_case(tmp_path: Path, files: dict[str, bytes]) -> tuple[Path, Path]:
    root = make_case(tmp_path, files)
    out = tmp_path / "bag"
    r = cli("export", root, "--bagit", out)
    assert r.exit_code == 0, r.output
    return root, out


def test_bag_of_plain_names_validates_with_bagit_python_and_ours(tmp_path):
    files = {**PLAIN, "export.zip": zip_bytes({"chat/_chat.txt": b"hi", "media/a.jpg": b"j"})}
    root, out = bag_case(tmp_path, files)
    assert validate_bag(out) == []
    bag = bagit.Bag(str(out))
    bag.validate()  # full validation, raises on any problem
    assert set(bag.algorithms) == {"sha256", "sha512"}
    info = bag.info
    assert info["External-Identifier"] == "NWP/2026/0142"
    assert info["Source-Organization"] == "North Wales Police"
    assert info["Bag-Software-Agent"].startswith("cyberstalk ")
    assert info["Payload-Oxum"] == f"{sum(len(v) for v in files.values()) + 3}.7"
    assert "RE/4/1 data/RE-4-1/chat/_chat.txt" in info["Cyberstalk-Exhibit"]
    # Each exhibit under its reference with the name it had in the submission.
    manifest = json.loads((root / "manifest.json").read_bytes())
    by_ref = {e["ref"]: e for e in manifest["exhibits"]}
    for ref, ex in by_ref.items():
        rel, note = payload_path(ex)
        assert note is None
        data = (out / "data" / rel).read_bytes()
        assert hashlib.sha256(data).hexdigest() == ex["digests"]["sha256"]
        assert rel.endswith(ex["member_name"] or ex["original_path"])
    # The case's own records travel as tag files.
    assert (out / "cyberstalk" / "manifest.json").read_bytes() == (
        root / "manifest.json"
    ).read_bytes()
    assert (out / "cyberstalk" / "manifest.sig").is_file()
    mapping = json.loads((out / "cyberstalk" / "exhibits.json").read_bytes())["exhibits"]
    assert [m["ref"] for m in mapping] == list(by_ref)


def test_awkward_names_are_percent_encoded_and_validate_with_ours(tmp_path):
    _root, out = bag_case(tmp_path, {**PLAIN, **AWKWARD})
    text = (out / "manifest-sha256.txt").read_text("utf-8")
    assert text.count("\n") == len(PLAIN) + len(AWKWARD)  # one line per file, no raw LF
    assert "\r" not in text
    assert "/sub/100%25 proof.txt\n" in text
    assert "line%0Abreak.txt" in text and "carriage%0Dreturn.txt" in text
    assert "%250A literally.txt" in text
    [lf] = (out / "data").glob("*/sub/line\nbreak.txt")
    assert lf.read_bytes() == b"lf"
    assert validate_bag(out) == []
    # bagit-python 1.9 does not decode %25: the '%' names are its limitation, not ours.
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(out)).validate()


def test_validator_catches_what_bagit_python_catches(tmp_path):
    _root, out = bag_case(tmp_path, PLAIN)
    target = out / "data" / "RE-1" / "sub" / "IMG_0001.PNG"
    target.chmod(0o644)
    data = bytearray(target.read_bytes())
    data[3] ^= 0x01
    target.write_bytes(bytes(data))
    problems = validate_bag(out)
    assert any("IMG_0001.PNG" in p and "sha256 is" in p for p in problems), problems
    assert any("sha512 is" in p for p in problems)
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(out)).validate()
    # Fast validation (Payload-Oxum only) does not notice a flipped bit; full does.
    bagit.Bag(str(out)).validate(fast=True)


def test_validator_reports_extra_missing_linked_and_tag_changes(tmp_path):
    _root, out = bag_case(tmp_path, PLAIN)
    (out / "data" / "extra.txt").write_bytes(b"smuggled")
    os.symlink("/etc/passwd", out / "data" / "link")
    [missing] = (out / "data").glob("*/sub/chats/WhatsApp Chat with Dylan.txt")
    missing.unlink()
    (out / "bag-info.txt").write_text((out / "bag-info.txt").read_text() + "X: y\n")
    problems = "\n".join(validate_bag(out))
    assert "'data/extra.txt' is in data/ but not in manifest-sha256.txt" in problems
    assert "'data/link' is not a regular file" in problems
    assert "WhatsApp Chat with Dylan.txt' is listed but missing" in problems
    assert "tag file 'bag-info.txt': sha256 does not match" in problems
    assert "Payload-Oxum says" in problems


def test_validator_refuses_unsafe_manifest_paths(tmp_path):
    _root, out = bag_case(tmp_path, {"a.txt": b"a"})
    with (out / "manifest-sha256.txt").open("a") as f:
        f.write(f"{'0' * 64}  data/../../etc/passwd\n{'0' * 64}  /dev/null\n")
    problems = "\n".join(validate_bag(out))
    assert "'data/../../etc/passwd': path with an empty, '.' or '..' component" in problems
    assert "'/dev/null': absolute" in problems


def test_dangerous_or_unusable_names_are_sanitised():
    base = {"stored_as": "evidence/RE-1-1.txt", "ref": "RE/1/1", "parent": "RE/1"}
    assert payload_path({**base, "member_name": "../../evil.txt"}) == (
        "RE-1-1/evil.txt",
        "original path '../../evil.txt' sanitised",
    )
    assert payload_path({**base, "member_name": "/abs/x.txt"})[0] == "RE-1-1/abs/x.txt"
    assert payload_path({**base, "member_name": ".."})[0] == "RE-1-1/RE-1-1.txt"
    long = "n" * 300 + ".txt"
    rel, note = payload_path({**base, "member_name": long})
    assert len(rel.split("/")[1].encode()) <= 255 and note
    top = {"stored_as": "evidence/RE-2.bin", "ref": "RE/2", "parent": None}
    assert payload_path({**top, "original_name": "x", "original_name_b64": "/w=="})[0] == (
        "RE-2/RE-2.bin"
    )
    assert payload_path({**top, "original_path": "a\udcffb"})[0] == "RE-2/RE-2.bin"


@given(st.text())
def test_encode_decode_round_trip(name):
    encoded = encode_path(name)
    assert "\n" not in encoded and "\r" not in encoded
    assert decode_path(encoded) == name


def test_existing_output_and_changed_evidence_are_refused(tmp_path):
    root = make_case(tmp_path, PLAIN)
    existing = tmp_path / "there"
    existing.mkdir()
    r = cli("export", root, "--bagit", existing)
    assert r.exit_code == 3 and "already exists" in r.output
    r = cli("export", root, "--bagit", tmp_path / "no" / "such" / "bag")
    assert r.exit_code == 3 and "does not exist" in r.output
    [ev] = (root / "evidence").glob("RE-1.*")
    ev.chmod(0o644)
    ev.write_bytes(b"altered")
    out = tmp_path / "bag"
    r = cli("export", root, "--bagit", out)
    assert r.exit_code == 3
    assert "the evidence changed since it was ingested" in r.output
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".bag")] == []
    assert events(root, "export_written") == []


def test_export_is_recorded_with_the_tag_manifest_hash(tmp_path):
    root, out = bag_case(tmp_path, PLAIN)
    [ev] = events(root, "export_written")
    d = ev["details"]
    assert d["format"] == "bagit" and d["exhibits"] == len(PLAIN)
    assert d["path"] == str(out.resolve())
    tag = (out / "tagmanifest-sha256.txt").read_bytes()
    assert d["sha256"] == hashlib.sha256(tag).hexdigest()
    assert d["payload_oxum"] == f"{sum(len(v) for v in PLAIN.values())}.{len(PLAIN)}"


def test_same_case_state_gives_the_same_bag(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    root = make_case(tmp_path, PLAIN)
    for name in ("one", "two"):
        assert cli("export", root, "--bagit", tmp_path / name).exit_code == 0
    for f in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "manifest-sha512.txt"):
        assert (tmp_path / "one" / f).read_bytes() == (tmp_path / "two" / f).read_bytes()
    assert "Bagging-Date: 2026-01-01" in (tmp_path / "one" / "bag-info.txt").read_text()


def test_later_ingest_and_timestamp_tokens_go_into_the_bag(tmp_path, local_tsa):
    root = make_case(tmp_path, {"a.txt": b"a"})
    ingest(root, tmp_path / "more", {"b.txt": b"b"})
    pem = tmp_path / "root.pem"
    pem.write_bytes(local_tsa.root_pem)
    assert cli("timestamp", root, "--tsa", local_tsa.url, "--tsa-root", pem).exit_code == 0
    out = tmp_path / "bag"
    assert cli("export", root, "--bagit", out).exit_code == 0
    names = sorted(p.name for p in (out / "cyberstalk" / "timestamps").iterdir())
    assert any(n.endswith(".tsr") for n in names) and "0001.manifest.json" in names
    assert validate_bag(out) == []
    bagit.Bag(str(out)).validate()
