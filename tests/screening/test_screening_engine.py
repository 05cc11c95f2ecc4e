"""The screening rules on single summaries: behaviours, FOUR markers, negation, exclusions,
Welsh, positions; and the lexicon files themselves."""

from __future__ import annotations

import pytest

from cyberstalk.errors import ReportError
from cyberstalk.screening import assess
from cyberstalk.screening.lexicon import (
    BEHAVIOURS,
    MARKERS,
    RULES,
    load_screen_lexicons,
    matcher_for,
    parse_screen_lexicon,
    words_of,
)


def rules(text: str) -> tuple[str, ...]:
    return assess(text).rules


def test_behaviour_with_repetition_is_flagged_with_words_and_positions() -> None:
    text = "He has repeatedly turned up outside her house."
    a = assess(text)
    assert a.flagged
    assert a.rules == ("s2A3-e-loitering", "FOUR-repeated")
    for m in a.matches:
        assert text[m.start : m.end] == m.words  # positions point at the words as written
    assert [(m.rule, m.words) for m in a.matches] == [
        ("FOUR-repeated", "repeatedly"),
        ("s2A3-e-loitering", "turned up"),
        ("s2A3-e-loitering", "outside her house"),
    ]
    assert a.reason().startswith("shows possible stalking behaviour for review")


def test_a_single_contact_or_a_repetition_alone_is_not_flagged() -> None:
    assert not assess("The suspect sent the victim one message about a sofa.").flagged
    assert not assess("Shoplifting: male repeatedly seen taking items from the shelves.").flagged
    single = assess("Tyres slashed on her car overnight.")
    assert not single.flagged and single.rules == ()
    assert {m.rule for m in single.matches} == {"s2A3-f-interfering"}  # found, not enough


def test_two_different_behaviours_are_enough() -> None:
    assert rules("He slashed her tyres and was seen loitering by her gate.") == (
        "s2A3-e-loitering",
        "s2A3-f-interfering",
    )


def test_counts_are_repetition_and_the_counted_word_still_counts() -> None:
    a = assess("Victim has received 40 unwanted messages.")
    assert ("FOUR-repeated", "40 unwanted messages") in [(m.rule, m.words) for m in a.matches]
    assert a.rules == ("s2A3-b-contacting", "FOUR-unwanted", "FOUR-repeated")
    assert not assess("Victim received 1 message.").flagged
    # a count of excluded things is not a count
    assert not assess("Victim called her bank after 36 scam calls.").flagged


@pytest.mark.parametrize(
    ("text", "cue", "words"),
    [
        ("No contact since March.", "No", "contact"),
        ("The suspect denies following her.", "denies", "following her"),
        ("He did not contact her again.", "not", "contact her"),
        ("Dim cysylltiad ers hynny.", "Dim", "cysylltiad"),
        ("Mae'n gwadu ei dilyn hi.", "gwadu", "ei dilyn"),
    ],
)
def test_negation_sets_matches_aside(text: str, cue: str, words: str) -> None:
    a = assess(text)
    assert (words, cue) in [(s.match.words, s.cue) for s in a.set_aside]
    assert words not in [m.words for m in a.matches]


def test_negation_ends_at_the_clause() -> None:
    a = assess("No calls or messages since June, but he kept following her.")
    assert a.rules == ("s2A3-a-following", "FOUR-repeated")
    assert {s.match.words for s in a.set_aside} == {"calls", "messages"}
    # a full stop ends it too
    b = assess("No arrests. He kept following her.")
    assert b.flagged and not b.set_aside
    # beyond the window the negative no longer applies
    c = assess("No reply from the ex-partner when asked, he kept contacting her.")
    assert c.flagged


def test_markers_holding_a_negative_word_are_not_negated() -> None:
    a = assess("She does not want contact but he keeps texting her.")
    assert a.rules == ("s2A3-b-contacting", "FOUR-unwanted", "FOUR-repeated")
    assert not a.set_aside


@pytest.mark.parametrize(
    "text",
    [
        "Officer followed up with the victim by phone; no further action.",
        "Officer repeated the caution and the suspect made no comment.",
        "Following a report of a burglary, officers repeatedly attended.",
        "Victim contacted police again to report her bike stolen from outside her house.",
        "Yn dilyn adroddiad am fyrgleriaeth, aeth swyddogion i'r eiddo dro ar ôl tro.",
        "Ailadroddodd y swyddog y rhybudd.",
    ],
)
def test_hard_negatives_are_not_flagged(text: str) -> None:
    assert not assess(text).flagged, assess(text)


def test_welsh_summaries_are_flagged_by_the_welsh_lexicon() -> None:
    a = assess("Mae ei chyn-bartner yn ei dilyn hi i'r gwaith bob dydd.")
    assert a.rules == ("s2A3-a-following", "FOUR-repeated")
    assert a.languages == ("cy",)
    assert [(m.language, m.entry) for m in a.matches] == [
        ("cy", "ei dilyn"),
        ("cy", "bob dydd"),
    ]
    # accents and apostrophes as written are quoted back exactly
    text = "Mae'n aros wrth y tu allan i’w chartref dro ar ôl tro."
    b = assess(text)
    assert b.flagged
    assert [m.words for m in b.matches] == ["tu allan i’w chartref", "dro ar ôl tro"]


