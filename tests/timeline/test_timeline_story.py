"""End to end on the demo story (fixtures/story.py) turned straight into records."""

from __future__ import annotations

from datetime import UTC

from timeline_helpers import story_fixture

from cyberstalk.timeline import analyse_records

story = __import__("story")


def test_story_indicators(story_config) -> None:  # type: ignore[no-untyped-def]
    a = analyse_records(story_fixture.story_records(), story_config)
    assert a.victim == "Carys Hughes" and a.persons_of_interest == ("Dylan Price",)
    assert {i.id for i in a.indicators} == {
        "repeated",
        "unwanted",
        "fixated",
        "obsessive",
        "contact_any_means",
        "monitoring",
        "loitering",
        "contact_after_block",
        "new_identifier_after_block",
        "order_breach",
        "night_contact",
    }
    ps = a.summary.persons[0]
    assert ps.first == story.at(1, 5, 18, 2, 11).astimezone(UTC)
    assert ps.last == story.at(3, 20, 23, 55).astimezone(UTC)
    assert dict(ps.channels) == {
        "email": 2,
        "instagram": 5,
        "phone": 3,
        "sms": 4,
        "telegram": 3,
        "whatsapp": 11,
    }
    assert a.summary.unattributed_to_victim == 1 and a.summary.withheld == 1


def test_story_order_block_and_requests(story_config) -> None:  # type: ignore[no-untyped-def]
    a = analyse_records(story_fixture.story_records(), story_config)
    (breach,) = a.breaches
    served = story.SPO_SERVED
    after = [a.by_id[r] for r in breach.records]
    assert len(after) == 8
    assert all(e.record.time_utc >= served for e in after)
    assert {e.record.platform for e in after} == {"sms", "phone", "email", "instagram", "telegram"}
    new = next(i for i in a.indicators if i.id == "new_identifier_after_block")
    text = " ".join(new.details)
    assert "phone:+447700900789" in text and "user:instagram:d.price.new_example" in text
    assert "after the instagram block of 3 Feb 2026" in text
    unwanted = next(i for i in a.indicators if i.id == "unwanted")
    assert any("(Welsh, draft lexicon)" in d for d in unwanted.details)
    assert any("\u201cplease stop\u201d (English)" in d for d in unwanted.details)
    monitoring = next(i for i in a.indicators if i.id == "monitoring")
    texts = [a.by_id[r].record.text for r in monitoring.records]
    assert any("I saw you at the station" in t for t in texts)
    assert any("Tesco" in t for t in texts)


def test_story_through_the_real_parsers(tmp_path, story_config) -> None:  # type: ignore[no-untyped-def]
    """The fixture generators' exports, parsed by the registered parsers, give the same
    course of conduct: the timeline relies only on what parsers really write."""
    import importlib
    import zipfile

    from cyberstalk.parsers.base import ParseContext, Source
    from cyberstalk.parsers.registry import parse_source
    from cyberstalk.records.times import choose_zone

    files = []
    for name in ("whatsapp", "sms", "mail", "telegram", "meta"):
        for path in importlib.import_module(name).generate(tmp_path / name):
            if path.suffix == ".zip" and "Chat - Dylan" in path.name:
                with zipfile.ZipFile(path) as zf:
                    zf.extract("_chat.txt", tmp_path / "wa")
                files.append(tmp_path / "wa" / "_chat.txt")
            elif path.suffix in (".xml", ".mbox") or path.name in ("result.json", "message_1.json"):
                files.append(path)
    ctx = ParseContext(zone=choose_zone(None, "Europe/London"))
    records = []
    for n, path in enumerate(sorted(set(files)), start=1):
        _, _, it = parse_source(Source(path=path, name=path.name, exhibit=f"RE/{n}"), ctx)
        records += list(it)
    a = analyse_records(records, story_config)
    found = {i.id for i in a.indicators}
    assert found >= {
        "repeated",
        "unwanted",
        "fixated",
        "obsessive",
        "contact_any_means",
        "monitoring",
        "contact_after_block",
        "new_identifier_after_block",
        "order_breach",
        "night_contact",
    }
    new = next(i for i in a.indicators if i.id == "new_identifier_after_block")
    assert any("phone:+447700900789" in d for d in new.details)
    (breach,) = a.breaches
    assert len(breach.records) >= 8
    assert a.unresolved == ()
    assert {p for p, _ in a.summary.persons[0].channels} >= {
        "whatsapp",
        "instagram",
        "telegram",
        "email",
    }


def test_fixture_generator_is_deterministic(tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = story_fixture.generate(tmp_path / "a")
    b = story_fixture.generate(tmp_path / "b")
    assert [p.name for p in a] == [p.name for p in b]
    assert a[0].name == "case-people.toml" and len(a) == 8
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes()
