"""The fast report paths write the same bytes as the straightforward code they replaced.

The JSON rows are written from their parts (``row_json``), the HTML chronology in
batches with precomputed cells, and analysis and rendering pause the garbage collector.
The reference functions below are the code as it was before those changes (kept here,
verbatim in behaviour); a mid-size synthetic case with awkward values (non-UTC offsets,
untimed records, attachments, flags, nested ``extra``, every locator form, markup and
control characters) must come out byte for byte the same.
"""

from __future__ import annotations

import gc
import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import markupsafe
import pytest

from cyberstalk.case import open_case
from cyberstalk.records import (
    Attachment,
    Locator,
    Record,
    RecordKind,
    TzBasis,
    utc_iso,
    write_records,
)
from cyberstalk.reports import timeline_html, timeline_json
from cyberstalk.reports.timeline_common import (
    DIRECTION_LABELS,
    local_text,
    meta_for,
    record_row,
    sender_label,
)
from cyberstalk.reports.timeline_html import _COLS, MARKER, context, env, render_html
from cyberstalk.reports.timeline_json import _dump, head_sections, render_json, row_json
from cyberstalk.timeline import Analysis, Entry, analyse
from cyberstalk.timeline.gcpause import gc_paused

SENDERS = ("Dylan", "Dylan P", "07700 900456", "Carys", None, "<b>Someone</b> & co", "x\u2028y")
TEXTS = (
    "Why are you ignoring me",
    "Please stop contacting me",
    "I know where you go running",
    "Pam ti'n fy anwybyddu?",
    "<script>alert(\"x\")</script> & 'quotes'",
    "line one\nline two\ttab \x01 control",
    "emoji \U0001f600 and caf\u00e9 \u2028 separator",
    "",
)


def _synthetic(n: int) -> list[Record]:
    """``n`` varied records, deterministic."""
    out: list[Record] = []
    start = datetime(2025, 10, 20, 21, 30, tzinfo=UTC)
    plus2 = timezone(timedelta(hours=2))
    for i in range(n):
        when: datetime | None = start + timedelta(minutes=37 * i, seconds=i % 7)
        if i % 11 == 0 and when is not None:
            when = when.astimezone(plus2)  # a source that kept its own offset
        if i % 97 == 5:
            when = None
        if i % 13 == 0 and when is not None:
            when = when.replace(microsecond=1234 * (i % 5))
        loc_kind = i % 4
        locator = Locator(
            exhibit=None if i % 29 == 0 else f"SY/{1 + i % 3}",
            path=f"export-{i % 3}.txt",
            line_start=i + 1 if loc_kind in (0, 1) else None,
            line_end=i + 3 if loc_kind == 1 else None,
            byte_start=10 * i if loc_kind == 2 else None,
            byte_end=10 * i + 9 if loc_kind == 2 else None,
            json_path=f"$.messages[{i}]" if loc_kind == 3 else None,
            xml_index=i if loc_kind == 3 and i % 2 else None,
            member="chat/\u00e9.txt" if i % 17 == 0 else None,
        )
        kind = (RecordKind.MESSAGE, RecordKind.CALL, RecordKind.EMAIL, RecordKind.MEDIA)[i % 4]
        subtype = None
        if kind is RecordKind.CALL:
            subtype = ("missed", "incoming", "rejected")[i % 3]
        if i == n // 2:
            kind, subtype = RecordKind.SYSTEM, "block"
        attachments: tuple[Attachment, ...] = ()
        if i % 9 == 0:
            attachments = (
                Attachment(f"IMG-{i}<x>.jpg", mime="image/jpeg", size=1000 + i),
                Attachment("voice.opus", omitted=True, caption="caption \u201cquoted\u201d"),
            )
        extra: dict[str, Any] = {}
        if i % 5 == 0:
            extra = {"z": 1.5, "a": [1, None, True, {"k": "v\u00e9"}], "n": -3, "s": "<&>"}
        flags: frozenset[str] = frozenset()
        if i % 23 == 0:
            flags = frozenset({"withheld_number"})
        elif i % 8 == 0:
            flags = frozenset({"edited", "duplicate"})
        out.append(
            Record(
                kind=kind,
                platform=("whatsapp", "sms", "instagram", "email")[i % 4],
                time_utc=when,
                time_raw=when.strftime("%d/%m/%Y %H:%M") if when else "",
                tz_basis=TzBasis.EPOCH if when else TzBasis.UNKNOWN,
                locator=locator,
                parser="synthetic",
                parser_version="1",
                sender=None if i % 23 == 0 else SENDERS[i % len(SENDERS)],
                recipients=("Carys", "Someone <b>") if i % 6 == 0 else (),
                text=f"{TEXTS[i % len(TEXTS)]} ({i})" if i % 31 else "",
                attachments=attachments,
                flags=flags,
                subtype=subtype,
                conversation="Dylan" if i % 4 == 0 else None,
                extra=extra,
            )
        )
    return out


