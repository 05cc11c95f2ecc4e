"""A capture end to end: fetch, render, assemble, store through ingest, derive records.

Each URL's capture is assembled in a temporary folder outside the case (capture record,
WARC, screenshot, PDF, page text, images), packed into one zip in a fixed member order
and taken in by :func:`cyberstalk.intake.ingest.ingest`: the zip becomes the exhibit
(``RE/5``) and its members the sub-exhibits (``RE/5/1`` capture.json, ``RE/5/2``
page.warc.gz, ...), each copied, hashed, logged and sealed by ingest's one code path. A
capture that fails at any step raises before ingest is called, so nothing of it is
stored and nothing is logged. Post records are then read back from the *stored* WARC
(so they can be rebuilt from evidence) and written to ``derived/records``.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cyberstalk import __version__
from cyberstalk.capture import RECORD_NAME, WARC_NAME
from cyberstalk.capture.clock import clock_sync_state
from cyberstalk.capture.errors import CaptureError
from cyberstalk.capture.fetch import Exchange, Fetcher, Limits, _decode
from cyberstalk.capture.posts import PARSER, PARSER_VERSION, find_posts, post_records
from cyberstalk.case import Case, tool_string
from cyberstalk.hashing.digest import Hashers
from cyberstalk.hashing.manifest import load_manifest
from cyberstalk.intake.ingest import IngestOptions, IngestSummary, ingest
from cyberstalk.records import write_records

FORMAT = "cyberstalk-capture/1"
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome "
    f"Safari/537.36 cyberstalk/{__version__} (evidence capture)"
)
_SAFE = re.compile(r"[^a-z0-9.-]+")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_IMAGE_EXT = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/svg+xml": ".svg",
    "image/avif": ".avif",
    "image/x-icon": ".ico",
    "image/vnd.microsoft.icon": ".ico",
    "image/bmp": ".bmp",
}


@dataclass(frozen=True)
class CaptureOptions:
    """How captures are made and recorded."""

    source: str
    """Why and how the material was obtained (recorded as the ingest's source)."""
    operator: str
    reason: str | None = None
    limits: Limits = field(default_factory=Limits)
    allow_private: bool = False
    user_agent: str = DEFAULT_USER_AGENT
    ca_bundle: Path | None = None
    """Extra CA certificates (PEM) to trust for HTTPS, beside the system's."""
    chromium: str | None = None
    """The browser to render with; None stores the HTTP exchange only."""
    key_path: Path | None = None
    legacy_digests: bool = False


@dataclass
class CaptureResult:
    """What became of one URL."""

    url: str
    status: str
    """stored, or failed."""
    ref: str | None = None
    final_url: str | None = None
    http_status: int | None = None
    members: list[dict[str, Any]] = field(default_factory=list)
    records: int = 0
    seconds: float = 0.0
    step: str | None = None
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Made:
    url: str
    zip_path: Path
    record: dict[str, Any]
    seconds: float


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _sha256_size(data: bytes) -> dict[str, Any]:
    hashers = Hashers(legacy=False)
    hashers.update(data)
    return {"sha256": hashers.digests().sha256, "size": len(data)}


def _image_name(index: int, url: str, exchange: Exchange) -> str:
    leaf = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1].lower()
    stem = _SAFE.sub("-", leaf.rsplit(".", 1)[0])[:40].strip("-.") or "image"
    ext = _IMAGE_EXT.get(exchange.content_type, "")
    return f"images/{index:03d}-{stem}{ext}"


