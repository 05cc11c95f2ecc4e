"""Ingest: exhibits, exact names, digests, duplicates, archives and bad input."""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import json
import os
import re
import stat
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from cyberstalk.errors import CaseError
from cyberstalk.intake import ingest as ingest_mod

from .helpers import cli, log_events, make_zip, manifest, tree_digest, write


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, "PNG")
    return buf.getvalue()


def exhibits_by_ref(root: Path) -> dict[str, dict]:
    return {e["ref"]: e for e in manifest(root)["exhibits"]}


def test_files_folders_and_zip_become_exhibits_and_sub_exhibits(case, tmp_path: Path) -> None:
    sub = tmp_path / "submission"
    write(sub / "notes.txt", b"diary entry\n")
    make_zip(
        sub / "WhatsApp Chat - Dylan.zip", {"_chat.txt": b"chat\r\n", "media/p.png": png_bytes()}
    )
    single = write(tmp_path / "loose.bin", b"\x00\x01")
    before = tree_digest(tmp_path / "submission")
    result = cli(
        "ingest",
        case.root,
        sub,
        single,
        "--source",
        "USB stick, bag SB123",
        "--received-from",
        "Carys Hughes",
        "--no-process",
        "--legacy-digests",
    )
    assert result.exit_code == 0, result.output
    ex = exhibits_by_ref(case.root)
    assert sorted(ex) == ["RE/1", "RE/1/1", "RE/1/2", "RE/2", "RE/3"]
    zip_ex = ex["RE/1"]
    assert zip_ex["original_name"] == "WhatsApp Chat - Dylan.zip"
    assert zip_ex["original_path"] == "submission/WhatsApp Chat - Dylan.zip"
    assert zip_ex["mime"] == "application/zip" and zip_ex["stored_as"] == "evidence/RE-1.zip"
    assert ex["RE/1/2"]["member_name"] == "media/p.png" and ex["RE/1/2"]["parent"] == "RE/1"
    assert ex["RE/1/2"]["mime"] == "image/png"
    assert ex["RE/3"]["original_path"] == "loose.bin"
    for e in ex.values():
        data = (case.root / e["stored_as"]).read_bytes()
        assert e["digests"] == {
            "sha256": hashlib.sha256(data).hexdigest(),
            "sha1": hashlib.sha1(data).hexdigest(),
            "md5": hashlib.md5(data).hexdigest(),
        }
        assert e["size"] == len(data)
        assert e["source"] == "USB stick, bag SB123" and e["received_from"] == "Carys Hughes"
        assert e["operator"] == "DC Test Officer" and e["tool"].startswith("cyberstalk ")
        assert e["received_at"].endswith("+00:00")
        mode = (case.root / e["stored_as"]).stat().st_mode
        assert stat.S_IMODE(mode) == 0o444
    assert ex["RE/2"]["mtime"].endswith("+00:00")
    assert tree_digest(tmp_path / "submission") == before  # originals untouched
    assert cli("verify", case.root).exit_code == 0


def test_sha256_only_by_default_legacy_digests_by_case_setting(case, tmp_path: Path) -> None:
    write(tmp_path / "s" / "a.txt", b"a")
    assert cli("ingest", case.root, tmp_path / "s", "--source", "t", "--no-process").exit_code == 0
    assert list(exhibits_by_ref(case.root)["RE/1"]["digests"]) == ["sha256"]
    toml = case.root / "case.toml"
    text = toml.read_text(encoding="utf-8")
    assert "legacy_digests = false" in text
    toml.write_text(text.replace("legacy_digests = false", "legacy_digests = true"), "utf-8")
    write(tmp_path / "t" / "b.txt", b"b")
    assert cli("ingest", case.root, tmp_path / "t", "--source", "t", "--no-process").exit_code == 0
    assert sorted(exhibits_by_ref(case.root)["RE/2"]["digests"]) == ["md5", "sha1", "sha256"]
    write(tmp_path / "u" / "c.txt", b"c")
    assert (
        cli("ingest", case.root, tmp_path / "u", "--source", "t", "--no-process",
            "--no-legacy-digests").exit_code
        == 0
    )  # fmt: skip
    assert list(exhibits_by_ref(case.root)["RE/3"]["digests"]) == ["sha256"]


