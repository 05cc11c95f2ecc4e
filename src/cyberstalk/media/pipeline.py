"""``process_case``: metadata, perceptual hashes, OCR and chat records for every image
exhibit of a case, written under ``derived/``.

Per image exhibit ``REF`` (``SAFE`` = ``safe_ref(REF)``):

- ``derived/media/SAFE.json``: metadata, screenshot verdict, perceptual hash and method,
  OCR summary, warnings; or the error that stopped the exhibit.
- ``derived/ocr/SAFE.json``: OCR text, each line's box and confidence, each word's.
- ``derived/records/SAFE.jsonl``: ``screenshot_text`` records (and ``.report.json``).

Then, over the whole case: ``derived/media/groups.json`` (exact and near-duplicate
groups) and the links from screenshot records to export records.

One bad image never stops the rest: its error is written to its media file and returned
in :class:`MediaSummary`. An image already read with the same bytes, versions and settings
(timezone, OCR mode and engine, hash method) is kept, so running this after every ingest
only reads new images; links and groups are always recomputed over the whole case. A case
with no image exhibit has none of these files, and the image modules are not imported.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from cyberstalk.case import Case
from cyberstalk.errors import CaseError, MediaError
from cyberstalk.hashing.fsutil import atomic_write
from cyberstalk.records import Record, records_dir, safe_ref, write_records
from cyberstalk.records.store import file_record_dicts
from cyberstalk.records.times import ZoneChoice, choose_zone

if TYPE_CHECKING:
    from cyberstalk.media import ocr, screenshots

MEDIA_VERSION = "1"
IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".heif", ".bmp", ".tif", ".tiff"}
)
OCR_MODES = ("auto", "all", "none")

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class MediaProblem:
    """An image exhibit that could not be processed."""

    ref: str
    """Exhibit reference."""
    name: str
    """Original file name."""
    message: str
    """What went wrong, with the facts."""
    advice: str | None = None
    """One sentence on what to do."""

    def __str__(self) -> str:
        return self.message + (f" (hint: {self.advice})" if self.advice else "")


@dataclass
class MediaSummary:
    """What :func:`process_case` did."""

    images: int = 0
    """Image exhibits looked at."""
    processed: list[str] = field(default_factory=list)
    """Refs processed without error."""
    screenshots: int = 0
    """Of those, how many were recognised as screenshots."""
    ocr_done: int = 0
    """Images OCR'd in this run."""
    unchanged: int = 0
    """Images already read with the same bytes and settings: kept as they were."""
    records: int = 0
    """screenshot_text records written."""
    corroborated: int = 0
    """screenshot_text records (whole case) linked to an export record."""
    gps: list[str] = field(default_factory=list)
    """Refs whose metadata holds a GPS position (the victim's location may leak)."""
    groups: list[dict[str, Any]] = field(default_factory=list)
    """Duplicate groups over the whole case."""
    errors: list[MediaProblem] = field(default_factory=list)
    """Per-exhibit errors (corrupt, truncated, zero-byte, bomb, hash mismatch...)."""
    warnings: list[tuple[str, str]] = field(default_factory=list)
    """(ref, warning) pairs: things the officer should know."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "images": self.images,
            "processed": self.processed,
            "screenshots": self.screenshots,
            "ocr_done": self.ocr_done,
            "unchanged": self.unchanged,
            "records": self.records,
            "corroborated": self.corroborated,
            "gps": self.gps,
            "groups": self.groups,
            "errors": [
                {"ref": e.ref, "name": e.name, "message": e.message, "advice": e.advice}
                for e in self.errors
            ],
            "warnings": [{"ref": r, "warning": w} for r, w in self.warnings],
        }


def media_dir(case: Case) -> Path:
    return case.derived_dir / "media"


def ocr_dir(case: Case) -> Path:
    return case.derived_dir / "ocr"


def load_exhibits(case: Case) -> list[dict[str, Any]]:
    """The manifest's exhibits (the ingest module's loader when present)."""
    if not case.manifest_path.is_file():
        return []
    loader: Callable[[Path], Any] | None
    try:
        from cyberstalk.hashing.manifest import (  # type: ignore[import-not-found,unused-ignore]
            load_manifest as loader,
        )
    except ImportError:  # the ingest module is not there yet: read the JSON ourselves
        loader = None
    if loader is not None:
        data = loader(case.manifest_path)
    else:
        try:
            data = json.loads(case.manifest_path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise CaseError(f"cannot read {case.manifest_path}: {exc}") from exc
    exhibits = data.get("exhibits", []) if isinstance(data, dict) else []
    return [e for e in exhibits if isinstance(e, dict)]


def is_image_exhibit(exhibit: dict[str, Any]) -> bool:
    """Image by content type (libmagic), or named like one (so a broken one is reported)."""
    mime = str(exhibit.get("mime") or "")
    if mime.startswith("image/"):
        return True
    name = str(exhibit.get("original_name") or exhibit.get("stored_as") or "")
    return PurePosixPath(name).suffix.lower() in IMAGE_EXTENSIONS


def _dump(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


@dataclass
class _Pending:
    exhibit: dict[str, Any]
    media: dict[str, Any]
    ctx: screenshots.ImageContext


def _extension_check(name: str, mime: str, fmt: str) -> str | None:
    suffix = PurePosixPath(name).suffix.lower()
    if not suffix:
        return None
    expected = {
        "JPEG": {".jpg", ".jpeg", ".jfif"},
        "PNG": {".png"},
        "GIF": {".gif"},
        "WEBP": {".webp"},
        "HEIF": {".heic", ".heif"},
        "BMP": {".bmp"},
        "TIFF": {".tif", ".tiff"},
    }.get(fmt)
    if expected is not None and suffix not in expected:
        return (
            f"file name ends {suffix} but the content is {fmt} ({mime or 'mime unknown'}): "
            "the extension is wrong; the content was read as it is"
        )
    return None


def _settings(zone: ZoneChoice, ocr_mode: str) -> dict[str, Any]:
    """What a media file was made with: if any of it changes, the image is read again."""
    from cyberstalk.media import ocr, phash, screenshots

    return {
        "timezone": zone.zone.key,
        "ocr_mode": ocr_mode,
        "phash_method": phash.method(),
        "ocr_engine": ocr.engine_description() if ocr_mode != "none" else None,
        "chat_reader": f"{screenshots.PARSER} {screenshots.PARSER_VERSION}",
    }


def _cached(
    case: Case, exhibit: dict[str, Any], zone: ZoneChoice, ocr_mode: str
) -> dict[str, Any] | None:
    """The exhibit's media file when it is current (same bytes, version and settings,
    and its OCR and records files present); None when the image must be read again."""
    ref = str(exhibit.get("ref"))
    path = media_dir(case) / f"{safe_ref(ref)}.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    sha = (exhibit.get("digests") or {}).get("sha256")
    if (
        data.get("error")
        or data.get("sha256") != sha
        or data.get("media_version") != MEDIA_VERSION
        or data.get("settings") != _settings(zone, ocr_mode)
    ):
        return None
    if (data.get("ocr") or {}).get("done"):
        safe = safe_ref(ref)
        if not (ocr_dir(case) / f"{safe}.json").is_file():
            return None
        if not (records_dir(case.derived_dir) / f"{safe}.jsonl").is_file():
            return None
    return data


def _process_one(
    case: Case, exhibit: dict[str, Any], zone: ZoneChoice, ocr_mode: str
) -> tuple[dict[str, Any], ocr.Prepared | None, screenshots.ImageContext | None]:
    from cyberstalk.media import imageio, metadata, ocr, phash, screenshots

    ref = str(exhibit["ref"])
    name = str(exhibit.get("original_name") or exhibit.get("stored_as"))
    label = f"{ref} ({name})"
    mime = str(exhibit.get("mime") or "")
    sha256 = (exhibit.get("digests") or {}).get("sha256")
    stored = case.root / str(exhibit["stored_as"])
    data = imageio.read_verified(stored, sha256, label=label)
    if not data:
        imageio.decode(data, label=label)  # raises the zero-byte error
    if mime and not mime.startswith("image/"):
        raise MediaError(
            f"{label}: named as an image but libmagic says the content is {mime}",
            advice="the extension is wrong or the file is damaged; examine it by hand",
        )
    img = imageio.decode(data, label=label)
    meta = metadata.extract(data, img, name=name, mime=mime or None, zone=zone)
    warning = _extension_check(name, mime, img.format or "")
    if warning:
        meta["warnings"].append(warning)
    media: dict[str, Any] = {
        "ref": ref,
        "original_name": name,
        "member_name": exhibit.get("member_name"),
        "parent": exhibit.get("parent"),
        "stored_as": exhibit.get("stored_as"),
        "sha256": sha256,
        "media_version": MEDIA_VERSION,
        "settings": _settings(zone, ocr_mode),
        "metadata": meta,
        "phash": {"method": phash.method(), "value": phash.perceptual_hash(img)},
        "error": None,
    }
    is_shot = bool(meta["screenshot"]["is_screenshot"])
    camera = bool(meta.get("make") or meta.get("model"))
    if ocr_mode == "none":
        media["ocr"] = {"done": False, "reason": "OCR switched off (--ocr none)"}
        return media, None, None
    if ocr_mode == "auto" and not is_shot and camera:
        media["ocr"] = {"done": False, "reason": "camera photo (not a screenshot): not OCR'd"}
        return media, None, None
    media["ocr"] = {
        "done": True,
        "reason": "screenshot" if is_shot else "no camera data: may hold text",
    }
    prepared = ocr.prepare(img)
    ctx = screenshots.ImageContext(
        ref=ref,
        name=name,
        width=img.width,
        height=img.height,
        sha256=sha256 or "",
        capture=meta.get("capture_time"),
        member=exhibit.get("member_name"),
    )
    return media, prepared, ctx


def process_case(
    case: Case,
    refs: list[str] | None = None,
    progress: Progress | None = None,
    *,
    ocr_mode: str = "auto",
    workers: int | None = None,
    force: bool = False,
) -> MediaSummary:
    """Process the case's image exhibits (or only ``refs``); see the module docstring.

    ``ocr_mode``: ``auto`` OCRs screenshots and images without camera data; ``all`` every
    image; ``none`` skips OCR. An image whose media file is current (same bytes, same
    versions and settings) is not read again unless ``force``. ``workers``: tesseract
    processes at once (default :data:`cyberstalk.media.ocr.WORKERS`). The caller holds
    the case lock. The image libraries (Pillow, exifread, imagehash and numpy) are
    imported only when there is an image to read.
    """
    if ocr_mode not in OCR_MODES:
        raise ValueError(f"ocr_mode must be one of {OCR_MODES}")
    summary = MediaSummary()
    zone = choose_zone(None, case.config.timezone)
    exhibits = [e for e in load_exhibits(case) if is_image_exhibit(e)]
    if not exhibits:
        # No image in the case (exhibits are never taken out): no media file, group or
        # screenshot record can exist, so there is nothing to read, group or link, and
        # the image modules are not even imported (a chat-only ingest starts faster).
        return summary
    from cyberstalk.media import phash, screenshots

    if refs is not None:
        wanted = set(refs)
        exhibits = [e for e in exhibits if e.get("ref") in wanted]
    summary.images = len(exhibits)
    mdir, odir = media_dir(case), ocr_dir(case)
    mdir.mkdir(parents=True, exist_ok=True)
    odir.mkdir(parents=True, exist_ok=True)
    pending: dict[str, _Pending] = {}

    def say(message: str) -> None:
        if progress is not None:
            progress(message)

    def jobs() -> Iterator[tuple[str, ocr.Prepared]]:
        for exhibit in exhibits:
            ref = str(exhibit.get("ref"))
            name = str(exhibit.get("original_name") or exhibit.get("stored_as"))
            cached = None if force else _cached(case, exhibit, zone, ocr_mode)
            if cached is not None:
                meta = cached["metadata"]
                summary.processed.append(ref)
                summary.unchanged += 1
                summary.warnings.extend((ref, w) for w in meta["warnings"])
                if meta["gps_present"]:
                    summary.gps.append(ref)
                if meta["screenshot"]["is_screenshot"]:
                    summary.screenshots += 1
                say(f"{ref}: already read, unchanged")
                continue
            try:
                try:
                    media, prepared, ctx = _process_one(case, exhibit, zone, ocr_mode)
                except MediaError:
                    raise
                except Exception as bug:  # one exotic image must not stop the rest
                    raise MediaError(
                        f"{ref} ({name}): unexpected {type(bug).__name__} while reading: {bug}",
                        advice="this is a bug in cyberstalk; report it with the exhibit's type",
                    ) from bug
            except MediaError as exc:
                summary.errors.append(MediaProblem(ref, name, exc.message, exc.advice))
                atomic_write(
                    mdir / f"{safe_ref(ref)}.json",
                    _dump(
                        {
                            "ref": ref,
                            "original_name": name,
                            "stored_as": exhibit.get("stored_as"),
                            "sha256": (exhibit.get("digests") or {}).get("sha256"),
                            "media_version": MEDIA_VERSION,
                            "error": exc.message,
                            "advice": exc.advice,
                        }
                    ),
                )
                say(f"{ref}: error: {exc.message}")
                continue
            meta = media["metadata"]
            summary.processed.append(ref)
            summary.warnings.extend((ref, w) for w in meta["warnings"])
            if meta["gps_present"]:
                summary.gps.append(ref)
            if meta["screenshot"]["is_screenshot"]:
                summary.screenshots += 1
            if prepared is None or ctx is None:
                atomic_write(mdir / f"{safe_ref(ref)}.json", _dump(media))
                say(f"{ref}: metadata and hash done ({media['ocr']['reason']})")
                continue
            pending[ref] = _Pending(exhibit, media, ctx)
            yield ref, prepared

    results: dict[str, dict[str, Any] | MediaError] = {}
    if ocr_mode == "none" or not exhibits:
        for _ in jobs():  # metadata and hashes only: nothing is yielded
            pass
    else:
        from cyberstalk.media import ocr

        results = ocr.ocr_many(
            jobs(), workers=ocr.WORKERS if workers is None else workers, expected=len(exhibits)
        )

    for ref, result in sorted(results.items(), key=lambda kv: phash.ref_sort_key(kv[0])):
        item = pending[ref]
        name = item.ctx.name
        if isinstance(result, MediaError):
            item.media["ocr"] = {"done": False, "reason": f"OCR failed: {result.message}"}
            summary.errors.append(MediaProblem(ref, name, result.message, result.advice))
            atomic_write(mdir / f"{safe_ref(ref)}.json", _dump(item.media))
            continue
        summary.ocr_done += 1
        atomic_write(
            odir / f"{safe_ref(ref)}.json",
            _dump({"exhibit": ref, "original_name": name, **result}),
        )
        records, report = screenshots.read_chat(result, item.ctx, zone)
        item.media["ocr"].update(
            {
                "mean_confidence": result["mean_confidence"],
                "lines": len(result["lines"]),
                "chat_records": len(records),
                "conversation": report.get("conversation"),
            }
        )
        write_records(case.derived_dir, ref, records, report)
        summary.records += len(records)
        atomic_write(mdir / f"{safe_ref(ref)}.json", _dump(item.media))
        say(f"{ref}: OCR {len(result['lines'])} lines, {len(records)} chat records")

    summary.groups = write_groups(case)
    summary.corroborated = link_case(case)
    return summary


def load_media(case: Case) -> list[dict[str, Any]]:
    """Every per-exhibit media file, in exhibit order."""
    folder = media_dir(case)
    if not folder.is_dir():
        return []
    items = []
    for path in folder.glob("*.json"):
        if path.name == "groups.json":
            continue
        items.append(json.loads(path.read_text("utf-8")))
    from cyberstalk.media import phash

    items.sort(key=lambda m: phash.ref_sort_key(str(m.get("ref"))))
    return items


def write_groups(case: Case) -> list[dict[str, Any]]:
    """Recompute duplicate groups over all media files; write derived/media/groups.json."""
    from cyberstalk.media import phash

    hashed = []
    for m in load_media(case):
        if m.get("error") or not m.get("sha256"):
            continue
        ph = m.get("phash") or {}
        hashed.append(phash.HashedImage(m["ref"], m["sha256"], ph.get("method"), ph.get("value")))
    groups = phash.group(hashed)
    atomic_write(
        media_dir(case) / "groups.json",
        _dump({"method": phash.method(), "threshold_bits": phash.THRESHOLD, "groups": groups}),
    )
    return groups


def load_groups(case: Case) -> list[dict[str, Any]]:
    path = media_dir(case) / "groups.json"
    if not path.is_file():
        return []
    groups: list[dict[str, Any]] = json.loads(path.read_text("utf-8")).get("groups", [])
    return groups


def link_case(case: Case) -> int:
    """(Re)link every screenshot record of the case to export records; returns how many
    screenshot records corroborate at least one export record. Rewrites only files whose
    links changed, so it is cheap to run after new exports are parsed."""
    from cyberstalk.media import link, screenshots

    folder = records_dir(case.derived_dir)
    if not folder.is_dir():
        return 0
    zone = choose_zone(None, case.config.timezone).zone
    shot_files: list[tuple[Path, list[Record]]] = []
    export_files: list[Path] = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open("rb") as fh:
            first = fh.readline()
        if not first.strip():
            continue
        if json.loads(first)["parser"]["name"] == screenshots.PARSER:
            recs = [Record.from_dict(d) for d in file_record_dicts(path)]
            if all(r.parser == screenshots.PARSER for r in recs):
                shot_files.append((path, recs))
                continue
        export_files.append(path)
    if not shot_files:
        return 0  # nothing to link: the exports are not read
    exports = [
        record
        for path in export_files
        for record in map(Record.from_dict, file_record_dicts(path))
        if record.parser != screenshots.PARSER
    ]
    index = link.ExportIndex(exports, zone)
    total = 0
    for path, recs in shot_files:
        linked, count = link.corroborate(recs, index)
        total += count
        ref = recs[0].locator.exhibit or path.stem
        report_path = path.with_name(path.name.removesuffix(".jsonl") + ".report.json")
        report: dict[str, Any] = {}
        if report_path.is_file():
            report = json.loads(report_path.read_text("utf-8"))
        if report.get("corroborated") == count and [r.as_dict() for r in linked] == [
            r.as_dict() for r in recs
        ]:
            continue
        report["corroborated"] = count
        write_records(case.derived_dir, ref, linked, report)
    return total


def needs_processing(case: Case) -> list[str]:
    """Image exhibits of the manifest that have no media file yet."""
    folder = media_dir(case)
    return [
        str(e["ref"])
        for e in load_exhibits(case)
        if is_image_exhibit(e) and not (folder / f"{safe_ref(str(e['ref']))}.json").is_file()
    ]


def overview(case: Case) -> list[dict[str, Any]]:
    """One row per image exhibit for `cyberstalk media` and the exhibit list."""
    groups = load_groups(case)
    member_of: dict[str, list[str]] = {}
    for g in groups:
        for ref in g["members"]:
            member_of.setdefault(ref, []).append(str(g["id"]))
    rows = []
    for m in load_media(case):
        ref = str(m.get("ref"))
        if m.get("error"):
            rows.append(
                {
                    "ref": ref,
                    "name": m.get("original_name"),
                    "error": m["error"],
                    "advice": m.get("advice"),
                    "groups": member_of.get(ref, []),
                }
            )
            continue
        meta = m["metadata"]
        device = " ".join(x for x in (meta.get("make"), meta.get("model")) if x) or None
        rows.append(
            {
                "ref": ref,
                "name": m.get("original_name"),
                "width": meta["width"],
                "height": meta["height"],
                "format": meta["format"],
                "device": device,
                "software": meta.get("software"),
                "capture_time": meta.get("capture_time"),
                "gps": meta.get("gps"),
                "gps_present": meta.get("gps_present", False),
                "screenshot": meta["screenshot"]["is_screenshot"],
                "screenshot_reasons": meta["screenshot"]["reasons"],
                "phash": m.get("phash"),
                "groups": member_of.get(ref, []),
                "ocr": m.get("ocr"),
                "warnings": meta.get("warnings", []),
                "error": None,
            }
        )
    return rows
