"""A large case's timeline uses the second core twice when it is free: a forked child
finds the lexicon hits of every record's text while this process loads and resolves the
records, and another writes about half of the month pages. The files and the custody log
are the same bytes as when this process does everything, and a child that fails changes
nothing (the parent does its work).

Each run is ``cyberstalk timeline`` in a process of its own (as a user runs it), so that
the forks happen in a single-threaded process; a small prelude chooses the path."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_timeline import build_case

from helpers.cases import events

PRELUDE = """
import json, os, sys
import cyberstalk.reports.timeline_html as H
import cyberstalk.reports.timeline_report as R
import cyberstalk.timeline.analysis as A
import cyberstalk.timeline.lexicon as L
H.SPLIT_ROWS, H.PAGE_ROWS = 500, 60
A.BESIDE_MIN_BYTES = 0
mode = sys.argv[1]
forks = []
parent = os.getpid()
if mode == "one":
    R.two_cores_free = A.two_cores_free = lambda: False
else:
    R.two_cores_free = A.two_cores_free = lambda: True
    real = R.Forked
    def counting(work):
        forks.append(1)
        return real(work)
    R.Forked = A.Forked = counting
find = L.find_in_texts
def finding(*args, **kwargs):
    if mode == "child_fails" and os.getpid() != parent:
        raise RuntimeError("the child fails")
    print("hits", "parent" if os.getpid() == parent else "child", file=sys.stderr, flush=True)
    return find(*args, **kwargs)
L.find_in_texts = finding
if mode == "two":
    render = R.render_page
    def noting(a, meta, pages, page, fh):
        print("wrote", os.getpid(), page.file, file=sys.stderr, flush=True)
        return render(a, meta, pages, page, fh)
    R.render_page = noting
if mode == "child_fails":
    render = R.render_page
    def failing(*args, **kwargs):
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return render(*args, **kwargs)
    R.render_page = failing
import cyberstalk.cli as C
ending = C.exit_kept  # the command ends the process there (it keeps its analysis)
def counted(code):
    print(json.dumps({"forks": len(forks)}), file=sys.stderr, flush=True)
    ending(code)
C.exit_kept = counted
sys.argv = ["cyberstalk", "timeline", sys.argv[2]]
try:
    C.main()
finally:  # (where the command did not end it: an error)
    print(json.dumps({"forks": len(forks)}), file=sys.stderr)
"""


def _run(case: Path, mode: str) -> tuple[dict[str, bytes], list[dict[str, object]], int]:
    """Files under reports/, the report_made events and the number of forks of one run;
    in mode ``two``, the writers of the pages are checked too."""
    proc = subprocess.run(
        [sys.executable, "-c", PRELUDE, mode, str(case)],
        capture_output=True,
        text=True,
        check=False,
        env={"SOURCE_DATE_EPOCH": "1774051200", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    forks = json.loads(proc.stderr.strip().splitlines()[-1])["forks"]
    finders = [line.split()[1] for line in proc.stderr.splitlines() if line.startswith("hits ")]
    # the hits are found once: by the child when it is there and works, else here
    assert finders == {"one": ["parent"], "two": ["child"]}.get(mode, ["parent"]), finders
    writers: dict[str, list[str]] = {}
    for line in proc.stderr.splitlines():
        if line.startswith("wrote "):
            _, pid, page = line.split()
            writers.setdefault(pid, []).append(page)
    if mode == "two":  # both processes wrote pages, each page once
        assert len(writers) == 2, writers
        written = [p for pages in writers.values() for p in pages]
        assert len(written) == len(set(written))
    reports = case / "reports"
    files = {str(p.relative_to(reports)): p.read_bytes() for p in sorted(reports.rglob("*.html"))}
    return files, [e["details"] for e in events(case, "report_made")], forks


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", "1774051200")
    try:
        return build_case(tmp_path_factory.mktemp("forked") / "case", 2000)
    finally:
        mp.undo()


def _fresh(built: Path, tmp_path: Path) -> Path:
    case = tmp_path / "case"
    shutil.copytree(built, case)
    return case


def test_pages_written_by_two_processes_are_the_same_as_by_one(built: Path, tmp_path: Path) -> None:
    one, made_one, forks_one = _run(_fresh(built, tmp_path / "a"), "one")
    two, made_two, forks_two = _run(_fresh(built, tmp_path / "b"), "two")
    assert (forks_one, forks_two) == (0, 2)
    assert len(one) > 25 and one == two
    assert made_one == made_two
    # each page recorded once, in page order, and the index last
    pages = [m for m in made_two if "page" in m]
    assert [m["page"] for m in pages] == sorted(m["page"] for m in pages)
    assert len(pages) == len(one) - 1 and "page" not in made_two[-1]


def test_failing_children_leave_their_work_to_the_parent(built: Path, tmp_path: Path) -> None:
    one, made_one, _ = _run(_fresh(built, tmp_path / "a"), "one")
    failed, made_failed, forks = _run(_fresh(built, tmp_path / "b"), "child_fails")
    assert forks == 2
    assert failed == one and made_failed == made_one
