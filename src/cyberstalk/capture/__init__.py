"""Capturing public online posts by URL as evidence.

``fetch`` makes the HTTP exchange (checked addresses, limits, every redirect), ``browser``
renders the page in headless Chromium from those same bytes (DevTools protocol over a
pipe), ``warc`` writes the exchange as WARC, ``posts`` reads post metadata for the
timeline and ``store`` puts it all into the case through ingest's own archive path.
"""