@pytest.fixture
def mid_case(story_case: Path) -> Path:
    case = open_case(story_case)
    records = _synthetic(1500)
    write_records(case.derived_dir, "SY/1", records[:700], {})
    write_records(case.derived_dir, "SY/2", records[700:], {})
    return story_case


# --------------------------------------------------------------------------- references


def ref_record_row(a: Analysis, entry: Entry) -> dict[str, Any]:
    rec = entry.record
    loc = rec.locator
    return {
        "id": entry.id,
        "time_utc": utc_iso(rec.time_utc) if rec.time_utc is not None else None,
        "time_local": entry.local.isoformat() if entry.local is not None else None,
        "time_raw": rec.time_raw,
        "tz_basis": rec.tz_basis.value,
        "platform": rec.platform,
        "kind": rec.kind.value,
        "subtype": rec.subtype,
        "direction": entry.direction.value,
        "person": entry.person,
        "sender": rec.sender,
        "sender_identifier": entry.identifier,
        "recipients": list(rec.recipients),
        "conversation": rec.conversation,
        "text": rec.text,
        "attachments": [att.as_dict() for att in rec.attachments] if rec.attachments else [],
        "flags": sorted(rec.flags) if rec.flags else [],
        "counted_contact": entry.contact,
        "occasion": entry.occasion,
        "indicators": list(a.indicators_by_record.get(entry.id, ())),
        "exhibit": loc.exhibit,
        "locator": loc.as_dict(),
        "locator_text": loc.describe(),
        "parser": {"name": rec.parser, "version": rec.parser_version},
        "extra": dict(sorted(rec.extra.items())) if rec.extra else {},
    }


def ref_render_json(a: Analysis, meta: Any, fh: io.StringIO) -> None:
    fh.write("{\n")
    for key, value in head_sections(a, meta).items():
        fh.write(f"{_dump(key)}:{_dump(value)},\n")
    fh.write('"records":[')
    first = True
    for entry in a.entries:
        fh.write("\n" if first else ",\n")
        fh.write(_dump(ref_record_row(a, entry)))
        first = False
    fh.write("\n]}\n")


def ref_escape(value: str) -> str:
    return str(markupsafe.escape(value))


def ref_wbr(value: str) -> str:
    """Escaped, with a <wbr> after each / _ . [ @ : (where narrow print columns wrap)."""
    out = ""
    for ch in ref_escape(value):
        out += ch + ("<wbr>" if ch in "/_.[@:" else "")
    return out


def ref_loc(described: str) -> str:
    ref, sep, rest = described.partition(" ")
    return f'<span class="nw">{ref_escape(ref)}</span>{sep}{ref_wbr(rest)}'


