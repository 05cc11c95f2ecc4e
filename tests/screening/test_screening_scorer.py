"""The learned scorer beside the rules: deterministic training, explainable flags, how it
combines with the rules; the behaviour classes of fixtures/screening_tuning.py flag their own
records and not the hard negatives; Welsh mutated forms match."""

from __future__ import annotations

import json

import pytest

from cyberstalk.screening import Finding, scorer, screen_text
from cyberstalk.screening.engine import assess
from cyberstalk.screening.lexicon import load_screen_lexicons, welsh_mutations
from cyberstalk.screening.reader import InputRecord
from helpers.fixture_scripts import load_fixture

TUNING = load_fixture("screening_tuning")
RECORDS = TUNING.records()


def test_retraining_reproduces_the_packaged_weights_byte_for_byte() -> None:
    weights = scorer.train(TUNING.training_examples())
    assert scorer.dump(weights) == scorer.weights_path().read_bytes()


def test_training_is_deterministic_and_follows_the_data() -> None:
    examples = TUNING.training_examples()[:120]
    a, b = scorer.train(examples), scorer.train(examples)
    assert scorer.dump(a) == scorer.dump(b)
    flipped = scorer.train([(t, not y) for t, y in examples])
    assert flipped.trained_on != a.trained_on and scorer.dump(flipped) != scorer.dump(a)


def test_the_weights_file_records_how_rules_and_scorer_combine() -> None:
    data = json.loads(scorer.weights_path().read_bytes())
    assert data["feature_version"] == scorer.FEATURE_VERSION
    assert scorer.MIN_THRESHOLD <= data["threshold"] <= 1
    assert 0 <= data["veto"] <= min(scorer.MAX_VETO, data["threshold"])
    assert data["examples"] == len(TUNING.training_examples())


def by_class(label: str) -> list[tuple[str, str, str]]:
    return [
        (r["class"], r["language"], r["text"])
        for r in RECORDS
        if r["split"] == TUNING.TUNE and r["label"] == label
    ]


@pytest.mark.parametrize(("cls", "lang", "text"), by_class(TUNING.STALKING))
def test_each_behaviour_class_flags_its_tuning_records(cls: str, lang: str, text: str) -> None:
    assert screen_text(text).flagged, f"{lang} {cls}: {text}"


@pytest.mark.parametrize(("cls", "lang", "text"), by_class(TUNING.OTHER))
def test_hard_negatives_are_not_flagged(cls: str, lang: str, text: str) -> None:
    assert not screen_text(text).flagged, f"{lang} {cls}: {text}"


def model_only() -> list[str]:
    return [
        r["text"]
        for r in RECORDS
        if r["label"] == TUNING.STALKING and screen_text(r["text"]).flagged_by == ("model",)
    ]


def test_a_flag_by_the_scorer_lists_its_features_with_weights() -> None:
    texts = model_only()
    assert texts, "the scorer adds flags the rules miss"
    text = texts[0]
    s = screen_text(text)
    finding = Finding(InputRecord("R1", "line 2", text, None, None), s.assessment, s)
    out = finding.as_dict()
    assert out["flagged_by"] == ["model"]
    assert out["model"]["score"] >= out["model"]["threshold"]
    features = out["model"]["features"]
    assert 0 < len(features) <= scorer.TOP_FEATURES
    weights = [f["weight"] * f["count"] for f in features]
    assert all(w > 0 for w in weights) and weights == sorted(weights, reverse=True)
    for f in features:
        assert f["feature"].split(":", 1)[1] == f["value"]
    assert "scorer" in out["reason"] and features[0]["value"] in out["reason"]


def test_the_combination_rule() -> None:
    w = scorer.load()
    for r in RECORDS:
        s = screen_text(r["text"])
        rules, score = s.assessment.flagged, w.score(r["text"], s.assessment)
        assert s.flagged == ((rules and score >= w.veto) or score >= w.threshold)


def test_features_of_a_summary() -> None:
    text = "He keeps waiting outside her house."
    feats = scorer.features(text, assess(text))
    assert "w:waiting" in feats and "b:outside her" in feats and "c:^wai" in feats
    assert "r:s2A3-e-loitering" in feats and "r:flag" in feats
    # who did it is not a feature: the training records' suspect wording must not count
    assert not any(k in feats for k in ("w:he", "w:her"))
    assert "w:suspect" not in scorer.features("The suspect", assess("The suspect"))


@pytest.mark.parametrize(
    ("radical", "forms"),
    [
        ("cartref", {"gartref", "nghartref", "chartref"}),
        ("gwylio", {"wylio", "ngwylio"}),
        ("dilyn", {"ddilyn", "nilyn"}),
        ("pen", {"ben", "mhen", "phen"}),
        ("llythyrau", {"lythyrau"}),
        ("enw", {"henw"}),
        ("chartref", set()),
    ],
)
def test_welsh_mutations(radical: str, forms: set[str]) -> None:
    assert set(welsh_mutations(radical)) == forms


def test_mutated_welsh_forms_match_without_being_listed() -> None:
    cy = next(lex for lex in load_screen_lexicons() if lex.language == "cy")
    entries = cy.groups["s2A3-d-monitoring"]
    assert "ddyfais olrhain" in entries and "nyfais olrhain" in entries  # generated
    a = assess("Daeth o hyd i ddyfais olrhain o dan ei char ac mae'n ei thracio bob dydd.")
    found = {(m.rule, m.words.lower()) for m in a.matches}
    assert ("s2A3-d-monitoring", "ddyfais olrhain") in found
    assert a.flagged
    # negative words are not mutated into new negative words
    assert cy.groups["negation"] == tuple(dict.fromkeys(cy.groups["negation"]))
    assert "nim" not in cy.groups["negation"]


OWN_HELD_OUT = {  # just under what was measured
    (TUNING.HOLDOUT, "en"): (0.97, 0.93),  # 1.000 / 0.950
    (TUNING.HOLDOUT, "cy"): (0.93, 0.93),  # 0.950 / 0.950
    (TUNING.HOLDOUT_2, "en"): (0.89, 0.85),  # 0.907 / 0.867
    (TUNING.HOLDOUT_2, "cy"): (0.90, 0.90),  # 0.923 / 0.923
}


@pytest.mark.parametrize(("split", "lang"), list(OWN_HELD_OUT))
def test_own_held_out_split(split: str, lang: str) -> None:
    """Written before the rules or the scorer changed for them; never tuned or trained
    on."""
    m = TUNING.measure()[(split, lang)]
    want_p, want_r = OWN_HELD_OUT[(split, lang)]
    assert m["precision"] >= want_p and m["recall"] >= want_r, m
