"""File typing: cyberstalk's own ctypes binding to libmagic against python-magic, the
usual wrapper, over the same real library."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import magic  # python-magic: a dev dependency, the independent oracle here
import pytest

from cyberstalk.intake import filetype
from cyberstalk.intake.filetype import Libmagic, mime_of
from cyberstalk.intake.ingest import SNIFF

SCRIPT = Path(__file__).resolve().parents[2] / "fixtures" / "make_fixtures.py"


@pytest.fixture(scope="module")
def fixture_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic fixtures, made afresh by their script (a clean clone has none)."""
    out = tmp_path_factory.mktemp("fixtures")
    subprocess.run([sys.executable, str(SCRIPT), str(out)], check=True, capture_output=True)
    return out


def _samples(root: Path) -> list[bytes]:
    """The first bytes of every fixture file, plus made-up content of kinds the fixtures
    lack."""
    heads = [p.read_bytes()[:SNIFF] for p in sorted(root.rglob("*")) if p.is_file()]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.txt", "hello")
    return [
        *heads,
        archive.getvalue(),
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00",
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00",
        b"<html><body><script>alert(1)</script></body></html>",
        b'{"messages": [{"text": "hi"}]}',
        b"\x00\x01\x02\x03" * 64,
        "Helo, sut wyt ti? \u0175\u0177\n".encode(),
        b"\xef\xbb\xbfBOM text\n",
    ]


def test_same_types_as_python_magic(fixture_files: Path) -> None:
    samples = _samples(fixture_files)
    assert len(samples) > 20  # the fixtures were made
    oracle = magic.Magic(mime=True)
    mine = Libmagic()
    got = [(mine.mime(head), oracle.from_buffer(head)) for head in samples if head]
    assert [a for a, _ in got] == [b for _, b in got]
    # and the comparison is not trivially of one type
    assert len({a for a, _ in got}) >= 6


def test_mime_of_known_kinds() -> None:
    assert mime_of(b"") == "application/x-empty"
    assert mime_of(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01") == "image/jpeg"
    assert mime_of(b"%PDF-1.4\n") == "application/pdf"
    assert mime_of(b"plain words\n") == "text/plain"


def test_one_handle_shared_by_threads() -> None:
    """libmagic handles are not thread-safe; the binding serialises calls on one handle."""
    shared = Libmagic()
    results: list[str] = []

    def work() -> None:
        for _ in range(200):
            results.append(shared.mime(b"%PDF-1.4\n"))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["application/pdf"] * 800


def test_mime_of_gives_each_thread_its_own_handle() -> None:
    """mime_of types on a handle per thread, so that threads type at once (the finisher
    threads of an ingest); a thread keeps its handle for its later calls."""
    seen: list[tuple[Libmagic, Libmagic]] = []
    results: list[str] = []
    together = threading.Barrier(3)

    def work() -> None:
        results.append(mime_of(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
        first = filetype._handles.magic
        together.wait()  # all three threads hold their handles at once
        results.append(mime_of(b"%PDF-1.4\n"))
        seen.append((first, filetype._handles.magic))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["application/pdf"] * 3 + ["image/png"] * 3
    assert all(first is later for first, later in seen)
    assert len({id(first) for first, _ in seen}) == 3  # kept alive by seen: ids are unique


def test_missing_library_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import ctypes.util

    def nothing(name: str) -> None:
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(ctypes, "CDLL", nothing)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    with pytest.raises(OSError, match="apt install libmagic1"):
        filetype.Libmagic()


def _gzip(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data, mtime=0)


@pytest.mark.parametrize(
    ("name", "content", "disagrees"),
    [
        ("photo.jpg", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(17), True),
        ("PHOTO.JPG", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64), False),
        ("export.xml", b'<?xml version="1.0"?><smses count="0"/>', False),
        ("chat.json", b'{"messages": []}', False),
        # the host's table (when it has one) says a .tar.gz is application/x-tar, and
        # libmagic says gzip: every one was flagged
        ("backup.tar.gz", _gzip(b"x" * 600), False),
        ("backup.tgz", _gzip(b"x" * 600), False),
        ("notes.txt", _gzip(b"x" * 600), True),
        # no one type: promises nothing, so never disagrees
        ("private.key", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", False),
        ("data.dat", b"\x00\x01" * 40, False),
        ("empty.png", b"", False),
    ],
)
def test_what_an_extension_promises(name: str, content: bytes, disagrees: bool) -> None:
    assert filetype.extension_disagrees(name, mime_of(content)) is disagrees


def test_extension_types_come_from_the_table_not_the_host() -> None:
    """mimetypes reads /etc/mime.types where a host has one: the recorded type of an
    extension would then depend on the machine that did the ingest."""
    probe = (
        "import sys; from cyberstalk.intake.filetype import mime_from_extension as m; "
        "print(m('a.M4A'), m('a.docx'), m('a.xml'), m('x'), m('.jpg'), 'mimetypes' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [
        "audio/mp4",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/xml",
        "None",
        "None",  # a name that is all extension (a hidden file) has none
        "False",
    ]
    assert all(ext == ext.lower() and ext.startswith(".") for ext in filetype.EXTENSION_TYPES)