def ref_row_html(a: Analysis, e: Entry) -> str:
    rec = e.record
    kind = rec.kind.value + (f"/{rec.subtype}" if rec.subtype else "")
    text = ref_escape(rec.text)
    if rec.attachments:
        names = ", ".join(ref_escape(att.name) for att in rec.attachments)
        text += f'<br><span class="muted">attachments: {names}</span>'
    if rec.recipients and e.direction.value != "to_victim":
        text += f'<br><span class="muted">to: {ref_escape("; ".join(rec.recipients))}</span>'
    for key, label in (
        ("time_conflict", "time conflict"),
        ("edited_time_conflict", "edit time conflict"),
    ):
        if isinstance(rec.extra.get(key), str):
            text += f'<br><span class="warn">{label}: {ref_escape(rec.extra[key])}</span>'
    inds = "<br>".join(
        ref_escape(i.replace("_", " ")) for i in a.indicators_by_record.get(e.id, ())
    )
    flags = " ".join(f"<em>{ref_wbr(f)}</em>" for f in sorted(rec.flags)) if rec.flags else ""
    occ = f'<a href="#{ref_escape(e.occasion)}">{ref_escape(e.occasion)}</a>' if e.occasion else ""
    cls = f"d-{e.direction.value}" + (" c" if e.contact else "")
    stamp = local_text(e.local)
    when = f"{stamp[:10]}<br>{ref_escape(stamp[11:])}" if e.local else "no time"
    if e.person and rec.sender and rec.sender != e.person:
        sender = f'{ref_escape(e.person)}<br><span class="sid">{ref_wbr(rec.sender)}</span>'
    else:
        sender = ref_wbr(sender_label(e))
    corr = ""
    shown = rec.extra.get("corroborates") if rec.kind is RecordKind.SCREENSHOT_TEXT else None
    for rid in shown or ():
        if rid in a.by_id:
            where = ref_loc(a.by_id[rid].record.locator.describe())
            corr += f'<br><span class="corr">shows the exported message <a href="#{rid}">{where}</a></span>'  # noqa: E501
    shots = a.corroborated_by.get(e.id, ()) if rec.kind is not RecordKind.SCREENSHOT_TEXT else ()
    for rid in shots:
        where = ref_loc(a.by_id[rid].record.locator.describe())
        corr += f'<br><span class="corr">also on screenshot <a href="#{rid}">{where}</a></span>'
    return (
        f'<tr id="{ref_escape(e.id)}" class="{cls}"><td>{when}</td>'
        f"<td>{ref_escape(rec.platform)}<br>{ref_wbr(kind.replace('_', ' '))}</td>"
        f"<td>{DIRECTION_LABELS[e.direction.value]}</td>"
        f'<td>{sender}</td><td class="x">{text}</td>'
        f'<td class="loc">{ref_loc(rec.locator.describe())}{corr}<br>'
        f'<span class="rid">{ref_escape(e.id)}</span></td>'
        f"<td>{occ}</td><td>{inds}{'<br>' if inds and flags else ''}{flags}</td></tr>\n"
    )


def ref_chronology(a: Analysis, fh: io.StringIO, *, collapse: bool, only: set[str] | None) -> int:
    written = 0
    current: str | None = None
    opened = False
    rows = a.entries if only is None else [e for e in a.entries if e.id in only]
    counts: Counter[str] = (
        Counter(f"{e.local:%Y-%m}" if e.local else "none" for e in rows) if collapse else Counter()
    )
    for e in rows:
        if collapse:
            month = f"{e.local:%Y-%m}" if e.local else "none"
            if month != current:
                if opened:
                    fh.write("</tbody></table></details>\n")
                title = f"{e.local:%B %Y}" if e.local else "Records without a time"
                fh.write(
                    f"<details><summary>{ref_escape(title)} ({counts[month]} records)</summary>"
                    f'<table class="chron">{_COLS}<tbody>\n'
                )
                opened = True
                current = month
        elif not opened:
            fh.write(f'<table class="chron">{_COLS}<tbody>\n')
            opened = True
        fh.write(ref_row_html(a, e))
        written += 1
    if opened:
        fh.write("</tbody></table>" + ("</details>" if collapse else "") + "\n")
    else:
        fh.write("<p>No records in scope.</p>\n")
    return written


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("direct", [False, True])
def test_json_rows_match_the_generic_encoder(mid_case: Path, direct: bool) -> None:
    case = open_case(mid_case)
    # derived/ holds UTC times; records given directly keep their own offsets
    a = analyse(case, records=_synthetic(1500)) if direct else analyse(case)
    assert len(a.entries) >= 1500
    assert direct == any(
        e.record.time_utc and e.record.time_utc.tzinfo is not UTC for e in a.entries
    )
    assert any(e.record.time_utc is None for e in a.entries)
    assert any(a.indicators_by_record.get(e.id) for e in a.entries)
    for e in a.entries:
        expected = _dump(ref_record_row(a, e))
        assert row_json(a, e) == expected
        assert _dump(record_row(a, e)) == expected
    meta = meta_for(case)
    fast, ref = io.StringIO(), io.StringIO()
    render_json(a, meta, fast)
    ref_render_json(a, meta, ref)
    assert fast.getvalue() == ref.getvalue()
    json.loads(fast.getvalue())


