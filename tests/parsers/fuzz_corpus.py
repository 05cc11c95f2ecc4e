"""Hostile variants of a parser's own valid samples, for ``test_fuzz_parsers.py``.

Every function here is deterministic for a given seed, builds inputs a few MB at most
in memory, and writes really large inputs (huge MIME messages) straight to disk.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cyberstalk.parsers.textutil import MAX_LINE_BYTES

Mutation = tuple[str, bytes]
"""(label, file contents)."""


def truncations(data: bytes, rng: random.Random, count: int = 24) -> Iterator[Mutation]:
    """The sample cut short at the very start, the end, and ``count`` offsets between."""
    n = len(data)
    offsets = {0, 1, 2, 3, n // 2, n - 1, n - 2} | {rng.randrange(n) for _ in range(count)}
    for at in sorted(o for o in offsets if 0 <= o < n):
        yield f"truncated at {at}", data[:at]


def byte_flips(data: bytes, rng: random.Random, count: int = 24) -> Iterator[Mutation]:
    """One to eight random bytes replaced by random values."""
    for k in range(count):
        out = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(len(out))] = rng.randrange(256)
        yield f"flipped bytes #{k}", bytes(out)


def _insert(data: bytes, rng: random.Random, blob: bytes) -> tuple[int, bytes]:
    at = rng.randrange(len(data) + 1)
    return at, data[:at] + blob + data[at:]


BAD_UTF8 = (b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\x80")


def bad_utf8(data: bytes, rng: random.Random, count: int = 12) -> Iterator[Mutation]:
    """Invalid UTF-8 (lone continuation, surrogate, overlong, beyond U+10FFFF) inserted."""
    for k in range(count):
        at, out = _insert(data, rng, rng.choice(BAD_UTF8))
        yield f"invalid UTF-8 #{k} at {at}", out
    yield "latin-1 re-save", data.decode("utf-8", "replace").encode("latin-1", "replace")
    yield "utf-16", data.decode("utf-8", "replace").encode("utf-16")


def nul_bytes(data: bytes, rng: random.Random, count: int = 8) -> Iterator[Mutation]:
    for k in range(count):
        at, out = _insert(data, rng, b"\x00" * rng.choice((1, 2, 100)))
        yield f"NUL bytes #{k} at {at}", out
    yield "NUL every other byte", bytes(b for c in data for b in (c, 0))


def long_lines(data: bytes, rng: random.Random) -> Iterator[Mutation]:
    """A line just over ``MAX_LINE_BYTES`` (the text parsers' cap) in the middle of the
    file, and one in the first line."""
    big = b"A" * (MAX_LINE_BYTES + 10)
    lines = data.split(b"\n")
    mid = len(lines) // 2
    yield "long line in the middle", b"\n".join([*lines[:mid], lines[mid] + big, *lines[mid + 1 :]])
    yield "long first line", big + data
    at, out = _insert(data, rng, b"x" * (MAX_LINE_BYTES * 2))
    yield f"long run at {at}", out


def is_json(data: bytes) -> Any:
    """The decoded sample, or None when it is not JSON (an X export's JS prefix is
    stripped by the caller)."""
    try:
        return json.loads(data)
    except ValueError:
        return None


_ODD_VALUES: tuple[Any, ...] = (
    "a string",
    "",
    12,
    -1,
    10**30,
    1.5e308,
    True,
    None,
    [],
    {},
    [1, "x", None],
    {"a": {"b": []}},
)


def _paths(value: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield here
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*here, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*here, i))


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: (_replace(v, rest, new) if k == head else v) for k, v in value.items()}
    return [(_replace(v, rest, new) if i == head else v) for i, v in enumerate(value)]


def wrong_types(doc: Any, rng: random.Random, count: int = 40) -> Iterator[Mutation]:
    """The sample's JSON with one value (the root, a container or a leaf) swapped for a
    value of another type: a string where an object is expected, and so on."""
    paths = list(_paths(doc))
    chosen = [()] + [rng.choice(paths) for _ in range(count)]
    for k, path in enumerate(chosen):
        new = rng.choice(_ODD_VALUES)
        mutated = _replace(doc, path, new)
        shown = "$" + "".join(f"[{p!r}]" for p in path)
        yield f"wrong type #{k}: {shown} = {new!r}"[:120], json.dumps(mutated).encode()
    # every value of one key swapped at once
    for new in ("x", 0, None, [], {}):
        yield f"all leaves {new!r}", json.dumps(_all_leaves(doc, new)).encode()


def _all_leaves(value: Any, new: Any) -> Any:
    if isinstance(value, dict):
        return {k: _all_leaves(v, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_all_leaves(v, new) for v in value]
    return new


def deep_nesting(doc: Any, rng: random.Random, depth: int = 100_000) -> Iterator[Mutation]:
    """100k ``[`` (and ``{"a":``) at the root and in place of some inner values."""
    yield "100k [ at the root", b"[" * depth
    yield "100k [ closed", b"[" * depth + b"]" * depth
    yield '100k {"a": at the root', b'{"a":' * depth
    marker = "\u2603NEST\u2603"
    paths = [p for p in _paths(doc) if p]
    for k, path in enumerate([rng.choice(paths) for _ in range(4)] if paths else []):
        text = json.dumps(_replace(doc, path, marker)).encode()
        for nest in (b"[" * depth, b"[" * depth + b"]" * depth):
            yield f"nested at #{k}", text.replace(json.dumps(marker).encode(), nest, 1)
    yield "huge integer", json.dumps(doc).encode().replace(b"[", b"[" + b"9" * 5000 + b",", 1)


def json_mutations(data: bytes, rng: random.Random) -> Iterator[Mutation]:
    """Wrong types and deep nesting for a JSON sample (with any JS prefix kept)."""
    prefix, body = b"", data
    if not data.lstrip().startswith((b"{", b"[")) and b"=" in data:
        cut = data.index(b"=") + 1
        prefix, body = data[:cut] + b" ", data[cut:]
    doc = is_json(body)
    if doc is None:
        return
    for label, out in wrong_types(doc, rng):
        yield label, prefix + out
    for label, out in deep_nesting(doc, rng):
        yield label, prefix + out


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE smses [
 <!ENTITY a "aaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
 <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
 <!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<smses count="1"><sms protocol="0" address="+447700900789" date="1769400000000" type="1"
 body="&i;" read="1" status="-1" /></smses>
"""


def xml_mutations(data: bytes, secret: Path) -> Iterator[Mutation]:
    """Entity expansion and external entities, in a fresh document and spliced into the
    sample's own DOCTYPE position."""
    yield "billion laughs", BILLION_LAUGHS
    uri = secret.as_uri().encode()
    external = (
        b'<?xml version="1.0"?>\n<!DOCTYPE smses [ <!ENTITY x SYSTEM "' + uri + b'"> ]>\n'
        b'<smses count="1"><sms protocol="0" address="1" date="1769400000000" type="1" '
        b'body="&x;" read="1" status="-1" /></smses>\n'
    )
    yield "external entity", external
    yield (
        "external DTD",
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE smses SYSTEM "' + uri + b'">\n'
            b'<smses count="0"></smses>\n'
        ),
    )
    yield (
        "parameter entity",
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE smses [ <!ENTITY % p SYSTEM "' + uri + b'"> %p; ]>\n'
            b'<smses count="0"></smses>\n'
        ),
    )
    head, sep, rest = data.partition(b"?>")
    if sep:
        doctype = b'\n<!DOCTYPE smses [ <!ENTITY a "' + b"a" * 1000 + b'"> ]>'
        yield "DOCTYPE in the sample", head + sep + doctype + rest
    deep = b"<a>" * 100_000 + b"</a>" * 100_000
    yield "100k nested elements", data.replace(b"</smses>", deep + b"</smses>", 1)
    yield "huge attribute", data.replace(b'body="', b'body="' + b"x" * (8 << 20), 1)


def generic_mutations(data: bytes, rng: random.Random) -> Iterator[Mutation]:
    """Every byte-level mutation, for any sample."""
    yield "empty", b""
    yield from truncations(data, rng)
    yield from byte_flips(data, rng)
    yield from bad_utf8(data, rng)
    yield from nul_bytes(data, rng)
    yield from long_lines(data, rng)
    yield "doubled", data + data
    yield "BOM twice", b"\xef\xbb\xbf\xef\xbb\xbf" + data
    yield "CR only", data.replace(b"\n", b"\r")


def write_huge_mime(path: Path, kind: str, size: int = 50 << 20) -> Path:
    """A hostile .eml written in blocks (never held whole): ``body`` a 50 MB body in
    lines of 76 bytes, ``oneline`` a body of one 50 MB line, ``headers`` 100k headers,
    ``parts`` 100k MIME parts, ``nested`` 2k multiparts nested in each other,
    ``rfc822`` 2k message/rfc822 parts nested in each other (no boundaries at all)."""
    head = (
        b"From: a@example.org\r\nTo: b@example.org\r\nSubject: big\r\n"
        b"Date: Fri, 15 Mar 2024 07:58:09 +0000\r\nMessage-ID: <x@example.org>\r\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        if kind == "body":
            fh.write(head + b"Content-Type: text/plain\r\n\r\n")
            line = b"x" * 74 + b"\r\n"
            block = line * 14_000
            for _ in range(size // len(block)):
                fh.write(block)
        elif kind == "oneline":
            fh.write(head + b"Content-Type: text/plain\r\n\r\n")
            block = b"y" * (1 << 20)
            for _ in range(size // len(block)):
                fh.write(block)
        elif kind == "headers":
            fh.write(head)
            fh.write(b"".join(b"X-H%d: value\r\n" % i for i in range(100_000)))
            fh.write(b"\r\nbody\r\n")
        elif kind == "parts":
            fh.write(
                head + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
            )
            part = b"--b\r\nContent-Type: text/plain\r\n\r\np\r\n"
            fh.write(part * 100_000 + b"--b--\r\n")
        elif kind == "nested":
            fh.write(head + b"MIME-Version: 1.0\r\n")
            depth = 2_000
            for i in range(depth):
                fh.write(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i))
            fh.write(b"Content-Type: text/plain\r\n\r\ndeep\r\n")
            for i in reversed(range(depth)):
                fh.write(b"--b%d--\r\n" % i)
        elif kind == "rfc822":
            fh.write(head + b"MIME-Version: 1.0\r\n")
            fh.write(b"Content-Type: message/rfc822\r\n\r\n" * 2_000)
            fh.write(b"Content-Type: text/plain\r\n\r\ndeep\r\n")
        else:
            raise ValueError(kind)
    return path
