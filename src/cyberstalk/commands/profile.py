"""``cyberstalk profile``: a force-level stalking profile over many verified cases."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import typer

from cyberstalk.commands._options import json_option, output_option
from cyberstalk.commands._output import err, handle_errors
from cyberstalk.errors import ExitCode, UsageError


class _Progress:
    """``profile: 120/1000 cases`` redrawn on one stderr line (terminals only)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        if not self.tty:
            return
        step = max(1, total // 100)
        if done == total or done - self.last >= step:
            self.last = done
            sys.stderr.write(f"\rprofile: {done}/{total} cases verified and analysed")
            if done == total:
                sys.stderr.write("\n")
            sys.stderr.flush()


@handle_errors
def profile_cmd(
    directories: list[Path] = typer.Argument(
        ..., help="Case folders (e.g. cases/*). Each is verified before it is counted."
    ),
    output: Path = output_option(
        "With --format all: a folder that gets profile.html, profile.csv and "
        "profile.json. With one format: the file to write.",
        required=True,
    ),
    fmt: str = typer.Option(
        "all",
        "--format",
        "-f",
        help="all (default), html (A4, inline SVG charts), csv (tidy: month, measure, "
        "category, value) or json (for analysts).",
    ),
    by: str = typer.Option(
        "report",
        "--by",
        help="Month each case is counted in: report (when the force first received its "
        "evidence) or first-contact (its first counted contact). Each case's own timezone.",
    ),
    exact: bool = typer.Option(
        False,
        "--exact",
        help="Show exact counts. Default: counts from 1 to 4 are shown as <5 and medians "
        "over fewer than 5 cases as 'suppressed' (safe to publish).",
    ),
    jobs: int | None = typer.Option(
        None, "--jobs", "-j", min=1, help="Processes to use (default: every core)."
    ),
    as_json: bool = json_option("Print what was written and which cases were left out as JSON."),
) -> None:
    """Aggregate many cases into a force-level profile per month: cases, platforms, FOUR
    indicators, s.2A(3) behaviours, contact after a block, possible order breaches and
    days from first contact to report. No name, identifier or message of anyone is
    written. Every case is verified first; a case that fails is left out and named.
    Changes no case. Exit 0 when every case was included, 1 when any was excluded."""
    from cyberstalk.hashing.verify import timestamp_check
    from cyberstalk.reports.profile import MONTH_BASES, build_profile
    from cyberstalk.reports.profile_render import RENDER_FORMATS, write_profile

    if fmt not in ("all", *RENDER_FORMATS):
        raise UsageError(f"--format {fmt!r} is not one of all, {', '.join(RENDER_FORMATS)}")
    if by not in MONTH_BASES:
        raise UsageError(f"--by {by!r} is not one of {', '.join(MONTH_BASES)}")
    started = time.perf_counter()
    profile = build_profile(
        directories,
        month_basis=by,
        jobs=jobs,
        timestamp_check=timestamp_check,
        progress=_Progress(),
    )
    seconds = time.perf_counter() - started
    for ex in profile.excluded:
        name = ex.reference or "(no readable case.toml)"
        err(f"excluded: {name} (folder {ex.folder}): {'; '.join(ex.reasons)}")
        for problem in ex.problems:
            err(f"  - {problem}")
    if profile.excluded:
        err("  hint: run `cyberstalk verify CASE` on an excluded case for the full report")
    examined = len(profile.included) + len(profile.excluded)
    err(
        f"profile: {examined} cases in {seconds:.1f} s ({examined / max(seconds, 1e-9):.0f} "
        f"cases/s): {len(profile.included)} included, {len(profile.excluded)} excluded"
    )
    if not profile.included:
        err("error: no case could be included, so no profile was written")
        raise typer.Exit(int(ExitCode.FINDINGS))
    written = write_profile(profile, output, fmt, exact=exact)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "written": [{"path": str(p), "sha256": h, "size": n} for p, h, n in written],
                    "included": len(profile.included),
                    "excluded": [
                        {"reference": e.reference, "folder": e.folder, "reasons": list(e.reasons)}
                        for e in profile.excluded
                    ],
                    "seconds": round(seconds, 3),
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for path, sha, _ in written:
            typer.echo(f"{path}  sha256 {sha}")
    if profile.excluded:
        raise typer.Exit(int(ExitCode.FINDINGS))


def register(app: typer.Typer) -> None:
    app.command("profile")(profile_cmd)
