"""``cyberstalk media DIR``: the case's images, their metadata, duplicates and OCR."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer

from cyberstalk.case import open_case
from cyberstalk.commands._options import json_option
from cyberstalk.commands._output import err, handle_errors
from cyberstalk.errors import ExitCode, UsageError


def _capture(row: dict[str, Any], zone: ZoneInfo) -> str:
    """The capture time in the case timezone, as every other command shows times (the
    EXIF form "2026:02:20 21:20:00" stays in --json as ``raw``), with its basis."""
    cap = row.get("capture_time")
    if not cap:
        return "-"
    try:
        local = datetime.fromisoformat(cap["utc"]).astimezone(zone)
    except (KeyError, TypeError, ValueError):
        return f"{cap.get('raw')} (unreadable)"
    basis = "offset in file" if cap["tz_basis"] == "explicit_offset" else "no offset: case zone"
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()} ({basis})"


def _table(rows: list[dict[str, Any]], zone: ZoneInfo) -> list[str]:
    header = ("REF", "NAME", "SIZE", "DEVICE", "CAPTURED", "GPS", "GROUP", "SCREENSHOT")
    lines: list[tuple[str, ...]] = [header]
    notes: list[str] = []
    for row in rows:
        groups = ",".join(row["groups"]) or "-"
        if row.get("error"):
            lines.append((row["ref"], str(row["name"]), "ERROR", "-", "-", "-", groups, "-"))
            notes.append(f"{row['ref']}: {row['error']}")
            continue
        gps = "** GPS **" if row["gps_present"] else "no"
        if row["gps_present"] and row.get("gps") and row["gps"].get("latitude") is not None:
            notes.append(
                f"{row['ref']}: GPS position {row['gps']['latitude']}, {row['gps']['longitude']}"
                " in the metadata: do not share this file onward unredacted"
            )
        shot = "yes" if row["screenshot"] else "no"
        reason = row["screenshot_reasons"][0] if row["screenshot_reasons"] else ""
        lines.append(
            (
                row["ref"],
                str(row["name"]),
                f"{row['width']}x{row['height']}",
                row.get("device") or "-",
                _capture(row, zone),
                gps,
                groups,
                f"{shot} ({reason})" if reason else shot,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    ]
    return out + (["", *notes] if notes else [])


def register(app: typer.Typer) -> None:
    @app.command("media")
    @handle_errors
    def media_cmd(
        directory: Path = typer.Argument(..., help="Case folder."),
        as_json: bool = json_option(),
        refresh: bool = typer.Option(
            False,
            "--refresh",
            help="Re-read every image (metadata, hashes, OCR) even if done before.",
        ),
        ocr_mode: str = typer.Option(
            "auto",
            "--ocr",
            help="auto: OCR screenshots and images without camera data; all; none.",
        ),
    ) -> None:
        """List the case's image exhibits: size, device, capture time, GPS (flagged),
        screenshot or not (with the reason) and duplicate group. Images not yet read are
        read first (metadata, perceptual hash, OCR of screenshots into the timeline)."""
        # imported here: the pipeline loads numpy/Pillow, which other commands never need
        from cyberstalk.media.pipeline import OCR_MODES, needs_processing, overview, process_case

        if ocr_mode not in OCR_MODES:
            raise UsageError(f"--ocr must be one of {', '.join(OCR_MODES)}, not {ocr_mode!r}")
        case = open_case(directory)
        todo = None if refresh else needs_processing(case)
        if refresh or todo:
            with case.lock("media"):
                summary = process_case(
                    case, refs=todo, progress=err, ocr_mode=ocr_mode, force=refresh
                )
                case.log().append(
                    "media_processed",
                    {
                        "refs": summary.processed,
                        "ocr_done": summary.ocr_done,
                        "records": summary.records,
                        "errors": [e.ref for e in summary.errors],
                    },
                )
        rows = overview(case)
        if as_json:
            typer.echo(json.dumps(rows, indent=2, ensure_ascii=False, sort_keys=True))
        else:
            if not rows:
                err("no image exhibits in this case")
            for line in _table(rows, case.config.zone):
                typer.echo(line)
        failed = [r for r in rows if r.get("error")]
        if failed:
            err(f"{len(failed)} image(s) could not be read; see the errors above")
            raise typer.Exit(int(ExitCode.FINDINGS))
