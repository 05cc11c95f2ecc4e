"""Every synthetic variant written by ``fixtures/variants.py`` is recognised by the parser
its table names, parses into records with nothing skipped, and is written byte for byte
the same on every run."""

from __future__ import annotations

import hashlib
import importlib
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from cyberstalk.parsers import registry
from cyberstalk.parsers.base import ParseContext, ParseReport, Source

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _load_variants() -> ModuleType:
    sys.path.insert(0, str(FIXTURES))
    try:
        return importlib.import_module("variants")
    finally:
        sys.path.remove(str(FIXTURES))


variants = _load_variants()
EXPECTED: dict[str, str] = variants.EXPECTED
SIDECARS: tuple[str, ...] = variants.SIDECARS

# Variants that expose a parser bug: relative path -> reason (xfail, strict).
KNOWN_BUGS: dict[str, str] = {}


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("variants") / "all-formats"
    variants.generate(out)
    return out


def _cases() -> list[object]:
    return [
        pytest.param(
            rel,
            parser,
            id=rel,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[rel])]
            if rel in KNOWN_BUGS
            else [],
        )
        for rel, parser in sorted(EXPECTED.items())
    ]


def test_table_covers_every_registered_parser() -> None:
    assert set(EXPECTED.values()) == set(registry.all_parsers())


def test_generate_writes_exactly_the_table(generated: Path) -> None:
    written = set(_digests(generated))
    assert written == set(EXPECTED) | set(SIDECARS)


def test_generate_is_deterministic(generated: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    variants.generate(again)
    assert _digests(again) == _digests(generated)


@pytest.mark.parametrize(("rel", "expected"), _cases())
def test_variant_detected_and_parsed(generated: Path, rel: str, expected: str) -> None:
    source = Source.loose(generated / rel)
    detection = registry.detect(source)
    assert detection.parser is not None, f"no parser claimed {rel}: {detection.scores[:3]}"
    assert detection.parser.name == expected, detection.scores[:3]
    _, report, records = registry.parse_source(source, ParseContext())
    parsed = list(records)
    assert parsed, f"{rel}: no records"
    assert report.skipped == []
    assert {r.parser for r in parsed} == {expected}


@pytest.mark.parametrize("rel", sorted(SIDECARS))
def test_sidecar_not_claimed(generated: Path, rel: str) -> None:
    assert registry.detect(Source.loose(generated / rel)).parser is None


# What the event-rich variants must yield (kind/subtype pairs that are easy to lose).
EVENTS: dict[str, set[tuple[str, str | None]]] = {
    "whatsapp/android-system-events.txt": {
        ("system", "encryption_notice"),
        ("system", "deleted"),
        ("call", "missed"),
        ("system", "block"),
        ("system", "unblock"),
        ("system", "number_change"),
        ("system", "security_code_changed"),
    },
    "whatsapp/ios-system-events.txt": {
        ("system", "encryption_notice"),
        ("system", "deleted"),
        ("call", "missed"),
        ("system", "block"),
        ("system", "number_change"),
    },
    "whatsapp/ios-mdy-12h-lrm-crlf.txt": {("media", "omitted"), ("system", "encryption_notice")},
    "whatsapp/android-bom-file-attached-caption.txt": {("message", "attachment")},
    "whatsapp/android-zip-file-attached/WhatsApp Chat with Dylan.zip": {("message", "attachment")},
    "facebook/old-layout/messages/inbox/dylanprice_10158000000000001/message_1.json": {
        ("call", "missed")
    },
    "facebook/old-layout/messages/inbox/dylanprice_10158000000000001/message_2.json": {
        ("message", "unsent")
    },
    "messenger-e2ee/DylanPrice_1.json": {("message", "unsent")},
    "sms-backup/calls-20260301120000.xml": {("call", "missed")},
    "telegram/ChatExport_2026-03-21/result.json": {("call", "missed")},
}


@pytest.mark.parametrize("rel", sorted(EVENTS))
def test_variant_events(generated: Path, rel: str) -> None:
    _, _, records = registry.parse_source(Source.loose(generated / rel), ParseContext())
    seen = {(r.kind.value, r.subtype) for r in records}
    assert EVENTS[rel] <= seen, sorted(EVENTS[rel] - seen, key=str)


def test_variant_text_repaired(generated: Path) -> None:
    """Mojibake repaired once, split surrogates joined, RFC 2047 subject decoded."""
    page = "facebook/new-layout/your_facebook_activity/messages/inbox/"
    page += "dylanprice_10158000000000001/message_2.json"
    _, _, records = registry.parse_source(Source.loose(generated / page), ParseContext())
    assert "Paid â chysylltu â fi eto" in {r.text for r in records}
    sms_file = Source.loose(generated / "sms-backup/sms-20260301120000.xml")
    _, _, records = registry.parse_source(sms_file, ParseContext())
    assert any("\U0001f440" in r.text for r in records)
    eml = Source.loose(generated / "email/Re Just read this - encoded subject, no zone.eml")
    _, _, records = registry.parse_source(eml, ParseContext())
    (email,) = list(records)
    assert email.extra["subject"] == "Re: Paid â chysylltu"
    assert email.tz_basis.value == "default_timezone"  # zone-less Date read in Europe/London


def test_overlapping_sms_backups_dedupe(generated: Path) -> None:
    from cyberstalk.parsers.sms_backup import parse_many

    earlier = Source.loose(generated / "sms-backup/sms-20260210120000.xml")
    later = Source.loose(generated / "sms-backup/sms-20260301120000.xml")
    report = ParseReport(parser="sms-backup")
    records = list(parse_many([earlier, later], ParseContext(), report))
    assert len(records) == 11
    assert report.duplicates == 5  # every item of the earlier backup is in the later one
    assert sum("duplicate" in r.flags for r in records) == 5


@pytest.mark.parametrize(
    ("rel", "caption"),
    [
        ("whatsapp/ios-zip-attached/WhatsApp Chat - Dylan.zip", None),
        ("whatsapp/android-zip-file-attached/WhatsApp Chat with Dylan.zip", "Look familiar?"),
    ],
)
def test_zip_attachment_hashed_from_member(generated: Path, rel: str, caption: str | None) -> None:
    with zipfile.ZipFile(generated / rel) as zf:
        members = {
            hashlib.sha256(zf.read(n)).hexdigest(): n for n in zf.namelist() if n.endswith(".jpg")
        }
    _, _, records = registry.parse_source(Source.loose(generated / rel), ParseContext())
    attached = [a for r in records for a in r.attachments]
    assert [(members.get(a.sha256 or ""), a.caption) for a in attached] == [
        (attached[0].name, caption)
    ]
