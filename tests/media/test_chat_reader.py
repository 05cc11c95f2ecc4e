"""The chat reader on hand-written OCR lines (no tesseract): layouts, dates, senders."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cyberstalk.media.screenshots import ImageContext, parse_date_header, read_chat
from cyberstalk.records.times import choose_zone

ZONE = choose_zone(None, "Europe/London")
W, H = 750, 1334


def line(n: int, text: str, left: int, top: int, width: int = 300, conf: float = 90.0) -> dict:
    words = [{"text": t, "confidence": conf, "box": [left, top, 10, 20]} for t in text.split()]
    return {"n": n, "text": text, "box": [left, top, width, 22], "confidence": conf, "words": words}


def ctx(capture: dict[str, Any] | None = None) -> ImageContext:
    return ImageContext(ref="RE/5", name="s.png", width=W, height=H, sha256="ab", capture=capture)


def test_header_variants() -> None:
    assert parse_date_header("12 January 2026", None).day == date(2026, 1, 12)
    assert parse_date_header("20 lonawr 2026", None).day == date(2026, 1, 20)  # OCR I -> l
    assert parse_date_header("Monday, 2 March 2026", None).day == date(2026, 3, 2)
    assert parse_date_header("January 5, 2026", None).day == date(2026, 1, 5)
    assert parse_date_header("05/01/2026", None).day == date(2026, 1, 5)  # UK order
    hdr = parse_date_header("1 Feb 2026, 20:05", None)
    assert hdr.day == date(2026, 2, 1) and hdr.clock == (20, 5)
    assert parse_date_header("Ddoe", date(2026, 1, 24)).day == date(2026, 1, 23)
    assert parse_date_header("Today", None).day is None
    # A year-less header never dates the future relative to the capture.
    assert parse_date_header("30 December", date(2026, 1, 2)).day == date(2025, 12, 30)
    assert parse_date_header("Answer me", None) is None
    assert parse_date_header("32 January 2026", None) is None


def test_twelve_hour_times_names_and_directions() -> None:
    lines = [
        line(1, "09:41 100%", 28, 10),
        line(2, "Family", 156, 66),
        line(3, "Yesterday", 330, 190, 90),
        line(4, "Dylan: are you home", 46, 260),
        line(5, "9:43 pm", 300, 290, 60),
        line(6, "Nearly there 11:02 am", 420, 400),
    ]
    capture = {"local_date": "2026-01-24", "raw": "2026:01:24 23:12:05", "tag": "EXIF"}
    records, report = read_chat({"lines": lines}, ctx(capture), ZONE)
    assert report["conversation"] == "Family"
    first, second = records
    assert first.sender == "Dylan" and first.text == "are you home"
    assert first.extra["sender_basis"] == "name shown in the bubble"
    assert first.time_raw == "9:43 pm"
    assert first.time_utc.isoformat() == "2026-01-23T21:43:00+00:00"
    assert first.extra["date_source"].startswith("on-screen relative date header")
    assert second.subtype == "outgoing" and second.sender is None
    assert second.recipients == ("Family",)
    assert second.time_utc.isoformat() == "2026-01-23T11:02:00+00:00"
    assert all("ocr" in r.flags for r in records)
    assert first.locator.line_start == 4 and first.locator.line_end == 5


def test_metadata_date_and_a_time_later_than_capture() -> None:
    lines = [
        line(1, "Dylan", 156, 66),
        line(2, "See you soon 23:55", 46, 300),
        line(3, "Still there? 08:15", 46, 400),
    ]
    capture = {
        "local_date": "2026-03-20",
        "raw": "2026:03:20 09:00:00",
        "tag": "EXIF DateTimeOriginal",
    }
    records, _ = read_chat({"lines": lines}, ctx(capture), ZONE)
    late, early = records
    assert late.time_utc is None and late.tz_basis.value == "unknown"
    assert "earlier day" in late.extra["date_note"]
    assert early.time_utc.isoformat() == "2026-03-20T08:15:00+00:00"
    assert early.extra["date_source"] == "image metadata (EXIF DateTimeOriginal)"


def test_no_date_anywhere_gives_no_instant_and_text_without_time_is_reported() -> None:
    lines = [
        line(1, "Dylan", 156, 66),
        line(2, "no time on this bubble", 46, 300),
        line(3, "Answer me 02:03", 46, 420),
    ]
    records, report = read_chat({"lines": lines}, ctx(None), ZONE)
    assert len(records) == 1
    assert records[0].time_utc is None
    assert records[0].extra["time_basis"] == "on_screen_time_without_date"
    assert report["skipped"] == [["OCR lines 2-2", "chat text with no visible time"]]


def test_lone_pipe_is_corrected_and_recorded() -> None:
    lines = [
        line(1, "12 January 2026", 287, 184, 176),
        line(2, "so", 46, 300),
        line(3, "| know 21:43", 46, 330),
    ]
    records, _ = read_chat({"lines": lines}, ctx(None), ZONE)
    assert records[0].text == "so\nI know"
    assert records[0].extra["ocr_corrections"] == ["'|' read as 'I'"]
    assert records[0].time_utc.isoformat() == "2026-01-12T21:43:00+00:00"


MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")  # fmt: skip
MONTHS_CY = ("Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin", "Gorffennaf", "Awst",
             "Medi", "Hydref", "Tachwedd", "Rhagfyr")  # fmt: skip


@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    style=st.sampled_from(["en", "cy", "en_short", "us", "numeric"]),
    clock=st.one_of(st.none(), st.tuples(st.integers(0, 23), st.integers(0, 59))),
)
def test_date_headers_round_trip(day: date, style: str, clock: tuple[int, int] | None) -> None:
    label = {
        "en": f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}",
        "cy": f"{day.day} {MONTHS_CY[day.month - 1]} {day.year}",
        "en_short": f"{day.day} {MONTHS_EN[day.month - 1][:3]} {day.year}",
        "us": f"{MONTHS_EN[day.month - 1]} {day.day}, {day.year}",
        "numeric": f"{day.day:02d}/{day.month:02d}/{day.year}",
    }[style]
    if clock is not None:
        label += f", {clock[0]:02d}:{clock[1]:02d}"
    parsed = parse_date_header(label, None)
    assert parsed is not None, label
    assert parsed.day == day
    assert parsed.clock == clock


def _ctx_named(name: str, height: int = H) -> ImageContext:
    return ImageContext(ref="RE/6", name=name, width=W, height=height, sha256="ab", capture=None)


def test_first_message_under_the_title_is_kept_even_inside_the_top_eighth() -> None:
    # A cropped screenshot 600 px high: its top eighth (75 px) ends below the first line.
    lines = [
        line(1, "Jordan", 156, 10, 116),
        line(2, "online", 157, 36, 59),
        line(3, "Jordan: I know where you live now", 46, 60),
        line(4, "21:43", 300, 90, 60),
    ]
    records, report = read_chat({"lines": lines}, _ctx_named("crop.png", 600), ZONE)
    assert report["conversation"] == "Jordan"
    assert [(r.sender, r.text, r.time_raw) for r in records] == [
        ("Jordan", "I know where you live now", "21:43")
    ]
    assert report["skipped"] == []


def test_one_message_screenshot_gives_one_record_with_the_time_on_its_own_line() -> None:
    lines = [
        line(1, "09:41 100%", 28, 10),
        line(2, "Jordan", 156, 66),
        line(3, "last seen today at 21:40", 157, 100, 200),
        line(4, "Jordan: I know where you live", 46, 187),
        line(5, "now", 46, 225, 60),
        line(6, "21:43", 300, 255, 60),
    ]
    records, _ = read_chat({"lines": lines}, _ctx_named("IMG_0042.PNG"), ZONE)
    (only,) = records
    assert (only.sender, only.text, only.time_raw) == (
        "Jordan",
        "I know where you live\nnow",
        "21:43",
    )
    # no capture time, a name with no date, no date on screen: kept undated, and says so
    assert only.time_utc is None and only.extra["date_source"] is None
    assert only.extra["time_basis"] == "on_screen_time_without_date"


def test_date_from_the_screenshot_file_name() -> None:
    lines = [
        line(1, "Jordan", 156, 66),
        line(2, "I know where you live now 21:43", 46, 187),
        line(3, "Open the door 21:49", 46, 240),
    ]
    records, _ = read_chat({"lines": lines}, _ctx_named("Screenshot_20240514-214700.png"), ZONE)
    first, second = records
    assert first.time_utc is not None and first.time_utc.isoformat() == "2024-05-14T20:43:00+00:00"
    assert first.extra["date_source"] == "the screenshot's file name (its capture time)"
    assert first.extra["date_raw"] == "Screenshot_20240514-214700"
    # 21:49 is after the 21:47 capture: from an earlier day, which one is not shown
    assert second.time_utc is None and "later than the capture time" in second.extra["date_note"]


def test_screenshot_file_name_forms() -> None:
    from cyberstalk.media.screenshots import capture_from_name

    def day_time(name: str) -> str | None:
        got = capture_from_name(name)
        return got["raw"] if got else None

    assert day_time("Screenshot_20240514-214700.png") == "2024-05-14 21:47:00"
    assert day_time("Screenshot_2024-05-14-21-47-00-123_com.whatsapp.jpg") == "2024-05-14 21:47:00"
    assert day_time("Screenshot 2024-05-14 at 21.47.00.png") == "2024-05-14 21:47:00"
    assert day_time("Screen Shot 2024-05-14 at 9.47.00 PM.png") == "2024-05-14 21:47:00"
    assert day_time("sub/Screenshot_20240514_214700.png") == "2024-05-14 21:47:00"
    assert day_time("Screenshot_20241314-214700.png") is None  # month 13
    assert day_time("IMG_20240514_214700.jpg") is None  # a camera photo, not a screenshot
    assert day_time("IMG_0042.PNG") is None


def test_metadata_capture_time_wins_over_the_file_name() -> None:
    lines = [line(1, "Jordan", 156, 66), line(2, "Hi 21:43", 46, 187)]
    capture = {"local_date": "2024-05-20", "raw": "2024:05:20 22:00:00", "tag": "EXIF"}
    ictx = ImageContext(
        ref="RE/7",
        name="Screenshot_20240514-214700.png",
        width=W,
        height=H,
        sha256="ab",
        capture=capture,
    )
    (rec,) = read_chat({"lines": lines}, ictx, ZONE)[0]
    assert rec.time_utc is not None and rec.time_utc.date() == date(2024, 5, 20)
    assert rec.extra["date_source"] == "image metadata (EXIF)"