@pytest.mark.parametrize(
    ("collapse", "cited"), [(False, False), (True, False), (False, True), (True, True)]
)
def test_html_chronology_matches_the_reference(mid_case: Path, collapse: bool, cited: bool) -> None:
    case = open_case(mid_case)
    a = analyse(case)
    only = timeline_html.cited_records(a) if cited else None
    fast, ref = io.StringIO(), io.StringIO()
    n = timeline_html.write_chronology(a, fast, collapse=collapse, only=only)
    assert n == ref_chronology(a, ref, collapse=collapse, only=only)
    assert fast.getvalue() == ref.getvalue()
    for e in a.entries[:300]:
        assert timeline_html.row_html(a, e) == ref_row_html(a, e)


def test_whole_html_report_matches_the_reference(mid_case: Path) -> None:
    case = open_case(mid_case)
    a = analyse(case, html_collapse_rows=500)
    meta = meta_for(case)
    fast = io.StringIO()
    stats = render_html(a, meta, fast)
    assert stats["collapsed"] is True
    ctx = context(a, meta)
    ctx["chron_note"] = (
        f"{len(a.entries)} records, grouped by month; open a month to read it (sections start "
        "collapsed above 500 records). Each row gives the exhibit and the position of the "
        "record in it."
    )
    head, _, tail = env().get_template("timeline.html.j2").render(ctx).partition(MARKER)
    ref = io.StringIO()
    ref.write(head)
    ref_chronology(a, ref, collapse=True, only=None)
    ref.write(tail)
    assert fast.getvalue() == ref.getvalue()


def test_reports_written_in_batches(mid_case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Streaming still holds: no write carries more than a batch of records."""

    class Writes(io.StringIO):
        sizes: list[int]

        def write(self, s: str) -> int:
            self.sizes.append(s.count('"locator_text":'))
            return super().write(s)

    case = open_case(mid_case)
    a = analyse(case)
    monkeypatch.setattr(timeline_json, "_BATCH", 100)
    buf = Writes()
    buf.sizes = []
    render_json(a, meta_for(case), buf)
    assert max(buf.sizes) == 100
    assert sum(buf.sizes) == len(a.entries)
    assert len(json.loads(buf.getvalue())["records"]) == len(a.entries)


def test_gc_paused_restores_the_collector() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()


def test_a_line_locator_cell_is_the_described_one() -> None:
    """``where_html`` writes a locator of lines directly: the same HTML as
    ``locator_html(describe())`` for every form of locator, markup in its parts, and line
    numbers that are not numbers (a record file says what it says)."""
    import itertools

    values: dict[str, list[Any]] = {
        "exhibit": [None, "RE/1", "RE 1", "A&B<x>", ""],
        "path": ["p", "a/b.txt", "x y"],
        "line_start": [None, 0, 12, "3", True],
        "line_end": [None, 12, 14, "<b>"],
        "byte_start": [None, 5],
        "byte_end": [None, 9],
        "json_path": [None, "", "$.m[1]"],
        "xml_index": [None, 3],
        "member": [None, "m/x.json"],
    }
    compared = 0
    for combo in itertools.product(*values.values()):
        loc = Locator(**dict(zip(values, combo, strict=True)))
        want = timeline_html.locator_html(loc.describe())
        assert timeline_html.where_html(loc) == want, loc
        compared += 1
    assert compared == 5 * 3 * 5 * 4 * 2 * 2 * 3 * 2 * 2
