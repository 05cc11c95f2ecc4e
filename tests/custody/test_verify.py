"""verify: every kind of tampering fails and is named; stock tools agree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyberstalk.case import init_case
from cyberstalk.errors import VerificationError
from cyberstalk.hashing.verify import check_case, verify_case

from .helpers import cli, make_zip, manifest, write

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def sealed_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A case with a few exhibits (one archive); tests copy it before tampering."""
    base = tmp_path_factory.mktemp("sealed")
    os.environ["XDG_CONFIG_HOME"] = str(base / "xdg")
    case = init_case(base / "case", reference="R/1", officer="DC T", initials="AB")
    sub = base / "sub"
    write(sub / "a.txt", b"first exhibit\n")
    write(sub / "b.bin", bytes(range(256)) * 4)
    make_zip(sub / "c.zip", {"x.txt": b"member one", "y/z.txt": b"member two"})
    result = cli("ingest", case.root, sub, "--source", "fixture", "--no-process")
    assert result.exit_code == 0, result.output
    return case.root


def fresh(sealed: Path, tmp: Path) -> Path:
    target = tmp / "copy"
    if target.exists():
        for dirpath, _d, files in os.walk(target):
            for f in files:
                os.chmod(Path(dirpath, f), 0o644)
        shutil.rmtree(target)
    shutil.copytree(sealed, target, symlinks=True)
    return target


def problems(root: Path) -> list[str]:
    with pytest.raises(VerificationError) as info:
        verify_case(root)
    return [str(p) for p in info.value.problems]


