"""Round trip: generate a chat, render it as a WhatsApp export in several locale styles,
parse it back, and get the same senders, byte-exact texts and times."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.registry import get_parser
from cyberstalk.records.times import choose_zone, localise

NNBSP = "\u202f"
NBSP = "\u00a0"


def _h12(t: datetime) -> tuple[int, bool]:
    hour = t.hour % 12 or 12
    return hour, t.hour >= 12


def android_gb(t: datetime) -> str:
    return t.strftime("%d/%m/%Y, %H:%M - ")


def android_us(t: datetime) -> str:
    hour, pm = _h12(t)
    mer = "PM" if pm else "AM"
    return f"{t.month}/{t.day}/{t.year % 100:02d}, {hour}:{t.minute:02d}{NNBSP}{mer} - "


def android_es(t: datetime) -> str:
    hour, pm = _h12(t)
    mer = f"p.{NBSP}m." if pm else f"a.{NBSP}m."
    return f"{t.day}/{t.month}/{t.year % 100:02d}, {hour}:{t.minute:02d}{NBSP}{mer} - "


def ios_gb(t: datetime) -> str:
    return t.strftime("[%d/%m/%Y, %H:%M:%S] ")


def ios_de(t: datetime) -> str:
    return t.strftime("[%d.%m.%y, %H:%M:%S] ")


def ios_ko(t: datetime) -> str:
    hour, pm = _h12(t)
    mer = "\uc624\ud6c4" if pm else "\uc624\uc804"
    return f"[{t.year}. {t.month}. {t.day}. {mer} {hour}:{t.minute:02d}:{t.second:02d}] "


def android_us_zero(t: datetime) -> str:
    """12-hour, with the hour after midnight written 00 AM (as some exports do)."""
    hour, pm = _h12(t)
    shown = "00" if t.hour == 0 else str(hour)
    mer = "PM" if pm else "AM"
    return f"{t.month}/{t.day}/{t.year % 100:02d}, {shown}:{t.minute:02d}{NNBSP}{mer} - "


def android_es_zero(t: datetime) -> str:
    hour, pm = _h12(t)
    shown = "00" if t.hour == 0 else str(hour)
    mer = f"p.{NBSP}m." if pm else f"a.{NBSP}m."
    return f"{t.day}/{t.month}/{t.year}, {shown}:{t.minute:02d}{NBSP}{mer} - "


ARABIC_INDIC = str.maketrans(
    "0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"
)
PERSIAN = str.maketrans(
    "0123456789", "\u06f0\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8\u06f9"
)
RLM = "\u200f"


def ios_ar_latn(t: datetime) -> str:
    """Arabic iOS: RLM after the day and the month, the Arabic comma, \u0635 (AM) or
    \u0645 (PM) after the time."""
    hour, pm = _h12(t)
    mer = "\u0645" if pm else "\u0635"
    return (
        f"[{t.day}{RLM}/{t.month}{RLM}/{t.year}\u060c {hour}:{t.minute:02d}:{t.second:02d} {mer}] "
    )


def ios_ar(t: datetime) -> str:
    """Arabic iOS with Arabic-Indic digits."""
    return ios_ar_latn(t).translate(ARABIC_INDIC)


def ios_fa_digits(t: datetime) -> str:
    """The Arabic layout with Eastern Arabic-Indic digits (Persian and Urdu locales)."""
    return ios_ar_latn(t).translate(PERSIAN)


def ios_vi(t: datetime) -> str:
    """Vietnamese iOS: the time before the date."""
    return f"[{t:%H:%M:%S}, {t.month}/{t.day}/{t.year % 100:02d}] "


def ios_bare_us(t: datetime) -> str:
    """Old iOS without brackets, 12-hour."""
    hour, pm = _h12(t)
    return (
        f"{t.month}/{t.day}/{t.year % 100:02d}, {hour}:{t.minute:02d}:{t.second:02d} "
        f"{'PM' if pm else 'AM'}: "
    )


def ios_bare_gb(t: datetime) -> str:
    """Old iOS without brackets, 24-hour, no comma."""
    return t.strftime("%d/%m/%y %H:%M:%S: ")


def ios_zh(t: datetime) -> str:
    hour, pm = _h12(t)
    mer = "\u4e0b\u5348" if pm else "\u4e0a\u5348"
    return f"[{t.year}/{t.month}/{t.day} {mer}{hour}:{t.minute:02d}:{t.second:02d}] "


# (renderer, has seconds, iOS line endings, date order)
STYLES: dict[str, tuple[Callable[[datetime], str], bool, bool, str]] = {
    "android_gb": (android_gb, False, False, "dmy"),
    "android_us": (android_us, False, False, "mdy"),
    "android_es": (android_es, False, False, "dmy"),
    "ios_gb": (ios_gb, True, True, "dmy"),
    "ios_de": (ios_de, True, True, "dmy"),
    "ios_ko": (ios_ko, True, True, "ymd"),
    "ios_zh": (ios_zh, True, True, "ymd"),
    "android_us_zero": (android_us_zero, False, False, "mdy"),
    "android_es_zero": (android_es_zero, False, False, "dmy"),
    "ios_ar": (ios_ar, True, True, "dmy"),
    "ios_ar_latn": (ios_ar_latn, True, True, "dmy"),
    "ios_fa_digits": (ios_fa_digits, True, True, "dmy"),
    "ios_vi": (ios_vi, True, True, "mdy"),
    "ios_bare_us": (ios_bare_us, True, False, "mdy"),
    "ios_bare_gb": (ios_bare_gb, True, False, "dmy"),
}

SENDERS = st.sampled_from(["Dylan", "Carys", "Rhian Evans", "O'Neil", "+44 7700 900789", "Siân"])
# A line never starts with a digit, '[' or an invisible mark, so no line is header-shaped;
# a message never starts with a capital, so it cannot equal a generated notice.
BODY_CHARS = st.characters(
    blacklist_categories=("Cs",), blacklist_characters="\r\n\u200e\u200f\ufeff\u2028\u2029"
)
REST = st.text(BODY_CHARS, max_size=30)
FIRST_LINE = st.builds(lambda a, b: a + b, st.sampled_from("abcdefghijklmnoprstuwyâŵ"), REST)
NEXT_LINE = st.one_of(
    st.just(""),
    st.builds(lambda a, b: a + b, st.sampled_from("abcdefghijklmnoprstuwy ,.!?ŷ😀"), REST),
)
TEXT = st.builds(
    lambda first, more: "\n".join([first, *more]), FIRST_LINE, st.lists(NEXT_LINE, max_size=3)
)
MESSAGE = st.tuples(SENDERS, TEXT, st.integers(min_value=0, max_value=3 * 86400))

START = datetime(2025, 3, 25, 21, 30, 5)  # (messages cross midnight: hour 00 is met)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(style=st.sampled_from(sorted(STYLES)), messages=st.lists(MESSAGE, min_size=1, max_size=12))
def test_round_trip(style: str, messages: list[tuple[str, str, int]]) -> None:
    render, seconds, ios, order = STYLES[style]
    when = START
    expected: list[tuple[str, str, datetime]] = []
    parts: list[str] = []
    for sender, text, gap in messages:
        when = when + timedelta(seconds=gap)
        stamp = when if seconds else when.replace(second=0)
        parts.append(f"{render(stamp)}{sender}: {text}")
        expected.append((sender, text, stamp))
    sep = "\r\n" if ios else "\n"
    data = (sep.join(parts) + sep).encode("utf-8")
    zone = ZoneInfo("Europe/London")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("_chat.txt" if ios else "WhatsApp Chat with Dylan.txt")
        path.write_bytes(data)
        parser = get_parser("whatsapp")
        assert parser.sniff(Source.loose(path)) >= 0.5
        report = ParseReport()
        # A short chat's dates can fit two orders (25/3/25 is also 2025-03-25): the
        # exporter's order is given as an officer would give it, and must be accepted.
        ctx = ParseContext(zone=choose_zone("Europe/London", None), date_order=order)
        records = list(parser.parse(Source.loose(path), ctx, report))
    assert report.date_order is not None and report.date_order.order == order
    assert [(r.sender, r.text) for r in records] == [(s, t) for s, t, _ in expected]
    assert [r.time_utc for r in records] == [localise(t, zone)[0] for _, _, t in expected]
    for r in records:
        assert r.kind.value == "message"
        assert not {"possible_inserted_line", "order_regression"} & r.flags
        assert ("date_order_chosen" in r.flags) == (report.date_order.basis == "user")
        assert r.locator.byte_start is not None and r.locator.byte_end is not None
        assert data[r.locator.byte_start : r.locator.byte_end].endswith(r.text.encode("utf-8"))
    assert report.skipped == []
