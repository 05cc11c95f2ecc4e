"""The fault-tolerant JSON reader shared by the social-media parsers."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cyberstalk.parsers import jsonload
from cyberstalk.parsers.base import ParseContext, Source

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(
    value=json_values, depth=st.integers(min_value=0, max_value=4), indent=st.none() | st.just(2)
)
def test_complete_documents_decode_exactly_like_json(
    value: object, depth: int, indent: int | None
) -> None:
    text = json.dumps(value, indent=indent)
    loaded = jsonload.load_text(text, depth=depth)
    assert loaded.fault is None
    assert loaded.value == json.loads(text)


@settings(max_examples=200, deadline=None)
@given(
    items=st.lists(
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=3), min_size=1, max_size=6
    ),
    cut=st.integers(min_value=1),
)
def test_truncation_keeps_exactly_the_complete_items(items: list[dict[str, int]], cut: int) -> None:
    text = json.dumps({"messages": items})
    cut_at = cut % len(text)
    loaded = jsonload.load_text(text[:cut_at], depth=2)
    assert loaded.fault is not None
    got = (loaded.value or {}).get("messages", [])
    # Exactly the items whose last character comes before the cut survive, in order.
    ends, pos = [], len('{"messages": [')
    for item in items:
        pos += len(json.dumps(item))
        ends.append(pos)
        pos += len(", ")
    assert got == items[: sum(end <= cut_at for end in ends)]


def test_bom_trailing_semicolon_and_positions(tmp_path: Path) -> None:
    path = tmp_path / "x.js"
    path.write_bytes(b"\xef\xbb\xbfwindow.x = [1,\n 2];\n")
    loaded = jsonload.load(Source.loose(path), ParseContext(), depth=1, start=11)
    assert loaded.fault is None and loaded.value == [1, 2]
    bad = jsonload.load_text('{"a": [1,\n  2 x]}', depth=2)
    assert bad.fault is not None
    assert bad.fault.position == "line 2, column 5"
    assert bad.fault.message == "invalid JSON: expected ',' or ']'"
    assert bad.value == {"a": [1, 2]}
    assert jsonload.line_col("ab\ncd", 4) == (2, 2)
