from __future__ import annotations

import json

import pytest

from cyberstalk.errors import ReportError
from cyberstalk.timeline import lexicon
from cyberstalk.timeline.lexicon import (
    CATEGORIES,
    find,
    load_lexicons,
    normalise,
    parse_lexicon,
    tokens,
)


def cats(text: str, applies: str = "subject") -> dict[str, tuple[str, str]]:
    return {h.category: (h.language, h.entry) for h in find(load_lexicons(), text, applies)}


def test_both_languages_cover_every_category() -> None:
    en, cy = load_lexicons()
    assert en.language == "en" and cy.language == "cy"
    assert set(en.categories) == set(cy.categories) == set(CATEGORIES)
    assert cy.status == "draft"


def test_english_stop_requests() -> None:
    assert cats("Please stop contacting me.", "victim")["stop_request"][0] == "en"
    assert cats("Stop. I will go to the police.", "victim")["stop_request"] == (
        "en",
        "i will go to the police",
    )
    # apostrophe optional, curly apostrophe read as straight
    assert "stop_request" in cats("dont contact me", "victim")
    assert "stop_request" in cats("Don\u2019t message me again", "victim")
    # whole words only
    assert "stop_request" not in cats("please stopping by later", "victim")
    assert cats("see you at the bus stop", "victim") == {}


def test_welsh_with_and_without_accents_and_mutations() -> None:
    assert cats("Paid â chysylltu â fi eto.", "victim")["stop_request"][0] == "cy"
    assert cats("paid a chysylltu a fi", "victim")["stop_request"][0] == "cy"
    assert cats("Gad lonydd i mi", "victim")["stop_request"][0] == "cy"
    assert cats("Welais i di yn y dre")["monitoring"][0] == "cy"
    assert cats("byddi di'n difaru")["threats"][0] == "cy"


def test_subject_categories() -> None:
    found = cats("I saw you at the station. I'll be outside your flat. You'll regret this")
    assert set(found) >= {"monitoring", "loitering", "threats"}
    assert cats("everyone will see your photos")["publishing"][0] == "en"
    assert cats("you owe me an explanation")["fixation"] == ("en", "you owe me")
    assert cats("I was threatened by the weather")["threats"] == ("en", "threaten*")
    # subject lexicons are not applied to the victim's own words and vice versa
    assert "monitoring" not in cats("I saw you", "victim")
    assert "stop_request" not in cats("please stop", "subject")


def test_normalise() -> None:
    assert normalise("Caf\u00e9  on\nSTRYD  Fawr \u2019") == "cafe on stryd fawr '"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'language = "fr"\n[categories.threats]\napplies_to="subject"\nentries=["x"]',
            "language must be one of",
        ),
        (
            'language = "en"\n[categories.gossip]\napplies_to="subject"\nentries=["x"]',
            "unknown category 'gossip'",
        ),
        ('language = "en"\n[categories.threats]\napplies_to="anyone"\nentries=["x"]', "applies_to"),
        (
            'language = "en"\n[categories.threats]\napplies_to="subject"\nentries=[""]',
            "entries must be a list",
        ),
        ('language = "en"\ncategories = 3', "missing [categories"),
        ("language = ", "invalid TOML"),
    ],
)
def test_bad_lexicon_files_name_the_fault(text: str, message: str) -> None:
    with pytest.raises(ReportError, match=message.replace("[", r"\[")) as info:
        parse_lexicon(text, "bad.toml")
    assert "bad.toml" in str(info.value)


def test_hits_of_many_texts_are_those_of_each_text_and_survive_packing() -> None:
    lexicons = lexicon.load_lexicons()
    texts = [
        "Please stop contacting me",
        "I'll be outside your flat later",
        "Plîs paid â chysylltu â fi eto",
        "Good morning",
        "",
        "I know where you go running, stop ignoring me",
    ]
    found = lexicon.find_in_texts(lexicons, list(enumerate(texts)))
    for n, text in enumerate(texts):
        pair = (
            tuple(lexicon.find(lexicons, text, "victim")),
            tuple(lexicon.find(lexicons, text, "subject")),
        )
        assert found.get(n, ((), ())) == pair
    assert 3 not in found and 4 not in found and len(found) >= 3
    ids = [f"r-{n:016x}" for n in range(len(texts))]
    packed = json.loads(json.dumps(lexicon.pack_hits(found)))  # as a child hands it back
    assert lexicon.unpack_hits(packed, ids) == {ids[n]: pair for n, pair in found.items()}


def test_every_entry_is_found_in_a_text_of_its_own_words_by_both_searches() -> None:
    """Each entry, alone, inside a sentence, twice, and cut short: what the one search
    for both sides (:func:`lexicon.find_in_texts`) finds is what each side's own search
    finds, and an entry's own words give its category's hit, quoting those words."""
    lexicons = load_lexicons()
    texts: list[str] = []
    whole: list[tuple[int, str, str, str]] = []  # (text, category, applies_to, its words)
    for lex in lexicons:
        for cat in lex.categories.values():
            for entry in cat.entries:
                words = entry.replace("*", "")
                whole.append(
                    (len(texts), cat.name, cat.applies_to, " ".join(tokens(normalise(words))))
                )
                texts.append(words)
                texts += [
                    f"well {words} now",
                    f"{words}s and {words.upper()}!",
                    " ".join(words.split()[:-1]),
                ]
    found = lexicon.find_in_texts(lexicons, list(enumerate(texts)))
    for n, text in enumerate(texts):
        pair = (tuple(find(lexicons, text, "victim")), tuple(find(lexicons, text, "subject")))
        assert found.get(n, ((), ())) == pair, text
    for n, category, applies, words in whole:
        side = found[n][0 if applies == "victim" else 1]
        hit = next(h for h in side if h.category == category)
        assert hit.found == words
    assert len(whole) > 200  # (both lexicons: 247 entries)


def test_indicators_by_record_lists_each_citing_indicator_once_in_order() -> None:
    import random

    from cyberstalk.timeline.analysis import indicators_by_record
    from cyberstalk.timeline.model import Indicator

    rng = random.Random(7)
    ids = [f"r-{n:016x}" for n in range(300)]
    names = ["repeated", "unwanted", "fixated", "repeated", "night_contact", "monitoring"]
    indicators = [
        Indicator(name, name, "rule", tuple(rng.sample(ids, rng.randrange(0, 300))))
        for name in names
    ]
    indicators.append(Indicator("unwanted", "u", "rule", (ids[0], ids[0], ids[1])))  # repeats
    got = indicators_by_record(indicators)
    want: dict[str, list[str]] = {}
    for ind in indicators:
        for rid in ind.records:
            cited = want.setdefault(rid, [])
            if ind.id not in cited:
                cited.append(ind.id)
    assert got == {rid: tuple(cited) for rid, cited in want.items()}
    # one tuple per combination
    assert len({id(v) for v in got.values()}) == len(set(got.values()))
