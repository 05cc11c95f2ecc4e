"""Transparent phrase lexicons (English and Welsh) kept as data files in ``lexicons/``.

Each lexicon is a TOML file of categories; each category lists plain phrases. The matching
rules are written at the top of ``lexicons/en.toml`` and implemented in :func:`normalise`,
:func:`tokens` and :class:`Matcher`; a match always names the entry that matched.
"""

from __future__ import annotations

import itertools
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, NamedTuple, TypeVar

from cyberstalk.errors import ReportError

LANGUAGES = ("en", "cy")
CATEGORIES = ("stop_request", "monitoring", "loitering", "publishing", "threats", "fixation")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u02bc": "'"})
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+")


def _fold(text: str) -> str:
    if text.isascii():  # the common case: no accents, no curly apostrophes
        return (text.replace("`", "'") if "`" in text else text).lower()
    text = text.translate(_APOSTROPHES)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def normalise(text: str) -> str:
    """Casefolded, accents removed, apostrophes straightened, spaces collapsed."""
    return _SPACES.sub(" ", _fold(text))


def tokens(normalised: str) -> list[str]:
    """Words of normalised text, apostrophes dropped (``don't`` -> ``dont``)."""
    return _WORD.findall(normalised.replace("'", ""))


@dataclass(frozen=True, slots=True)
class Category:
    """One category of one lexicon."""

    name: str
    title: str
    applies_to: str
    """``victim`` or ``subject``: whose messages are searched."""
    entries: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Lexicon:
    """One language's lexicon."""

    language: str
    file: str
    status: str
    categories: dict[str, Category]

    @property
    def size(self) -> int:
        return sum(len(c.entries) for c in self.categories.values())


def parse_lexicon(text: str, file: str) -> Lexicon:
    """Parse and check one lexicon file; faults name the file and the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ReportError(f"lexicon {file}: invalid TOML: {exc}") from exc
    language = data.get("language")
    if language not in LANGUAGES:
        raise ReportError(
            f"lexicon {file}: language must be one of {LANGUAGES}, found {language!r}"
        )
    cats = data.get("categories")
    if not isinstance(cats, dict):
        raise ReportError(f"lexicon {file}: missing [categories.*] tables")
    categories: dict[str, Category] = {}
    for name, body in cats.items():
        if name not in CATEGORIES:
            raise ReportError(
                f"lexicon {file}: unknown category {name!r}; known: {', '.join(CATEGORIES)}"
            )
        entries = body.get("entries") if isinstance(body, dict) else None
        if not isinstance(entries, list) or not all(
            isinstance(e, str) and e.strip() for e in entries
        ):
            raise ReportError(f"lexicon {file}: categories.{name}.entries must be a list of text")
        applies = body.get("applies_to")
        if applies not in ("victim", "subject"):
            raise ReportError(
                f'lexicon {file}: categories.{name}.applies_to must be "victim" or "subject"'
            )
        clean = tuple(dict.fromkeys(entries))
        for entry in clean:
            words = tokens(normalise(entry.replace("*", "")))
            if not words or "*" in entry.rstrip("*"):
                raise ReportError(
                    f"lexicon {file}: categories.{name} entry {entry!r} must be words, with "
                    "* only at the very end"
                )
        categories[name] = Category(name, str(body.get("title", name)), applies, clean)
    return Lexicon(str(language), file, str(data.get("status", "draft")), categories)


_CACHE: dict[str, Lexicon] = {}


def load_lexicons() -> tuple[Lexicon, ...]:
    """The packaged lexicons, English then Welsh."""
    out = []
    for lang in LANGUAGES:
        if lang not in _CACHE:
            ref = resources.files("cyberstalk.timeline") / "lexicons" / f"{lang}.toml"
            _CACHE[lang] = parse_lexicon(ref.read_text("utf-8"), f"lexicons/{lang}.toml")
        out.append(_CACHE[lang])
    return tuple(out)


class Hit(NamedTuple):
    """One lexicon entry found in a text (a tuple: 200,000 are made in a large case)."""

    category: str
    language: str
    entry: str
    found: str


@dataclass(frozen=True, slots=True)
class _Phrase:
    words: tuple[str, ...]
    prefix: bool
    """The last word is a prefix (entry ended with ``*``)."""
    slot: int
    """Index of (language, category) in the matcher's slot list."""
    entry: str
    plain: bool
    """One exact word, or two: found wherever it is a candidate (a candidate's first word,
    and for two words the pair, are what made it one)."""


