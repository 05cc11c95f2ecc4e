"""``cyberstalk capture``: capture public online posts by URL as exhibits."""

from __future__ import annotations

from pathlib import Path

import typer

from cyberstalk.case import open_case
from cyberstalk.commands._options import json_option
from cyberstalk.commands._output import echo, err, handle_errors, print_json, print_table
from cyberstalk.errors import CyberstalkError, ExitCode, TimestampError

# Mirror cyberstalk.capture.fetch's defaults (importing it here would load httpx on
# every CLI start); a test holds them equal.
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_BYTES = 50 << 20
DEFAULT_MAX_REDIRECTS = 10


@handle_errors
def capture_cmd(
    directory: Path = typer.Argument(..., help="Case folder (made with `cyberstalk case init`)."),
    urls: list[str] = typer.Argument(..., help="http:// or https:// URLs of public posts."),
    source: str = typer.Option(
        ...,
        "--source",
        help="How the material came to notice, e.g. 'link sent by victim, 12 Mar 2026'.",
    ),
    reason: str | None = typer.Option(
        None, "--reason", help="Why the page is captured (kept in the capture record)."
    ),
    operator: str | None = typer.Option(
        None, "--operator", help="Who is capturing (default: the officer in case.toml)."
    ),
    timeout: float = typer.Option(
        DEFAULT_TIMEOUT,
        "--timeout",
        min=0.1,
        help="Seconds for the whole capture of one URL (fetch, redirects, rendering).",
    ),
    max_bytes: int = typer.Option(
        DEFAULT_MAX_BYTES,
        "--max-bytes",
        min=1,
        help="Most bytes received for one URL, over the page and everything it embeds.",
    ),
    max_redirects: int = typer.Option(
        DEFAULT_MAX_REDIRECTS, "--max-redirects", min=0, help="Most redirects followed."
    ),
    allow_private: bool = typer.Option(
        False,
        "--allow-private",
        help="Allow addresses that are private, loopback or link-local (refused by default).",
    ),
    user_agent: str | None = typer.Option(
        None, "--user-agent", help="User-Agent for the fetch and the browser."
    ),
    ca_bundle: Path | None = typer.Option(
        None, "--ca-bundle", help="Extra CA certificates (PEM) to trust for HTTPS."
    ),
    browser: bool = typer.Option(
        True,
        "--browser/--no-browser",
        help="Render in headless Chromium (screenshot, PDF, text, images); --no-browser "
        "stores the HTTP exchange and the capture record only.",
    ),
    tsa: list[str] = typer.Option(
        [], "--tsa", help="Timestamp the manifest at once with this TSA URL (repeatable)."
    ),
    tsa_root: list[Path] = typer.Option(
        [], "--tsa-root", help="PEM root certificate pinned for --tsa (one, or one per URL)."
    ),
    key: Path | None = typer.Option(
        None, "--key", help="Ed25519 private key (PEM) to sign the manifest."
    ),
    process: bool = typer.Option(
        True,
        "--process/--no-process",
        help="After storing, read the screenshot and images into derived/ as ingest does.",
    ),
    as_json: bool = json_option("Print the result as JSON."),
) -> None:
    """Fetch each URL and store it as one exhibit with sub-exhibits: the capture record
    (JSON), the HTTP exchange with every redirect (WARC), a full-page screenshot (PNG), a
    PDF, the page text and its images, each hashed, logged and sealed as ingest does.
    Posts the page states (OpenGraph, JSON-LD, X and Instagram public markup) become
    timeline records. Addresses that are not public are refused unless --allow-private.

    Exit 0 when every URL was stored (and timestamped, with --tsa), 3 when any failed:
    a failed capture names the step that failed and stores nothing.
    """
    from cyberstalk.capture.browser import chromium_path_or_error
    from cyberstalk.capture.fetch import Limits
    from cyberstalk.capture.store import DEFAULT_USER_AGENT, CaptureOptions, capture

    case = open_case(directory)
    specs = []
    if tsa or tsa_root:
        from cyberstalk.hashing.timestamps import specs_from_cli

        specs = specs_from_cli(tsa, tsa_root)  # roots read now: a bad one stops before fetching
    options = CaptureOptions(
        source=source,
        operator=operator or case.config.officer,
        reason=reason,
        limits=Limits(timeout=timeout, max_bytes=max_bytes, max_redirects=max_redirects),
        allow_private=allow_private,
        user_agent=user_agent or DEFAULT_USER_AGENT,
        ca_bundle=ca_bundle,
        chromium=chromium_path_or_error() if browser else None,
        key_path=key,
        legacy_digests=bool(case.config.settings.get("legacy_digests", False)),
    )
    results, summary = capture(case, urls, options, progress=err)
    stored = [r for r in results if r.status == "stored"]
    if process and stored:
        from cyberstalk.workflow import process_case

        for line in process_case(case.reload(), progress=err)["messages"]:
            err(line)
    stamped: list[dict[str, str]] = []
    problems: list[str] = []
    if specs and stored:
        from cyberstalk.hashing.timestamps import timestamp_case

        with case.lock("timestamp"):
            run = timestamp_case(case.root, specs, case.log(operator), progress=err)
        stamped = [{"tsa": t.url, "gen_time": t.info.gen_time.isoformat()} for t in run.stored]
        problems = [f.reason for f in run.failures]
    if as_json:
        print_json(
            {
                "captures": [r.as_dict() for r in results],
                "timestamps": stamped,
                "timestamp_failures": problems,
                "ingest": summary.as_dict()["counts"] if summary else {},
            }
        )
    else:
        print_table(
            f"capture into {case.config.reference}",
            ("status", "exhibit", "url", "http", "parts", "posts", "seconds", "note"),
            [
                (
                    r.status,
                    r.ref or "",
                    r.url,
                    r.http_status or "",
                    len(r.members),
                    r.records,
                    r.seconds,
                    r.message or (r.final_url if r.final_url != r.url else ""),
                )
                for r in results
            ],
        )
        for r in stored:
            for m in r.members:
                echo(f"  {m['ref']}  {m['name']}  sha256 {m['sha256']}")
        for t in stamped:
            echo(f"timestamped  {t['gen_time']}  {t['tsa']}")
    for problem in problems:
        err(f"timestamp refused: {problem}")
    if problems:
        raise TimestampError(
            f"the capture is stored, but {len(problems)} TSA(s) gave no acceptable token",
            advice="run `cyberstalk timestamp` on the case once the TSA answers",
        )
    if len(stored) < len(results):
        failed = [r for r in results if r.status != "stored"]
        raise _Failed(
            f"{len(failed)} of {len(results)} URL(s) not captured: "
            + "; ".join(f"{r.url}: {r.message}" for r in failed)
        )


class _Failed(CyberstalkError):
    exit_code = ExitCode.INPUT


def register(app: typer.Typer) -> None:
    app.command("capture")(capture_cmd)