def test_exact_names_are_recorded(case, tmp_path: Path) -> None:
    sub = tmp_path / "s"
    names = {
        "100% proof.txt": b"1",
        "line\nbreak.txt": b"2",
        "carriage\rreturn.txt": b"3",
        "caf\u00e9.txt": b"4",  # NFC
        "cafe\u0301.txt": b"5",  # NFD: a different file with a different name
        ("x" * 240) + ".txt": b"6",
    }
    for name, data in names.items():
        write(sub / name, data)
    raw = b"latin1-\xe9.txt"  # not valid UTF-8
    with open(os.fsencode(sub) + b"/" + raw, "wb") as fh:
        fh.write(b"7")
    result = cli("ingest", case.root, sub, "--source", "t", "--no-process")
    assert result.exit_code == 0, result.output
    recorded = {e["original_name"]: e for e in manifest(case.root)["exhibits"]}
    for name in names:
        assert name in recorded, name
        assert recorded[name]["original_path"] == f"s/{name}"
    odd = [e for e in recorded.values() if "original_name_b64" in e]
    assert len(odd) == 1 and base64.b64decode(odd[0]["original_name_b64"]) == raw
    # stored names are safe whatever the original
    assert all(
        "/" not in e["stored_as"][9:] and "\n" not in e["stored_as"] for e in recorded.values()
    )
    assert cli("verify", case.root).exit_code == 0


def test_extension_disagreeing_with_content_is_flagged(case, tmp_path: Path) -> None:
    write(tmp_path / "s" / "photo.jpg", png_bytes())
    write(tmp_path / "s" / "real.png", png_bytes() + b"x")
    assert cli("ingest", case.root, tmp_path / "s", "--source", "t", "--no-process").exit_code == 0
    by_name = {e["original_name"]: e for e in manifest(case.root)["exhibits"]}
    assert by_name["photo.jpg"]["mime"] == "image/png"
    assert by_name["photo.jpg"]["extension_mismatch"] is True
    assert by_name["real.png"]["extension_mismatch"] is False


def test_identical_content_is_a_duplicate_and_rerun_adds_nothing(case, tmp_path: Path) -> None:
    write(tmp_path / "s" / "a.txt", b"same")
    write(tmp_path / "s" / "copy of a.txt", b"same")
    make_zip(tmp_path / "s" / "z.zip", {"inner.txt": b"same", "other.txt": b"other"})
    first = cli("ingest", case.root, tmp_path / "s", "--source", "t", "--json", "--no-process")
    assert first.exit_code == 0, first.output
    m = manifest(case.root)
    # byte order: a.txt (RE/1), copy of a.txt (duplicate), z.zip (RE/2) with inner.txt
    # (duplicate of RE/1) and other.txt (RE/2/2: members keep their position as number)
    assert sorted(e["ref"] for e in m["exhibits"]) == ["RE/1", "RE/2", "RE/2/2"]
    assert sorted((d["original_path"], d["of"]) for d in m["duplicates"]) == [
        ("inner.txt", "RE/1"),
        ("s/copy of a.txt", "RE/1"),
    ]
    stored_files = sorted(p.name for p in (case.root / "evidence").iterdir())
    second = cli("ingest", case.root, tmp_path / "s", "--source", "t", "--json", "--no-process")
    assert second.exit_code == 0
    assert '"already": 3' in second.stdout  # a.txt, its copy, z.zip (members complete)
    assert [e["event"] for e in log_events(case.root)][-1] == "ingest_completed"
    assert manifest(case.root)["exhibits"] == m["exhibits"]
    assert manifest(case.root)["duplicates"] == m["duplicates"]
    assert sorted(p.name for p in (case.root / "evidence").iterdir()) == stored_files


