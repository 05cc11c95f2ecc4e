"""Duplicate grouping: exact by SHA-256, near by one recorded pHash method."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from PIL import Image

from cyberstalk.media import phash
from cyberstalk.media.phash import HashedImage


def _h(path: Path) -> str:
    return phash.perceptual_hash(Image.open(path))


def test_cropped_recompressed_copy_is_near_and_other_screens_are_not(shots: Path) -> None:
    light = _h(shots / "Screenshot_whatsapp_light.png")
    crop = _h(shots / "whatsapp_light_cropped.jpg")
    assert phash.distance(light, crop) <= phash.THRESHOLD
    for other in (
        "Screenshot_whatsapp_dark.png",
        "Screenshot_whatsapp_late.png",
        "Screenshot_instagram_dm.png",
        "IMG_20260127_2331.jpg",
    ):
        assert phash.distance(light, _h(shots / other)) > phash.THRESHOLD, other


def test_rescaled_copy_groups(shots: Path) -> None:
    img = Image.open(shots / "Screenshot_whatsapp_dark.png")
    buf = io.BytesIO()
    img.resize((450, 800)).convert("RGB").save(buf, "JPEG", quality=70)
    small = phash.perceptual_hash(Image.open(io.BytesIO(buf.getvalue())))
    assert phash.distance(phash.perceptual_hash(img), small) <= phash.THRESHOLD


def test_group_exact_near_and_method_isolation() -> None:
    a = "f" * 64
    near = "f" * 63 + "0"  # 4 bits away
    far = "0" * 64
    images = [
        HashedImage("RE/10", "s1", phash.method(), a),
        HashedImage("RE/2", "s1", phash.method(), a),  # byte-identical to RE/10
        HashedImage("RE/3", "s3", phash.method(), near),
        HashedImage("RE/4", "s4", phash.method(), far),
        HashedImage("RE/5", "s5", "phash-64/draft/other", a),  # another method: never compared
        HashedImage("RE/6", "s6", None, None),
    ]
    groups = phash.group(images)
    exact = [g for g in groups if g["kind"] == "exact"]
    near_groups = [g for g in groups if g["kind"] == "near"]
    assert exact == [{"id": "D1", "kind": "exact", "members": ["RE/2", "RE/10"], "max_distance": 0}]
    assert len(near_groups) == 1
    assert near_groups[0]["members"] == ["RE/2", "RE/3", "RE/10"]
    assert near_groups[0]["max_distance"] == 4
    assert all("RE/5" not in g["members"] and "RE/4" not in g["members"] for g in groups)


def test_method_names_the_decode_and_library() -> None:
    import imagehash

    assert phash.method().startswith("phash-256/full-decode")
    # read from the package metadata, it is the version of the imagehash that hashes
    assert phash.method().endswith(f"/imagehash-{imagehash.__version__}")
    assert phash.ref_sort_key("RE/2") < phash.ref_sort_key("RE/10")


def test_a_case_without_images_is_processed_without_the_image_libraries(tmp_path: Path) -> None:
    """``ingest`` (which processes) of a text file loads neither Pillow nor numpy (they
    cost a short ingest more time than all the rest of its work), nor even the modules
    that read images: with no image in the case there is nothing to read, group or
    link, and no media file is written."""

    note = tmp_path / "note.txt"
    note.write_text("a note\n", encoding="utf-8")
    script = (
        "import sys\n"
        "from cyberstalk.cli import main\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    heavy = ('numpy', 'PIL', 'imagehash', 'exifread', 'cyberstalk.media.screenshots',\n"
        "             'cyberstalk.media.phash', 'cyberstalk.media.link', 'importlib.metadata')\n"
        "    loaded = [m for m in heavy if m in sys.modules]\n"
        "    print('loaded:', ','.join(loaded), file=sys.stderr)\n"
    )
    case = tmp_path / "case"
    for argv in (
        ["case", "init", str(case), "--ref", "T/1", "--officer", "DC T", "--initials", "TT"],
        ["ingest", str(case), str(note), "--source", "test"],
    ):
        proc = subprocess.run(
            [sys.executable, "-c", script, *argv], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stderr
    assert "images: 0 read" in proc.stdout  # processed
    assert (case / "derived").is_dir()
    assert not (case / "derived" / "media").exists()
    assert proc.stderr.strip().splitlines()[-1] == "loaded:"