def make_capture(url: str, options: CaptureOptions, workdir: Path, number: int) -> _Made:
    """Fetch and render ``url`` and pack the capture into a zip under ``workdir``.
    Raises CaptureError naming the step that failed (nothing is left behind)."""
    from cyberstalk.capture.warc import write_warc

    began = time.monotonic()
    started = datetime.now(UTC)
    clock = clock_sync_state()
    fetcher = Fetcher(
        options.limits,
        allow_private=options.allow_private,
        user_agent=options.user_agent,
        ca_bundle=options.ca_bundle,
    )
    rendered = None
    try:
        hops = fetcher.fetch(url)
        final = hops[-1]
        if options.chromium is not None:
            from cyberstalk.capture.browser import render

            rendered = render(final, fetcher, exe=options.chromium, user_agent=options.user_agent)
    finally:
        fetcher.close()
    finished = datetime.now(UTC)
    folder = workdir / f"capture-{number}"
    folder.mkdir()
    exchanges = hops + (rendered.exchanges if rendered else [])
    import warcio  # type: ignore[import-untyped]

    warcio_version = getattr(warcio, "__version__", None)
    if warcio_version is None:
        from importlib.metadata import version

        warcio_version = version("warcio")
    placed = write_warc(
        folder / WARC_NAME,
        exchanges,
        {
            "software": f"{tool_string()} (warcio {warcio_version})",
            "format": "WARC File Format 1.1",
            "description": f"capture of {url}",
            "operator": options.operator,
            "http-header-user-agent": options.user_agent,
        },
    )
    files: dict[str, bytes] = {}
    if rendered is not None:
        files["screenshot.png"] = rendered.screenshot_png
        files["page.pdf"] = rendered.pdf
        files["page-text.txt"] = rendered.text.encode("utf-8")
        for index, (image_url, exchange) in enumerate(rendered.images, 1):
            files[_image_name(index, image_url, exchange)] = exchange.raw
    page = placed[len(hops) - 1]
    html = final.content_type in _HTML_TYPES and final.body is not None
    posts = find_posts(final.body or b"", final.header("content-type"), final.url) if html else []
    record: dict[str, Any] = {
        "format": FORMAT,
        "requested_url": url,
        "final_url": final.url,
        "status": final.status,
        "started_utc": _iso(started),
        "finished_utc": _iso(finished),
        "clock": {"source": "machine clock (UTC)", "sync": clock},
        "hops": [ex.summary() for ex in hops],
        "resolved_addresses": {ex.url: ex.addresses for ex in hops},
        "connected_address": final.ip,
        "tls_chain_sha256": final.cert_chain_sha256,
        "tls_chain_basis": final.cert_chain_basis,
        "user_agent": options.user_agent,
        "browser": (
            {"product": rendered.browser, "user_agent": rendered.user_agent} if rendered else None
        ),
        "tool": tool_string(),
        "warcio": warcio_version,
        "operator": options.operator,
        "source": options.source,
        "reason": options.reason,
        "limits": {
            "timeout_s": options.limits.timeout,
            "max_bytes": options.limits.max_bytes,
            "max_redirects": options.limits.max_redirects,
        },
        "allow_private": options.allow_private,
        "page_record": {
            "file": WARC_NAME,
            "offset": page.offset,
            "length": page.length,
            "warc_record_id": page.record_id,
        },
        "resources": [ex.summary() for ex in (rendered.exchanges if rendered else [])],
        "resources_not_loaded": rendered.failed if rendered else [],
        "images": [
            {"file": name, "url": u}
            for name, (u, _) in zip(
                [n for n in files if n.startswith("images/")],
                rendered.images if rendered else [],
                strict=True,
            )
        ],
        "posts": [
            {
                "platform": p.platform,
                "author": p.author,
                "time_raw": p.time_raw,
                "time_basis": p.time_basis,
                "url": p.url,
            }
            for p in posts
        ],
        "notes": (rendered.notes if rendered else [])
        + ([] if rendered else ["not rendered: HTTP exchange only (--no-browser)"]),
        "files": {WARC_NAME: _sha256_size((folder / WARC_NAME).read_bytes())}
        | {name: _sha256_size(data) for name, data in files.items()},
    }
    host = _SAFE.sub("-", (final.url.split("//", 1)[-1].split("/", 1)[0]).lower()).strip("-")
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    zip_path = workdir / f"capture-{stamp}-{number:02d}-{host[:60]}.zip"
    when = started.timetuple()[:6]
    with zipfile.ZipFile(zip_path, "x", compression=zipfile.ZIP_STORED) as zf:

        def add(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=when)
            info.external_attr = 0o444 << 16
            zf.writestr(info, data)

        add(RECORD_NAME, json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False).encode())
        add(WARC_NAME, (folder / WARC_NAME).read_bytes())
        for name, data in files.items():
            add(name, data)
    shutil.rmtree(folder)
    return _Made(url, zip_path, record, time.monotonic() - began)


