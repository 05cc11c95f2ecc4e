"""Screenshots and photos: metadata, duplicates, OCR into the timeline, search.

Entry points:

- :func:`process_case` runs over a case's image exhibits after ingest and parsing and
  writes ``derived/media``, ``derived/ocr`` and ``screenshot_text`` records.
- :func:`link_case` re-links screenshot records to export records (cheap; run it again
  after parsing more exports).
- :func:`load_media` / :func:`load_groups` read the results for reports and the CLI.
- :func:`search` queries the FTS5 index over every record (``derived/search.sqlite``).
"""

from __future__ import annotations

import importlib
from typing import Any

# Lazy attributes (PEP 562): importing cyberstalk.media (or cyberstalk.media.search) must
# not pull in numpy/imagehash/Pillow, which every CLI start would otherwise pay for.
_LAZY = {
    "Hit": "search",
    "search": "search",
    "MediaProblem": "pipeline",
    "MediaSummary": "pipeline",
    "link_case": "pipeline",
    "load_exhibits": "pipeline",
    "load_groups": "pipeline",
    "load_media": "pipeline",
    "needs_processing": "pipeline",
    "overview": "pipeline",
    "process_case": "pipeline",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f"cyberstalk.media.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'cyberstalk.media' has no attribute {name!r}")


__all__ = [
    "Hit",
    "MediaProblem",
    "MediaSummary",
    "link_case",
    "load_exhibits",
    "load_groups",
    "load_media",
    "needs_processing",
    "overview",
    "process_case",
    "search",
]
