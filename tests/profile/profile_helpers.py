"""Cases whose contents the profile tests know (``fixtures/many_cases.py`` specs)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from helpers.fixture_scripts import load_fixture

mc = load_fixture("many_cases")
LONDON = mc.LONDON


def at(y: int, m: int, d: int, h: int = 10, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=LONDON)


def msg(when: datetime, platform: str, sender: str, text: str) -> Any:
    return mc.Message(when, platform, sender, text)


def spec(ref: str, n: int, messages: list[Any], **kw: Any) -> Any:
    return mc.CaseSpec(
        reference=ref,
        victim=f"Heledd Victim{n}-Example",
        suspect=f"Osian Suspect{n}-Example",
        victim_phone=f"+4477009005{n:02d}",
        suspect_phone=f"+4477009006{n:02d}",
        messages=tuple(messages),
        **kw,
    )


KNOWN = {
    # three days of contact on WhatsApp: repeated (3 occasions)
    "case-a": spec(
        "KNOWN/A",
        1,
        [
            msg(at(2025, 3, 14), "whatsapp", "suspect", "We need to talk"),
            msg(at(2025, 3, 20), "whatsapp", "suspect", "Good morning"),
            msg(at(2025, 3, 27), "whatsapp", "suspect", "Just reply once"),
        ],
    ),
    # one SMS: nothing repeated
    "case-b": spec("KNOWN/B", 2, [msg(at(2025, 4, 15, 12), "sms", "suspect", "Good morning")]),
    # asked to stop, blocked on WhatsApp, then SMS after the block
    "case-c": spec(
        "KNOWN/C",
        3,
        [
            msg(at(2025, 5, 13, 9), "whatsapp", "suspect", "Good morning"),
            msg(at(2025, 5, 13, 20), "whatsapp", "victim", "Please stop messaging me"),
            msg(at(2025, 5, 15, 9), "sms", "suspect", "Pick up the phone"),
            msg(at(2025, 5, 16, 9), "sms", "suspect", "Just reply once"),
        ],
        block=at(2025, 5, 14, 21, 15),
    ),
    # an order served between two contacts: a possible breach
    "case-d": spec(
        "KNOWN/D",
        4,
        [
            msg(at(2025, 6, 1), "sms", "suspect", "Good morning"),
            msg(at(2025, 6, 20), "sms", "suspect", "Pick up the phone"),
        ],
        order_served=at(2025, 6, 10, 11),
    ),
    # monitoring words, one contact
    "case-e": spec(
        "KNOWN/E",
        5,
        [msg(at(2025, 3, 18), "whatsapp", "suspect", "I saw you at the station today")],
    ),
    # only the victim wrote: no counted contact
    "case-f": spec("KNOWN/F", 6, [msg(at(2025, 7, 14), "whatsapp", "victim", "ok")]),
}
FIRST_CONTACT = {
    "case-a": at(2025, 3, 14),
    "case-b": at(2025, 4, 15, 12),
    "case-c": at(2025, 5, 13, 9),
    "case-d": at(2025, 6, 1),
    "case-e": at(2025, 3, 18),
}


def case_dirs(root: Path) -> list[str]:
    return sorted(str(p) for p in root.iterdir() if (p / "case.toml").exists())
