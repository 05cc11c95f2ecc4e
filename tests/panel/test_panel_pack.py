"""`cyberstalk panel` on the demo story: nobody from case.toml in a default pack, in any
format; no message text unless asked for; escaped; deterministic; recorded in custody."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import phonenumbers
import pytest
from typer.testing import CliRunner

from cyberstalk.case import open_case
from cyberstalk.cli import app
from cyberstalk.hashing.custody import check_chain, events, read_lines
from cyberstalk.reports.common import CSP
from cyberstalk.timeline import analyse

from .conftest import PanelCase

runner = CliRunner()


def panel(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["panel", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def phone_forms(value: str) -> list[str]:
    number = phonenumbers.parse(value, "GB")
    cc, nsn = str(number.country_code), phonenumbers.national_significant_number(number)
    return [
        f"+{cc}{nsn}",
        f"{cc}{nsn}",
        f"00{cc}{nsn}",
        f"0{nsn}",
        f"0{nsn[:4]} {nsn[4:]}",
        f"+{cc} {nsn[:4]} {nsn[4:]}",
        nsn,
    ]


def identifiers(root: Path) -> tuple[list[str], list[str]]:
    """(every string that would identify someone in case.toml, the national numbers)."""
    out: list[str] = []
    numbers: list[str] = []
    for person in open_case(root).config.people:
        out += [person.name, *person.name.split()]
        for address in person.addresses:
            out += [address, address.split(",")[0], address.rsplit(" ", 2)[-2:][0] + " 1AA"]
        for ident in person.identifiers:
            if ident.type == "phone":
                out += phone_forms(ident.value)
                numbers.append(phone_forms(ident.value)[-1])
            else:
                out.append(ident.value)
    return out, numbers


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def assert_nobody_in(text: str, root: Path, what: str) -> None:
    found, numbers = identifiers(root)
    flat = re.sub(r"\s+", " ", unescape(text)).casefold()
    for value in found:
        assert value.casefold() not in flat, f"{value!r} is in the {what}"
    # digits however grouped (a PDF can break a line anywhere a space was)
    joined = re.sub(r"(?<=\d)[\s().\-/]+(?=\d)", "", flat)
    for nsn in numbers:
        assert nsn not in joined, f"phone number {nsn} is in the {what}"


def panel_events(root: Path) -> list[dict]:  # type: ignore[type-arg]
    return [
        e
        for e in events(read_lines(root / "custody.jsonl"))
        if e["event"] == "report_made" and e["details"].get("report") == "panel"
    ]


def test_default_html_and_json_packs_name_nobody(panel_case: PanelCase) -> None:
    root = panel_case.root
    for fmt in ("html", "json"):
        code, _, errtext = panel(root, "-f", fmt, "-o", root / "reports" / f"pack.{fmt}")
        assert code == 0, errtext
        text = (root / "reports" / f"pack.{fmt}").read_text("utf-8")
        assert_nobody_in(text, root, f"default {fmt} pack")
        # ...while the pack still says what it is about
        assert "Victim A" in text and "Person B" in text
        assert "[phone 2 of Person B]" in text  # the new number, first used after the block
    data = json.loads((root / "reports" / "pack.json").read_text("utf-8"))
    assert data["role"] == "panel" and data["revealed"] == []


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_default_pdf_pack_names_nobody_and_is_a4(panel_case: PanelCase) -> None:
    root = panel_case.root
    out = root / "reports" / "pack.pdf"
    code, _, errtext = panel(root, "-f", "pdf", "-o", out)
    assert code == 0, errtext
    text = pdf_text(out)
    assert "Multi-agency stalking panel pack" in text and "Person B" in text
    assert_nobody_in(text, root, "default PDF pack")
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True)
    assert "595.276 x 841.89" in info.stdout  # A4
    # the same case gives the same PDF bytes
    again = root / "reports" / "again.pdf"
    assert panel(root, "-f", "pdf", "-o", again)[0] == 0
    assert out.read_bytes() == again.read_bytes()


def test_no_message_text_unless_asked_and_then_masked_and_escaped(panel_case: PanelCase) -> None:
    root = panel_case.root
    a = analyse(open_case(root))
    entries = [e for e in a.entries if e.record.text and len(e.record.text.split()) >= 4]
    assert len(entries) > 20
    lexicon_entries = {m.entry.casefold() for m in a.matches}
    assert panel(root, "-o", root / "plain.html")[0] == 0
    plain = unescape((root / "plain.html").read_text("utf-8")).casefold()
    for e in entries:
        body = e.record.text.casefold()
        if body not in lexicon_entries:
            assert body not in plain, e.id
    # asked for: the officer's chosen record, and only it, masked and escaped
    chosen = next(e for e in entries if e.id != panel_case.hostile)
    code, _, errtext = panel(
        root,
        "-o",
        root / "chosen.html",
        "--include-text",
        panel_case.hostile,
        "--include-text",
        chosen.id,
    )
    assert code == 0, errtext
    html = (root / "chosen.html").read_text("utf-8")
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert (
        "I know Victim A lives at [address 1 of Victim A]. Ring [phone 1 of Victim A] or mail "
        "[email 1 of Victim A]" in html
    )
    assert unescape(html).count(chosen.record.text.replace("Carys", "Victim A")) >= 1
    # the hostile conversation title and attachment name: escaped and masked
    assert "&lt;script&gt;x&lt;/script&gt; chat with Victim A ([phone 1 of Victim A])" in html
    assert "Victim A_&lt;img src=x onerror=y&gt;.jpg" in html
    others = [e for e in entries if e.id not in (chosen.id, panel_case.hostile)]
    for e in others:
        body = e.record.text.casefold()
        if body not in lexicon_entries and body not in chosen.record.text.casefold():
            assert body not in unescape(html).casefold(), e.id
    assert_nobody_in(html, root, "pack with included text")


def test_html_is_self_contained_printable_and_every_reference_resolves(
    panel_case: PanelCase,
) -> None:
    root = panel_case.root
    assert panel(root)[0] == 0
    path = root / "reports" / "panel-pack-panel.html"
    html = path.read_text("utf-8")
    metas = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    assert [unescape(m) for m in metas] == [CSP]
    assert "@page { size: A4" in html
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b", html, re.I)
    assert not re.search(r"\b(src|href)\s*=\s*[\"']?(https?:|//)", html, re.I)
    targets = set(re.findall(r'href="#([^"]+)"', html))
    anchors = set(re.findall(r'id="([^"]+)"', html))
    assert targets and targets <= anchors
    # the chart is inline SVG with masked, escaped platform labels
    svg = html[html.index("<svg") : html.index("</svg>")]
    for platform in ("whatsapp", "instagram", "telegram", "sms"):
        assert f">{platform}</text>" in svg
    assert "Stalking Protection Order served" in svg


def test_pack_content_matches_the_timeline_analysis(panel_case: PanelCase) -> None:
    root = panel_case.root
    out = root / "pack.json"
    assert panel(root, "-f", "json", "-o", out, "--period", "month")[0] == 0
    p = json.loads(out.read_text("utf-8"))
    a = analyse(open_case(root))
    (ps,) = a.summary.persons
    (s,) = p["summary"]
    assert (s["person"], s["contacts"], s["occasions"]) == ("Person B", ps.contacts, ps.occasions)
    (group,) = p["indicators"]
    assert [i["id"] for i in group["four"]] == ["fixated", "obsessive", "unwanted", "repeated"]
    raised = {i.id: i for i in a.indicators}
    for item in group["four"] + group["s2a3"] + group["other"]:
        assert item["raised"] == (item["id"] in raised)
        if item["raised"]:
            assert item["records"] == list(raised[item["id"]].records)
            assert item["status"] == "possible: for the panel's consideration"
    (breach,) = p["breaches"]
    assert breach["records"] == list(a.breaches[0].records) and breach["records"]
    assert breach["status"].startswith("Possible breach")
    assert [b["block_record"] for b in p["after_block"]] == [b.block_record for b in a.after_block]
    esc = p["escalation"]
    assert esc["period"] == "month"
    assert [b["period"] for b in esc["buckets"]] == ["2026-01", "2026-02", "2026-03"]
    assert sum(b["total"] for b in esc["buckets"]) == ps.contacts
    for b in esc["buckets"]:
        assert sum(b["by_platform"].values()) == b["total"] == len(b["records"])
    assert {pl["platform"]: pl["contacts"] for pl in p["platforms"]} == dict(ps.channels)
    # every record id the pack cites is in its record index, in chronology order
    index = [r["id"] for r in p["records"]]
    order = {e.id: n for n, e in enumerate(a.entries)}
    assert index == sorted(index, key=order.__getitem__)
    cited = {rid for item in group["four"] + group["s2a3"] for rid in item["records"]}
    cited |= {rid for o in p["occasions"] for rid in o["records"]}
    assert cited <= set(index)
    assert all(r["text"] == "not included" for r in p["records"])


def test_packs_are_byte_identical_and_recorded_in_custody(
    panel_case: PanelCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = panel_case.root
    for fmt in ("html", "json"):
        assert panel(root, "-f", fmt, "-o", root / f"a.{fmt}")[0] == 0
        assert panel(root, "-f", fmt, "-o", root / f"b.{fmt}")[0] == 0
        assert (root / f"a.{fmt}").read_bytes() == (root / f"b.{fmt}").read_bytes()
    monkeypatch.delenv("SOURCE_DATE_EPOCH")  # then the time comes from the custody log
    assert panel(root, "-o", root / "c.html")[0] == 0
    assert panel(root, "-o", root / "d.html")[0] == 0
    assert (root / "c.html").read_bytes() == (root / "d.html").read_bytes()
    evs = panel_events(root)
    assert len(evs) == 6
    last = evs[-1]["details"]
    assert last["sha256"] == hashlib.sha256((root / "d.html").read_bytes()).hexdigest()
    assert last["path"] == "d.html" and last["role"] == "panel" and last["revealed"] == []
    red = last["redaction"]
    assert red["counts"]["phone"] >= 1 and red["counts"]["name"] >= 1
    assert red["pseudonyms"] == {"Victim A": "Carys Hughes", "Person B": "Dylan Price"}
    assert red["masks"]["[phone 2 of Person B]"] == "people[1].identifiers[1]"
    # the event names masks by their place in case.toml, never the identifiers themselves
    raw = json.dumps(evs, ensure_ascii=False).casefold()
    for value in ("7700900", "7700 900", "@example", "_example"):
        assert value not in raw
    assert check_chain(read_lines(root / "custody.jsonl")) == []


def test_roles_reveals_and_masks(panel_case: PanelCase) -> None:
    root = panel_case.root
    code, out, _ = panel(root, "--role", "probation", "-o", root / "prob.html", "--json")
    assert code == 0
    assert json.loads(out)["revealed"] == ["suspect-name"]
    assert "pseudonyms" not in json.loads(out)["redaction"]  # who Victim A is stays internal
    html = unescape((root / "prob.html").read_text("utf-8"))
    assert "Dylan Price" in html and "Victim A" in html
    assert "Carys" not in html and "7700" not in html
    code, out, _ = panel(
        root, "--role", "police", "--mask", "victim-name", "--reveal", "victim-phone",
        "-f", "json", "-o", root / "police.json", "--json",
    )  # fmt: skip
    assert code == 0
    text = (root / "police.json").read_text("utf-8")
    assert "Victim A" in text and "Carys Hughes" not in text
    assert "07700 900123" in text  # the victim's number, as case.toml writes it
    assert "dylan.p_example" in text  # police see the suspect's identifiers
    assert "[address 1 of Victim A]" in text or "Ffordd" not in text
    (ev,) = [e for e in panel_events(root) if e["details"]["role"] == "police"]
    assert ev["details"]["reveal"] == ["victim-phone"] and ev["details"]["mask"] == ["victim-name"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--reveal", "suspect-shoe-size"], "is not a field to reveal"),
        (["--role", "press"], "--role 'press' is not one of"),
        (["--include-text", "r-0000000000000000"], "no record with that id"),
        (["--format", "docx"], "--format 'docx'"),
        (["--period", "day"], "--period 'day'"),
    ],
)
def test_usage_errors_exit_2_and_write_nothing(
    panel_case: PanelCase, args: list[str], message: str
) -> None:
    root = panel_case.root
    out = root / "never.html"
    code, _, errtext = panel(root, "-o", out, *args)
    assert code == 2, errtext
    assert message in errtext
    assert not out.exists() and panel_events(root) == []