class Matcher:
    """Finds lexicon entries in text by words, not by regular expression: each word (and
    each pair of words) of the text is looked up in a dict of entries, so the cost grows
    with the words of the text, not with the size of the lexicons.

    ``applies_to``: whose messages (``victim``, ``subject``) the categories searched are
    for; a tuple of them searches each text once for all (:meth:`find_sides`)."""

    def __init__(self, lexicons: tuple[Lexicon, ...], applies_to: str | tuple[str, ...]) -> None:
        sides = (applies_to,) if isinstance(applies_to, str) else applies_to
        self.slots: list[tuple[str, str]] = []
        self.side_of: list[int] = []
        """Each slot's place in ``applies_to``."""
        self._none: tuple[tuple[Hit, ...], ...] = tuple(() for _ in sides)
        self.by_first: dict[str, list[_Phrase]] = {}
        """Entries whose second word may be a prefix (``two words*``) or single words."""
        self.by_pair: dict[tuple[str, str], list[_Phrase]] = {}
        """Entries of two or more exact leading words."""
        self.prefixed: list[_Phrase] = []
        for lex in lexicons:
            for cat in lex.categories.values():
                if cat.applies_to not in sides:
                    continue
                slot = len(self.slots)
                self.slots.append((lex.language, cat.name))
                self.side_of.append(sides.index(cat.applies_to))
                for entry in cat.entries:
                    words = tuple(tokens(normalise(entry.replace("*", ""))))
                    prefix = entry.endswith("*")
                    phrase = _Phrase(words, prefix, slot, entry, not prefix and len(words) <= 2)
                    if phrase.prefix and len(words) == 1:
                        self.prefixed.append(phrase)
                    elif len(words) >= 3 or (len(words) == 2 and not phrase.prefix):
                        self.by_pair.setdefault((words[0], words[1]), []).append(phrase)
                    else:
                        self.by_first.setdefault(words[0], []).append(phrase)
        # Longest entry first: the report names the most specific entry.
        for group in (*self.by_first.values(), *self.by_pair.values()):
            group.sort(key=lambda p: (-len(p.words), -len(p.entry)))
        self.prefix_starts = frozenset(p.words[0][:2] for p in self.prefixed)
        self.prefix_re = (
            re.compile(r"\b(?:" + "|".join(re.escape(p.words[0]) for p in self.prefixed) + ")")
            if self.prefixed
            else None
        )
        self.first_keys = frozenset(self.by_first)
        self.pair_keys = frozenset(self.by_pair)
        self.heads = self.first_keys.union(first for first, _ in self.by_pair)
        """The words an exact entry starts with."""
        self._hits: dict[tuple[int, str, str], Hit] = {}
        """Each hit made once: a large case finds the same few phrases again and again."""

    def _fits(self, p: _Phrase, words: list[str], i: int) -> bool:
        n = len(p.words)
        if i + n > len(words):
            return False
        if p.prefix:
            return words[i : i + n - 1] == list(p.words[:-1]) and words[i + n - 1].startswith(
                p.words[-1]
            )
        return n <= 2 or words[i : i + n] == list(p.words)

    def find(self, text: str) -> list[Hit]:
        """The first hit of each (language, category), in lexicon order."""
        return self.find_words(tokens(_fold(text))) if text else []

    def find_words(self, words: list[str]) -> list[Hit]:
        """:meth:`find` of a text already made words (``tokens(_fold(text))``)."""
        found = self._first_hits(words)
        if len(found) < 2:
            return list(found.values())
        return [found[k] for k in sorted(found)]

    def find_sides(self, words: list[str]) -> tuple[tuple[Hit, ...], ...]:
        """:meth:`find_words` for each of ``applies_to`` in turn, from one pass."""
        found = self._first_hits(words)
        if not found:
            return self._none
        out: list[list[Hit]] = [[] for _ in self._none]
        side_of = self.side_of
        for k in sorted(found) if len(found) > 1 else found:
            out[side_of[k]].append(found[k])
        return tuple(tuple(hits) for hits in out)

    def _first_hits(self, words: list[str]) -> dict[int, Hit]:
        """The first hit of each slot, by slot."""
        found: dict[int, Hit] = {}
        if not words:
            return found
        # Set operations in C first: most messages hold no entry at all.
        firsts = self.first_keys.intersection(words) if self.first_keys else self.first_keys
        pairs = self.pair_keys.intersection(itertools.pairwise(words))
        prefixed = self.prefix_re is not None and self.prefix_re.search(" ".join(words))
        if not firsts and not pairs and not prefixed:
            return found
        # Only the words that may start an entry are looked at, in text order.
        heads = self.heads
        starts = self.prefix_starts
        if prefixed:
            places = [i for i, w in enumerate(words) if w in heads or w[:2] in starts]
        else:
            places = [i for i, w in enumerate(words) if w in heads]
        last = len(words) - 1
        made = self._hits
        for i in places:
            word = words[i]
            candidates: list[_Phrase] = []
            if pairs and i < last and (word, words[i + 1]) in pairs:
                candidates += self.by_pair[(word, words[i + 1])]
            if word in firsts:
                candidates += self.by_first[word]
            if prefixed and word[:2] in starts:
                candidates += [p for p in self.prefixed if word.startswith(p.words[0])]
            for p in candidates:
                if p.slot not in found and (p.plain or self._fits(p, words, i)):
                    text = word if len(p.words) == 1 else " ".join(words[i : i + len(p.words)])
                    key = (p.slot, p.entry, text)
                    hit = made.get(key)
                    if hit is None:
                        if len(made) > 10_000:  # (a prefix entry finds many words)
                            made.clear()
                        lang, cat = self.slots[p.slot]
                        hit = made[key] = Hit(cat, lang, p.entry, text)
                    found[p.slot] = hit
        return found


