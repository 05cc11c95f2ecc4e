"""Capturing public online posts by URL as evidence.

``fetch`` makes the HTTP exchange (checked addresses, limits, every redirect), ``browser``
renders the page in headless Chromium from those same bytes (DevTools protocol over a
pipe), ``warc`` writes the exchange as WARC, ``posts`` reads post metadata for the
timeline and ``store`` puts it all into the case through ingest's own archive path.
"""

RECORD_NAME = "capture.json"
"""The capture record's name inside a capture exhibit (its sub-exhibit)."""
WARC_NAME = "page.warc.gz"
"""The WARC's name inside a capture exhibit. A parent exhibit holding both is a capture
(``cyberstalk process`` rebuilds its post records from the WARC)."""
