"""Rendering a captured page in headless Chromium, driven over its DevTools protocol.

Chromium runs with ``--remote-debugging-pipe`` (CDP messages, NUL-separated JSON, on file
descriptors 3 and 4: no port any other local process could connect to), a fresh profile
folder, and no network of its own: every request the page makes is paused by the
``Fetch`` domain and answered from :class:`~cyberstalk.capture.fetch.Fetcher`, so the
browser renders exactly the bytes that go into the WARC, and every embedded resource
goes through the same address checks and limits. Anything that would bypass ``Fetch``
(WebSockets, preconnects, WebRTC) is sent to a proxy that does not exist and fails.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cyberstalk.capture.errors import CaptureError
from cyberstalk.capture.fetch import Exchange, Fetcher

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
    "--no-default-browser-check",
    "--mute-audio",
    "--hide-scrollbars",
    "--password-store=basic",
    "--use-mock-keychain",
    # nothing reaches the network except through Fetch interception
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--remote-debugging-pipe",
)
VIEWPORT = (1280, 900)
MAX_SCREENSHOT_HEIGHT = 16384
"""Tallest full-page screenshot (CSS px); a longer page is cut there (and noted)."""
MAX_RESOURCES = 300
RESOURCE_WAIT = 10.0
"""Most seconds to wait on one embedded resource; one that takes longer is left out (and
named in the capture record), the page is still captured."""
SETTLE = 0.5
"""Seconds without a new request after the load event before the page counts as drawn."""


def find_chromium() -> str | None:
    """Path of an installed Chromium (``CYBERSTALK_CHROMIUM`` first), or None."""
    named = os.environ.get("CYBERSTALK_CHROMIUM")
    if named:
        return shutil.which(named) or (named if os.access(named, os.X_OK) else None)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class Rendered:
    """What the browser made of the page."""

    screenshot_png: bytes
    pdf: bytes
    text: str
    """``document.body.innerText``: the text as the browser shows it."""
    exchanges: list[Exchange] = field(default_factory=list)
    """Exchanges made for the page's resources (in the order they were asked for)."""
    images: list[tuple[str, Exchange]] = field(default_factory=list)
    """(URL, final exchange) of every image the page loaded."""
    failed: list[dict[str, str]] = field(default_factory=list)
    """Resources not loaded: URL, step and reason."""
    browser: str = ""
    """Product and version the browser reported."""
    user_agent: str = ""
    notes: list[str] = field(default_factory=list)


