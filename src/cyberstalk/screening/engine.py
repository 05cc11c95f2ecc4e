"""Screening one free-text summary: which stalking behaviours and FOUR markers it shows.

The decision is deliberately simple so that a reviewer can check it by hand:

1. every lexicon entry is found in the summary (:class:`~.lexicon.SpanMatcher`), and every
   two-part entry (``[[pairs]]``: "waiting ... her house", "ordered ... in her name") whose
   parts come close together in one clause and are not inside an exclusion; where two
   overlap the longer wins, so an exclusion ("followed up", "repeated the caution") hides
   the behaviour word inside it;
2. a match is *set aside* when a negative word ("no", "not", "denies", "dim", "gwadu"...)
   comes at most :data:`NEGATION_WINDOW` words before it in the same clause ("no contact
   since", "denies following her"); clauses end at . ; : ! ? line breaks and words such as
   "but", "then", "ond"; a match is also set aside when words naming an ordinary caller or
   purpose ("call centre", "debt collector", "officers attended", "arrange contact with the
   children", "canolfan alwadau") come within :data:`ORDINARY_WINDOW` words of it, before or
   after, in the same clause;
3. a record is flagged for review when what is left shows at least one behaviour (an s.2A(3)
   example, or a further behaviour of the published lists: ``SB-ordering``,
   ``SB-false-reports``, ``SB-locating``) and also a FOUR marker, a second, different
   behaviour, or the same behaviour described again in another clause ("a GPS device was
   found taped under her car; he always knows where she is"). A single contact, a
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
    ORDINARY,
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
ORDINARY_WINDOW = 8
"""How many words before or after a match an ordinary caller or purpose applies to it."""
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
    """Matches set aside by a negative word or an ordinary caller, in text order."""
    described_again: tuple[str, ...] = ()
    """Behaviours whose matches lie in two or more clauses (support for the flag)."""

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({m.language for m in self.matches}))

    def reason(self) -> str:
        if not self.flagged:
            return "not flagged"
        behaviours = [r for r in self.rules if r in BEHAVIOURS]
        markers = [r for r in self.rules if r in MARKERS]
        if markers:
            support = ", ".join(markers)
        elif len(behaviours) >= 2:
            support = "a second behaviour"
        else:
            support = f"{', '.join(self.described_again)} described in two clauses"
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
    matcher = matcher_for(lexs)
    found = matcher.find_spans([w.text for w in words])
    breaks = {i for s in found if s.group == CLAUSE_BREAK for i in range(s.first, s.last + 1)}
    ordinary = [s for s in found if s.group == ORDINARY]
    paired = _pairs(text, words, found, matcher.pair_parts, breaks)
    spans = _pick(
        [
            s
            for s in found
            if not s.entry.startswith(COUNT_PREFIX)
            and s.group != ORDINARY
            and (s.language, s.group) not in matcher.pair_parts
        ]
        + paired
    )
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
    clause = _clauses(text, words, breaks)
    matches: list[Match] = []
    set_aside: list[SetAside] = []
    clauses_of: dict[str, set[int]] = {}
    for span in spans:
        if span.group not in RULES:
            continue
        start, end = words[span.first].start, words[span.last].end
        match = Match(span.group, span.language, span.entry, text[start:end], start, end)
        cue = _negation(text, words, role, span.first) or _ordinary(
            text, words, ordinary, breaks, span
        )
        if cue is None:
            matches.append(match)
            clauses_of.setdefault(span.group, set()).add(clause[span.first])
        else:
            cue_text = text[words[cue.first].start : words[cue.last].end]
            set_aside.append(SetAside(match, cue_text, words[cue.first].start))
    behaviours = {m.rule for m in matches if m.rule in BEHAVIOURS}
    markers = {m.rule for m in matches if m.rule in MARKERS}
    again = tuple(
        sorted((r for r in behaviours if len(clauses_of[r]) >= 2), key=_RULE_ORDER.__getitem__)
    )
    flagged = bool(behaviours) and (bool(markers) or len(behaviours) >= 2 or bool(again))
    rules = tuple(sorted(behaviours | markers, key=_RULE_ORDER.__getitem__)) if flagged else ()
    return Assessment(flagged, rules, tuple(matches), tuple(set_aside), again if flagged else ())


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


def _clauses(text: str, words: list[Word], breaks: set[int]) -> list[int]:
    """The clause number of every word (clauses end as for negation)."""
    out = [0] * len(words)
    n = 0
    for k in range(1, len(words)):
        if _break_between(text, words, k - 1) or k in breaks:
            n += 1
        out[k] = n
    return out


def _same_clause(text: str, words: list[Word], a: int, b: int, breaks: set[int]) -> bool:
    """True when words ``a`` < ``b`` are in one clause: no clause-ending punctuation between
    them and no clause-break word ("but", "then", "ond") strictly between."""
    return not any(_break_between(text, words, k) for k in range(a, b)) and not any(
        k in breaks for k in range(a + 1, b)
    )


def _pairs(
    text: str,
    words: list[Word],
    found: list[Span],
    parts: dict[tuple[str, str], tuple[str, int, bool]],
    breaks: set[int],
) -> list[Span]:
    """The two-part entries: each first part with the nearest second part of the same pair
    that starts at most ``within`` words after it in the same clause. A part inside an
    exclusion ("while parked outside") is not used."""
    excluded = {i for s in found if s.group == EXCLUSION for i in range(s.first, s.last + 1)}
    firsts: list[tuple[Span, str, int]] = []
    thens: dict[tuple[str, str], list[Span]] = {}
    for s in found:
        role = parts.get((s.language, s.group))
        if role is None or not excluded.isdisjoint(range(s.first, s.last + 1)):
            continue
        rule, within, is_first = role
        pair_id = (s.language, s.group.split(".", 1)[0])
        if is_first:
            firsts.append((s, rule, within))
        else:
            thens.setdefault(pair_id, []).append(s)
    out: list[Span] = []
    for first, rule, within in firsts:
        pair_id = (first.language, first.group.split(".", 1)[0])
        options = [
            t
            for t in thens.get(pair_id, ())
            if first.last < t.first <= first.last + 1 + within
            and _same_clause(text, words, first.last, t.first, breaks)
        ]
        if options:
            then = min(options, key=lambda t: (t.first, t.first - t.last))
            entry = f"{first.entry} ... {then.entry}"
            out.append(Span(first.first, then.last, rule, first.language, entry))
    return out


def _ordinary(
    text: str, words: list[Word], ordinary: list[Span], breaks: set[int], span: Span
) -> Span | None:
    """An ordinary caller or purpose within :data:`ORDINARY_WINDOW` words of ``span``, before
    or after it (or overlapping it), in the same clause."""
    for cue in ordinary:
        if cue.last < span.first:
            near = span.first - cue.last <= ORDINARY_WINDOW and _same_clause(
                text, words, cue.last, span.first, breaks
            )
        elif cue.first > span.last:
            near = cue.first - span.last <= ORDINARY_WINDOW and _same_clause(
                text, words, span.last, cue.first, breaks
            )
        else:
            near = True
        if near:
            return cue
    return None
