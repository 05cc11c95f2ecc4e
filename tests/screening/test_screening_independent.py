"""The screen on the two independent held-out sets, each of crime summaries in English and
Welsh written by someone who never saw the rules, their tuning records or their tests, and
never used to tune them:

- ``fixtures/screening_heldout.py``: 205 records;
- ``fixtures/screening_heldout_2.py``: 240 records, written after the rules had been
  measured on the first set (so that one could no longer count as untouched), and measured
  once before and once after the scorer's last retraining.

Scored on the summary alone (the offence column is not mapped: some offence categories
occur on one label only and would flatter the rules).

Issue 22 asks for recall >= 0.9 with precision >= 0.85, English and Welsh. Measured on
2026-12-07 with the retrained scorer (tuning records by behaviour class, threshold 0.5,
veto 0.25):

    set 1: all 0.922 / 0.922, en 0.908 / 0.908, cy 0.962 / 0.962 (precision / recall)
    set 2: all 0.923 / 0.900, en 0.900 / 0.900, cy 0.973 / 0.900
           (before that retraining: all 0.910 / 0.842, en 0.883 / 0.850, cy 0.971 / 0.825)

Each language of each set must meet the issue's target, and stay at least at what was
measured (the floors below). Do not change the rules to pass records of these sets: write
new tuning records for a behaviour class instead, and measure here afterwards. A set that
is ever used for tuning must be replaced by a new one written by someone else.
"""

from __future__ import annotations

import csv

import pytest

from cyberstalk.screening import screen_file
from helpers.fixture_scripts import load_fixture

MAPPING = {"id": "CrimeRef", "text": "Summary"}
TARGET = (0.85, 0.9)  # issue 22: precision, recall
FLOORS = {  # (set, language): (precision, recall), as measured
    ("screening_heldout", "en"): (0.90, 0.90),  # 0.908 / 0.908
    ("screening_heldout", "cy"): (0.96, 0.96),  # 0.962 / 0.962
    ("screening_heldout", "all"): (0.92, 0.92),  # 0.922 / 0.922
    ("screening_heldout_2", "en"): (0.90, 0.90),  # 0.900 / 0.900
    ("screening_heldout_2", "cy"): (0.97, 0.90),  # 0.973 / 0.900
    ("screening_heldout_2", "all"): (0.92, 0.90),  # 0.923 / 0.900
}
SETS = ("screening_heldout", "screening_heldout_2")

Scored = tuple[list[dict[str, str]], set[str]]


@pytest.fixture(scope="module", params=SETS)
def heldout(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Scored:
    path = tmp_path_factory.mktemp("heldout") / f"{request.param}.csv"
    load_fixture(request.param).write_csv(path)
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    flagged = {f.record.id for f in screen_file(path, MAPPING).findings}
    return rows, flagged


def _figures(rows: list[dict[str, str]], flagged: set[str]) -> tuple[float, float]:
    tp = sum(1 for r in rows if r["Label"] == "stalking" and r["CrimeRef"] in flagged)
    fp = sum(1 for r in rows if r["Label"] == "not_stalking" and r["CrimeRef"] in flagged)
    fn = sum(1 for r in rows if r["Label"] == "stalking" and r["CrimeRef"] not in flagged)
    return tp / (tp + fp), tp / (tp + fn)


@pytest.mark.parametrize("language", ["en", "cy", "all"])
def test_precision_and_recall_on_the_independent_sets(
    heldout: Scored, language: str, request: pytest.FixtureRequest
) -> None:
    rows, flagged = heldout
    name = request.node.callspec.params["heldout"]
    rows = [r for r in rows if language in ("all", r["Language"])]
    precision, recall = _figures(rows, flagged)
    want_p, want_r = (max(a, b) for a, b in zip(TARGET, FLOORS[name, language], strict=True))
    assert precision >= want_p, f"{name} {language}: precision {precision:.3f} < {want_p}"
    assert recall >= want_r, f"{name} {language}: recall {recall:.3f} < {want_r}"


def test_the_sets_are_bilingual_balanced_and_labelled(heldout: Scored) -> None:
    rows, _ = heldout
    assert len(rows) >= 200
    by = {(r["Language"], r["Label"]) for r in rows}
    assert by == {(lang, label) for lang in ("en", "cy") for label in ("stalking", "not_stalking")}
    assert len({r["CrimeRef"] for r in rows}) == len(rows)
