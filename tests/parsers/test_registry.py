"""One parametrised test over EVERY registered parser (see conftest.py for samples)."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from cyberstalk.errors import UnrecognisedFormatError, UsageError
from cyberstalk.parsers.base import ParseContext, Parser, ParseReport, Source
from cyberstalk.parsers.registry import (
    PARSER_MODULES,
    SNIFF_THRESHOLD,
    all_parsers,
    choose,
    detect,
    get_parser,
)
from cyberstalk.records import Record

PARSERS = all_parsers()
NAMES = sorted(PARSERS)


def test_registry_loads_every_module() -> None:
    assert "whatsapp" in PARSERS and "csv" in PARSERS
    assert len(PARSER_MODULES) == len(set(PARSER_MODULES))
    modules = {type(p).__module__.rsplit(".", 1)[-1] for p in PARSERS.values()}
    assert set(PARSER_MODULES) <= modules


@pytest.mark.parametrize("name", NAMES)
def test_parser_declares_itself(name: str) -> None:
    parser = PARSERS[name]
    assert isinstance(parser, Parser)
    assert parser.name == name
    assert isinstance(parser.version, str) and parser.version.strip()
    assert isinstance(parser.platform, str) and parser.platform.strip()
    assert parser.platform == parser.platform.lower()
    assert isinstance(parser.description, str) and len(parser.description) > 15
    assert "\n" not in parser.description
    assert inspect.getdoc(type(parser)), "the parser class needs a docstring"
    assert isinstance(parser.known_gaps, tuple) and parser.known_gaps
    assert all(isinstance(g, str) and g.strip() for g in parser.known_gaps)


@pytest.mark.parametrize("name", NAMES)
def test_sniff_unrelated_files_is_low_and_safe(name: str, unrelated_files: list[Path]) -> None:
    parser = PARSERS[name]
    for path in unrelated_files:
        score = parser.sniff(Source.loose(path))
        assert isinstance(score, float), f"{name} sniff({path.name}) returned {score!r}"
        assert 0.0 <= score < SNIFF_THRESHOLD, f"{name} claims unrelated {path.name}: {score}"


@pytest.mark.parametrize("name", NAMES)
def test_sniff_picks_itself_and_parses_its_samples(
    name: str, parser_samples: Callable[[str], list[Path]]
) -> None:
    samples = parser_samples(name)
    assert samples, (
        f"no samples for parser {name!r}: add files to tests/parsers/samples/{name}/ "
        "or a SAMPLE_FACTORIES entry (see tests/parsers/conftest.py)"
    )
    parser = PARSERS[name]
    for path in samples:
        source = Source.loose(path)
        detection = detect(source)
        for other, score in detection.scores:
            assert 0.0 <= score <= 1.0, f"{other} sniff({path.name}) = {score}"
        assert detection.parser is not None, f"{path.name}: nothing chose it {detection.scores}"
        assert detection.parser.name == name, f"{path.name}: scores {detection.scores}"
        report = ParseReport(parser=name)
        records = list(parser.parse(source, ParseContext(), report))
        assert records, f"{path.name} gave no records"
        for record in records:
            assert isinstance(record, Record)
            assert record.parser == name
            assert record.parser_version == parser.version
            assert record.locator.path == source.name
            assert record.time_utc is None or record.time_utc.utcoffset() is not None
            # round-trips through JSON (derived/ data)
            assert Record.from_dict(record.as_dict()).as_dict() == record.as_dict()


ONE_FORMAT = """
import json, sys
from cyberstalk.parsers.registry import get_parser
name = sys.argv[1]
parser = get_parser(name)
loaded = sorted(m for m in sys.modules if m.startswith("cyberstalk.parsers."))
print(json.dumps([parser.name, type(parser).__module__, loaded]))
"""


@pytest.mark.parametrize("name", NAMES)
def test_a_named_format_loads_its_own_module_first(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", ONE_FORMAT, name], capture_output=True, text=True, check=True
    )
    got, module, loaded = json.loads(result.stdout)
    assert got == name and module == type(PARSERS[name]).__module__
    parsers = {m for m in loaded if m.rsplit(".", 1)[-1] in PARSER_MODULES}
    if name in PARSER_MODULES:  # a parser named as its module: that module alone
        assert parsers == {module}
    else:  # found among all of them
        assert parsers == {f"cyberstalk.parsers.{m}" for m in PARSER_MODULES}


def test_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown format 'nope'"):
        get_parser("nope")


def test_unrecognised_file_names_candidates(tmp_path: Path) -> None:
    # Looks a little like an Android WhatsApp export, but no line is a real header.
    path = tmp_path / "odd.txt"
    path.write_text("hello\n" * 5 + "01/02/2026, 10:00 - x: y\n" + "hello\n" * 20)
    with pytest.raises(UnrecognisedFormatError) as info:
        choose(Source.loose(path))
    assert "odd.txt: not a recognised export format; closest candidates: whatsapp" in str(
        info.value
    )
