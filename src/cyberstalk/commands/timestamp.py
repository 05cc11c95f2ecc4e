"""``cyberstalk timestamp``: RFC 3161 trusted timestamps over the case manifest."""

from __future__ import annotations

from pathlib import Path

import typer

from cyberstalk.case import open_case
from cyberstalk.commands._options import json_option
from cyberstalk.commands._output import err, handle_errors, print_json
from cyberstalk.errors import TimestampError

# Mirrors cyberstalk.hashing.timestamps.DEFAULT_TIMEOUT / DEFAULT_RETRIES (a test checks):
# importing that module here would load httpx and asn1crypto on every CLI start.
DEFAULT_TIMEOUT = 15.0
DEFAULT_RETRIES = 2


@handle_errors
def timestamp_cmd(
    directory: Path = typer.Argument(..., help="Case folder whose manifest.json to timestamp."),
    tsa: list[str] = typer.Option(
        [],
        "--tsa",
        help="TSA URL, repeatable (e.g. http://timestamp.digicert.com). Default: the "
        "[timestamps] tsa list in case.toml, else in ~/.config/cyberstalk/config.toml.",
    ),
    tsa_root: list[Path] = typer.Option(
        [],
        "--tsa-root",
        help="PEM file with the root certificate(s) pinned for the TSA. One for all --tsa "
        "URLs, or one per URL in the same order. Required with --tsa.",
    ),
    timeout: float = typer.Option(
        DEFAULT_TIMEOUT, "--timeout", min=0.1, help="Seconds to wait for each TSA answer."
    ),
    retries: int = typer.Option(
        DEFAULT_RETRIES,
        "--retries",
        min=0,
        help="Extra attempts when a TSA is unreachable, times out or answers HTTP 5xx.",
    ),
    actor: str | None = typer.Option(
        None, "--operator", help="Who is doing this (default: the officer in case.toml)."
    ),
    as_json: bool = json_option("Print the result as JSON."),
) -> None:
    """Ask one or more Time-Stamp Authorities to timestamp manifest.json (SHA-256 imprint,
    random nonce), verify each token at once against the pinned roots (signature and
    chain at genTime, nonce, imprint, critical timeStamping EKU), and store the request
    (.tsq), the token (.tsr), the pinned roots and the timestamped manifest bytes under
    timestamps/, recorded in the custody log. A token that fails any check is refused.

    Check a stored token with stock OpenSSL: openssl ts -verify -queryfile
    timestamps/0001-HOST.tsq -in timestamps/0001-HOST.tsr -CAfile timestamps/0001-HOST.root.pem

    Exit 0 when every TSA gave a verified token, 3 when any did not (the others are kept).
    """
    from cyberstalk.hashing.timestamps import configured_tsas, specs_from_cli, timestamp_case

    case = open_case(directory)
    specs = specs_from_cli(tsa, tsa_root) or configured_tsas(case.config.raw, case.root)
    with case.lock("timestamp"):
        run = timestamp_case(
            case.root,
            specs,
            case.log(actor),
            timeout=timeout,
            retries=retries,
            progress=err,
        )
    if as_json:
        print_json(
            {
                "run": run.run,
                "manifest_sha256": run.manifest_sha256,
                "tokens": [
                    {
                        "tsa": t.url,
                        "gen_time": t.info.gen_time.isoformat(),
                        "serial": str(t.info.serial),
                        "tsa_subject": t.info.tsa_subject,
                        "files": dict(t.files),
                    }
                    for t in run.stored
                ],
                "failures": [{"tsa": f.url, "reason": f.reason} for f in run.failures],
                "warnings": run.warnings,
            }
        )
    else:
        for t in run.stored:
            typer.echo(
                f"timestamped  {t.info.gen_time.isoformat()}  {t.url}  serial {t.info.serial}  "
                f"-> {t.files['tsr']}"
            )
    for warning in run.warnings:
        err(f"warning: {warning}")
    if run.failures:
        for f in run.failures:
            err(f"refused: {f.reason}")
        raise TimestampError(
            f"{len(run.failures)} of {len(specs)} TSA(s) gave no acceptable token; "
            f"{len(run.stored)} token(s) stored",
            advice="see the reasons above; nothing unverified was stored",
        )


def register(app: typer.Typer) -> None:
    app.command("timestamp")(timestamp_cmd)
