"""Screening one free-text summary: which stalking behaviours and FOUR markers it shows.

The decision is deliberately simple so that a reviewer can check it by hand:

1. every lexicon entry is found in the summary (:class:`~.lexicon.SpanMatcher`); where two
   overlap the longer wins, so an exclusion ("followed up", "repeated the caution") hides
   the behaviour word inside it;
2. a match is *set aside* when a negative word ("no", "not", "denies", "dim", "gwadu"...)
   comes at most :data:`NEGATION_WINDOW` words before it in the same clause ("no contact
   since", "denies following her"); clauses end at . ; : ! ? line breaks and words such as
   "but", "then", "ond";
3. a record is flagged for review when what is left shows at least one s.2A(3) behaviour
   and also a FOUR marker or a second, different s.2A(3) behaviour. A single contact, a
   single incident of damage, or a repetition word with no behaviour is not flagged.

A flag says the wording shows possible stalking behaviour for a person to review; it never
says that stalking happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cyberstalk.screening.lexicon import (
    BEHAVIOURS,
    CLAUSE_BREAK,
    COUNT_PREFIX,
    EXCLUSION,
    MARKERS,
    NEGATION,
    RULES,
    ScreenLexicon,
    Span,
    Word,
    load_screen_lexicons,
    matcher_for,
    words_of,
)

NEGATION_WINDOW = 4
"""How many words before a match a negative word still applies to it."""
_BREAK_CHARS = frozenset(".;:!?\n\r\u2028\u2029")
_RULE_ORDER = {rule: i for i, rule in enumerate(RULES)}


@dataclass(frozen=True, slots=True)
class Match:
    """One lexicon entry found in a summary."""

    rule: str
    """Rule id, e.g. ``s2A3-b-contacting`` or ``FOUR-repeated``."""
    language: str
    """Lexicon it came from: ``en`` or ``cy``."""
    entry: str
    """The lexicon entry (``NUMBER messages`` for a count)."""
    words: str
    """The words exactly as the summary writes them."""
    start: int
    """Character offset of the first word in the summary (0-based)."""
    end: int
    """Character offset just past the last word."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "language": self.language,
            "entry": self.entry,
            "words": self.words,
            "start": self.start,
            "end": self.end,
        }

    def quoted(self) -> str:
        """``"kept following" @12-26`` for tables."""
        return f'"{self.words}" @{self.start}-{self.end}'


@dataclass(frozen=True, slots=True)
class SetAside:
    """A match not counted because a negative word governs it."""

    match: Match
    cue: str
    """The negative word(s) as written ("no", "denies")."""
    cue_start: int

    def as_dict(self) -> dict[str, Any]:
        return {**self.match.as_dict(), "negated_by": self.cue, "negated_by_start": self.cue_start}


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the screen found in one summary."""

    flagged: bool
    """True when the summary shows possible stalking behaviour for review."""
    rules: tuple[str, ...]
    """The rules that fired (behaviours then FOUR markers), empty when not flagged."""
    matches: tuple[Match, ...]
    """Every counted match, in text order (also when not flagged)."""
    set_aside: tuple[SetAside, ...]
    """Matches set aside by a negative word, in text order."""

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({m.language for m in self.matches}))

    def reason(self) -> str:
        if not self.flagged:
            return "not flagged"
        behaviours = [r for r in self.rules if r in BEHAVIOURS]
        markers = [r for r in self.rules if r in MARKERS]
        support = ", ".join(markers) if markers else "a second s.2A(3) behaviour"
        return (
            f"shows possible stalking behaviour for review: {', '.join(behaviours)} with {support}"
        )


def _pick(spans: list[Span]) -> list[Span]:
    """Longest first, then leftmost: overlapping shorter spans are dropped."""
    taken: set[int] = set()
    chosen: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.first - s.last, s.first, s.group)):
        positions = range(span.first, span.last + 1)
        if taken.isdisjoint(positions):
            taken.update(positions)
            chosen.append(span)
    chosen.sort(key=lambda s: (s.first, s.last))
    return chosen


def _break_between(text: str, words: list[Word], k: int) -> bool:
    """True when punctuation ending a clause lies between word ``k`` and ``k + 1``."""
    gap = text[words[k].end : words[k + 1].start]
    return not _BREAK_CHARS.isdisjoint(gap)


def assess(text: str, lexicons: tuple[ScreenLexicon, ...] | None = None) -> Assessment:
    """Screen one summary with the packaged lexicons (or ``lexicons``)."""
    lexs = lexicons if lexicons is not None else load_screen_lexicons()
    words = words_of(text)
    if not words:
        return Assessment(False, (), (), ())
    found = matcher_for(lexs).find_spans([w.text for w in words])
    spans = _pick([s for s in found if not s.entry.startswith(COUNT_PREFIX)])
    role: dict[int, Span] = {}
    for span in spans:
        for i in range(span.first, span.last + 1):
            role[i] = span
    # A count ("40 unwanted messages") overlaps the words it counts: the unit stays
    # available to the behaviour rules ("messages" is also contacting).
    counted = {
        s.first: s
        for s in found
        if s.entry.startswith(COUNT_PREFIX)
        and s.first not in role
        and (s.last not in role or role[s.last].group != EXCLUSION)  # "36 scam calls"
    }
    spans = sorted([*spans, *counted.values()], key=lambda s: (s.first, s.last))
    matches: list[Match] = []
    set_aside: list[SetAside] = []
    for span in spans:
        if span.group not in RULES:
            continue
        start, end = words[span.first].start, words[span.last].end
        match = Match(span.group, span.language, span.entry, text[start:end], start, end)
        cue = _negation(text, words, role, span.first)
        if cue is None:
            matches.append(match)
        else:
            cue_text = text[words[cue.first].start : words[cue.last].end]
            set_aside.append(SetAside(match, cue_text, words[cue.first].start))
    behaviours = {m.rule for m in matches if m.rule in BEHAVIOURS}
    markers = {m.rule for m in matches if m.rule in MARKERS}
    flagged = bool(behaviours) and (bool(markers) or len(behaviours) >= 2)
    rules = tuple(sorted(behaviours | markers, key=_RULE_ORDER.__getitem__)) if flagged else ()
    return Assessment(flagged, rules, tuple(matches), tuple(set_aside))


def _negation(text: str, words: list[Word], role: dict[int, Span], first: int) -> Span | None:
    """The negation span governing the match that starts at word ``first``, if any."""
    k = first - 1
    while k >= 0 and k >= first - NEGATION_WINDOW:
        if _break_between(text, words, k):
            return None
        span = role.get(k)
        if span is not None:
            if span.group == CLAUSE_BREAK:
                return None
            if span.group == NEGATION:
                return span
            if span.group == EXCLUSION and span.first < k:
                k = span.first  # an exclusion counts as one word
        k -= 1
    return None
