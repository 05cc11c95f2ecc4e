"""Aggregation: the profile's counts against cases whose contents are known."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from profile_helpers import FIRST_CONTACT, KNOWN, LONDON, case_dirs
from typer.testing import CliRunner

from cyberstalk.case import open_case
from cyberstalk.cli import app
from cyberstalk.reports.profile import (
    FOUR_IDS,
    INDICATOR_ORDER,
    LABELS,
    S2A3_IDS,
    CaseFacts,
    examine_case,
)
from cyberstalk.timeline import INDICATOR_IDS, analyse


def run_json(root: Path, out: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    r = CliRunner().invoke(
        app, ["profile", *case_dirs(root), "-o", str(out), "--format", "json", *args]
    )
    data = json.loads(out.read_text("utf-8")) if out.exists() else {}
    return r.exit_code, data, r.stderr


def report_time(case: Path) -> datetime:
    manifest = json.loads((case / "manifest.json").read_text("utf-8"))
    return min(datetime.fromisoformat(e["received_at"]) for e in manifest["exhibits"])


def test_totals_match_the_known_cases(known: Path, tmp_path: Path) -> None:
    code, data, _ = run_json(known, tmp_path / "p.json", "--exact")
    assert code == 0
    t = data["total"]
    assert t["cases"] == 6
    assert t["no_counted_contact"] == 1  # case-f: only the victim wrote
    assert t["platforms"] == {"sms": 3, "whatsapp": 3}  # sms: b, c, d; whatsapp: a, c, e
    assert t["blocked"] == 1 and t["contact_after_block"] == 1  # case-c
    assert t["order_served"] == 1 and t["possible_order_breach"] == 1  # case-d
    ind = t["indicators"]
    assert ind["repeated"] == 3  # a (3 occasions), c (3 days), d (2 days)
    assert ind["unwanted"] == 1  # c: asked to stop, then contact
    assert ind["monitoring"] == 1  # e
    assert ind["contact_after_block"] == 1
    assert ind["order_breach"] == 1
    assert ind["contact_any_means"] == 1  # c: WhatsApp and SMS
    assert list(ind) == list(INDICATOR_ORDER)
    assert data["included"] == sorted(s.reference for s in KNOWN.values())
    assert data["excluded"] == []


def test_indicator_counts_equal_the_per_case_analyses(known: Path, tmp_path: Path) -> None:
    """Every indicator count is the number of cases whose own timeline raised it."""
    _, data, _ = run_json(known, tmp_path / "p.json", "--exact")
    expected = dict.fromkeys(INDICATOR_ORDER, 0)
    for name in KNOWN:
        for ind in {i.id for i in analyse(open_case(known / name)).indicators}:
            expected[ind] += 1
    assert data["total"]["indicators"] == expected
    assert sum(expected.values()) >= 8  # the cases do raise indicators


def test_days_from_first_contact_to_report(known: Path, tmp_path: Path) -> None:
    _, data, _ = run_json(known, tmp_path / "p.json", "--exact")
    days = sorted(
        (report_time(known / n).astimezone(LONDON).date() - FIRST_CONTACT[n].date()).days
        for n in FIRST_CONTACT
    )
    d = data["total"]["days_to_report"]
    assert d["cases"] == 5
    assert d["median"] == days[2]
    assert d["p25"] == days[1] and d["p75"] == days[3]
    assert d["first_contact_after_report"] == 0


def test_months_by_first_contact(known: Path, tmp_path: Path) -> None:
    _, data, _ = run_json(known, tmp_path / "p.json", "--exact", "--by", "first-contact")
    assert data["month_basis"] == "first-contact"
    months = {m["month"]: m for m in data["months"]}
    assert list(months) == ["2025-03", "2025-04", "2025-05", "2025-06"]
    assert months["2025-03"]["cases"] == 2  # a and e
    assert months["2025-03"]["platforms"] == {"sms": 0, "whatsapp": 2}
    assert months["2025-03"]["indicators"]["monitoring"] == 1
    assert months["2025-04"]["cases"] == 1
    assert months["2025-05"]["contact_after_block"] == 1
    assert months["2025-06"]["possible_order_breach"] == 1
    assert data["cases_without_month"] == 1  # case-f: no first contact
    assert sum(m["cases"] for m in data["months"]) == 5


def test_months_by_report_use_the_received_time(known: Path, tmp_path: Path) -> None:
    _, data, _ = run_json(known, tmp_path / "p.json", "--exact")
    want: dict[str, int] = {}
    for name in KNOWN:
        month = report_time(known / name).astimezone(LONDON).strftime("%Y-%m")
        want[month] = want.get(month, 0) + 1
    got = {m["month"]: m["cases"] for m in data["months"] if m["cases"]}
    assert got == want
    assert data["month_basis"] == "report"


def test_small_numbers_are_suppressed_unless_exact(known: Path, tmp_path: Path) -> None:
    _, data, _ = run_json(known, tmp_path / "p.json", "--by", "first-contact")
    assert data["suppression"]["applied"] is True
    t = data["total"]
    assert t["cases"] == 6  # 5 or more: shown
    assert t["indicators"]["repeated"] == "<5"
    assert t["indicators"]["night_contact"] == 0  # zero is shown as zero
    assert t["days_to_report"]["cases"] == 5
    assert isinstance(t["days_to_report"]["median"], int)  # over 5 cases: shown
    months = {m["month"]: m for m in data["months"]}
    assert months["2025-03"]["cases"] == "<5"
    assert months["2025-03"]["days_to_report"]["median"] == "suppressed"
    assert data["cases_without_month"] == "<5"
    r = CliRunner().invoke(
        app, ["profile", *case_dirs(known), "-o", str(tmp_path / "p.csv"), "--format", "csv"]
    )
    assert r.exit_code == 0
    rows = (tmp_path / "p.csv").read_text("utf-8").splitlines()
    assert rows[0] == "month_basis,month,measure,category,value"
    assert "report,total,indicator,repeated,<5" in rows
    assert "report,total,cases,,6" in rows


def test_examine_case_keeps_no_identity(known: Path) -> None:
    facts = examine_case(known / "case-c")
    assert isinstance(facts, CaseFacts)
    assert facts.platforms == ("sms", "whatsapp")
    assert facts.first_contact_month == "2025-05"
    assert facts.blocked and facts.contact_after_block and not facts.possible_breach
    assert facts.newest_event.tzinfo is UTC or facts.newest_event.utcoffset() is not None


def test_every_indicator_has_a_label_and_one_group() -> None:
    assert set(INDICATOR_ORDER) == set(INDICATOR_IDS)
    assert len(INDICATOR_ORDER) == len(set(INDICATOR_ORDER))
    assert set(LABELS) == set(INDICATOR_IDS)
    assert set(FOUR_IDS) == {"fixated", "obsessive", "unwanted", "repeated"}
    assert not set(FOUR_IDS) & set(S2A3_IDS)


def test_risk_assessments_gradings_and_spo_steps_are_counted(cases: Path, tmp_path: Path) -> None:
    """Recommendations 12 and 13: how many cases have a recorded risk assessment, their
    gradings, and how many considered an SPO (each case's latest step)."""
    runner = CliRunner()

    def ok(*args: str | Path) -> None:
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, result.output

    a, b, c = cases / "case-a", cases / "case-b", cases / "case-c"
    suspect = {
        p: next(x.name for x in open_case(p).config.people if x.role == "suspect") for p in (a, b)
    }
    ok("risk", a, "--answer", "1=yes", "--grade", "medium", "--reason", "fear")
    ok("risk", a, "--grade", "high", "--reason", "threats since")  # the later grading counts
    ok("risk", b, "--answer", "6=no")  # answered, not graded: assessed all the same
    ok("case", "order", "spo", a, "--subject", suspect[a], "--status", "considered",
       "--date", "2025-03-20", "--reason", "course of conduct")  # fmt: skip
    ok("case", "order", "spo", a, "--subject", suspect[a], "--status", "granted",
       "--date", "2025-04-02", "--reason", "granted by the magistrates")  # fmt: skip
    ok("case", "order", "spo", b, "--subject", suspect[b], "--status", "not_applied",
       "--date", "2025-04-20", "--reason", "no ongoing risk after arrest")  # fmt: skip
    code, data, _ = run_json(cases, tmp_path / "p.json", "--exact")
    assert code in (0, 1)
    total = data["total"]
    assert total["risk_assessed"] == 2
    assert total["risk_grading"] == {"standard": 0, "medium": 0, "high": 1}
    assert total["spo_considered"] == 2
    assert total["spo_latest_step"]["granted"] == 1
    assert total["spo_latest_step"]["not_applied"] == 1
    assert total["spo_latest_step"]["considered"] == 0  # a's latest step is granted
    facts = examine_case(c)
    assert isinstance(facts, CaseFacts)
    assert not facts.risk_assessed and facts.grading is None and facts.spo_status is None
    csv_out = tmp_path / "p.csv"
    args = ["profile", *case_dirs(cases), "-o", str(csv_out), "--format", "csv", "--exact"]
    r = runner.invoke(app, args)
    assert r.exit_code in (0, 1)
    rows = csv_out.read_text().splitlines()
    assert any(row.endswith("total,risk_grading,high,1") for row in rows)
    assert any(row.endswith("total,spo_considered,,2") for row in rows)