def test_untouched_case_verifies(sealed_case: Path, tmp_path: Path) -> None:
    root = fresh(sealed_case, tmp_path)
    report = verify_case(root)
    assert report.exhibits == 5 and report.bytes_hashed > 1000
    result = cli("verify", root, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["ok"] is True


def test_stock_sha256sum_and_openssl_agree(sealed_case: Path, tmp_path: Path) -> None:
    root = fresh(sealed_case, tmp_path)
    out = subprocess.run(
        ["sha256sum", "-c", "manifest-sha256.txt"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.count(": OK") == 5
    kid = manifest(root)["signer"]["key_id"]
    cmd = [
        "openssl",
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        f"keys/{kid}.pub.pem",
        "-rawin",
        "-in",
        "manifest.json",
        "-sigfile",
        "manifest.sig",
    ]
    ok = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "Signature Verified Successfully" in ok.stdout
    (root / "manifest.json").write_bytes(
        (root / "manifest.json").read_bytes().replace(b"R/1", b"R/2")
    )
    bad = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)
    assert bad.returncode != 0


def test_sha256sum_escapes_awkward_names(tmp_path: Path) -> None:
    case = init_case(tmp_path / "c", reference="R", officer="O", initials="AB")
    write(tmp_path / "s" / "back\\slash.txt", b"1")
    assert cli("ingest", case.root, tmp_path / "s", "--source", "t", "--no-process").exit_code == 0
    out = subprocess.run(
        ["sha256sum", "-c", "manifest-sha256.txt"], cwd=case.root, capture_output=True, check=False
    )
    assert out.returncode == 0


@SETTINGS
@given(data=st.data())
def test_flipping_any_byte_of_any_exhibit_fails(sealed_case: Path, tmp_path: Path, data) -> None:
    root = fresh(sealed_case, tmp_path)
    exhibits = manifest(root)["exhibits"]
    ex = data.draw(st.sampled_from(exhibits))
    path = root / ex["stored_as"]
    content = bytearray(path.read_bytes())
    index = data.draw(st.integers(0, len(content) - 1))
    bit = data.draw(st.integers(0, 7))
    content[index] ^= 1 << bit
    os.chmod(path, 0o644)
    path.write_bytes(bytes(content))
    os.chmod(path, 0o444)
    found = problems(root)
    assert any(p.startswith(f"{ex['ref']}: {ex['stored_as']} SHA-256") for p in found), found


@SETTINGS
@given(data=st.data())
def test_deleting_or_reordering_log_lines_fails(sealed_case: Path, tmp_path: Path, data) -> None:
    root = fresh(sealed_case, tmp_path)
    log = root / "custody.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    if data.draw(st.booleans()):
        i = data.draw(st.integers(0, len(lines) - 1))
        del lines[i]
        what = "removed"
    else:
        i = data.draw(st.integers(0, len(lines) - 2))
        j = data.draw(st.integers(i + 1, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
        what = "reordered"
    log.write_bytes(b"".join(lines))
    found = problems(root)
    assert any(
        "hash chain broken" in p or "sequence number" in p or "removed" in p for p in found
    ), (what, found)


@SETTINGS
@given(data=st.data())
def test_editing_any_manifest_field_fails(sealed_case: Path, tmp_path: Path, data) -> None:
    root = fresh(sealed_case, tmp_path)
    m = manifest(root)
    ex = data.draw(st.sampled_from(m["exhibits"]))
    key = data.draw(st.sampled_from(sorted(k for k in ex if k not in ("notes",))))
    ex[key] = "tampered" if ex[key] != "tampered" else "x"
    (root / "manifest.json").write_text(json.dumps(m, indent=2, sort_keys=True) + "\n")
    found = problems(root)
    assert any(f"entry for {ex['ref']} differs" in p and key in p for p in found) or (
        key == "ref"
    ), found
    assert any("manifest.sig" in p for p in found)


def test_swapped_signature_fails(sealed_case: Path, tmp_path: Path) -> None:
    root = fresh(sealed_case, tmp_path)
    other = init_case(tmp_path / "other", reference="R/9", officer="X", initials="ZZ")
    write(tmp_path / "o" / "f.txt", b"other")
    assert cli("ingest", other.root, tmp_path / "o", "--source", "t", "--no-process").exit_code == 0
    shutil.copy(other.root / "manifest.sig", root / "manifest.sig")
    assert any("signature does not match manifest.json" in p for p in problems(root))
    # a signature from a key the log never registered, swapped in with its key file
    m = manifest(other.root)
    kid = m["signer"]["key_id"]
    shutil.copy(other.root / "keys" / f"{kid}.pub.pem", root / "keys" / f"{kid}.pub.pem")
    mine = manifest(root)
    mine["signer"] = m["signer"]
    (root / "manifest.json").write_text(json.dumps(mine, indent=2, sort_keys=True) + "\n")
    assert any("never registered" in p for p in problems(root))


def test_missing_signature_and_empty_manifest_fail(sealed_case: Path, tmp_path: Path) -> None:
    root = fresh(sealed_case, tmp_path)
    (root / "manifest.sig").unlink()
    assert any("unsigned manifest is a failure" in p for p in problems(root))
    empty = init_case(tmp_path / "empty", reference="R", officer="O", initials="AB")
    found = problems(empty.root)
    assert any("manifest.json is missing" in p for p in found)
    result = cli("verify", empty.root)
    assert result.exit_code == 1


def test_file_modes_missing_and_extra_files_are_named(sealed_case: Path, tmp_path: Path) -> None:
    root = fresh(sealed_case, tmp_path)
    ex = manifest(root)["exhibits"]
    os.chmod(root / ex[0]["stored_as"], 0o644)
    os.chmod(root / ex[1]["stored_as"], 0o644)
    (root / ex[1]["stored_as"]).unlink()
    write(root / "evidence" / "planted.txt", b"x")
    report = check_case(root)
    assert f"{ex[0]['ref']}: {ex[0]['stored_as']} is writable" in report.problems[0]
    assert any(p == f"{ex[1]['ref']}: {ex[1]['stored_as']} is missing" for p in report.problems)
    assert any(
        "evidence/planted.txt is in evidence/ but no exhibit records it" in p
        for p in report.problems
    )
    result = cli("verify", root)
    assert result.exit_code == 1
    assert result.stdout.count("problem:") == len(report.problems) == 3


def test_verify_runs_are_recorded(sealed_case: Path, tmp_path: Path) -> None:
    root = fresh(sealed_case, tmp_path)
    cli("verify", root)
    last = json.loads((root / "custody.jsonl").read_text().splitlines()[-1])
    assert last["event"] == "verify_run" and last["details"]["ok"] is True
    # and the extra event does not disturb the next verification
    assert cli("verify", root).exit_code == 0
