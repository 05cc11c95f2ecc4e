"""``cyberstalk screen`` in-process: outputs, exit codes, mapping, bad input, escaping,
determinism, help."""

from __future__ import annotations

import csv
import html
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cyberstalk.cli import app

MAP = ["--map", "id=CrimeRef", "--map", "text=Summary", "--map", "date=Recorded",
       "--map", "offence=Offence"]  # fmt: skip
HEADER = "CrimeRef,Recorded,Offence,Summary,Label\n"
ROWS = (
    "NWP/1,2025-01-02,Harassment,He has repeatedly turned up outside her house.,stalking\n"
    "NWP/2,2025-01-03,Theft,Bike stolen; officer followed up by phone.,other\n"
    'NWP/3,2025-01-04,Criminal Damage,"Tyres slashed, <script>alert(1)</script> written '
    'on her car; he keeps messaging her.",stalking\n'
)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


@pytest.fixture
def records(tmp_path: Path) -> Path:
    return write(tmp_path, "records.csv", HEADER + ROWS)


def test_table_names_records_rules_and_words_and_exits_1(runner: CliRunner, records: Path) -> None:
    result = runner.invoke(app, ["screen", str(records), *MAP])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("2 of 3 records show possible stalking behaviour for review")
    row = next(line for line in lines if line.startswith("NWP/1"))
    assert "Harassment" in row and "s2A3-e-loitering, FOUR-repeated" in row
    assert 'FOUR-repeated "repeatedly" @7-17' in row
    assert not any(line.startswith("NWP/2") for line in lines)


