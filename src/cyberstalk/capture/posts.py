"""Reading public post metadata from a captured page, for the timeline.

Only what the page itself states is used: OpenGraph / ``article:`` meta tags, Twitter
card tags, schema.org JSON-LD (``SocialMediaPosting``, ``BlogPosting``, ``Article``,
``Comment``...), and the public-page markup of X/Twitter (``/HANDLE/status/ID``: the
author from the URL, the posted time from the post id, a Snowflake that holds its own
millisecond epoch) and Instagram (``og:description`` of the form ``N likes, N comments -
HANDLE on Month D, YYYY: "text"``, a date with no time or zone).

The parser is the standard library's ``html.parser`` fed the page's bytes: it never
fetches anything, runs nothing, and keeps text as plain strings (every report escapes
them). JSON-LD blocks are size-capped and parsed as data. A posted time without an
offset is not guessed: the record has no UTC time and is flagged ``time_without_offset``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from cyberstalk.records import Locator, Record, RecordKind, TzBasis

PARSER = "web_capture"
PARSER_VERSION = "1.0.0"
TIME_WITHOUT_OFFSET = "time_without_offset"
"""Flag: the page states a posted time with no UTC offset (not converted, not guessed)."""
MAX_HTML = 8 << 20
MAX_JSONLD = 1 << 20
MAX_TEXT = 64 * 1024
POST_TYPES = frozenset(
    {
        "SocialMediaPosting",
        "DiscussionForumPosting",
        "BlogPosting",
        "Article",
        "NewsArticle",
        "Comment",
        "Answer",
    }
)
X_HOSTS = frozenset({"x.com", "twitter.com", "mobile.twitter.com", "mobile.x.com"})
INSTAGRAM_HOSTS = frozenset({"instagram.com", "www.instagram.com"})
FACEBOOK_HOSTS = frozenset({"facebook.com", "www.facebook.com", "m.facebook.com"})
TWITTER_EPOCH_MS = 1288834974657
_X_PATH = re.compile(r"^/([A-Za-z0-9_]{1,15})/status(?:es)?/(\d{1,20})(?:/|$)")
_INSTAGRAM_DESC = re.compile(
    r"^(?:[\d,.]+[KkMm]? likes?, [\d,.]+[KkMm]? comments? - )?"
    r"(?P<handle>[A-Za-z0-9._]{1,30}) on (?P<date>[A-Z][a-z]+ \d{1,2}, \d{4})"
    r"(?:: (?P<text>.*))?$",
    re.S,
)


class _Collector(HTMLParser):
    """Meta tags, JSON-LD scripts and the title; nothing else is kept."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, list[str]] = {}
        self.jsonld: list[str] = []
        self.title = ""
        self._in: str | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (a.get("property") or a.get("name") or a.get("itemprop") or "").strip().lower()
            if key and "content" in a:
                self.meta.setdefault(key, []).append(a["content"])
        elif tag == "script" and a.get("type", "").strip().lower() == "application/ld+json":
            self._in, self._buf = "jsonld", []
        elif tag == "title" and not self.title:
            self._in, self._buf = "title", []

    def handle_endtag(self, tag: str) -> None:
        if self._in == "jsonld" and tag == "script":
            self.jsonld.append("".join(self._buf))
            self._in = None
        elif self._in == "title" and tag == "title":
            self.title = "".join(self._buf).strip()
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is not None and sum(map(len, self._buf)) < MAX_JSONLD:
            self._buf.append(data)


@dataclass
class Post:
    """One post as the page states it."""

    platform: str
    author: str | None
    text: str
    time_raw: str
    time_basis: str | None
    """Where the time came from: ``article:published_time``, ``JSON-LD datePublished``..."""
    url: str | None
    extra: dict[str, Any] = field(default_factory=dict)


def _decode_html(body: bytes, content_type: str | None) -> str:
    charset = None
    if content_type and "charset=" in content_type.lower():
        charset = content_type.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'")
    head = body[:4096].lower()
    match = re.search(rb"<meta[^>]+charset=[\"']?([a-z0-9_-]+)", head)
    for candidate in (charset, match.group(1).decode() if match else None, "utf-8"):
        if not candidate:
            continue
        try:
            return body[:MAX_HTML].decode(candidate, "replace")
        except LookupError:
            continue
    return body[:MAX_HTML].decode("utf-8", "replace")


def _jsonld_items(blocks: list[str]) -> Iterator[dict[str, Any]]:
    for block in blocks:
        if len(block) > MAX_JSONLD:
            continue
        try:
            data = json.loads(block, parse_constant=lambda c: None)
        except (ValueError, RecursionError):
            continue
        stack: list[Any] = [data]
        seen = 0
        while stack and seen < 1000:
            item = stack.pop(0)
            seen += 1
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                if "@graph" in item:
                    stack.append(item["@graph"])
                kinds = item.get("@type")
                kinds = kinds if isinstance(kinds, list) else [kinds]
                if any(isinstance(k, str) and k in POST_TYPES for k in kinds):
                    yield item
                for key in ("comment", "hasPart", "mainEntity"):
                    if key in item:
                        stack.append(item[key])


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if isinstance(value, list) and value:
        return _text(value[0])
    return ""