_MATCHERS: dict[tuple[int, str | tuple[str, ...]], Matcher] = {}
_BOTH = ("victim", "subject")


def matcher(lexicons: tuple[Lexicon, ...], applies_to: str | tuple[str, ...]) -> Matcher:
    """The matcher of the categories of ``lexicons`` that apply to ``applies_to``."""
    key = (id(lexicons), applies_to)
    found = _MATCHERS.get(key)
    if found is None:
        found = _MATCHERS[key] = Matcher(lexicons, applies_to)
    return found


def find(lexicons: tuple[Lexicon, ...], text: str, applies_to: str) -> list[Hit]:
    """Every category hit in ``text`` (first match per category and language)."""
    return matcher(lexicons, applies_to).find(text)


Pair = tuple[tuple[Hit, ...], tuple[Hit, ...]]
"""The hits in one text of the categories that apply to the victim's own words, and of
those that apply to the subject's."""
K = TypeVar("K", str, int)


def find_in_texts(lexicons: tuple[Lexicon, ...], texts: Iterable[tuple[K, str]]) -> dict[K, Pair]:
    """The :data:`Pair` of each ``(key, text)`` that has a hit, by key (a record id, or a
    record's place in the case): each text is made words once for both kinds of category,
    and equal pairs are one object (a large case matches the same few phrases in most of
    its messages)."""
    both = matcher(lexicons, _BOTH).find_sides
    shared: dict[Pair, Pair] = {}
    out: dict[K, Pair] = {}
    for key, text in texts:
        if text:
            victim, subject = both(tokens(_fold(text)))
            if victim or subject:
                pair = (victim, subject)
                out[key] = shared.setdefault(pair, pair)
    return out


def pack_hits(hits: dict[int, Pair]) -> list[Any]:
    """``hits`` as JSON-ready lists: each distinct pair once, then each key with the index
    of its pair (a child process hands a large case's hits back this way)."""
    pairs: dict[Pair, int] = {}
    rows = [[key, pairs.setdefault(pair, len(pairs))] for key, pair in hits.items()]
    return [[[list(map(list, side)) for side in pair] for pair in pairs], rows]


def unpack_hits(packed: list[Any], ids: Sequence[str]) -> dict[str, Pair]:
    """:func:`pack_hits` of hits keyed by place undone, keyed by ``ids[place]``."""
    pairs, rows = packed
    made: list[Pair] = [
        (tuple(Hit(*h) for h in mine), tuple(Hit(*h) for h in theirs)) for mine, theirs in pairs
    ]
    return {ids[key]: made[n] for key, n in rows}