def test_nothing_flagged_exits_0(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", HEADER + "NWP/2,2025-01-03,Theft,One message sent.,other\n")
    result = runner.invoke(app, ["screen", str(path), *MAP, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["screened"] == 1 and data["flagged"] == 0 and data["findings"] == []


def test_json_is_deterministic_and_complete(runner: CliRunner, records: Path) -> None:
    first = runner.invoke(app, ["screen", str(records), *MAP, "--json"])
    second = runner.invoke(app, ["screen", str(records), *MAP, "--json"])
    assert first.exit_code == second.exit_code == 1
    assert first.stdout == second.stdout
    data = json.loads(first.stdout)
    assert data["source"]["columns"] == {
        "id": "CrimeRef", "text": "Summary", "date": "Recorded", "offence": "Offence"
    }  # fmt: skip
    assert [f["id"] for f in data["findings"]] == ["NWP/1", "NWP/3"]
    f = data["findings"][0]
    assert f["position"] == "line 2" and f["date"] == "2025-01-02"
    assert {"rule": "FOUR-repeated", "language": "en", "entry": "repeatedly",
            "words": "repeatedly", "start": 7, "end": 17} in f["matches"]  # fmt: skip
    assert "Label" not in json.dumps(data["source"])  # the label column is not read


def test_output_files_are_the_same_bytes_every_run(
    runner: CliRunner, records: Path, tmp_path: Path
) -> None:
    for fmt in ("csv", "json", "html"):
        outs = []
        for n in (1, 2):
            out = tmp_path / f"s{n}.{fmt}"
            result = runner.invoke(app, ["screen", str(records), *MAP, "-o", str(out)])
            assert result.exit_code == 1, result.output
            assert "written to" in result.stderr
            outs.append(out.read_bytes())
        assert outs[0] == outs[1], fmt


def test_csv_output_rows(runner: CliRunner, records: Path, tmp_path: Path) -> None:
    out = tmp_path / "screen.out"
    result = runner.invoke(app, ["screen", str(records), *MAP, "-o", str(out), "--format", "csv"])
    assert result.exit_code == 1
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["record_id"] for r in rows] == ["NWP/1", "NWP/3"]
    assert rows[1]["rules"] == "s2A3-b-contacting;s2A3-f-interfering;FOUR-repeated"
    assert 'FOUR-repeated "keeps"' in rows[1]["matched_words"]


def test_html_escapes_the_summary(runner: CliRunner, records: Path, tmp_path: Path) -> None:
    out = tmp_path / "screen.html"
    assert runner.invoke(app, ["screen", str(records), *MAP, "-o", str(out)]).exit_code == 1
    page = out.read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in html.unescape(page)
    assert '<mark title="FOUR-repeated">repeatedly</mark>' in page
    assert "http://" not in page and "https://" not in page  # self-contained


def test_json_input_with_records_object(runner: CliRunner, tmp_path: Path) -> None:
    data = {"records": [
        {"ref": 7, "body": "Mae'n ei dilyn hi bob dydd.", "type": "Harassment"},
        {"ref": 8, "body": None},
    ]}  # fmt: skip
    path = write(tmp_path, "export.json", json.dumps(data))
    args = ["screen", str(path), "--map", "id=ref", "--map", "text=body", "--map", "offence=type"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 1, result.output
    out = json.loads(result.stdout)
    assert out["findings"][0]["id"] == "7" and out["findings"][0]["languages"] == ["cy"]
    assert "record 2" in result.stderr  # the record without a summary is named


def test_unmapped_keys_use_columns_named_like_them(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "plain.csv", "id;text\nA1;He keeps following her.\n")
    result = runner.invoke(app, ["screen", str(path), "--map", "delimiter=;", "--json"])
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["findings"][0]["id"] == "A1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--map", "text=Nope"], "--map text=Nope: no such column"),
        (["--map", "colour=red"], "unknown --map key(s): colour"),
        (["--map", "text"], "must be KEY=VALUE"),
        (["--map", "text=Summary", "--map", "delimiter=;;"], "must be one character"),
        (["--map", "text=Summary", "-o", "out.txt"], "cannot tell the output format"),
        (["--map", "text=Summary", "--json", "--format", "csv"], "disagree"),
    ],
)
def test_usage_errors_exit_2(
    runner: CliRunner, records: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["screen", str(records), *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_no_text_column_names_the_header(runner: CliRunner, records: Path) -> None:
    result = runner.invoke(app, ["screen", str(records)])
    assert result.exit_code == 2
    assert "no column for text" in result.stderr and "'Summary'" in result.stderr


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.csv", HEADER + 'NWP/1,2025,X,"unterminated\n', "malformed CSV"),
        ("short.csv", HEADER + "NWP/1,2025-01-01,Theft\n", "(line 2): row has 3 fields"),
        (
            "latin1.csv",
            (HEADER + "NWP/1,2025,X,caf\xe9 again,other\n").encode("latin-1"),
            "(line 2, byte",
        ),
        ("broken.json", '[{"Summary": "x"},\n  {"Summary": }]', "(line 2, column"),
        ("shape.json", '{"Summary": "x"}', "expected a JSON array of record objects"),
        ("item.json", '[{"Summary": "x"}, "y"]', "(record 2 ($[1])): record is str"),
        ("field.json", '[{"Summary": ["x"]}]', "(record 1): field 'Summary' (--map text) is list"),
        ("empty.csv", "", "empty file"),
    ],
)
def test_unreadable_input_exits_3_naming_the_place(
    runner: CliRunner, tmp_path: Path, name: str, content: str | bytes, message: str
) -> None:
    path = write(tmp_path, name, content)
    result = runner.invoke(app, ["screen", str(path), "--map", "text=Summary"])
    assert result.exit_code == 3, result.output
    assert message in result.stderr, result.stderr
    assert not list(tmp_path.glob("*.html"))


def test_huge_files_are_refused(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "big.csv", HEADER + ROWS * 8000)  # ~1.4 MB
    result = runner.invoke(app, ["screen", str(path), *MAP, "--max-mb", "1"])
    assert result.exit_code == 3
    assert "larger than the limit" in result.stderr and "--max-mb" in result.stderr


def test_no_output_file_when_the_input_fails(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "shape.json", "42")
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["screen", str(path), "--map", "text=Summary", "-o", str(out)])
    assert result.exit_code == 3 and not out.exists()


def test_help_explains_columns_rules_and_exit_codes(runner: CliRunner) -> None:
    text = runner.invoke(app, ["screen", "--help"]).stdout
    for needle in (
        "text",
        "offence",
        "s2A3-b-contacting",
        "s2A3-g-watching",
        "FOUR-repeated",
        "FOUR-unwanted",
        "Exit codes",
        "1 records flagged",
        "3 the file could not",
    ):
        assert needle in text, needle  # fmt: skip