def test_words_keep_their_offsets() -> None:
    text = "Don’t — café  ôl"
    words = words_of(text)
    assert [w.text for w in words] == ["dont", "cafe", "ol"]
    assert [text[w.start : w.end] for w in words] == ["Don’t", "café", "ôl"]
    # decomposed accents stay inside their word
    decomposed = "o\u0302l tro"
    assert [w.text for w in words_of(decomposed)] == ["ol", "tro"]


def test_every_lexicon_entry_is_found_on_its_own() -> None:
    """Each rule entry, written as a summary on its own, is found as that rule (an entry
    that normalisation or indexing could never match would fail here)."""
    for lex in load_screen_lexicons():
        matcher = matcher_for(load_screen_lexicons())
        for rule in RULES:
            for entry in lex.groups.get(rule, ()):
                text = entry.replace("*", "ed")
                spans = matcher.find_spans([w.text for w in words_of(text)])
                assert (rule, entry) in [(s.group, s.entry) for s in spans], (lex.language, entry)


def test_both_lexicons_cover_every_rule_and_are_drafts() -> None:
    en, cy = load_screen_lexicons()
    for lex in (en, cy):
        assert set(BEHAVIOURS) | set(MARKERS) <= set(lex.groups)
        assert all(lex.groups[rule] for rule in RULES)
        assert lex.groups["negation"] and lex.groups["exclusion"]
    assert cy.status == "draft"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('language = "fr"\n[rules]', "language must be one of"),
        ('language = "en"\n', "missing [rules.*]"),
        ('language = "en"\n[rules.s2A3-z-flying]\nentries = ["x"]', "unknown rule"),
        ('language = "en"\n[rules.FOUR-repeated]\nentries = ["a*b"]', "* only at the very end"),
        ('language = "en"\n[rules.FOUR-repeated]\nentries = "again"', "must be a list of text"),
        (
            'language = "en"\n[rules.FOUR-repeated]\nentries=["x"]\n[counts]\nunits=["two words"]',
            "must be one word",
        ),
        ("language = ", "invalid TOML"),
    ],
)
def test_malformed_lexicons_are_refused_by_name(text: str, message: str) -> None:
    with pytest.raises(ReportError, match=r"lexicon test\.toml") as info:
        parse_screen_lexicon(text, "test.toml")
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("text", "rule", "entry"),
    [
        ("He was sitting in his car near her house again.", "s2A3-e-loitering",
         "sitting ... near her"),
        ("He has been calling her mother and her sister every day.", "s2A3-b-contacting",
         "calling ... her mother"),
        ("Pizzas were ordered to her address in her name several times.", "SB-ordering",
         "pizzas ... to her address"),
        ("He made malicious allegations to social services, again.", "SB-false-reports",
         "malicious ... allegations"),
        ("She moved to a refuge but he traced where she lives.", "SB-locating",
         "traced ... where she lives"),
        ("Mae'n eistedd yn ei gar ger ei chartref bob bore.", "s2A3-e-loitering",
         "eistedd ... ger ei chartref"),
        ("Cafodd ei chyn-bartner y rhif newydd gan ffrind ac mae'n ei ffonio eto.",
         "SB-locating", "cafodd ... y rhif newydd"),
    ],
)  # fmt: skip
def test_two_part_entries_quote_both_parts_and_the_words_between(
    text: str, rule: str, entry: str
) -> None:
    a = assess(text)
    assert a.flagged, a
    match = next(m for m in a.matches if m.rule == rule)
    assert match.entry == entry
    assert text[match.start : match.end] == match.words
    assert match.words.lower().startswith(entry.split(" ... ")[0].split()[0].lower())


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("Victim has had repeated calls from a call centre about a claim.", "call centre"),
        ("A debt collector has phoned her repeatedly about a loan.", "debt collector"),
        ("Bailiffs attended her workplace twice about a debt.", "Bailiffs"),
        ("He messages her each week to arrange contact with their son.", "arrange contact"),
        ("Mae canolfan alwadau wedi ffonio'r dioddefwr sawl gwaith.", "canolfan alwadau"),
    ],
)
def test_ordinary_callers_and_purposes_set_matches_aside(text: str, cue: str) -> None:
    a = assess(text)
    assert not a.flagged
    assert a.set_aside and all(s.cue == cue for s in a.set_aside)


def test_a_behaviour_described_in_two_clauses_is_flagged_but_once_is_not() -> None:
    two = assess("A GPS tracker was found under her car; he knows where she has been.")
    assert two.flagged and two.rules == ("s2A3-d-monitoring",)
    assert two.described_again == ("s2A3-d-monitoring",)
    assert "described in two clauses" in two.reason()
    once = assess("A GPS tracker was fitted by the finance company.")
    assert not once.flagged


def test_the_pair_part_inside_an_exclusion_is_not_used() -> None:
    a = assess("Her car was damaged while parked outside her house again.")
    assert not [m for m in a.matches if m.rule == "s2A3-e-loitering"]