def capture_records(case_root: Path, manifest: dict[str, Any], ref: str) -> tuple[str, list[Any]]:
    """(WARC sub-exhibit ref, post records) of capture exhibit ``ref``, read from the
    stored capture record and WARC in ``evidence/``."""
    from warcio.archiveiterator import ArchiveIterator  # type: ignore[import-untyped]

    members = {
        str(e.get("member_name")): e
        for e in manifest.get("exhibits") or []
        if isinstance(e, dict) and e.get("parent") == ref
    }
    if RECORD_NAME not in members or WARC_NAME not in members:
        raise CaptureError("store", f"exhibit {ref} is not a complete capture")
    record = json.loads((case_root / members[RECORD_NAME]["stored_as"]).read_bytes())
    warc_ref = str(members[WARC_NAME]["ref"])
    where = record["page_record"]
    with (case_root / members[WARC_NAME]["stored_as"]).open("rb") as fh:
        fh.seek(int(where["offset"]))
        for warc_record in ArchiveIterator(fh):
            if warc_record.rec_type != "response":
                continue
            if warc_record.rec_headers.get_header("WARC-Record-ID") != where["warc_record_id"]:
                raise CaptureError("store", f"{ref}: WARC record not at {where['offset']}")
            http = warc_record.http_headers
            raw = warc_record.raw_stream.read()
            body = _decode(raw, http.get_header("Content-Encoding"), Limits().max_bytes)
            content_type = http.get_header("Content-Type")
            target = warc_record.rec_headers.get_header("WARC-Target-URI")
            break
        else:
            raise CaptureError("store", f"{ref}: no response record in the WARC")
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    posts = find_posts(body or b"", content_type, target) if kind in _HTML_TYPES else []
    return warc_ref, post_records(
        posts,
        exhibit=warc_ref,
        warc_name=WARC_NAME,
        offset=int(where["offset"]),
        length=int(where["length"]),
        capture_ref=ref,
        record_id=str(where["warc_record_id"]),
    )


def write_capture_records(case: Case, ref: str) -> int:
    """Write capture ``ref``'s post records to derived/records; returns how many."""
    manifest = load_manifest(case.manifest_path)
    warc_ref, records = capture_records(case.root, manifest, ref)
    report = {
        "parser": {"name": PARSER, "version": PARSER_VERSION},
        "exhibit": warc_ref,
        "capture": ref,
        "records": len(records),
        "warnings": [],
    }
    write_records(case.derived_dir, warc_ref, records, report)
    return len(records)


def capture(
    case: Case,
    urls: list[str],
    options: CaptureOptions,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[CaptureResult], IngestSummary | None]:
    """Capture every URL and store each complete capture as one exhibit. A URL that fails
    is reported with the step that failed; nothing of it is stored."""
    say = progress or (lambda message: None)
    results: list[CaptureResult] = []
    made: list[_Made] = []
    workdir = Path(tempfile.mkdtemp(prefix="cyberstalk-capture-"))
    summary = None
    try:
        for number, url in enumerate(urls, 1):
            began = time.monotonic()
            say(f"capturing {url}")
            try:
                made.append(make_capture(url, options, workdir, number))
            except CaptureError as exc:
                say(f"capture failed: {url}: {exc.message}")
                results.append(
                    CaptureResult(
                        url,
                        "failed",
                        step=exc.step,
                        message=exc.message,
                        seconds=round(time.monotonic() - began, 3),
                    )
                )
        if made:
            summary = ingest(
                case,
                [m.zip_path for m in made],
                IngestOptions(
                    source=options.source,
                    operator=options.operator,
                    legacy_digests=options.legacy_digests,
                    key_path=options.key_path,
                ),
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if summary is None:
        return results, None
    manifest = load_manifest(case.manifest_path)
    exhibits = [e for e in manifest.get("exhibits") or [] if isinstance(e, dict)]
    by_path = {r.path: r for r in summary.results}
    with case.lock("capture"):
        for m in made:
            item = by_path.get(str(m.zip_path))
            result = CaptureResult(
                m.url,
                "stored" if item and item.status == "stored" else "failed",
                ref=item.ref if item else None,
                final_url=m.record["final_url"],
                http_status=m.record["status"],
                seconds=round(m.seconds, 3),
            )
            if result.status != "stored" or result.ref is None:
                result.step, result.message = "store", (item.message if item else "not stored")
                results.append(result)
                continue
            result.members = [
                {"ref": e["ref"], "name": e["member_name"], "sha256": e["digests"]["sha256"]}
                for e in exhibits
                if e.get("parent") == result.ref
            ]
            result.records = write_capture_records(case, result.ref)
            results.append(result)
    order = {url: i for i, url in enumerate(urls)}
    results.sort(key=lambda r: order.get(r.url, 0))
    return results, summary
