"""The screen on the independent held-out set (fixtures/screening_heldout.py): 205 crime
summaries, English and Welsh, written by someone who never saw the rules, and never used to
tune them. Scored on the summary alone (the offence column is not mapped: some offence
categories occur on one label only and would flatter the rules).

Issue 22 asks for recall >= 0.9 with precision >= 0.85. Measured on 2026-12-07 after the
new behaviour classes: precision 0.848, recall 0.824 (en 0.823 / 0.855, cy 0.950 / 0.731);
before them 0.785 / 0.608. Later that day, with the learned scorer beside the rules and
Welsh mutated forms (written by an engineer who never opened this set): precision 0.906,
recall 0.853 (en 0.903 / 0.855, cy 0.917 / 0.846). The recall target is not met yet; these
thresholds only keep what was reached from slipping. Do not change the rules to pass
records of this set: write new tuning records for a behaviour class instead, and measure
here afterwards.
"""

from __future__ import annotations

import csv

import pytest

from cyberstalk.screening import screen_file
from helpers.fixture_scripts import load_fixture

MAPPING = {"id": "CrimeRef", "text": "Summary"}
THRESHOLDS = {  # language: (precision, recall), just under what was measured
    "en": (0.88, 0.84),  # 0.903 / 0.855
    "cy": (0.90, 0.83),  # 0.917 / 0.846
    "all": (0.89, 0.84),  # 0.906 / 0.853
}


@pytest.fixture(scope="module")
def heldout(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, str]], set[str]]:
    path = tmp_path_factory.mktemp("heldout") / "heldout.csv"
    script = load_fixture("screening_heldout")
    script.write_csv(path)
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    flagged = {f.record.id for f in screen_file(path, MAPPING).findings}
    return rows, flagged


@pytest.mark.parametrize("language", list(THRESHOLDS))
def test_precision_and_recall_on_the_independent_set(
    heldout: tuple[list[dict[str, str]], set[str]], language: str
) -> None:
    rows, flagged = heldout
    rows = [r for r in rows if language in ("all", r["Language"])]
    tp = sum(1 for r in rows if r["Label"] == "stalking" and r["CrimeRef"] in flagged)
    fp = sum(1 for r in rows if r["Label"] == "not_stalking" and r["CrimeRef"] in flagged)
    fn = sum(1 for r in rows if r["Label"] == "stalking" and r["CrimeRef"] not in flagged)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    want_p, want_r = THRESHOLDS[language]
    assert precision >= want_p, f"{language}: precision {precision:.3f} < {want_p}"
    assert recall >= want_r, f"{language}: recall {recall:.3f} < {want_r}"


def test_the_set_is_bilingual_balanced_and_labelled(
    heldout: tuple[list[dict[str, str]], set[str]],
) -> None:
    rows, _ = heldout
    assert len(rows) >= 200
    by = {(r["Language"], r["Label"]) for r in rows}
    assert by == {(lang, label) for lang in ("en", "cy") for label in ("stalking", "not_stalking")}
    assert len({r["CrimeRef"] for r in rows}) == len(rows)
