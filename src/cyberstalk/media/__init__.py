"""Screenshots and photos: metadata, duplicates, OCR into the timeline, search.

Entry points:

- :func:`process_case` runs over a case's image exhibits after ingest and parsing and
  writes ``derived/media``, ``derived/ocr`` and ``screenshot_text`` records.
- :func:`link_case` re-links screenshot records to export records (cheap; run it again
  after parsing more exports).
- :func:`load_media` / :func:`load_groups` read the results for reports and the CLI.
- :func:`search` queries the FTS5 index over every record (``derived/search.sqlite``).
"""

from cyberstalk.media.pipeline import (
    MediaProblem,
    MediaSummary,
    link_case,
    load_exhibits,
    load_groups,
    load_media,
    needs_processing,
    overview,
    process_case,
)
from cyberstalk.media.search import Hit, search

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
