"""The screening lexicons (``lexicons/en.toml``, ``lexicons/cy.toml``) and a matcher that
finds every entry with its place in the text.

Normalisation and phrase lookup are the timeline lexicon's (:mod:`cyberstalk.timeline.lexicon`):
the same word folding (:func:`~cyberstalk.timeline.lexicon.normalise`,
:func:`~cyberstalk.timeline.lexicon.tokens`) and the same dict-of-entries
:class:`~cyberstalk.timeline.lexicon.Matcher`, extended here to return *every* match with
its word position (the timeline only needs the first match of each category). Words keep
their character offsets in the original summary, so a report can quote the words exactly
as written and say where they are.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import NamedTuple

from cyberstalk.errors import ReportError
from cyberstalk.timeline.lexicon import Category, Lexicon, Matcher, normalise, tokens

LANGUAGES = ("en", "cy")

S2A3: dict[str, str] = {
    "s2A3-a-following": "s.2A(3)(a) following a person",
    "s2A3-b-contacting": "s.2A(3)(b) contacting, or attempting to contact, a person by any means",
    "s2A3-c-publishing": (
        "s.2A(3)(c) publishing any statement or other material relating or purporting to "
        "relate to a person, or purporting to originate from a person"
    ),
    "s2A3-d-monitoring": (
        "s.2A(3)(d) monitoring the use by a person of the internet, email or any other form "
        "of electronic communication"
    ),
    "s2A3-e-loitering": "s.2A(3)(e) loitering in any place (whether public or private)",
    "s2A3-f-interfering": "s.2A(3)(f) interfering with any property in the possession of a person",
    "s2A3-g-watching": "s.2A(3)(g) watching or spying on a person",
}
"""The Protection from Harassment Act 1997 s.2A(3) examples, one rule each."""

FURTHER: dict[str, str] = {
    "SB-ordering": (
        "stalking behaviour beyond the s.2A(3) examples: ordering goods or services in the "
        "person's name or to their address"
    ),
    "SB-false-reports": (
        "stalking behaviour beyond the s.2A(3) examples: false or malicious reports about the "
        "person to an employer or an authority"
    ),
    "SB-locating": (
        "stalking behaviour beyond the s.2A(3) examples: tracking the person down after a move, "
        "or obtaining their new address or contact details"
    ),
}
"""Behaviours named in the published stalking behaviour lists (Suzy Lamplugh Trust /
Paladin, College of Policing APP) that none of the s.2A(3) examples names; the s.2A(3) list
is not exhaustive. They count as behaviours for the flag exactly like the s.2A(3) rules."""

BEHAVIOURS: dict[str, str] = {**S2A3, **FURTHER}
"""Every behaviour rule: the s.2A(3) examples, then the further behaviours."""

MARKERS: dict[str, str] = {
    "FOUR-fixated": "FOUR: fixated (cannot let go, will not accept the relationship is over)",
    "FOUR-obsessive": "FOUR: obsessive",
    "FOUR-unwanted": "FOUR: unwanted (against the person's wishes, told to stop, blocked, orders)",
    "FOUR-repeated": "FOUR: repeated (repeatedly, kept, every day, counts such as '40 messages')",
}
"""The FOUR markers (fixated, obsessive, unwanted, repeated), one rule each."""

RULES: dict[str, str] = {**BEHAVIOURS, **MARKERS}

EXCLUSION = "exclusion"
NEGATION = "negation"
CLAUSE_BREAK = "clause_break"
ORDINARY = "ordinary"
"""Words naming a caller or a purpose that is not a person pursuing her (a call centre, a
debt collector, bailiffs, officers attending, arranging child contact): every match in the
same clause within :data:`~.engine.ORDINARY_WINDOW` words of one is set aside."""
COUNT = "FOUR-repeated"
"""Counts ("40 messages") are FOUR-repeated markers."""
COUNT_PREFIX = "NUMBER "
"""A count's entry is ``NUMBER <unit>``."""
_GROUPS = (EXCLUSION, NEGATION, CLAUSE_BREAK, ORDINARY)
PAIR_MAX_GAP = 6
"""The most words a ``[[pairs]]`` entry may allow between its two parts."""
_APPLIES = "record"
"""The timeline Matcher filters categories by whose messages they apply to; every screening
category applies to the whole record."""

