"""A learned scorer beside the rules: a small logistic regression over word, word-pair and
character n-gram features of a summary, plus which rules matched.

Why: the rules find the published behaviours in the words they list; wording they do not
list ("she fears the car is bugged", "tynnu lluniau ohoni wrth iddi adael") or a behaviour
they find only once is where the scorer adds recall. It is trained in the repository on the
labelled records that ship with it (``fixtures/screening_tuning.py`` ``tune`` split and the
``tuning`` splits of ``fixtures/crime_records.py``); ``python fixtures/screening_tuning.py
--train`` rewrites ``scorer.json``, and a test checks that retraining gives the same bytes.

Features of one summary (all lower-cased, accents folded, as the lexicons see words):

* ``w:WORD`` every distinct word;
* ``b:WORD WORD`` every distinct pair of neighbouring words in one clause;
* ``c:GRAM`` the character 4-grams of every distinct word of four letters or more, with
  ``^`` and ``$`` marking its ends; these let "ddilyn" share most of its evidence with
  "dilyn" and "chartref" with "cartref" (Welsh mutations change only the first letters);
* ``r:RULE`` every rule with a counted match, ``r:flag`` when the rules flag it and
  ``r:set-aside`` when a match was set aside (a negative word or an ordinary caller).

Training is deterministic: examples in the order given, a fixed number of passes of
stochastic gradient descent with L2 shrinkage, no randomness; weights are rounded to four
decimals before they are written, so the same data gives the same bytes.

How it combines with the rules (:func:`decide`): a record is flagged when the rules flag it
and the score is at least :attr:`Weights.veto` (a rule flag the scorer finds very unlike
stalking, such as a call centre ringing again, is left unflagged and the finding is not
made), or when the score is at least :attr:`Weights.threshold` whatever the rules say. Both
numbers are chosen on out-of-fold scores of the training data and recorded in
``scorer.json``. Every model-driven flag lists its top contributing features with their
weights.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from cyberstalk.errors import ReportError
from cyberstalk.screening.engine import Assessment
from cyberstalk.screening.lexicon import words_of

FEATURE_VERSION = 1
"""Bumped whenever :func:`features` changes: weights of another version are refused."""
EPOCHS = 40
LEARNING_RATE = 0.1
L2 = 1e-4
FOLDS = 5
TARGET_PRECISION = 0.90
"""The threshold is the lowest score at which the combined flag keeps this precision on the
out-of-fold training scores."""
MIN_THRESHOLD = 0.5
"""The scorer alone flags a record only when it finds it more like than unlike the stalking
records it was trained on."""
MAX_VETO = 0.5
"""A rule flag is set aside only when the scorer finds the record more unlike than like
the stalking records it was trained on."""
TOP_FEATURES = 8
_BREAKS = frozenset(".;:!?\n\r")
PEOPLE = frozenset(
    (
      "suspect", "suspects", "male", "female", "man", "woman", "men", "women", "ex", "partner",
      "partners", "expartner", "boyfriend", "girlfriend", "husband", "wife", "former",
      "estranged", "named", "colleague", "neighbour", "person", "cyn", "bartner", "chyn", "gyn",
      "gariad", "cariad", "wr", "gwr", "gwryw", "benyw", "dyn", "ddyn", "menyw", "sawl",
      "ddrwgdybir", "drwgdybir", "amheuir", "hadnabod", "adnabod", "gydweithiwr",
      "cydweithiwr", "gymydog", "cymydog",
    )
)  # fmt: skip
"""Words that describe who did it: left out of the features, so the scorer learns what was
done, not how the training records happen to name the suspect (and a bigram with one of
them is left out too)."""
FUNCTION = frozenset(
    (
      "a", "an", "the", "and", "or", "of", "to", "in", "on", "at", "by", "for", "from", "with",
      "as", "is", "was", "were", "be", "been", "being", "has", "have", "had", "he", "she", "her",
      "him", "his", "it", "its", "they", "them", "their", "this", "that", "these", "those",
      "there", "then", "than", "i", "ip", "ips", "victim", "victims", "complainant", "she's",
      "hes", "shes", "mae", "y", "yr", "r", "a", "ac", "ar", "i", "o", "yn", "wedi", "ei", "eu",
      "iw", "ai", "oi", "ein", "fod", "bod", "hi", "ef", "fe", "fo", "e", "nhw", "roedd", "oedd",
      "mai", "sydd", "dioddefwr", "dioddefwyr", "gan", "gyda", "am",
    )
)  # fmt: skip
"""Grammar words and the words for the victim: no word or character features of their
own (every summary has them), but they still take part in word pairs ("outside her")."""
_WEIGHTS_FILE = "scorer.json"


def _word_features(word: str) -> tuple[str, ...]:
    if word.isdigit():
        return ("w:#number",)
    if word in PEOPLE or word in FUNCTION:
        return ()
    out = [f"w:{word}"]
    if len(word) >= 4:
        padded = f"^{word}$"
        out.extend(f"c:{padded[i : i + 4]}" for i in range(len(padded) - 3))
    return tuple(out)


_WORD_CACHE: dict[str, tuple[str, ...]] = {}


def word_features(word: str) -> tuple[str, ...]:
    """``w:`` and ``c:`` features of one word (cached: a force's vocabulary is small)."""
    got = _WORD_CACHE.get(word)
    if got is None:
        got = _word_features(word)
        if len(_WORD_CACHE) < 200_000:
            _WORD_CACHE[word] = got
    return got


def _words_and_pairs(text: str) -> tuple[set[str], set[str]]:
    words = words_of(text)
    distinct = {w.text for w in words}
    pairs = set()
    for a, b in itertools.pairwise(words):
        if a.text in PEOPLE or b.text in PEOPLE or a.text.isdigit() or b.text.isdigit():
            continue
        if a.text in FUNCTION and b.text in FUNCTION:
            continue
        if _BREAKS.isdisjoint(text[a.end : b.start]):
            pairs.add(f"{a.text} {b.text}")
    return distinct, pairs


def rule_features(assessment: Assessment) -> list[str]:
    out = sorted({f"r:{m.rule}" for m in assessment.matches})
    if assessment.flagged:
        out.append("r:flag")
    if assessment.set_aside:
        out.append("r:set-aside")
    return out


def features(text: str, assessment: Assessment) -> dict[str, int]:
    """Every feature of ``text`` with its count (a character 4-gram shared by two words
    counts twice)."""
    distinct, pairs = _words_and_pairs(text)
    out: dict[str, int] = {}
    for word in sorted(distinct):
        for f in word_features(word):
            out[f] = out.get(f, 0) + 1
    for pair in sorted(pairs):
        out[f"b:{pair}"] = 1
    for f in rule_features(assessment):
        out[f] = 1
    return out


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@dataclass(frozen=True)
class Weights:
    """A trained scorer."""

    bias: float
    weights: dict[str, float]
    threshold: float
    """A score at least this flags a record whatever the rules say."""
    veto: float
    """A rule flag with a score below this is not kept."""
    trained_on: str
    """SHA-256 of the training examples (texts and labels, in order)."""
    examples: int
    _totals: dict[str, float] = field(default_factory=dict, repr=False, compare=False)

    def _word_total(self, word: str) -> float:
        cache = self._totals
        got = cache.get(word)
        if got is None:
            got = sum(self.weights.get(f, 0.0) for f in word_features(word))
            if len(cache) < 200_000:
                cache[word] = got
        return got

    def score(self, text: str, assessment: Assessment) -> float:
        """The probability-like score (0 to 1) of ``text``."""
        distinct, pairs = _words_and_pairs(text)
        z = self.bias
        for word in distinct:
            z += self._word_total(word)
        get = self.weights.get
        for pair in pairs:
            z += get(f"b:{pair}", 0.0)
        for f in rule_features(assessment):
            z += get(f, 0.0)
        return _sigmoid(z)

    def contributions(self, text: str, assessment: Assessment) -> list[tuple[str, float, int]]:
        """(feature, weight, count) for every feature with a weight, largest push first."""
        out = [
            (f, self.weights[f], n)
            for f, n in features(text, assessment).items()
            if self.weights.get(f, 0.0) != 0.0
        ]
        out.sort(key=lambda t: (-t[1] * t[2], t[0]))
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "feature_version": FEATURE_VERSION,
            "trained_on": self.trained_on,
            "examples": self.examples,
            "epochs": EPOCHS,
            "learning_rate": LEARNING_RATE,
            "l2": L2,
            "threshold": self.threshold,
            "veto": self.veto,
            "bias": self.bias,
            "weights": dict(sorted(self.weights.items())),
        }


