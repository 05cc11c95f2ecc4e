"""Exact and near-duplicate images.

Exact duplicates share a SHA-256. Near-duplicates are found with ONE perceptual hash
method, named by :func:`method` and stored beside every hash; hashes made by another
method (another imagehash version, another decode path) are never compared, because the
same picture decoded differently can differ in several bits (platform.md: JPEG ``draft()``
changes up to 4 of 64 bits).

Method: the image is fully decoded (no JPEG draft/reduce), EXIF orientation applied, and
imagehash's DCT pHash computed with ``hash_size=16`` (256 bits). Two images are
near-duplicates when their hashes differ in at most :data:`THRESHOLD` bits (about 8%).
The threshold was chosen on chat screenshots: a recompressed, rescaled or bottom-cropped
copy stays within 12 bits, while *different* screenshots of the same app (same layout,
different text) are 28 or more bits apart. A 64-bit pHash was rejected because two
different sparse chat screens of one app came within 10 bits of each other.

Known limit: a crop that shifts the content (e.g. the status bar cut off the top) moves
every DCT coefficient and is usually *not* grouped; compare such copies by their OCR text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

HASH_SIZE = 16
THRESHOLD = 20


@functools.cache
def method() -> str:
    """The perceptual hash method, with the imagehash version that computes it.

    The version is read from the installed package's metadata: importing imagehash loads
    numpy (about 120 ms), which a case without images never needs, yet every run of
    ``process`` names the method in ``derived/media/groups.json``."""
    from importlib.metadata import version

    return (
        f"phash-{HASH_SIZE * HASH_SIZE}/full-decode+exif-transpose/imagehash-{version('ImageHash')}"
    )


def perceptual_hash(img: Image.Image) -> str:
    """Hex pHash of a decoded image under :func:`method`."""
    import imagehash
    from PIL import ImageOps

    upright = ImageOps.exif_transpose(img)
    return str(imagehash.phash(upright, hash_size=HASH_SIZE))


def distance(a: str, b: str) -> int:
    """Hamming distance between two hex hashes of the same method."""
    if len(a) != len(b):
        raise ValueError("hashes of different lengths cannot be compared")
    return (int(a, 16) ^ int(b, 16)).bit_count()


def ref_sort_key(ref: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order for exhibit refs: RE/2 before RE/10."""
    parts = re.split(r"(\d+)", ref)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p)


@dataclass(frozen=True, slots=True)
class HashedImage:
    """What grouping needs to know about one image exhibit."""

    ref: str
    """Exhibit reference."""
    sha256: str
    """SHA-256 of its bytes."""
    method: str | None
    """Perceptual hash method (None when the image could not be decoded)."""
    phash: str | None
    """Hex perceptual hash."""


def group(
    images: Iterable[HashedImage], *, hash_method: str | None = None, threshold: int = THRESHOLD
) -> list[dict[str, object]]:
    """Duplicate groups: exact (same SHA-256) and near (pHash within ``threshold``).

    Returns groups with at least two members, ordered by first member, each
    ``{"id", "kind": "exact"|"near", "members", "max_distance"}``. Near groups are
    single-linkage clusters and include exact duplicates of their members.
    """
    items = sorted(images, key=lambda i: ref_sort_key(i.ref))
    groups: list[dict[str, object]] = []
    by_sha: dict[str, list[str]] = {}
    for item in items:
        by_sha.setdefault(item.sha256, []).append(item.ref)
    exact = [refs for refs in by_sha.values() if len(refs) > 1]

    wanted = hash_method or method()
    hashed = [i for i in items if i.phash is not None and i.method == wanted]
    parent = list(range(len(hashed)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i in range(len(hashed)):
        for j in range(i + 1, len(hashed)):
            if distance(hashed[i].phash or "", hashed[j].phash or "") <= threshold:
                parent[find(j)] = find(i)
    clusters: dict[int, list[int]] = {}
    for i in range(len(hashed)):
        clusters.setdefault(find(i), []).append(i)
    near: list[list[int]] = [c for c in clusters.values() if len(c) > 1]
    near_sets = []
    for members in near:
        refs = [hashed[i].ref for i in members]
        max_d = max(
            distance(hashed[a].phash or "", hashed[b].phash or "")
            for x, a in enumerate(members)
            for b in members[x + 1 :]
        )
        near_sets.append((refs, max_d))
    for refs in exact:
        groups.append({"kind": "exact", "members": refs, "max_distance": 0})
    for refs, max_d in near_sets:
        # A near group made only of byte-identical copies says nothing new.
        if any(set(refs) == set(e) for e in exact):
            continue
        groups.append({"kind": "near", "members": refs, "max_distance": max_d})
    groups.sort(key=lambda g: (ref_sort_key(str(_members(g)[0])), str(g["kind"])))
    for n, g in enumerate(groups, 1):
        g["id"] = f"{'D' if g['kind'] == 'exact' else 'N'}{n}"
    return [{k: g[k] for k in ("id", "kind", "members", "max_distance")} for g in groups]


def _members(g: dict[str, object]) -> Sequence[str]:
    members = g["members"]
    assert isinstance(members, list)
    return members
