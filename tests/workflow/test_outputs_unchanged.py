"""The evidence outputs stay byte-identical across refactoring (issue 20).

The bundled demo submission, every format's variant export and a generated 30,000-message
WhatsApp chat are ingested through the command a user runs; the digests of what that
writes are compared with digests recorded before the record path was reshaped:

- ``derived/records/*.jsonl`` and ``*.report.json`` (every parser's records; in a
  report, the day the exhibit was received, which a date-order decision may cite as
  the latest a message can be, is set aside: it is this run's clock);
- ``manifest.json``, with what belongs to this run's clock and key set aside (each
  exhibit's ``received_at``, ``mtime`` and ``tool``; the signer; the custody head);
- the timeline report as JSON, CSV and HTML, and the panel pack as JSON
  (``SOURCE_DATE_EPOCH`` pins their generated-at time).

A change to a parser's output or to a report is a change of evidence output: it must be
deliberate, with the new digests recorded here and the reason in the commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from helpers.fixture_scripts import FIXTURES

ROOT = FIXTURES.parent
EPOCH = "1767225600"  # 2026-01-01T00:00:00Z


def _cli(*args: str | Path, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "cyberstalk", *map(str, args)],
        check=True,
        env=env,
        capture_output=True,
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest_digest(path: Path) -> str:
    data: dict[str, Any] = json.loads(path.read_bytes())
    for entry in [*(data.get("exhibits") or []), *(data.get("duplicates") or [])]:
        for key in ("received_at", "mtime", "mtime_ns", "tool"):
            entry.pop(key, None)
    data.pop("signer", None)  # (a key made for this test run)
    data.get("custody_log", {}).pop("head_sha256", None)  # (chains the events' times)
    text = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(text).hexdigest()


_RECEIPT = re.compile(rb"\d{4}-\d{2}-\d{2} \(the exhibit's receipt\)")
"""A date-order decision's reason citing the day the exhibit was received (the ingest's
own date: a report of the same export ingested another day says another day)."""


def _report_digest(path: Path) -> str:
    text = _RECEIPT.sub(b"RECEIVED (the exhibit's receipt)", path.read_bytes())
    return hashlib.sha256(text).hexdigest()


def _digests(case: Path) -> dict[str, str]:
    out = {}
    for path in sorted((case / "derived" / "records").iterdir()):
        digest = _report_digest if path.name.endswith(".report.json") else _sha
        out[f"derived/records/{path.name}"] = digest(path)
    out["manifest.json (normalised)"] = _manifest_digest(case / "manifest.json")
    return out


def _people(case: Path, env: dict[str, str]) -> None:
    _cli("case", "person", "add", case, "--name", "Carys Hughes", "--role", "victim",
         "--id", "phone:+447700900123", "--id", "email:carys.hughes@example.com",
         "--id", "display_name:Carys@whatsapp", env=env)  # fmt: skip
    _cli("case", "person", "add", case, "--name", "Dylan Price", "--role", "suspect",
         "--id", "phone:+447700900456", "--id", "phone:+447700900789",
         "--id", "email:dylan.price@example.net", "--id", "display_name:Dylan@whatsapp",
         "--id", "username:dylan.p_example@instagram", env=env)  # fmt: skip


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("unchanged")
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "XDG_CONFIG_HOME": str(tmp / "config")}
    subprocess.run(
        [sys.executable, str(FIXTURES / "make_fixtures.py"), str(tmp / "fx")],
        check=True,
        capture_output=True,
    )
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench_whatsapp  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    chat = tmp / "generated" / "WhatsApp Chat with Generated.txt"
    chat.parent.mkdir()
    bench_whatsapp.make_export(chat, 30_000)

    found: dict[str, str] = {}
    cases = {
        "demo": [tmp / "fx" / "submission"],
        "variants": [tmp / "fx" / "variants" / "all-formats"],
        "corpus": [chat.parent],
    }
    for name, paths in cases.items():
        case = tmp / name
        _cli("case", "init", case, "--ref", f"T/{name}", "--officer", "DC Test",
             "--initials", "TT", "--tz", "Europe/London", env=env)  # fmt: skip
        if name == "demo":
            _people(case, env)
        ingest = subprocess.run(
            [sys.executable, "-m", "cyberstalk", "ingest", str(case), *map(str, paths),
             "--source", "test submission"],
            env=env,
            capture_output=True,
        )  # fmt: skip
        assert ingest.returncode in (0, 3), ingest.stderr.decode()
        found.update({f"{name}:{k}": v for k, v in _digests(case).items()})
        if name == "demo":
            reports = case / "reports"
            for fmt in ("json", "csv", "html"):
                _cli("timeline", case, "-f", fmt, "-o", reports / f"t.{fmt}", env=env)
                found[f"demo:timeline.{fmt}"] = _sha(reports / f"t.{fmt}")
            _cli("panel", case, "-f", "json", "-o", reports / "p.json", env=env)
            found["demo:panel.json"] = _sha(reports / "p.json")
    return found


EXPECTED: dict[str, str] = json.loads(
    (Path(__file__).parent / "outputs_unchanged.json").read_text()
)
"""Recorded on commit 22491ac, before issue 20's changes. Three WhatsApp variants' reports
(TT-29, TT-30, TT-36) cite the receipt day; re-recorded with it set aside on 2026-12-08,
when the digests recorded on the 7th stopped matching: with ``2026-12-07`` put back for
that day's ``2026-12-08``, the reports gave the recorded digests again."""


def test_outputs_are_byte_identical_to_the_recorded_digests(outputs: dict[str, str]) -> None:
    record = os.environ.get("CYBERSTALK_RECORD_DIGESTS")
    if record:  # (to record new digests deliberately: CYBERSTALK_RECORD_DIGESTS=FILE)
        Path(record).write_text(json.dumps(outputs, indent=4, sort_keys=True) + "\n")
    changed = {k: v for k, v in outputs.items() if EXPECTED.get(k) != v}
    missing = sorted(set(EXPECTED) - set(outputs))
    assert not changed and not missing, (
        "evidence outputs changed:\n"
        + "\n".join(f"    {k!r}: {v!r}," for k, v in sorted(changed.items()))
        + (f"\nno longer written: {missing}" if missing else "")
    )
