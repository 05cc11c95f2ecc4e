"""Precision and recall of the screen on the labelled synthetic set (fixtures/crime_records.py),
computed here from the library over the generated files. The thresholds sit just under the
measured figures (README, "Screening other crimes"): the tuning splits are the wording the
lexicons were tuned on; the held-out and validation-2026-12 splits were never tuned on."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from cyberstalk.screening import InputFormat, screen_file
from helpers.fixture_scripts import load_fixture

MAPPING = {"id": "CrimeRef", "text": "Summary", "date": "Recorded", "offence": "Offence"}
THRESHOLDS = {  # split: (precision, recall), just under what was measured (rules + scorer)
    "tuning": (0.97, 0.97),  # 1.000 / 1.000 (the scorer is trained on it)
    "held-out": (0.97, 0.88),  # 1.000 / 0.889 (never tuned or trained on; 0.917 before the
    # second and third rounds of fixtures/screening_tuning.py, which raised its holdout-2
    # recall from 0.775 to 0.887: one record of 36 traded for ten of 71)
    "tuning-2026-12": (0.97, 0.97),  # 1.000 / 1.000 (issue 22, by behaviour class; trained on)
    "validation-2026-12": (0.97, 0.92),  # 1.000 / 0.947 (issue 22, never tuned or trained on)
    "all": (0.97, 0.95),  # 1.000 / 0.980
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    csv_path, json_path = load_fixture("crime_records").generate(tmp_path_factory.mktemp("cr"))
    return csv_path, json_path


def labels(csv_path: Path) -> list[dict[str, str]]:
    with csv_path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def scores(rows: list[dict[str, str]], flagged: set[str]) -> tuple[float, float]:
    tp = sum(1 for r in rows if r["Label"] == "stalking" and r["CrimeRef"] in flagged)
    fp = sum(1 for r in rows if r["Label"] == "other" and r["CrimeRef"] in flagged)
    fn = sum(1 for r in rows if r["Label"] == "stalking" and r["CrimeRef"] not in flagged)
    return tp / (tp + fp), tp / (tp + fn)


@pytest.mark.parametrize("split", list(THRESHOLDS))
def test_precision_and_recall_meet_the_measured_thresholds(
    generated: tuple[Path, Path], split: str
) -> None:
    csv_path, _ = generated
    rows = [r for r in labels(csv_path) if split in ("all", r["Split"])]
    flagged = {f.record.id for f in screen_file(csv_path, MAPPING).findings}
    precision, recall = scores(rows, flagged)
    want_p, want_r = THRESHOLDS[split]
    assert precision >= want_p, f"{split}: precision {precision:.3f} < {want_p}"
    assert recall >= want_r, f"{split}: recall {recall:.3f} < {want_r}"


def test_the_set_is_bilingual_with_hard_negatives(generated: tuple[Path, Path]) -> None:
    rows = labels(generated[0])
    by = {(r["Language"], r["Label"]) for r in rows}
    assert by == {("en", "stalking"), ("en", "other"), ("cy", "stalking"), ("cy", "other")}
    others = " ".join(r["Summary"] for r in rows if r["Label"] == "other")
    for hard in ("followed up", "repeated the caution", "one message", "Yn dilyn adroddiad"):
        assert hard in others


def test_welsh_positives_are_flagged_by_the_welsh_lexicon(generated: tuple[Path, Path]) -> None:
    csv_path, _ = generated
    welsh = {r["CrimeRef"] for r in labels(csv_path) if r["Language"] == "cy"}
    findings = [f for f in screen_file(csv_path, MAPPING).findings if f.record.id in welsh]
    assert len(findings) >= 20
    for f in findings:
        assert all(m.words for m in f.assessment.matches)
        if "rules" in f.flagged_by:
            assert "cy" in f.assessment.languages and f.assessment.rules
        else:  # a flag by the scorer alone names the features that raised its score
            assert f.features() and all(x["weight"] > 0 for x in f.features())


def test_csv_and_json_exports_give_the_same_findings(generated: tuple[Path, Path]) -> None:
    csv_path, json_path = generated
    a = screen_file(csv_path, MAPPING)
    b = screen_file(json_path, MAPPING, input_format=InputFormat.json)
    assert a.screened == b.screened == len(labels(csv_path))

    def without_position(findings: object) -> list[dict[str, object]]:
        return [{k: v for k, v in f.as_dict().items() if k != "position"} for f in findings]

    assert without_position(a.findings) == without_position(b.findings)
    assert a.findings[0].record.position.startswith("line ")
    assert b.findings[0].record.position.startswith("record ")


def test_the_label_column_is_never_read(generated: tuple[Path, Path], tmp_path: Path) -> None:
    """Flipping every label, or dropping the column, changes nothing the screen reports."""
    _, json_path = generated
    rows = json.loads(json_path.read_text(encoding="utf-8"))
    flipped = [r | {"Label": "stalking" if r["Label"] == "other" else "other"} for r in rows]
    dropped = [{k: v for k, v in r.items() if k not in ("Label", "Split")} for r in rows]
    results = []
    for name, data in (("flipped", flipped), ("dropped", dropped)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        results.append([f.as_dict() for f in screen_file(path, MAPPING).findings])
    assert (
        results[0] == results[1] == [f.as_dict() for f in screen_file(json_path, MAPPING).findings]
    )


def test_the_fixture_is_deterministic(tmp_path: Path) -> None:
    module = load_fixture("crime_records")
    first = [p.read_bytes() for p in module.generate(tmp_path / "a")]
    second = [p.read_bytes() for p in module.generate(tmp_path / "b")]
    assert first == second
