"""``cyberstalk screen`` on Excel ``.xlsx`` exports: the same records and findings as the CSV,
the same ``--map``, formulas never evaluated, hostile workbooks refused with a clear error;
and the progress callback."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from cyberstalk.cli import app
from cyberstalk.screening import reader as screen_reader
from cyberstalk.screening import screen_file, screen_records
from cyberstalk.screening.reader import read_records
from helpers.fixture_scripts import load_fixture

MAPPING = {"id": "CrimeRef", "text": "Summary", "date": "Recorded", "offence": "Offence"}
MAP = [arg for k, v in MAPPING.items() for arg in ("--map", f"{k}={v}")]


def workbook(path: Path, rows: list[list[object]], title: str = "Crimes") -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    other = book.create_sheet("Notes")
    other.append(["Summary"])
    other.append(["He keeps following her and watching her house."])
    book.save(path)
    return path


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("xlsx")
    csv_path, json_path = load_fixture("crime_records").generate(out)
    rows = json.loads(json_path.read_text(encoding="utf-8"))
    header = list(rows[0])
    return csv_path, workbook(out / "records.xlsx", [header] + [list(r.values()) for r in rows])


def test_xlsx_gives_the_same_findings_as_csv(labelled: tuple[Path, Path]) -> None:
    csv_path, xlsx_path = labelled
    a = screen_file(csv_path, MAPPING)
    b = screen_file(xlsx_path, MAPPING)
    assert b.source.format == "xlsx" and b.screened == a.screened
    assert b.source.columns["sheet"] == "Crimes"

    def without_position(result: object) -> list[dict[str, object]]:
        return [
            {k: v for k, v in f.as_dict().items() if k != "position"}
            for f in result.findings  # type: ignore[attr-defined]
        ]

    assert without_position(a) == without_position(b)
    assert b.findings[0].record.position.startswith("Crimes row ")


def test_the_cli_reads_xlsx_with_the_sheet_setting(runner: CliRunner, tmp_path: Path) -> None:
    path = workbook(tmp_path / "r.xlsx", [["CrimeRef", "Summary"], ["NWP/1", "Bike stolen."]])
    result = runner.invoke(app, ["screen", str(path), *MAP[:4], "--json"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["screen", str(path), "--map", "sheet=Notes", "--map", "text=Summary", "--json"]
    )
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["findings"][0]["position"] == "Notes row 2"
    result = runner.invoke(
        app, ["screen", str(path), "--map", "sheet=Nope", "--map", "text=Summary"]
    )
    assert result.exit_code == 2 and "no such sheet" in result.output


def test_formulas_are_never_evaluated(runner: CliRunner, tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "f.xlsx",
        [
            ["CrimeRef", "Summary"],
            ["NWP/1", '=HYPERLINK("http://evil.example/","He keeps following her")'],
            ["NWP/2", "He keeps following her and watching her house."],
        ],
    )
    records = read_records(path, {"id": "CrimeRef", "text": "Summary"})
    # openpyxl saves no value for a formula: it reads as empty, and a note says so
    assert [r.text for r in records.records] == ["", records.records[1].text]
    assert any("formulas are never evaluated" in n for n in records.notes)
    result = runner.invoke(app, ["screen", str(path), *MAP[:4], "--json"])
    assert result.exit_code == 1
    assert "evil.example" not in result.stdout


@pytest.mark.parametrize(
    "data",
    [b"PK\x03\x04 not really a zip", b"\x00" * 100, b"PK\x05\x06" + b"\x00" * 18],
)
def test_a_corrupt_workbook_is_a_clear_error(
    runner: CliRunner, tmp_path: Path, data: bytes
) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(data)
    result = runner.invoke(app, ["screen", str(path), "--map", "text=Summary"])
    assert result.exit_code == 3, result.output
    assert "xlsx" in result.output and "Traceback" not in result.output


def test_a_truncated_workbook_is_a_clear_error(runner: CliRunner, tmp_path: Path) -> None:
    good = workbook(tmp_path / "g.xlsx", [["Summary"], ["He keeps following her."]])
    path = tmp_path / "cut.xlsx"
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    result = runner.invoke(app, ["screen", str(path), "--map", "text=Summary"])
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output


def test_a_zip_bomb_is_refused_before_it_is_unpacked(runner: CliRunner, tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\x00" * (40 * 1024 * 1024))
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(buf.getvalue())
    result = runner.invoke(app, ["screen", str(path), "--map", "text=Summary"])
    assert result.exit_code == 3, result.output
    assert "zip bomb" in result.output


def test_the_unpacked_total_is_limited(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = workbook(tmp_path / "w.xlsx", [["Summary"], ["He keeps following her."]])
    monkeypatch.setattr(screen_reader, "XLSX_MAX_UNPACKED", 1000)
    result = runner.invoke(app, ["screen", str(path), "--map", "text=Summary"])
    assert result.exit_code == 3 and "would unpack to" in result.output


def test_progress_reports_every_character_screened(labelled: tuple[Path, Path]) -> None:
    records = read_records(labelled[0], MAPPING)
    seen: list[int] = []
    result = screen_records(records, seen.append)
    assert sum(seen) == sum(len(r.text) + 1 for r in records.records)
    assert len(seen) == 1 and result.findings == screen_records(records).findings
