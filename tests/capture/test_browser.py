"""The browser part of a capture: headless Chromium over its DevTools pipe."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from PIL import Image
from warcio.archiveiterator import ArchiveIterator

from cyberstalk.capture import fetch
from cyberstalk.capture.browser import render
from cyberstalk.capture.fetch import Fetcher, Limits
from cyberstalk.case import Case

from .conftest import CHROMIUM, capture, cli, members, needs_chromium
from .site import IMAGE, POST_TEXT, Site

pytestmark = needs_chromium


def test_full_capture_over_https_with_screenshot_pdf_text_and_images(
    case: Case, site: Site
) -> None:
    root = case.root
    r = capture(root, f"{site.https}/post", "--allow-private", "--ca-bundle", site.ca_pem)
    assert r.exit_code == 0, r.output
    parts = members(root, "RE/1")
    assert [parts[n]["ref"] for n in sorted(parts, key=lambda n: parts[n]["ref"])] == [
        f"RE/1/{i}" for i in range(1, 7)
    ]
    shot = Image.open(io.BytesIO((root / parts["screenshot.png"]["stored_as"]).read_bytes()))
    assert shot.format == "PNG" and shot.width == 1280 and shot.height >= 100
    assert (root / parts["page.pdf"]["stored_as"]).read_bytes().startswith(b"%PDF-")
    text = (root / parts["page-text.txt"]["stored_as"]).read_text()
    assert POST_TEXT in text and "dylan.p_example" in text and "<h1>" not in text
    image = parts["images/001-a.png"]
    assert image["digests"]["sha256"] == hashlib.sha256(IMAGE).hexdigest()
    # the image the browser showed came through the fetcher, so it is in the WARC too
    with (root / parts["page.warc.gz"]["stored_as"]).open("rb") as fh:
        uris = {
            rec.rec_headers.get_header("WARC-Target-URI"): rec.raw_stream.read()
            for rec in ArchiveIterator(fh)
            if rec.rec_type == "response"
        }
    assert uris[f"{site.https}/img/a.png"] == IMAGE
    record = json.loads((root / parts["capture.json"]["stored_as"]).read_bytes())
    assert record["browser"]["product"].startswith(("Chrome/", "HeadlessChrome/"))
    assert (
        record["files"]["screenshot.png"]["sha256"] == parts["screenshot.png"]["digests"]["sha256"]
    )
    assert cli("verify", root).exit_code == 0


def test_page_resources_go_through_the_address_check(
    monkeypatch: pytest.MonkeyPatch, site: Site, tmp_path: Path
) -> None:
    """The browser has no network of its own: a stylesheet on a private address is
    refused by the same check as the page, and the page is still rendered."""
    assert CHROMIUM is not None
    real = fetch.address_problem
    monkeypatch.setattr(
        fetch, "address_problem", lambda ip: None if ip == "127.0.0.1" else real(ip)
    )
    fetcher = Fetcher(Limits(timeout=20), allow_private=False, user_agent="test")
    try:
        (page,) = fetcher.fetch(f"{site.http}/hostile")
        rendered = render(page, fetcher, exe=CHROMIUM, user_agent="test")
    finally:
        fetcher.close()
    assert rendered.screenshot_png.startswith(b"\x89PNG")
    (failed,) = [f for f in rendered.failed if "10.255.255.1" in f["url"]]
    assert failed["step"] == "address check" and "private" in failed["reason"]
    assert "hello" in rendered.text