_SPAN = re.compile(r"[^\W_](?:[^\W_]|[\u0300-\u036f]|['\u2019\u2018`\u02bc](?=[^\W_]))*")
"""A word of the original text: letters and digits, combining accents, inner apostrophes
(the same words :func:`tokens` finds after normalising, but with their offsets)."""


class Word(NamedTuple):
    """One normalised word and where it is in the original text."""

    text: str
    start: int
    end: int


_LAST: list[tuple[str, list[Word]]] = []
"""The last summary split into words: the rules and the scorer both read every summary."""


def words_of(text: str) -> list[Word]:
    """The normalised words of ``text``, each with its character offsets in ``text`` (a
    fresh list; the last text's words are remembered)."""
    if _LAST and _LAST[0][0] == text:
        return list(_LAST[0][1])
    out = _words_of(text)
    _LAST[:] = [(text, out)]
    return list(out)


def _words_of(text: str) -> list[Word]:
    out: list[Word] = []
    for m in _SPAN.finditer(text):
        raw = m.group()
        folded = [raw.lower()] if raw.isascii() and "'" not in raw and "`" not in raw else None
        for word in folded or tokens(normalise(raw)):
            out.append(Word(word, m.start(), m.end()))
    return out


@dataclass(frozen=True, slots=True)
class Counts:
    """Number words and units: ``NUMBER (word) (word) UNIT`` is a repetition marker."""

    minimum: int
    numbers: frozenset[str]
    units: frozenset[str]


@dataclass(frozen=True, slots=True)
class Pair:
    """A two-part entry: a word from ``first`` then, at most ``within`` words later in the
    same clause, one from ``then`` ("waiting ... her house", "ordered ... in her name")."""

    rule: str
    within: int
    first: str
    """The group holding the first parts (``pair3.first``)."""
    then: str
    """The group holding the second parts (``pair3.then``)."""


@dataclass(frozen=True, slots=True)
class ScreenLexicon:
    """One language's screening lexicon."""

    language: str
    file: str
    status: str
    groups: dict[str, tuple[str, ...]]
    """Rule id, ``exclusion``, ``negation`` or ``clause_break`` -> entries."""
    counts: Counts
    pairs: tuple[Pair, ...] = ()

    @property
    def size(self) -> int:
        return sum(len(e) for e in self.groups.values())


def _entries(value: object, file: str, key: str) -> tuple[str, ...]:
    entries = value.get("entries") if isinstance(value, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, str) and e.strip() for e in entries):
        raise ReportError(f"lexicon {file}: {key}.entries must be a list of text")
    clean = tuple(dict.fromkeys(entries))
    for entry in clean:
        if not tokens(normalise(entry.replace("*", ""))) or "*" in entry.rstrip("*"):
            raise ReportError(
                f"lexicon {file}: {key} entry {entry!r} must be words, with * only at the very end"
            )
    return clean