def _author(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        for key in ("alternateName", "identifier", "name", "url"):
            found = _text(value.get(key)).strip()
            if found:
                return found
    return None


def _platform(host: str) -> str:
    host = host.lower()
    if host in X_HOSTS:
        return "x"
    if host in INSTAGRAM_HOSTS:
        return "instagram"
    if host in FACEBOOK_HOSTS:
        return "facebook"
    return "web"


def find_posts(body: bytes, content_type: str | None, page_url: str) -> list[Post]:
    """The posts ``body`` (an HTML page fetched from ``page_url``) states."""
    collector = _Collector()
    try:
        collector.feed(_decode_html(body, content_type))
        collector.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup
        pass
    meta = {k: v[0] for k, v in collector.meta.items()}
    canonical = meta.get("og:url") or page_url
    parts = urlsplit(canonical if urlsplit(canonical).netloc else page_url)
    platform = _platform(parts.netloc.split(":")[0])
    posts: list[Post] = []
    for item in _jsonld_items(collector.jsonld):
        when = _text(item.get("datePublished") or item.get("dateCreated"))
        key = "datePublished" if item.get("datePublished") else "dateCreated"
        who = _author(item.get("author") or item.get("creator"))
        said = _text(item.get("articleBody") or item.get("text") or item.get("headline"))
        if not (when or who or said):
            continue  # an empty or broken item says nothing about a post
        posts.append(
            Post(
                platform=platform,
                author=who,
                text=said,
                time_raw=when,
                time_basis=f"JSON-LD {key}" if when else None,
                url=_text(item.get("url")) or canonical,
                extra={"jsonld_type": str(item.get("@type"))},
            )
        )
    if posts:
        return posts
    og = {k: meta[k] for k in sorted(meta) if k.startswith(("og:", "article:", "twitter:"))}
    text = meta.get("og:description") or meta.get("twitter:description") or ""
    author = meta.get("article:author") or meta.get("twitter:creator") or None
    time_raw = meta.get("article:published_time") or ""
    basis = "article:published_time" if time_raw else None
    if platform == "x":
        match = _X_PATH.match(parts.path)
        if match:
            author = "@" + match.group(1)
            post_id = int(match.group(2))
            ms = (post_id >> 22) + TWITTER_EPOCH_MS
            if post_id >> 22 > 0:
                time_raw = str(post_id)
                basis = "X post id (Snowflake: milliseconds since 2010-11-04T01:42:54.657Z)"
                og["x_post_id"] = str(post_id)
                og["x_post_time_ms"] = str(ms)
        if text.startswith("\u201c") and text.endswith("\u201d"):
            text = text[1:-1]
    elif platform == "instagram":
        match = _INSTAGRAM_DESC.match(text)
        if match:
            author = match.group("handle")
            time_raw = match.group("date")
            basis = "Instagram og:description date (no time of day, no zone)"
            quoted = (match.group("text") or "").strip()
            if len(quoted) >= 2 and quoted[0] in '"\u201c' and quoted[-1] in '"\u201d':
                quoted = quoted[1:-1]
            text = quoted or text
    if not (text or author or time_raw):
        return []
    return [
        Post(
            platform=platform,
            author=author,
            text=text[:MAX_TEXT],
            time_raw=time_raw,
            time_basis=basis,
            url=canonical,
            extra={"meta": og, "title": collector.title[:1000]} if og else {},
        )
    ]


def post_time(post: Post) -> tuple[datetime | None, TzBasis, bool]:
    """(UTC time, basis, flag-no-offset) for what the page states; nothing is guessed."""
    raw = post.time_raw.strip()
    if not raw:
        return None, TzBasis.UNKNOWN, False
    if post.extra.get("meta", {}).get("x_post_time_ms"):
        ms = int(post.extra["meta"]["x_post_time_ms"])
        return datetime.fromtimestamp(ms / 1000, UTC), TzBasis.EPOCH, False
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None, TzBasis.UNKNOWN, True
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None, TzBasis.UNKNOWN, True
    return parsed.astimezone(UTC), TzBasis.EXPLICIT_OFFSET, False


def post_records(
    posts: list[Post],
    *,
    exhibit: str,
    warc_name: str,
    offset: int,
    length: int,
    capture_ref: str,
    record_id: str,
) -> list[Record]:
    """Timeline records for ``posts``, each located at the WARC response record."""
    out: list[Record] = []
    for index, post in enumerate(posts):
        when, basis, no_offset = post_time(post)
        flags = frozenset({TIME_WITHOUT_OFFSET}) if no_offset else frozenset()
        out.append(
            Record(
                kind=RecordKind.MESSAGE,
                platform=post.platform,
                time_utc=when,
                time_raw=post.time_raw,
                tz_basis=basis,
                locator=Locator(
                    exhibit=exhibit,
                    path=warc_name,
                    byte_start=offset,
                    byte_end=offset + length,
                    json_path=f"$.posts[{index}]" if len(posts) > 1 else None,
                ),
                parser=PARSER,
                parser_version=PARSER_VERSION,
                sender=post.author,
                text=post.text,
                flags=flags,
                subtype="public_post",
                extra={
                    "post_url": post.url,
                    "time_basis": post.time_basis,
                    "capture": capture_ref,
                    "warc_record_id": record_id,
                    **post.extra,
                },
            )
        )
    return out
