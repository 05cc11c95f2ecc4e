"""Shared harness for parser tests.

Sample convention (test_registry.py runs one parametrised test over EVERY registered
parser and needs at least one sample per parser):

- ``tests/parsers/samples/<parser name>/`` (the registry name, e.g. ``whatsapp``,
  ``sms-backup``, ``facebook-messenger``) holds small, synthetic, *well-formed* files of
  that format. Every file in that folder (not in sub-folders) must
  1. be detected as that parser by ``registry.detect`` (sniff picks itself, above the
     threshold, ahead of every other parser), and
  2. parse with a default ``ParseContext()`` (Europe/London, no options) into at least
     one record whose ``parser``/``platform``/``locator.path`` are right.
- Samples that must be built at test time (zips, binary containers, files made by a
  ``fixtures/<area>.py`` generator) are added with ONE line in ``SAMPLE_FACTORIES`` below:
  ``"<parser name>": callable(out_dir) -> list[Path]``.
- Malformed inputs never go in ``samples/``; keep them next to your own tests
  (e.g. ``tests/parsers/data/<area>/``), one file per error with its expected message.
"""

from __future__ import annotations

import importlib
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SAMPLES = HERE / "samples"
ROOT = HERE.parents[1]
FIXTURES = ROOT / "fixtures"


def from_fixture(module: str, suffix: str = "") -> Callable[[Path], list[Path]]:
    """A factory running ``fixtures/<module>.py`` ``generate(out)`` and keeping the files
    whose names end with ``suffix``."""

    def build(out: Path) -> list[Path]:
        sys.path.insert(0, str(FIXTURES))
        try:
            mod = importlib.import_module(module)
        finally:
            sys.path.remove(str(FIXTURES))
        return [p for p in mod.generate(out) if p.name.endswith(suffix)]

    return build


SAMPLE_FACTORIES: dict[str, Callable[[Path], list[Path]]] = {
    "whatsapp": from_fixture("whatsapp"),
    "sms-backup": from_fixture("sms", ".xml"),
    "telegram": from_fixture("telegram", "result.json"),
    "eml": from_fixture("mail", ".eml"),
    "mbox": from_fixture("mail", ".mbox"),
    "instagram": from_fixture("meta", ".json"),
}


def committed_samples(name: str) -> list[Path]:
    folder = SAMPLES / name
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def samples_for(name: str, tmp: Path) -> list[Path]:
    """Committed samples plus any built by the parser's factory into ``tmp``."""
    files = committed_samples(name)
    factory = SAMPLE_FACTORIES.get(name)
    if factory is not None:
        out = tmp / f"built-{name}"
        files.extend(factory(out))
    return files


def write_unrelated_files(folder: Path) -> list[Path]:
    """Files no parser should claim: empty, random bytes, a PNG, prose, JSON, XML, CSV."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []

    def put(name: str, data: bytes) -> None:
        path = folder / name
        path.write_bytes(data)
        out.append(path)

    put("empty.txt", b"")
    put("random.bin", random.Random(4).randbytes(5000))
    png = folder / "picture.png"
    Image.new("RGB", (8, 8), (10, 200, 30)).save(png)
    out.append(png)
    put(
        "notes.txt",
        b"Shopping list\nmilk, bread: two loaves\n- 12/01/2026 dentist at 10:30\n",
    )
    put("numbers.json", json.dumps([1, 2, 3, {"a": None}]).encode())
    put("config.xml", b'<?xml version="1.0"?><config><item key="a">b</item></config>')
    put("prices.csv", b"item,price\napple,0.30\npear,0.45\n")
    put("latin1.txt", "caf\u00e9 cr\u00e8me\n".encode("latin-1"))
    return out


@pytest.fixture(scope="session")
def unrelated_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_unrelated_files(tmp_path_factory.mktemp("unrelated"))


@pytest.fixture
def parser_samples(tmp_path: Path) -> Callable[[str], list[Path]]:
    """``parser_samples(name)``: that parser's sample files (committed and built)."""
    return lambda name: samples_for(name, tmp_path)
