"""The parser registry, format detection and the parse entry points."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cyberstalk.errors import UnrecognisedFormatError, UsageError
from cyberstalk.parsers.base import ParseContext, Parser, ParseReport, Source
from cyberstalk.records import Record

_REGISTRY: dict[str, Parser] = {}

# Modules that register parsers when imported. Add new formats here.
PARSER_MODULES: tuple[str, ...] = (
    "meta",
    "meta_e2ee",
    "discord",
    "snapchat",
    "twitter",
    "sms_backup",
    "whatsapp",
    "csv_generic",
    "telegram",
    "email_msg",
)

SNIFF_THRESHOLD = 0.5
"""A parser must be at least this sure to be chosen automatically."""


def register(parser_cls: type[Parser]) -> type[Parser]:
    """Class decorator: add a parser to the registry under its ``name``."""
    name = parser_cls.name
    if name in _REGISTRY:
        raise RuntimeError(f"parser name {name!r} registered twice")
    _REGISTRY[name] = parser_cls()
    return parser_cls


def _load() -> None:
    for module in PARSER_MODULES:
        importlib.import_module(f"cyberstalk.parsers.{module}")


def all_parsers() -> dict[str, Parser]:
    """Every registered parser by name, sorted by name."""
    _load()
    return dict(sorted(_REGISTRY.items()))


def get_parser(name: str) -> Parser:
    """The parser called ``name``. A parser named as its module is found by importing that
    module alone (a named format's parse loads no other parser's libraries)."""
    if name not in _REGISTRY and name in PARSER_MODULES:
        importlib.import_module(f"cyberstalk.parsers.{name}")
    if name in _REGISTRY:
        return _REGISTRY[name]
    parsers = all_parsers()
    if name not in parsers:
        raise UsageError(
            f"unknown format {name!r}", advice=f"choose one of: {', '.join(parsers)} or auto"
        )
    return parsers[name]


@dataclass(frozen=True)
class Detection:
    """The result of sniffing one file with every parser."""

    parser: Parser | None
    """The chosen parser, or None when none was sure enough."""
    scores: tuple[tuple[str, float], ...]
    """Every parser's score, best first (the closest candidates for an error message)."""


def detect(source: Source) -> Detection:
    """Sniff ``source`` with every parser; pick the most confident above the threshold."""
    scores: list[tuple[str, float]] = []
    for name, parser in all_parsers().items():
        try:
            score = float(parser.sniff(source))
        except (OSError, ValueError, UnicodeError):
            score = 0.0
        scores.append((name, score))
    scores.sort(key=lambda item: (-item[1], item[0]))
    best = scores[0] if scores else None
    chosen = _REGISTRY[best[0]] if best and best[1] >= SNIFF_THRESHOLD else None
    return Detection(chosen, tuple(scores))


def choose(source: Source, fmt: str = "auto") -> Parser:
    """The parser for ``--format`` (or detection); UnrecognisedFormatError names candidates."""
    if fmt != "auto":
        return get_parser(fmt)
    detection = detect(source)
    if detection.parser is None:
        closest = ", ".join(f"{n} ({s:.2f})" for n, s in detection.scores[:3] if s > 0)
        raise UnrecognisedFormatError(
            "not a recognised export format"
            + (f"; closest candidates: {closest}" if closest else ""),
            path=source.name,
            advice="name the format with --format (see `cyberstalk parse --list`)",
        )
    return detection.parser


class RecordStream(Iterator[Record]):
    """The records of one parse, started on the first ``next()`` and counted into the
    report as they pass (what :func:`parse_source` returns).

    A writer of JSON Lines may ask :meth:`jsonl` for the lines instead: a parser with a
    ``parse_jsonl`` method writes them itself (the same bytes, faster), counting into
    the same report."""

    def __init__(self, parser: Parser, source: Source, ctx: ParseContext, report: ParseReport):
        self.parser = parser
        self.report = report
        self._args = (source, ctx, report)
        self._records: Iterator[Record] | None = None

    def __iter__(self) -> RecordStream:
        return self

    def __next__(self) -> Record:
        if self._records is None:
            self._records = iter(self.parser.parse(*self._args))
        return self.report.count(next(self._records))

    def jsonl(self) -> Iterator[bytes] | None:
        """Every record's ``records.record_bytes`` line, in chunks, when the parser writes
        them itself and no record was taken yet; else None (iterate instead)."""
        write: Callable[[Source, ParseContext, ParseReport], Iterator[bytes]] | None
        write = getattr(self.parser, "parse_jsonl", None)
        if write is None or self._records is not None:
            return None
        self._records = iter(())
        chunks: Iterator[bytes] = write(*self._args)
        return chunks


def parse_source(
    source: Source, ctx: ParseContext, fmt: str = "auto"
) -> tuple[Parser, ParseReport, Iterator[Record]]:
    """Choose a parser and start parsing. The iterator (a :class:`RecordStream`) counts
    into the returned report."""
    parser = choose(source, fmt)
    report = ParseReport(parser=parser.name)
    return parser, report, RecordStream(parser, source, ctx, report)