def _fit(data: Sequence[tuple[dict[str, int], bool]]) -> tuple[float, dict[str, float]]:
    w: dict[str, float] = {}
    b = 0.0
    for epoch in range(EPOCHS):
        rate = LEARNING_RATE / (1.0 + 0.1 * epoch)
        for feats, label in data:
            z = b + sum(w.get(f, 0.0) * n for f, n in feats.items())
            g = _sigmoid(z) - (1.0 if label else 0.0)
            b -= rate * g
            for f, n in feats.items():
                old = w.get(f, 0.0)
                w[f] = old - rate * (g * n + L2 * old)
    return b, w


def _digest(examples: Sequence[tuple[str, bool]]) -> str:
    h = hashlib.sha256()
    for text, label in examples:
        h.update(f"{int(label)}\t{text}\n".encode())
    return h.hexdigest()


def _round(x: float) -> float:
    return round(x, 4) + 0.0  # + 0.0: no "-0.0" in the file


def train(examples: Sequence[tuple[str, bool]], assess_fn: Any = None) -> Weights:
    """Train on ``(summary, is stalking)`` pairs; choose the threshold and the veto on
    out-of-fold scores (fold ``i % FOLDS``)."""
    from cyberstalk.screening.engine import assess

    run = assess_fn or assess
    assessed = [(text, label, run(text)) for text, label in examples]
    data = [(features(t, a), label) for t, label, a in assessed]
    oof: list[float] = [0.0] * len(data)
    for k in range(FOLDS):
        b, w = _fit([d for i, d in enumerate(data) if i % FOLDS != k])
        for i, (feats, _) in enumerate(data):
            if i % FOLDS == k:
                oof[i] = _sigmoid(b + sum(w.get(f, 0.0) * n for f, n in feats.items()))
    rule_flags = [a.flagged for _, _, a in assessed]
    labels = [label for _, label, _ in assessed]
    threshold, veto = _choose(oof, rule_flags, labels)
    b, w = _fit(data)
    kept = {f: _round(v) for f, v in w.items() if abs(v) >= 0.005}
    return Weights(_round(b), kept, threshold, veto, _digest(examples), len(examples))


