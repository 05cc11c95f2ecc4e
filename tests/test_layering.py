"""Import structure (issue 20): ``cli`` imports ``commands``, never the reverse, and the
record contract has one home."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "cyberstalk"


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_no_command_module_imports_the_cli() -> None:
    offenders = [
        p.name
        for p in sorted((SRC / "commands").glob("*.py"))
        if any(m == "cyberstalk.cli" or m.startswith("cyberstalk.cli.") for m in _imports(p))
    ]
    assert offenders == []


def test_the_record_contract_has_one_home() -> None:
    for gone in ("models.py", "derived.py", "timeutil.py"):
        assert not (SRC / gone).exists()
    users = [
        p.relative_to(SRC).as_posix()
        for p in sorted(SRC.rglob("*.py"))
        if {"cyberstalk.models", "cyberstalk.derived", "cyberstalk.timeutil"} & _imports(p)
    ]
    assert users == []
    records = SRC / "records"
    assert {p.name for p in records.glob("*.py")} == {
        "__init__.py",
        "jsonl.py",
        "model.py",
        "store.py",
        "times.py",
    }