def test_a_rerun_neither_fsyncs_nor_types_what_is_recorded(
    case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-run after an interruption: the copies of items recorded before are dropped,
    so they are not made durable or typed; their results show the type recorded."""
    write(tmp_path / "s" / "photo.png", png_bytes())
    write(tmp_path / "s" / "note.txt", b"diary\n")
    assert cli("ingest", case.root, tmp_path / "s", "--source", "t", "--no-process").exit_code == 0
    write(tmp_path / "s" / "new.txt", b"a new entry\n")
    typed: list[bytes] = []
    durable: list[int] = []
    real_mime, real_durable = ingest_mod.mime_of, ingest_mod.make_durable
    monkeypatch.setattr(ingest_mod, "mime_of", lambda head: typed.append(head) or real_mime(head))
    monkeypatch.setattr(
        ingest_mod, "make_durable", lambda copy, fd: durable.append(fd) or real_durable(copy, fd)
    )
    again = cli("ingest", case.root, tmp_path / "s", "--source", "t", "--json", "--no-process")
    assert again.exit_code == 0, again.output
    items = {i["path"].rsplit("/", 1)[-1]: i for i in json.loads(again.stdout)["items"]}
    assert {k: (i["status"], i["mime"]) for k, i in items.items()} == {
        "new.txt": ("stored", "text/plain"),
        "note.txt": ("already", "text/plain"),
        "photo.png": ("already", "image/png"),
    }
    assert typed == [b"a new entry\n"] and len(durable) == 1
    # the same content under another source is a new receipt: typed and recorded
    typed.clear()
    other = cli(
        "ingest", case.root, tmp_path / "s" / "note.txt", "--source", "u", "--json", "--no-process"
    )
    assert json.loads(other.stdout)["items"][0]["status"] == "duplicate"
    assert typed == [b"diary\n"]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("symlink", "is a symbolic link"), ("fifo", "is a FIFO"), ("missing", "does not exist")],
)
def test_links_fifos_and_missing_paths_are_refused(case, tmp_path: Path, kind, expected) -> None:
    good = write(tmp_path / "good.txt", b"good")
    target = tmp_path / "bad"
    if kind == "symlink":
        target.symlink_to(good)
    elif kind == "fifo":
        os.mkfifo(target)
    result = cli("ingest", case.root, good, target, "--source", "t", "--no-process")
    assert result.exit_code == 3
    assert expected in result.stderr
    assert [e["ref"] for e in manifest(case.root)["exhibits"]] == ["RE/1"]
    refused = [e for e in log_events(case.root) if e["event"] == "item_refused"]
    assert len(refused) == 1 and expected in refused[0]["details"]["reason"]
    assert good.read_bytes() == b"good"
    assert cli("verify", case.root).exit_code == 0


def test_symlink_inside_a_folder_is_not_followed(case, tmp_path: Path) -> None:
    secret = write(tmp_path / "outside" / "secret.txt", b"not evidence")
    write(tmp_path / "s" / "a.txt", b"a")
    (tmp_path / "s" / "link.txt").symlink_to(secret)
    result = cli("ingest", case.root, tmp_path / "s", "--source", "t", "--no-process")
    assert result.exit_code == 3
    assert all(e["original_name"] != "link.txt" for e in manifest(case.root)["exhibits"])


def test_unreadable_file_is_refused_and_rest_continues(case, tmp_path: Path, monkeypatch) -> None:
    write(tmp_path / "s" / "a.txt", b"a")
    locked = write(tmp_path / "s" / "b.txt", b"b")
    write(tmp_path / "s" / "c.txt", b"c")
    real = ingest_mod.open_regular

    def fake_open(path, **kwargs):  # root ignores mode bits, so simulate EACCES
        if Path(path) == locked:
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(path, **kwargs)

    monkeypatch.setattr(ingest_mod, "open_regular", fake_open)
    result = cli("ingest", case.root, tmp_path / "s", "--source", "t", "--no-process")
    assert result.exit_code == 3
    assert "b.txt cannot be read: Permission denied" in result.stderr
    assert sorted(e["original_name"] for e in manifest(case.root)["exhibits"]) == ["a.txt", "c.txt"]
    assert cli("verify", case.root).exit_code == 0


def test_full_disk_stops_cleanly_and_rerun_completes(case, tmp_path: Path, monkeypatch) -> None:
    for i in range(3):
        write(tmp_path / "s" / f"{i}.bin", bytes([i]) * 5000)
    real = ingest_mod.copy_and_hash
    calls = {"n": 0}

    def filling_disk(src, dst, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the disk fills while the second file is copied
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst, **kwargs)

    monkeypatch.setattr(ingest_mod, "copy_and_hash", filling_disk)
    result = cli("ingest", case.root, tmp_path / "s", "--source", "t", "--no-process")
    assert result.exit_code == 3
    assert "disk full while copying" in result.stderr and "1.bin" in result.stderr
    assert [e["original_name"] for e in manifest(case.root)["exhibits"]] == ["0.bin"]
    assert not (case.root / "evidence" / ".incoming").exists()
    assert cli("verify", case.root).exit_code == 0
    monkeypatch.setattr(ingest_mod, "copy_and_hash", real)
    assert cli("ingest", case.root, tmp_path / "s", "--source", "t", "--no-process").exit_code == 0
    assert sorted(e["original_name"] for e in manifest(case.root)["exhibits"]) == [
        "0.bin",
        "1.bin",
        "2.bin",
    ]
    assert cli("verify", case.root).exit_code == 0


def test_disk_full_at_fsync_stops_cleanly_and_rerun_completes(
    case, tmp_path: Path, monkeypatch
) -> None:
    """The fsync of a copy (on the finisher thread) fails: the copying thread stops, the
    copies already recorded stay recorded and sealed, nothing half-recorded is left."""
    for i in range(6):
        write(tmp_path / "s" / f"{i}.bin", bytes([i]) * 5000)
    real = ingest_mod._finish_copy
    calls = {"n": 0}

    def failing_fsync(copy, fd, head, recorded):
        calls["n"] += 1
        if calls["n"] == 3:
            copy.settle()
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(copy, fd, head, recorded)

    monkeypatch.setattr(ingest_mod, "_finish_copy", failing_fsync)
    result = cli("ingest", case.root, tmp_path / "s", "--source", "t", "--no-process")
    assert result.exit_code == 3
    assert "disk full while writing" in result.stderr and "2.bin" in result.stderr
    assert [e["original_name"] for e in manifest(case.root)["exhibits"]] == ["0.bin", "1.bin"]
    assert not (case.root / "evidence" / ".incoming").exists()
    assert cli("verify", case.root).exit_code == 0
    monkeypatch.setattr(ingest_mod, "_finish_copy", real)
    assert cli("ingest", case.root, tmp_path / "s", "--source", "t", "--no-process").exit_code == 0
    names = [e["original_name"] for e in manifest(case.root)["exhibits"]]
    assert sorted(names) == [f"{i}.bin" for i in range(6)]  # each once: no duplicates
    assert cli("verify", case.root).exit_code == 0


def test_a_recording_failure_keeps_the_log_in_order(case, tmp_path: Path, monkeypatch) -> None:
    """An error while recording (on the recorder thread) stops the ingest with it raised
    in the caller's; what was decided before it in the same batch is still logged, in
    order, and the rest is dropped cleanly."""
    for i in range(6):
        write(tmp_path / "s" / f"{i}.txt", f"file {i}\n".encode())
    real = ingest_mod._Ingest._place
    calls = {"n": 0}

    def place(self, tmp, ref, original_name, details):
        calls["n"] += 1
        if calls["n"] == 3:
            raise CaseError(f"cannot place {original_name}: simulated")
        return real(self, tmp, ref, original_name, details)

    monkeypatch.setattr(ingest_mod._Ingest, "_place", place)
    result = cli("ingest", case.root, tmp_path / "s", "--source", "t", "--no-process")
    assert result.exit_code == 3
    assert "cannot place 2.txt: simulated" in result.stderr
    received = [
        e["details"]["ref"] for e in log_events(case.root) if e["event"] == "exhibit_received"
    ]
    assert received == ["RE/1", "RE/2"]
    assert [e["ref"] for e in manifest(case.root)["exhibits"]] == ["RE/1", "RE/2"]
    assert not (case.root / "evidence" / ".incoming").exists()
    assert cli("verify", case.root).exit_code == 0


def _zip_with(tmp_path: Path, build) -> Path:
    path = tmp_path / "sub" / "bad.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        build(zf)
    return path


def _symlink_member(zf: zipfile.ZipFile) -> None:
    info = zipfile.ZipInfo("link")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    zf.writestr(info, "/etc/passwd")


def _encrypted_member(zf: zipfile.ZipFile) -> None:
    # zipfile cannot write encrypted members; the test sets the flag bit afterwards
    zf.writestr("secret.txt", b"xxxx")


def _set_encrypted_flag(path: Path) -> None:
    data = bytearray(path.read_bytes())
    name = b"secret.txt"
    for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = 0
        while (pos := data.find(sig, pos)) != -1:
            name_at = pos + (30 if sig == b"PK\x03\x04" else 46)
            if data[name_at : name_at + len(name)] == name:
                data[pos + flag_at] |= 0x1
            pos += 4
    path.write_bytes(bytes(data))


def _duplicate_names(zf: zipfile.ZipFile) -> None:
    import warnings

    zf.writestr("a.txt", b"1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zf.writestr("a.txt", b"2")


ZIP_CASES = [
    ("traversal", lambda zf: zf.writestr("../../evil.txt", b"x"), "path traversal"),
    ("absolute", lambda zf: zf.writestr("/etc/evil", b"x"), "absolute path"),
    ("drive", lambda zf: zf.writestr("C:/evil", b"x"), "drive letter"),
    ("symlink", _symlink_member, "symbolic link"),
    ("encrypted", _encrypted_member, "is encrypted"),
    ("duplicate", _duplicate_names, "duplicate member name"),
    (
        "collision",
        lambda zf: (zf.writestr("Photo.jpg", b"1"), zf.writestr("photo.JPG", b"2")),
        "names collide",
    ),
]


@pytest.mark.parametrize(("label", "build", "expected"), ZIP_CASES, ids=[c[0] for c in ZIP_CASES])
def test_hostile_archive_members_are_refused(case, tmp_path: Path, label, build, expected) -> None:
    path = _zip_with(tmp_path, lambda zf: (zf.writestr("ok.txt", b"fine"), build(zf)))
    if label == "encrypted":
        _set_encrypted_flag(path)
    result = cli("ingest", case.root, path, "--source", "t", "--no-process")
    assert result.exit_code == 3, result.output
    assert expected in result.stderr
    ex = manifest(case.root)["exhibits"]
    # the archive itself is kept whole; no member became an exhibit (never a partial ingest)
    assert [e["ref"] for e in ex] == ["RE/1"]
    refused = [e for e in log_events(case.root) if e["event"] == "archive_refused"]
    assert refused and expected in refused[0]["details"]["reason"]
    assert not list((tmp_path / "sub").glob("*evil*")) and not Path("/etc/evil").exists()
    assert cli("verify", case.root).exit_code == 0


def test_crc_failure_is_refused(case, tmp_path: Path) -> None:
    path = tmp_path / "crc.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("a.txt", b"A" * 100)
    data = bytearray(path.read_bytes())
    offset = data.index(b"A" * 100)
    data[offset + 50] = ord("B")
    path.write_bytes(bytes(data))
    result = cli("ingest", case.root, path, "--source", "t", "--no-process")
    assert result.exit_code == 3
    assert "'a.txt' refused: corrupt data" in result.stderr
    assert "CRC" in result.stderr


def test_truncated_zip_is_kept_whole_with_a_clear_error(case, tmp_path: Path) -> None:
    path = make_zip(tmp_path / "t.zip", {"a.txt": b"hello" * 1000})
    path.write_bytes(path.read_bytes()[:-30])
    result = cli("ingest", case.root, path, "--source", "t", "--no-process")
    assert result.exit_code == 3
    assert "not a readable zip archive" in result.stderr
    assert [e["ref"] for e in manifest(case.root)["exhibits"]] == ["RE/1"]
    assert cli("verify", case.root).exit_code == 0


def test_decompression_bomb_is_refused_on_bytes_actually_produced(case, tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("zeros.bin", b"\0" * (60 << 20))
    assert path.stat().st_size < 200_000
    result = cli("ingest", case.root, path, "--source", "t", "--no-process")
    assert result.exit_code == 3
    assert "'zeros.bin' refused: compression ratio above 200:1" in result.stderr
    assert not (case.root / "evidence" / ".incoming").exists()
    assert [p.name for p in (case.root / "evidence").iterdir()] == ["RE-1.zip"]


def test_lying_declared_size_is_caught(case, tmp_path: Path) -> None:
    path = make_zip(tmp_path / "lie.zip", {"a.txt": b"x" * 5000})
    data = bytearray(path.read_bytes())
    # patch the central directory's uncompressed size (offset 24 in the CD header) to 10
    cd = data.rindex(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    result = cli("ingest", case.root, path, "--source", "t", "--no-process")
    assert result.exit_code == 3
    assert "'a.txt' refused" in result.stderr


def test_file_changing_while_read_is_refused(case, tmp_path: Path, monkeypatch) -> None:
    victim = write(tmp_path / "s" / "growing.txt", b"x" * 10)
    write(tmp_path / "s" / "steady.txt", b"steady")
    real = ingest_mod.copy_and_hash

    def append_while_reading(src, dst, **kwargs):
        result = real(src, dst, **kwargs)
        if os.fstat(src).st_size == 10:
            with victim.open("ab") as fh:  # someone writes to the original mid-ingest
                fh.write(b"more")
        return result

    monkeypatch.setattr(ingest_mod, "copy_and_hash", append_while_reading)
    result = cli("ingest", case.root, tmp_path / "s", "--source", "t", "--no-process")
    assert result.exit_code == 3
    assert "growing.txt changed while it was being read; not recorded" in result.stderr
    assert [e["original_name"] for e in manifest(case.root)["exhibits"]] == ["steady.txt"]
    assert cli("verify", case.root).exit_code == 0


def _verified(root: Path) -> str:
    """What ``verify --no-record`` says of the case, less the time it took."""
    output, timed = re.subn(
        r" in \d+\.\d+ s,", " in (time) s,", cli("verify", root, "--no-record").output
    )
    assert timed == 1, output
    return output


@pytest.mark.parametrize(
    ("content", "mode", "message"),
    [
        (b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n", 0o600, "PEM"),
        (None, 0o644, "readable by others"),
    ],
)
def test_unusable_signing_key_stops_ingest_with_nothing_recorded(
    case, tmp_path: Path, content: bytes | None, mode: int, message: str
) -> None:
    """The key is loaded on a thread of its own while the first files are copied; a key
    that cannot be used must still stop the ingest before any event is recorded."""
    key = tmp_path / "operator.pem"
    if content is None:  # a good key with a bad mode
        from cyberstalk.hashing import signing

        signing.load_or_create_key(key)
    else:
        key.write_bytes(content)
    key.chmod(mode)
    sub = tmp_path / "submission"
    for i in range(40):  # more than the recorder's queue holds
        write(sub / f"f{i:02d}.bin", os.urandom(3000) + bytes([i]))
    before, checked = log_events(case.root), _verified(case.root)
    result = cli("ingest", case.root, sub, "--source", "s", "--key", key, "--no-process")
    assert result.exit_code == 3, result.output  # a case error, as before any copying
    assert message in result.output
    assert log_events(case.root) == before
    assert sorted(p.name for p in (case.root / "evidence").iterdir()) == []
    assert _verified(case.root) == checked  # the case as it was


def test_a_later_ingest_numbers_on_from_the_log(case, tmp_path: Path) -> None:
    """Top-level exhibit numbers continue from the highest in the log (an archive's members
    are numbered under it and do not count)."""
    first = tmp_path / "first"
    write(first / "z.txt", b"zed\n")
    make_zip(first / "export.zip", {"a.txt": b"a\n", "b.txt": b"b\n", "c.txt": b"c\n"})
    assert cli("ingest", case.root, first, "--source", "s1", "--no-process").exit_code == 0
    later = tmp_path / "later"
    write(later / "new.txt", b"new\n")
    write(later / "newer.txt", b"newer\n")
    result = cli("ingest", case.root, later, "--source", "s2", "--no-process")
    assert result.exit_code == 0, result.output
    ex = exhibits_by_ref(case.root)
    assert sorted(ex) == ["RE/1", "RE/1/1", "RE/1/2", "RE/1/3", "RE/2", "RE/3", "RE/4"]
    assert {ex["RE/3"]["original_name"], ex["RE/4"]["original_name"]} == {"new.txt", "newer.txt"}


def test_interim_seals_slow_down_as_they_grow_costly(case, monkeypatch) -> None:
    """A seal rebuilds the whole manifest, so its cost grows with the case. Interim seals
    wait at least SEAL_INTERVAL, and longer once a seal takes more than SEAL_SHARE of
    that, so that sealing never takes over a long ingest (sealing at the end and on
    demand is unaffected)."""
    from cyberstalk.hashing import seal as seal_mod

    clock = {"now": 1000.0}
    cost = {"seal": 0.01}
    sealed: list[float] = []

    class FakeTime:
        @staticmethod
        def monotonic() -> float:
            return clock["now"]

    def fake_seal(root, log, key) -> bytes:
        sealed.append(clock["now"])
        clock["now"] += cost["seal"]
        return b""

    monkeypatch.setattr(ingest_mod, "time", FakeTime)
    monkeypatch.setattr(seal_mod, "seal", fake_seal)
    options = ingest_mod.IngestOptions(source="s", operator="DC Test")
    key = ingest_mod.SigningKey(None, "RE")
    job = ingest_mod._Ingest(case, options, None, key)
    try:

        def run_for(seconds: float) -> int:
            before, end = len(sealed), clock["now"] + seconds
            while clock["now"] < end:
                job.reseal()
                clock["now"] += 0.01  # a batch recorded every 10 ms
            return len(sealed) - before

        cheap = run_for(10.0)
        assert 18 <= cheap <= 20  # every SEAL_INTERVAL (0.5 s)
        cost["seal"] = 2.0  # the manifest has grown: a seal now takes 2 s
        run_for(1.0)  # the first costly seal happens within the old interval
        costly = run_for(100.0)
        # sealing takes at most SEAL_SHARE of the time: a seal every 20 s, not every 2.5 s
        assert 4 <= costly <= 5
        assert sealed[-1] - sealed[-2] >= 2.0 / ingest_mod.SEAL_SHARE
        job.reseal(now=True)  # on demand (the end of an ingest, an archive): at once
        assert sealed[-1] == clock["now"] - cost["seal"]
    finally:
        job.close()


def test_what_is_recorded_once_the_ingest_is_ending_is_sealed_once_at_its_end(
    case, tmp_path: Path, monkeypatch
) -> None:
    """Copies still being recorded when the copying is over are not sealed by the
    recorder: ingest() seals once its last event (ingest_completed) is logged, and a seal
    just before that one would be rewritten at once. Interim seals are due at every batch
    here (SEAL_INTERVAL 0); the signing key is held back until the copying has ended, so
    that every copy is recorded after it."""
    import threading

    from cyberstalk.hashing import seal as seal_mod

    real_seal = seal_mod.seal
    seen: list[list[str]] = []

    def counting_seal(root, log, key) -> bytes:
        seen.append([e["event"] for e in log_events(root)])
        return real_seal(root, log, key)

    monkeypatch.setattr(seal_mod, "seal", counting_seal)
    monkeypatch.setattr(ingest_mod, "SEAL_INTERVAL", 0.0)
    released = threading.Event()

    class HeldKey(ingest_mod.SigningKey):
        def get(self):
            released.wait(timeout=30)  # never a hang, whatever asks for the key first
            return super().get()

    monkeypatch.setattr(ingest_mod, "SigningKey", HeldKey)
    real_put = ingest_mod._Ingest._put

    def put_then_release(job, entry) -> None:
        real_put(job, entry)
        if entry is None:  # the copying is over: now let the recorder start
            released.set()

    monkeypatch.setattr(ingest_mod._Ingest, "_put", put_then_release)
    for i in range(3):
        write(tmp_path / "s" / f"{i}.bin", bytes([i]) * 100)
    result = cli("ingest", case.root, tmp_path / "s", "--source", "t", "--no-process")
    assert result.exit_code == 0, result.output
    assert len(seen) == 1, seen  # one seal, at the end, and none just before it
    assert seen[0].count("exhibit_received") == 3
    assert seen[0][-1] == "ingest_completed"
    assert cli("verify", case.root).exit_code == 0