def _words_list(value: object, file: str, key: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ReportError(f"lexicon {file}: counts.{key} must be a list of words")
    out = set()
    for item in value:
        folded = tokens(normalise(item))
        if len(folded) != 1:
            raise ReportError(f"lexicon {file}: counts.{key} item {item!r} must be one word")
        out.add(folded[0])
    return frozenset(out)


_SOFT = {"p": "b", "t": "d", "c": "g", "b": "f", "d": "dd", "g": "", "m": "f", "ll": "l", "rh": "r"}
_NASAL = {"p": "mh", "t": "nh", "c": "ngh", "b": "m", "d": "n", "g": "ng"}
_ASPIRATE = {"p": "ph", "t": "th", "c": "ch"}
_RADICAL_ONLY = ("ch", "ph", "th", "dd", "ff", "ng")
"""Initial digraphs that do not mutate further (they are radicals or already mutated)."""
MUTATED_GROUPS_NOT = frozenset({NEGATION, CLAUSE_BREAK})
"""Welsh groups whose entries are not given mutated forms: negative words and clause breaks
are grammar words, and their mutated forms are listed by hand where they exist ("ddim")."""


def welsh_mutations(word: str) -> tuple[str, ...]:
    """The soft, nasal and aspirate mutations of a Welsh word's first letter, and the h-
    a vowel takes after "ei" (her), "ein", "eu": ``cartref`` -> ``gartref``, ``nghartref``,
    ``chartref``; ``gwylio`` -> ``wylio``, ``ngwylio``; ``enw`` -> ``henw``. Forms shorter
    than three letters are left out (too likely to be another word)."""
    out: list[str] = []
    if word[:2] in _RADICAL_ONLY:
        return ()
    if word[:1] in "aeiouwy" and word[:1]:
        out.append("h" + word)
    for table in (_SOFT, _NASAL, _ASPIRATE):
        head = word[:2] if word[:2] in table else word[:1]
        if head in table:
            out.append(table[head] + word[len(head) :])
    return tuple(dict.fromkeys(f for f in out if len(f.rstrip("*")) >= 3 and f != word))


def with_mutations(entries: tuple[str, ...]) -> tuple[str, ...]:
    """``entries`` and, after each, its forms with the first word mutated (Welsh)."""
    out: list[str] = []
    for entry in entries:
        out.append(entry)
        first, _, rest = entry.partition(" ")
        for form in welsh_mutations(first.lower()):
            out.append(f"{form} {rest}" if rest else form)
    return tuple(dict.fromkeys(out))


def parse_screen_lexicon(text: str, file: str) -> ScreenLexicon:
    """Parse and check one screening lexicon; faults name the file and the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ReportError(f"lexicon {file}: invalid TOML: {exc}") from exc
    language = data.get("language")
    if language not in LANGUAGES:
        raise ReportError(
            f"lexicon {file}: language must be one of {LANGUAGES}, found {language!r}"
        )
    rules = data.get("rules")
    if not isinstance(rules, dict):
        raise ReportError(f"lexicon {file}: missing [rules.*] tables")
    unknown = sorted(set(rules) - set(RULES))
    if unknown:
        raise ReportError(
            f"lexicon {file}: unknown rule(s) {', '.join(unknown)}; known: {', '.join(RULES)}"
        )
    groups: dict[str, tuple[str, ...]] = {}
    for rule in RULES:
        if rule in rules:
            groups[rule] = _entries(rules[rule], file, f"rules.{rule}")
    for group in _GROUPS:
        groups[group] = _entries(data.get(group), file, group) if group in data else ()
    pairs: list[Pair] = []
    raw_pairs = data.get("pairs", [])
    if not isinstance(raw_pairs, list) or not all(isinstance(p, dict) for p in raw_pairs):
        raise ReportError(f"lexicon {file}: [[pairs]] must be tables")
    for i, raw in enumerate(raw_pairs):
        key = f"pairs[{i}]"
        rule, within = raw.get("rule"), raw.get("within", 3)
        if rule not in RULES:
            raise ReportError(f"lexicon {file}: {key}.rule {rule!r} is not a rule")
        if (
            not isinstance(within, int)
            or isinstance(within, bool)
            or not (0 <= within <= PAIR_MAX_GAP)
        ):
            raise ReportError(f"lexicon {file}: {key}.within must be 0 to {PAIR_MAX_GAP}")
        pair = Pair(str(rule), within, f"pair{i}.first", f"pair{i}.then")
        for part in ("first", "then"):
            groups[getattr(pair, part)] = _entries(
                {"entries": raw.get(part)}, file, f"{key}.{part}"
            )
        pairs.append(pair)
    if language == "cy" and data.get("mutations", True):
        groups = {
            g: (e if g in MUTATED_GROUPS_NOT else with_mutations(e)) for g, e in groups.items()
        }
    counts = data.get("counts", {})
    if not isinstance(counts, dict) or not isinstance(counts.get("min", 2), int):
        raise ReportError(f"lexicon {file}: [counts] must have an integer min")
    return ScreenLexicon(
        language=str(language),
        file=file,
        status=str(data.get("status", "draft")),
        groups=groups,
        counts=Counts(
            int(counts.get("min", 2)),
            _words_list(counts.get("numbers", []), file, "numbers"),
            _words_list(counts.get("units", []), file, "units"),
        ),
        pairs=tuple(pairs),
    )


_CACHE: dict[str, ScreenLexicon] = {}


def load_screen_lexicons() -> tuple[ScreenLexicon, ...]:
    """The packaged screening lexicons, English then Welsh."""
    out = []
    for lang in LANGUAGES:
        if lang not in _CACHE:
            ref = resources.files("cyberstalk.screening") / "lexicons" / f"{lang}.toml"
            _CACHE[lang] = parse_screen_lexicon(ref.read_text("utf-8"), f"lexicons/{lang}.toml")
        out.append(_CACHE[lang])
    return tuple(out)


class Span(NamedTuple):
    """One entry found: words ``first``..``last`` (inclusive) of the text."""

    first: int
    last: int
    group: str
    """Rule id, ``exclusion``, ``negation`` or ``clause_break``."""
    language: str
    entry: str


class SpanMatcher(Matcher):
    """The timeline :class:`Matcher`, returning every match of every entry with its place
    (the timeline's :meth:`Matcher.find` keeps only the first match of each category)."""

    def __init__(self, lexicons: tuple[ScreenLexicon, ...]) -> None:
        super().__init__(
            tuple(
                Lexicon(
                    lex.language,
                    lex.file,
                    lex.status,
                    {
                        group: Category(group, group, _APPLIES, entries)
                        for group, entries in lex.groups.items()
                        if entries
                    },
                )
                for lex in lexicons
            ),
            _APPLIES,
        )
        self.counts = {lex.language: lex.counts for lex in lexicons}
        self.pair_parts: dict[tuple[str, str], tuple[str, int, bool]] = {}
        """(language, group) of a pair's part -> (rule, within, is it the first part)."""
        for lex in lexicons:
            for pair in lex.pairs:
                self.pair_parts[(lex.language, pair.first)] = (pair.rule, pair.within, True)
                self.pair_parts[(lex.language, pair.then)] = (pair.rule, pair.within, False)

    def find_spans(self, words: list[str]) -> list[Span]:
        """Every entry found in ``words``, in text order (overlaps included)."""
        out: list[Span] = []
        last = len(words) - 1
        for i, word in enumerate(words):
            candidates = []
            if i < last and (word, words[i + 1]) in self.pair_keys:
                candidates += self.by_pair[(word, words[i + 1])]
            if word in self.first_keys:
                candidates += self.by_first[word]
            if self.prefixed and word[:2] in self.prefix_starts:
                candidates += [p for p in self.prefixed if word.startswith(p.words[0])]
            for p in candidates:
                if self._fits(p, words, i):
                    lang, group = self.slots[p.slot]
                    out.append(Span(i, i + len(p.words) - 1, group, lang, p.entry))
        out.extend(self._count_spans(words))
        return out

    def _count_spans(self, words: list[str]) -> list[Span]:
        """``NUMBER [word [word]] UNIT`` with NUMBER >= the lexicon's minimum."""
        out: list[Span] = []
        for lang, counts in self.counts.items():
            for i, word in enumerate(words):
                if word.isdigit():
                    if len(word) > 6 or int(word) < counts.minimum:
                        continue
                elif word not in counts.numbers:
                    continue
                for j in range(i + 1, min(i + 4, len(words))):
                    if words[j] in counts.units:
                        out.append(Span(i, j, COUNT, lang, COUNT_PREFIX + words[j]))
                        break
        return out


_MATCHERS: list[tuple[tuple[ScreenLexicon, ...], SpanMatcher]] = []


def matcher_for(lexicons: tuple[ScreenLexicon, ...]) -> SpanMatcher:
    """One matcher per set of lexicon objects (building one indexes ~900 entries)."""
    for known, matcher in _MATCHERS:
        if len(known) == len(lexicons) and all(
            a is b for a, b in zip(known, lexicons, strict=True)
        ):
            return matcher
    matcher = SpanMatcher(lexicons)
    _MATCHERS.append((lexicons, matcher))
    return matcher