class _Pipe:
    """CDP over a pipe: send commands, read replies and events, one deadline."""

    def __init__(self, exe: str, user_agent: str, remaining: Callable[[str], float]) -> None:
        self.remaining = remaining
        self.profile = tempfile.mkdtemp(prefix="cyberstalk-chromium-")
        to_child_r, self._w = os.pipe()
        self._r, from_child_w = os.pipe()
        # keep the child's ends away from 3 and 4 so the dup2 below cannot clobber them
        a = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
        b = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_child_r)
        os.close(from_child_w)

        def child_fds() -> None:  # in the child, before exec: its fds 3 and 4
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [
            exe,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={self.profile}",
            f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}",
            f"--user-agent={user_agent}",
            "about:blank",
        ]
        try:
            self.proc = subprocess.Popen(  # a fixed argument list, no shell
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(3, 4),
                preexec_fn=child_fds,  # only dup2 (async-signal-safe)
                start_new_session=True,
            )
        except OSError as exc:
            self._cleanup_fds()
            shutil.rmtree(self.profile, ignore_errors=True)
            raise CaptureError("browser", f"cannot start {exe}: {exc.strerror}") from None
        finally:
            os.close(a)
            os.close(b)
        self._next = 0
        self._buffer = b""
        self.events: list[dict[str, Any]] = []
        self.replies: dict[int, dict[str, Any]] = {}

    def _cleanup_fds(self) -> None:
        for fd in (self._r, self._w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def close(self) -> None:
        with contextlib.suppress(CaptureError, OSError):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._cleanup_fds()
        shutil.rmtree(self.profile, ignore_errors=True)

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> int:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._w, view) :]
        except BrokenPipeError:
            raise CaptureError("browser", "Chromium closed its DevTools pipe") from None
        return self._next

    def pump(self, wait: float) -> bool:
        """Read what is waiting (up to ``wait`` seconds for the first byte). False when
        nothing came."""
        ready, _, _ = select.select([self._r], [], [], max(0.0, wait))
        if not ready:
            return False
        chunk = os.read(self._r, 1 << 20)
        if not chunk:
            raise CaptureError("browser", "Chromium exited while rendering the page")
        self._buffer += chunk
        *messages, self._buffer = self._buffer.split(b"\0")
        for raw in messages:
            message = json.loads(raw)
            if "id" in message:
                self.replies[int(message["id"])] = message
            else:
                self.events.append(message)
        return True

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Send a command and wait for its reply, handling events meanwhile."""
        ident = self.send(method, params, session)
        while ident not in self.replies:
            if on_event is not None:
                while self.events:
                    on_event(self.events.pop(0))
            self.pump(min(self.remaining("browser"), 0.25))
        reply = self.replies.pop(ident)
        if "error" in reply:
            raise CaptureError("browser", f"{method}: {reply['error'].get('message')}")
        result: dict[str, Any] = reply.get("result") or {}
        return result


_DROP = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class _Page:
    """One page load with every request answered from the fetcher."""

    def __init__(self, pipe: _Pipe, session: str, fetcher: Fetcher, document: Exchange) -> None:
        self.pipe = pipe
        self.session = session
        self.fetcher = fetcher
        self.document = document
        self.served_document = False
        self.loaded = False
        self.rendered = Rendered(b"", b"", "")
        self.last_request = 0.0

    def on_event(self, event: dict[str, Any]) -> None:
        method = event.get("method")
        params = event.get("params") or {}
        if method == "Page.loadEventFired":
            self.loaded = True
        elif method == "Fetch.requestPaused":
            self.last_request = self.fetcher.clock()
            self._answer(params)

    def _fulfil(self, request_id: str, exchange: Exchange) -> None:
        headers = [
            {"name": k, "value": v} for k, v in exchange.response_headers if k.lower() not in _DROP
        ]
        body = exchange.body if exchange.body is not None else b""
        self.pipe.send(
            "Fetch.fulfillRequest",
            {
                "requestId": request_id,
                "responseCode": exchange.status,
                "responseHeaders": headers,
                "body": base64.b64encode(body).decode("ascii"),
            },
            self.session,
        )

    def _fail(self, request_id: str, url: str, step: str, reason: str) -> None:
        self.rendered.failed.append({"url": url, "step": step, "reason": reason})
        self.pipe.send(
            "Fetch.failRequest",
            {"requestId": request_id, "errorReason": "BlockedByClient"},
            self.session,
        )

    def _answer(self, params: dict[str, Any]) -> None:
        request_id = str(params["requestId"])
        request = params.get("request") or {}
        url = str(request.get("url", ""))
        kind = str(params.get("resourceType", ""))
        if not self.served_document and kind == "Document":
            self.served_document = True
            self._fulfil(request_id, self.document)
            return
        if request.get("method", "GET") != "GET" or not url.startswith(("http://", "https://")):
            self._fail(request_id, url, "browser", "only GET of http(s) resources is made")
            return
        if len(self.rendered.exchanges) >= MAX_RESOURCES:
            self._fail(request_id, url, "size limit", f"more than {MAX_RESOURCES} resources")
            return
        try:
            hops = self.fetcher.fetch(url, referer=self.document.url, wait=RESOURCE_WAIT)
        except CaptureError as exc:
            self.fetcher.remaining("browser")  # past the capture's deadline: it fails
            self._fail(request_id, url, exc.step, exc.message)
            return
        self.rendered.exchanges.extend(hops)
        final = hops[-1]
        if final.body is None:
            self._fail(request_id, url, "decode", "content-encoding not decoded")
            return
        if kind == "Image" and final.status == 200:
            self.rendered.images.append((url, final))
        self._fulfil(request_id, final)


def render(document: Exchange, fetcher: Fetcher, *, exe: str, user_agent: str) -> Rendered:
    """Load ``document`` (the final exchange of the page's fetch) in Chromium and return the
    screenshot, PDF, text and the resources it loaded. Raises CaptureError("browser")."""
    if document.body is None:
        raise CaptureError("decode", f"{document.url}: content-encoding not decoded")
    pipe = _Pipe(exe, user_agent, fetcher.remaining)
    try:
        return _render(pipe, document, fetcher)
    except (OSError, ValueError) as exc:
        raise CaptureError("browser", f"DevTools conversation failed: {exc}") from None
    finally:
        pipe.close()


def _render(pipe: _Pipe, document: Exchange, fetcher: Fetcher) -> Rendered:
    version = pipe.call("Browser.getVersion")
    targets = pipe.call("Target.getTargets").get("targetInfos") or []
    page_id = next((t["targetId"] for t in targets if t.get("type") == "page"), None)
    if page_id is None:
        page_id = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = pipe.call("Target.attachToTarget", {"targetId": page_id, "flatten": True})[
        "sessionId"
    ]
    page = _Page(pipe, session, fetcher, document)
    page.rendered.browser = str(version.get("product", ""))
    page.rendered.user_agent = str(version.get("userAgent", ""))

    def call(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return pipe.call(method, params, session, page.on_event)

    call("Page.enable")
    call("Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Request"}]})
    call(
        "Emulation.setDeviceMetricsOverride",
        {"width": VIEWPORT[0], "height": VIEWPORT[1], "deviceScaleFactor": 1, "mobile": False},
    )
    nav = call("Page.navigate", {"url": document.url})
    if nav.get("errorText"):
        raise CaptureError("browser", f"navigation failed: {nav['errorText']}")
    while not page.loaded:  # the load event, then quiet for SETTLE seconds
        while pipe.events:
            page.on_event(pipe.events.pop(0))
        if not page.loaded:
            pipe.pump(min(fetcher.remaining("browser"), 0.25))
    while True:
        while pipe.events:
            page.on_event(pipe.events.pop(0))
        quiet = fetcher.clock() - page.last_request
        if quiet >= SETTLE:
            break
        pipe.pump(min(fetcher.remaining("browser"), SETTLE - quiet))
    text = call(
        "Runtime.evaluate",
        {"expression": "document.body ? document.body.innerText : ''", "returnByValue": True},
    )
    page.rendered.text = str((text.get("result") or {}).get("value") or "")
    metrics = call("Page.getLayoutMetrics")
    size = metrics.get("cssContentSize") or metrics.get("contentSize") or {}
    width = max(1, int(size.get("width", VIEWPORT[0])))
    height = max(1, int(size.get("height", VIEWPORT[1])))
    if height > MAX_SCREENSHOT_HEIGHT:
        page.rendered.notes.append(
            f"page is {height} px tall; the screenshot shows the top {MAX_SCREENSHOT_HEIGHT} px"
        )
        height = MAX_SCREENSHOT_HEIGHT
    shot = call(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )
    page.rendered.screenshot_png = base64.b64decode(shot["data"])
    pdf = call("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": False})
    page.rendered.pdf = base64.b64decode(pdf["data"])
    return page.rendered


def chromium_path_or_error(exe: str | None = None) -> str:
    found = exe or find_chromium()
    if not found:
        raise CaptureError(
            "browser",
            "no Chromium found (looked for " + ", ".join(CHROMIUM_NAMES) + ")",
            advice="install it (apt-get install chromium; `make setup` does), or give "
            "--no-browser to store the HTTP exchange only",
        )
    return found


__all__ = ["Rendered", "chromium_path_or_error", "find_chromium", "render"]
