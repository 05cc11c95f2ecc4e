"""case.toml is edited as a document: nothing an officer entered is lost or misplaced.

Every ``case`` command that writes case.toml goes through tomlkit's document model; the
property test below runs random sequences of those commands with hand edits in between
and checks, after every step, that every entry made is still there and shown.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyberstalk.case import SETTINGS_KEYS, TIMELINE_SETTINGS, Identifier, init_case
from cyberstalk.identifiers import check_identifier
from cyberstalk.timeline.settings import Settings, load_settings

from .helpers import cli, log_events, write


def _show(root: Path) -> dict:
    result = cli("case", "show", root, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# ------------------------------------------------------------------ the reported loss


def test_person_without_identifiers_then_an_order_are_both_kept(case) -> None:
    """The reported bug: `person add` with no --id wrote `people = [{...}]` under
    [settings]; `case show` then listed nobody, and a later `order add` was lost too."""
    first = cli("case", "person", "add", case.root, "--name", "Vic Tim", "--role", "victim")
    assert first.exit_code == 0, first.output
    second = cli(
        "case", "person", "add", case.root, "--name", "Sus Pect", "--role", "suspect",
        "--id", "phone:07700 900456",
    )  # fmt: skip
    assert second.exit_code == 0, second.output
    order = cli(
        "case", "order", "add", case.root, "--kind", "Stalking Protection Order",
        "--subject", "Sus Pect", "--made", "2026-02-13", "--served", "2026-02-14T11:00",
    )  # fmt: skip
    assert order.exit_code == 0, order.output
    data = tomllib.loads((case.root / "case.toml").read_text())
    assert [p["name"] for p in data["people"]] == ["Vic Tim", "Sus Pect"]
    assert set(data["settings"]) == {"legacy_digests"}
    shown = _show(case.root)
    assert [p["name"] for p in shown["people"]] == ["Vic Tim", "Sus Pect"]
    assert shown["people"][0]["identifiers"] == []
    assert [o["subject"] for o in shown["orders"]] == ["Sus Pect"]
    assert shown["orders"][0]["served"] == "2026-02-14T11:00:00+00:00"
    text = cli("case", "show", case.root).stdout
    assert "person    Vic Tim [victim]  no identifiers" in text
    assert "order     Stalking Protection Order binding Sus Pect, made 2026-02-13" in text


def test_stray_people_key_under_settings_is_refused_with_advice(case) -> None:
    path = case.root / "case.toml"
    path.write_text(path.read_text() + 'people = [{ name = "Vic Tim", role = "victim" }]\n')
    result = cli("case", "show", case.root)
    assert result.exit_code == 3
    assert "unknown key 'people' in [settings]" in result.stderr
    assert "[[people]] on a line of its own" in result.stderr


@pytest.mark.parametrize(
    ("addition", "message"),
    [
        ('\n[[peopel]]\nname = "X"\n', "unknown key 'peopel' in the file"),
        ('\n[advice]\nlang = "cy"\n', "unknown key 'advice' in the file"),
        ('\n[[people]]\nname = "X"\nrole = "other"\nphone = "07700900123"\n', "people[0] (X)"),
        (
            '\n[[people]]\nname = "X"\nidentifiers = [{ type = "phone", valu = "1" }]\n',
            "unknown key 'valu' in people[0].identifiers[0]",
        ),
        ('\n[[orders]]\nkind = "SPO"\nsubject = "X"\nserved_at = 2026-01-01\n', "orders[0] (SPO)"),
    ],
)
def test_show_refuses_unknown_tables_and_keys(case, addition: str, message: str) -> None:
    path = case.root / "case.toml"
    path.write_text(path.read_text() + addition)
    result = cli("case", "show", case.root)
    assert result.exit_code == 3, result.output
    assert message in result.stderr


def test_unknown_key_in_case_table_and_settings_is_refused(case) -> None:
    path = case.root / "case.toml"
    original = path.read_text()
    path.write_text(original.replace('force = "', 'forse = "'))
    assert "unknown key 'forse' in [case]" in cli("case", "show", case.root).stderr
    path.write_text(original + "night_strat = 23\n")
    refused = cli("case", "show", case.root)
    assert "unknown key 'night_strat' in [settings]" in refused.stderr
    assert "night_start" in refused.stderr  # the known keys are listed


def test_settings_keys_are_the_timeline_settings_and_legacy_digests() -> None:
    assert set(TIMELINE_SETTINGS) == {f.name for f in fields(Settings)}
    assert set(SETTINGS_KEYS) == {*TIMELINE_SETTINGS, "legacy_digests"}


def test_hand_written_identifiers_that_cannot_be_right_are_shown_as_errors(case) -> None:
    path = case.root / "case.toml"
    path.write_text(
        path.read_text()
        + '\n[[people]]\nname = "X"\nrole = "suspect"\n'
        + 'identifiers = [{ type = "phone", value = "notaphone" }, '
        + '{ type = "email", value = "x at example" }]\n'
    )
    result = cli("case", "show", case.root)
    assert result.exit_code == 3
    assert "X: phone:notaphone" in result.stderr and "X: email:x at example" in result.stderr


# ------------------------------------------------------------------ identifiers


def test_add_id_adds_to_an_existing_person_and_is_logged(case) -> None:
    assert (
        cli("case", "person", "add", case.root, "--name", "Vic", "--role", "victim").exit_code == 0
    )
    path = case.root / "case.toml"
    path.write_text(path.read_text() + "# the officer's own note\n")
    result = cli(
        "case", "person", "add-id", case.root, "--name", "Vic",
        "--id", "phone:+44 7700 900123", "--id", "username:@vic_t@instagram",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "added 2 identifiers to Vic (2 in all)" in result.stdout
    assert "# the officer's own note" in path.read_text()
    assert _show(case.root)["people"][0]["identifiers"] == [
        {"type": "phone", "value": "+44 7700 900123", "platform": None},
        {"type": "username", "value": "@vic_t", "platform": "instagram"},
    ]
    event = log_events(case.root)[-1]
    assert event["event"] == "identifiers_added"
    assert event["details"]["name"] == "Vic" and len(event["details"]["identifiers"]) == 2
    again = cli(
        "case", "person", "add-id", case.root, "--name", "Vic", "--id", "email:v@example.org"
    )
    assert again.exit_code == 0
    assert len(_show(case.root)["people"][0]["identifiers"]) == 3


def test_add_id_to_a_hand_written_array_of_tables(case) -> None:
    path = case.root / "case.toml"
    path.write_text(
        path.read_text()
        + '\n[[people]]\nname = "Vic"\nrole = "victim"\n\n'
        + '[[people.identifiers]]\ntype = "email"\nvalue = "v@example.org"\n'
    )
    result = cli(
        "case", "person", "add-id", case.root, "--name", "Vic", "--id", "phone:07700900123"
    )
    assert result.exit_code == 0, result.output
    assert [i["value"] for i in _show(case.root)["people"][0]["identifiers"]] == [
        "v@example.org",
        "07700900123",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "Nobody", "--id", "phone:07700900999"], "'Nobody' is not a person"),
        (["--name", "vic", "--id", "phone:07700900999"], "did you mean 'Vic'?"),
        (["--name", "Vic", "--id", "phone:notaphone"], "'notaphone' is not a phone number"),
        (["--name", "Vic", "--id", "phone:0770"], "is not a possible phone number"),
        (["--name", "Vic", "--id", "email:vic at example"], "is not an e-mail address"),
        (["--name", "Vic", "--id", "username:two words@instagram"], "has a space in it"),
        (["--name", "Vic", "--id", "pager:123"], "TYPE one of phone, email, username"),
        (["--name", "Vic", "--id", "phone:+447700900456"], "already 'Sus''s"),
        (["--name", "Vic", "--id", "email:V@Example.org"], "already this person's"),
        (
            ["--name", "Vic", "--id", "phone:07700900111", "--id", "phone:+447700900111"],
            "given twice",
        ),
        (["--name", "Vic", "--id", "display_name:Vic@Not A Platform"], "platform"),
    ],
)
def test_add_id_refusals_change_nothing(case, args: list[str], message: str) -> None:
    for name, role, ident in (
        ("Vic", "victim", "email:v@example.org"),
        ("Sus", "suspect", "phone:07700 900456"),
    ):
        added = cli(
            "case", "person", "add", case.root, "--name", name, "--role", role, "--id", ident
        )
        assert added.exit_code == 0
    before = ((case.root / "case.toml").read_bytes(), (case.root / "custody.jsonl").read_bytes())
    result = cli("case", "person", "add-id", case.root, *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    after = ((case.root / "case.toml").read_bytes(), (case.root / "custody.jsonl").read_bytes())
    assert after == before


def test_person_add_validates_identifiers_and_names_the_add_id_command(case) -> None:
    bad = cli(
        "case",
        "person",
        "add",
        case.root,
        "--name",
        "X",
        "--role",
        "other",
        "--id",
        "phone:notaphone",
    )
    assert bad.exit_code == 2 and "not a phone number" in bad.stderr
    assert "people" not in tomllib.loads((case.root / "case.toml").read_text())
    assert cli("case", "person", "add", case.root, "--name", "X", "--role", "other").exit_code == 0
    twice = cli("case", "person", "add", case.root, "--name", "X", "--role", "other")
    assert twice.exit_code == 2
    assert "cyberstalk case person add-id" in twice.stderr  # the hint names a real command
    hinted = cli("case", "person", "add-id", case.root, "--name", "X", "--id", "account_id:123")
    assert hinted.exit_code == 0


@pytest.mark.parametrize(
    ("ident", "ok"),
    [
        (Identifier("phone", "07700 900123"), True),
        (Identifier("phone", "+1 415 555 2671"), True),
        (Identifier("phone", "(01248) 370 000"), True),
        (Identifier("phone", "notaphone"), False),
        (Identifier("phone", "123"), False),
        (Identifier("phone", "+44 7700 900123 45678"), False),
        (Identifier("email", "a.b+c@example.co.uk"), True),
        (Identifier("email", "Alex <alex@example.org>"), True),
        (Identifier("email", "alex@example"), False),
        (Identifier("email", "alex@@example.org"), False),
        (Identifier("email", "a@example.org, b@example.org"), False),
        (Identifier("username", "@alex_x", "instagram"), True),
        (Identifier("username", "@"), False),
        (Identifier("display_name", "Alex  X", "whatsapp"), True),
        (Identifier("display_name", "   "), False),
        (Identifier("account_id", "12345678"), True),
        (Identifier("account_id", "12 34"), False),
        (Identifier("username", "alex", "Insta Gram"), False),
    ],
)
def test_check_identifier(ident: Identifier, ok: bool) -> None:
    assert (check_identifier(ident) is None) is ok, check_identifier(ident)


# ------------------------------------------------------------------ settings


def test_case_set_writes_a_checked_value_the_timeline_reads(case) -> None:
    assert cli("case", "set", case.root, "night_start", "23:30").exit_code == 0
    assert cli("case", "set", case.root, "occasion_gap_hours", "4").exit_code == 0
    assert cli("case", "set", case.root, "legacy_digests", "true").exit_code == 0
    cfg = tomllib.loads((case.root / "case.toml").read_text())["settings"]
    assert cfg == {"legacy_digests": True, "night_start": "23:30", "occasion_gap_hours": 4.0}
    loaded = load_settings(cfg)
    assert loaded.night_start.strftime("%H:%M") == "23:30" and loaded.occasion_gap_hours == 4.0
    assert "# SHA-256 is the exhibits' digest" in (case.root / "case.toml").read_text()
    events = [e for e in log_events(case.root) if e["event"] == "setting_changed"]
    assert events[-1]["details"] == {"key": "legacy_digests", "old": False, "new": True}
    assert "setting   night_start = 23:30" in cli("case", "show", case.root).stdout
    for key, value, message in (
        ("night_start", "25:00", "must be a time"),
        ("occasion_gap_hours", "0", "positive number"),
        ("fixated_min_days", "two", "must be a number"),
        ("legacy_digests", "yes", "true or false"),
        ("colour", "red", "unknown setting 'colour'"),
    ):
        refused = cli("case", "set", case.root, key, value)
        assert refused.exit_code == 2 and message in refused.stderr, (key, refused.output)


# ------------------------------------------------------------------ ingest of the case itself


def test_ingest_refuses_the_case_itself_inside_it_or_holding_it(case, tmp_path: Path) -> None:
    write(case.root / "derived" / "x.txt", b"derived")
    link = tmp_path / "link-to-case"
    link.symlink_to(case.root)
    before = (case.root / "custody.jsonl").read_bytes()
    for path, why in (
        (case.root, "is the case folder itself"),
        (case.root / ".." / case.root.name, "is the case folder itself"),
        (link, "is the case folder itself"),
        (case.root / "derived", "is inside the case folder"),
        (case.root / "case.toml", "is inside the case folder"),
        (tmp_path, "contains the case folder"),
    ):
        result = cli("ingest", case.root, path, "--source", "victim")
        assert result.exit_code == 2, (path, result.output)
        assert why in result.stderr
    assert (case.root / "custody.jsonl").read_bytes() == before
    assert not os.listdir(case.root / "evidence")
    elsewhere = write(tmp_path / "submission" / "a.txt", b"evidence")
    assert cli("ingest", case.root, elsewhere, "--source", "victim").exit_code == 0


# ------------------------------------------------------------------ the property test

_NAMES = ["Vic Tim", "Sus Pect", "Wyn Jones", "Ann O'Neill", 'Dai "Bach" Evans', "Siân"]
_IDS = [
    "phone:07700 900{:03d}",
    "email:person{}@example.org",
    "username:user_{}@instagram",
    "display_name:Name {}@whatsapp",
    "account_id:{:06d}",
]

_step = st.one_of(
    st.tuples(
        st.just("person"),
        st.sampled_from(_NAMES),
        st.sampled_from(["victim", "suspect", "witness", "other"]),
        st.lists(st.sampled_from(range(len(_IDS))), max_size=3),
    ),
    st.tuples(st.just("add-id"), st.sampled_from(_NAMES), st.sampled_from(range(len(_IDS)))),
    st.tuples(st.just("order"), st.sampled_from(_NAMES), st.booleans()),
    st.tuples(
        st.just("set"), st.sampled_from(["night_start", "obsessive_daily", "legacy_digests"])
    ),
    st.tuples(st.just("comment"), st.sampled_from(["end", "top", "before-settings"])),
    st.tuples(st.just("hand-person"), st.sampled_from(_NAMES)),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(_step, min_size=1, max_size=9))
def test_random_case_commands_never_lose_an_entry(tmp_path_factory, steps) -> None:
    root = tmp_path_factory.mktemp("prop") / "case"
    init_case(root, reference="P/1", officer="DC P", initials="PR")
    toml = root / "case.toml"
    people: dict[str, set[str]] = {}  # name -> identifier values
    orders: list[str] = []
    wanted_settings: dict[str, object] = {"legacy_digests": False}
    comments: list[str] = []
    counter = iter(range(1, 10_000))

    for step in steps:
        kind = step[0]
        if kind == "person":
            _, name, role, id_kinds = step
            args = []
            values = set()
            for k in id_kinds:
                raw = _IDS[k].format(next(counter))
                args += ["--id", raw]
                values.add(raw.split(":", 1)[1].rsplit("@", 1)[0] if k not in (1,) else raw[6:])
            result = cli("case", "person", "add", root, "--name", name, "--role", role, *args)
            if name in people:
                assert result.exit_code == 2
            else:
                assert result.exit_code == 0, result.output
                people[name] = values
        elif kind == "add-id":
            _, name, k = step
            raw = _IDS[k].format(next(counter))
            result = cli("case", "person", "add-id", root, "--name", name, "--id", raw)
            if name in people:
                assert result.exit_code == 0, result.output
                people[name].add(raw.split(":", 1)[1].rsplit("@", 1)[0] if k != 1 else raw[6:])
            else:
                assert result.exit_code == 2
        elif kind == "order":
            _, subject, served = step
            extra = ["--served", "2026-03-01T09:30"] if served else []
            kind_name = f"SPO {len(orders)}"
            result = cli(
                "case", "order", "add", root, "--kind", kind_name, "--subject", subject, *extra
            )
            if people and subject not in people:
                assert result.exit_code == 2
            else:
                assert result.exit_code == 0, result.output
                orders.append(f"SPO {len(orders)}")
        elif kind == "set":
            key = step[1]
            value = {"night_start": "21:15", "obsessive_daily": "7", "legacy_digests": "true"}[key]
            assert cli("case", "set", root, key, value).exit_code == 0
            wanted_settings[key] = {"night_start": "21:15", "obsessive_daily": 7}.get(key, True)
        elif kind == "comment":
            note = f"# hand note {next(counter)}"
            text = toml.read_text()
            if step[1] == "end":
                text = text + note + "\n"
            elif step[1] == "top":
                text = note + "\n" + text
            else:
                text = text.replace("\n[settings]\n", f"\n{note}\n[settings]\n", 1)
            toml.write_text(text)
            comments.append(note)
        else:  # a person typed in by hand, as the template's comment shows
            name = step[1] + " (by hand)"
            if name in people:
                continue
            value = f"07700 91{next(counter):04d}"
            toml.write_text(
                toml.read_text()
                + f'\n[[people]]\nname = {json.dumps(name)}\nrole = "witness"\n'
                + f'identifiers = [{{ type = "phone", value = "{value}" }}]\n'
            )
            people[name] = {value}

        shown = _show(root)
        got = {p["name"]: {i["value"] for i in p["identifiers"]} for p in shown["people"]}
        assert got == people
        assert [o["kind"] for o in shown["orders"]] == orders
        assert shown["settings"] == wanted_settings
        text = toml.read_text()
        for note in comments:
            assert note in text


def test_spo_steps_are_kept_in_order_logged_and_refused_when_wrong(case) -> None:
    assert (
        cli("case", "person", "add", case.root, "--name", "Sus", "--role", "suspect").exit_code == 0
    )
    for status, day in (("considered", "2026-02-10"), ("applied", "2026-02-12")):
        done = cli(
            "case", "order", "spo", case.root, "--subject", "Sus", "--status", status,
            "--date", day, "--reason", f"{status} because",
        )  # fmt: skip
        assert done.exit_code == 0, done.output
    shown = _show(case.root)["spo"]
    assert [(x["status"], x["date"]) for x in shown] == [
        ("considered", "2026-02-10"),
        ("applied", "2026-02-12"),
    ]
    logged = [e for e in log_events(case.root) if e["event"] == "spo_recorded"]
    assert [e["details"]["status"] for e in logged] == ["considered", "applied"]
    before = (case.root / "case.toml").read_bytes()
    for args, message in (
        (["--subject", "Nobody", "--status", "granted"], "'Nobody' is not a person"),
        (["--subject", "Sus", "--status", "maybe"], "must be one of considered, applied"),
    ):
        refused = cli(
            "case", "order", "spo", case.root, *args, "--date", "2026-03-01", "--reason", "r"
        )
        assert refused.exit_code == 2 and message in refused.stderr
    no_reason = cli(
        "case", "order", "spo", case.root, "--subject", "Sus", "--status", "granted",
        "--date", "2026-03-01", "--reason", " ",
    )  # fmt: skip
    assert no_reason.exit_code == 2 and "needs its reasons" in no_reason.stderr
    assert (case.root / "case.toml").read_bytes() == before