def _choose(
    scores: Sequence[float], rule_flags: Sequence[bool], labels: Sequence[bool]
) -> tuple[float, float]:
    """The (threshold, veto) pair on a grid of 0.05 steps that flags the most true records
    while the combined flag keeps :data:`TARGET_PRECISION`; ties go to the higher threshold
    and the lower veto (fewer model-only flags, fewer vetoes)."""
    best: tuple[int, float, float] | None = None
    grid = [round(0.05 * i, 2) for i in range(1, 20)]
    for threshold in (t for t in grid if t >= MIN_THRESHOLD):
        for veto in [0.0, *grid]:
            if veto >= threshold or veto > MAX_VETO:
                break
            tp = fp = 0
            for s, r, y in zip(scores, rule_flags, labels, strict=True):
                if (r and s >= veto) or s >= threshold:
                    tp += y
                    fp += not y
            if tp + fp and tp / (tp + fp) >= TARGET_PRECISION:
                key = (tp, threshold, -veto)
                if best is None or key > (best[0], best[1], -best[2]):
                    best = (tp, threshold, veto)
    if best is None:
        return 1.0, 0.0
    return best[1], best[2]


def dump(weights: Weights) -> bytes:
    return (json.dumps(weights.as_dict(), indent=0, sort_keys=False) + "\n").encode("utf-8")


def weights_path() -> Path:
    return Path(str(resources.files("cyberstalk.screening") / _WEIGHTS_FILE))


def write_weights(weights: Weights, path: Path | None = None) -> Path:
    target = path or weights_path()
    target.write_bytes(dump(weights))
    return target


def parse(data: bytes, file: str = _WEIGHTS_FILE) -> Weights:
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise ReportError(f"scorer {file}: invalid JSON: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("feature_version") != FEATURE_VERSION:
        raise ReportError(
            f"scorer {file}: feature_version must be {FEATURE_VERSION}; retrain with "
            "python fixtures/screening_tuning.py --train"
        )
    weights = raw.get("weights")
    if not isinstance(weights, dict) or not all(
        isinstance(k, str) and isinstance(v, int | float) for k, v in weights.items()
    ):
        raise ReportError(f"scorer {file}: weights must map features to numbers")
    return Weights(
        float(raw["bias"]),
        {k: float(v) for k, v in weights.items()},
        float(raw["threshold"]),
        float(raw["veto"]),
        str(raw["trained_on"]),
        int(raw["examples"]),
    )


_LOADED: list[Weights] = []


def load() -> Weights:
    """The packaged scorer (read once)."""
    if not _LOADED:
        ref = resources.files("cyberstalk.screening") / _WEIGHTS_FILE
        _LOADED.append(parse(ref.read_bytes()))
    return _LOADED[0]


def describe(feature: str) -> dict[str, str]:
    """``{"kind": "word", "value": "outside"}`` for a feature name."""
    kind, _, value = feature.partition(":")
    return {
        "kind": {"w": "word", "b": "word pair", "c": "characters", "r": "rule"}.get(kind, kind),
        "value": value,
    }


def top_features(
    weights: Weights, text: str, assessment: Assessment, n: int = TOP_FEATURES
) -> list[dict[str, Any]]:
    """The ``n`` features that pushed the score up most, each with its weight and count."""
    out = []
    for f, w, count in weights.contributions(text, assessment)[:n]:
        if w * count <= 0:
            break
        out.append({"feature": f, **describe(f), "weight": w, "count": count})
    return out
