"""`cyberstalk capture` without the browser: WARC, custody, limits, refusals, records."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from cyberstalk.capture import fetch
from cyberstalk.capture.errors import CaptureError
from cyberstalk.capture.fetch import Fetcher, Limits, address_problem
from cyberstalk.case import Case

from .conftest import capture, cli, events, manifest, members
from .site import GENERIC, POST_TEXT, X_TIME, Site


def warc_records(path: Path) -> list[dict[str, Any]]:
    out = []
    with path.open("rb") as fh:
        it = ArchiveIterator(fh)
        for record in it:
            out.append(
                {
                    "type": record.rec_type,
                    "uri": record.rec_headers.get_header("WARC-Target-URI"),
                    "ip": record.rec_headers.get_header("WARC-IP-Address"),
                    "status": record.http_headers.get_statuscode()
                    if record.http_headers and record.rec_type == "response"
                    else None,
                    "headers": record.http_headers,
                    "raw": record.raw_stream.read(),
                    "offset": it.get_record_offset(),
                }
            )
    return out


def stored(root: Path, entry: dict[str, Any]) -> Path:
    return root / entry["stored_as"]


def test_capture_is_one_exhibit_with_sub_exhibits_and_verifies(case: Case, site: Site) -> None:
    root = case.root
    r = capture(root, f"{site.http}/r1", "--no-browser", "--allow-private", "--reason", "threat")
    assert r.exit_code == 0, r.output
    top = [e for e in manifest(root)["exhibits"] if not e.get("parent")]
    assert [e["ref"] for e in top] == ["RE/1"]
    parts = members(root, "RE/1")
    assert {n: e["ref"] for n, e in parts.items()} == {
        "capture.json": "RE/1/1",
        "page.warc.gz": "RE/1/2",
    }
    # every hop of the redirect chain is in the WARC, each response with its request
    recs = warc_records(stored(root, parts["page.warc.gz"]))
    responses = [x for x in recs if x["type"] == "response"]
    assert [(x["uri"], x["status"]) for x in responses] == [
        (f"{site.http}/r1", "302"),
        (f"{site.http}/r2", "301"),
        (f"{site.http}/post", "200"),
    ]
    assert [x["type"] for x in recs].count("request") == 3
    assert responses[-1]["raw"] == GENERIC
    assert all(x["ip"] == "127.0.0.1" for x in responses)
    record = json.loads(stored(root, parts["capture.json"]).read_bytes())
    assert record["requested_url"] == f"{site.http}/r1"
    assert record["final_url"] == f"{site.http}/post"
    assert record["status"] == 200
    assert record["reason"] == "threat"
    assert record["resolved_addresses"][f"{site.http}/post"] == ["127.0.0.1"]
    assert record["clock"]["sync"]["synchronised"] in (True, False, "unknown")
    assert record["tool"].startswith("cyberstalk ")
    assert record["started_utc"].endswith("Z")
    warc_bytes = stored(root, parts["page.warc.gz"]).read_bytes()
    assert record["files"]["page.warc.gz"]["sha256"] == hashlib.sha256(warc_bytes).hexdigest()
    # the custody log records each part like any exhibit
    received = [e["details"]["ref"] for e in events(root) if e["event"] == "exhibit_received"]
    assert received == ["RE/1", "RE/1/1", "RE/1/2"]
    assert cli("verify", root).exit_code == 0
    # a changed byte in a stored part is caught by verify, as for any exhibit
    target = stored(root, parts["page.warc.gz"])
    target.chmod(0o644)
    target.write_bytes(warc_bytes[:-1] + bytes([warc_bytes[-1] ^ 1]))
    assert cli("verify", root).exit_code == 1


def test_post_record_points_into_the_warc_and_shows_in_the_timeline(case: Case, site: Site) -> None:
    root = case.root
    assert capture(root, f"{site.http}/post", "--no-browser", "--allow-private").exit_code == 0
    lines = (root / "derived/records/RE-1-2.jsonl").read_text().splitlines()
    (rec,) = [json.loads(line) for line in lines]
    assert rec["text"] == POST_TEXT
    assert rec["sender"] == "dylan.p_example"
    assert rec["time_utc"] == "2026-03-01T21:14:00+00:00"
    assert rec["extra"]["time_basis"] == "JSON-LD datePublished"
    loc = rec["locator"]
    assert loc["exhibit"] == "RE/1/2" and loc["path"] == "page.warc.gz"
    warc = stored(root, members(root, "RE/1")["page.warc.gz"])
    with warc.open("rb") as fh:
        fh.seek(loc["byte_start"])
        (first,) = [next(iter(ArchiveIterator(fh)))]
        assert first.rec_type == "response"
        assert first.raw_stream.read() == GENERIC
    out = root / "reports/t.json"
    r = cli("timeline", root, "--format", "json", "-o", out)
    assert r.exit_code == 0, r.output
    assert POST_TEXT in out.read_text()
    # derived/ is rebuilt from the evidence: the post record comes back, byte for byte
    written = (root / "derived/records/RE-1-2.jsonl").read_bytes()
    shutil.rmtree(root / "derived")
    assert cli("process", root).exit_code == 0
    assert (root / "derived/records/RE-1-2.jsonl").read_bytes() == written


def test_x_and_instagram_public_markup(case: Case, site: Site) -> None:
    root = case.root
    r = capture(
        root,
        f"{site.http}/x",
        f"{site.http}/instagram",
        f"{site.http}/naive",
        "--no-browser",
        "--allow-private",
    )
    assert r.exit_code == 0, r.output
    x, insta, naive = (
        json.loads((root / f"derived/records/RE-{n}-2.jsonl").read_text()) for n in (1, 2, 3)
    )
    assert (x["platform"], x["sender"], x["text"]) == (
        "x",
        "@dylan_p_example",
        "saw you at the station",
    )
    assert x["time_utc"] == X_TIME.isoformat(timespec="milliseconds").replace(".000", "") or (
        x["time_utc"].startswith(X_TIME.strftime("%Y-%m-%dT%H:%M:%S"))
    )
    assert x["tz_basis"] == "epoch" and "Snowflake" in x["extra"]["time_basis"]
    assert (insta["platform"], insta["sender"], insta["text"]) == (
        "instagram",
        "d.price.new_example",
        "nice coat today",
    )
    # a date the page gives with no time or zone is not guessed: no UTC time, flagged
    assert insta["time_utc"] is None and insta["time_raw"] == "March 2, 2026"
    assert "time_without_offset" in insta["flags"]
    assert naive["time_utc"] is None and naive["time_raw"] == "2026-03-03T08:00:00"
    assert "time_without_offset" in naive["flags"]
    # records without a time still reach the timeline, with the page's own wording
    out = root / "reports/t.csv"
    assert cli("timeline", root, "--format", "csv", "-o", out).exit_code == 0
    assert "nice coat today" in out.read_text() and "saw you at the station" in out.read_text()


def test_hostile_markup_is_kept_as_text_and_fetches_nothing(case: Case, site: Site) -> None:
    root = case.root
    before = dict(site.hits)
    assert capture(root, f"{site.http}/hostile", "--no-browser", "--allow-private").exit_code == 0
    rec = json.loads((root / "derived/records/RE-1-2.jsonl").read_text())
    assert rec["text"] == "<img src=x onerror=alert(1)> hello"
    assert rec["time_utc"] == "2026-03-04T10:00:00+00:00"
    hits = {k: v - before.get(k, 0) for k, v in site.hits.items() if v != before.get(k, 0)}
    assert hits == {"/hostile": 1}
    out = root / "reports/t.html"
    assert cli("timeline", root, "--format", "html", "-o", out).exit_code == 0
    html = out.read_text()
    assert "<img src=x onerror" not in html and "&lt;img src=x onerror" in html


def test_page_that_changes_between_captures_gives_two_exhibits(case: Case, site: Site) -> None:
    root = case.root
    url = f"{site.http}/changing"
    assert capture(root, url, "--no-browser", "--allow-private").exit_code == 0
    assert capture(root, url, "--no-browser", "--allow-private").exit_code == 0
    texts = [
        json.loads((root / f"derived/records/RE-{n}-2.jsonl").read_text())["text"] for n in (1, 2)
    ]
    assert texts[0] != texts[1] and all(t.startswith("version ") for t in texts)
    shas = [members(root, f"RE/{n}")["page.warc.gz"]["digests"]["sha256"] for n in (1, 2)]
    assert shas[0] != shas[1]
    assert cli("verify", root).exit_code == 0


def test_gzip_body_is_stored_as_received(case: Case, site: Site) -> None:
    root = case.root
    assert capture(root, f"{site.http}/gzip", "--no-browser", "--allow-private").exit_code == 0
    recs = warc_records(stored(root, members(root, "RE/1")["page.warc.gz"]))
    (resp,) = [x for x in recs if x["type"] == "response"]
    assert resp["raw"] != GENERIC and gzip.decompress(resp["raw"]) == GENERIC
    rec = json.loads((root / "derived/records/RE-1-2.jsonl").read_text())
    assert rec["text"] == POST_TEXT


def test_https_chain_fingerprints_and_untrusted_certificate(case: Case, site: Site) -> None:
    root = case.root
    url = f"{site.https}/post"
    r = capture(root, url, "--no-browser", "--allow-private")
    assert r.exit_code == 3 and "tls:" in r.output
    assert not (root / "manifest.json").exists() or not manifest(root)["exhibits"]
    r = capture(root, url, "--no-browser", "--allow-private", "--ca-bundle", site.ca_pem)
    assert r.exit_code == 0, r.output
    record = json.loads(stored(root, members(root, "RE/1")["capture.json"]).read_bytes())
    leaf = hashlib.sha256(site.leaf_der).hexdigest()
    ca = hashlib.sha256(site.ca_der).hexdigest()
    assert record["tls_chain_sha256"][0] == leaf
    if record["tls_chain_basis"] == "verified":
        assert record["tls_chain_sha256"] == [leaf, ca]
    # the Host header and the certificate check used the name; the connection its address
    resp = [x for x in warc_records(stored(root, members(root, "RE/1")["page.warc.gz"]))]
    request = next(x for x in resp if x["type"] == "request")
    assert request["headers"].get_header("Host") == site.https.split("//")[1]
    assert request["ip"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("path", "extra", "step"),
    [
        ("/slow", ("--timeout", "1"), "time limit"),
        ("/big", ("--max-bytes", "1048576"), "size limit"),
        ("/declared-big", (), "size limit"),
        ("/loop", ("--max-redirects", "3"), "redirect limit"),
    ],
)
def test_failure_names_the_step_and_stores_nothing(
    case: Case, site: Site, path: str, extra: tuple[str, ...], step: str
) -> None:
    root = case.root
    log_before = (root / "custody.jsonl").read_bytes()
    r = capture(root, f"{site.http}{path}", "--no-browser", "--allow-private", *extra)
    assert r.exit_code == 3
    assert f"{step}:" in r.output
    assert (root / "custody.jsonl").read_bytes() == log_before
    assert not [p for p in (root / "evidence").rglob("*") if p.is_file()]


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_loopback_is_refused_without_allow_private(case: Case, site: Site, host: str) -> None:
    root = case.root
    port = site.http.rsplit(":", 1)[1]
    log_before = (root / "custody.jsonl").read_bytes()
    hits_before = site.hits.get("/post", 0)
    r = capture(root, f"http://{host}:{port}/post", "--no-browser")
    assert r.exit_code == 3
    assert "address check:" in r.output and "loopback" in r.output
    assert (root / "custody.jsonl").read_bytes() == log_before
    assert site.hits.get("/post", 0) == hits_before  # refused before connecting


def test_one_failed_url_does_not_stop_the_others(case: Case, site: Site) -> None:
    root = case.root
    r = capture(
        root,
        f"{site.http}/post",
        f"{site.http}/loop",
        "--no-browser",
        "--allow-private",
        "--max-redirects",
        "2",
    )
    assert r.exit_code == 3
    assert [e["ref"] for e in manifest(root)["exhibits"] if not e.get("parent")] == ["RE/1"]
    assert len(members(root, "RE/1")) == 2


@pytest.mark.parametrize(
    ("ip", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "not globally routable"),
    ],
)
def test_address_problems(ip: str, kind: str) -> None:
    assert address_problem(ip) == kind


def test_public_addresses_pass() -> None:
    assert address_problem("93.184.216.34") is None
    assert address_problem("2606:4700::1111") is None


def _fake_dns(
    monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[list[str]]]
) -> dict[str, int]:
    """Host names resolve to the next answer in ``answers[host]`` on each lookup."""
    calls: dict[str, int] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in answers:
            n = calls.get(host, 0)
            calls[host] = n + 1
            ips = answers[host][min(n, len(answers[host]) - 1)]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ips]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(fetch.socket, "getaddrinfo", getaddrinfo)
    return calls


def test_redirect_hops_are_checked_too(monkeypatch: pytest.MonkeyPatch, site: Site) -> None:
    """A public first hop that redirects to a private address is refused at that hop,
    before anything connects to it."""
    port = site.http.rsplit(":", 1)[1]
    _fake_dns(monkeypatch, {"public.test": [["127.0.0.1"]], "inside.test": [["10.0.0.7"]]})
    real = fetch.address_problem
    monkeypatch.setattr(
        fetch, "address_problem", lambda ip: None if ip == "127.0.0.1" else real(ip)
    )
    fetcher = Fetcher(Limits(timeout=5), allow_private=False, user_agent="test")
    assert fetcher.fetch(f"http://public.test:{port}/post")[-1].status == 200
    with pytest.raises(CaptureError) as info:
        fetcher.fetch(f"http://public.test:{port}/to-inside")
    assert info.value.step == "address check"
    assert "inside.test resolves to 10.0.0.7, a private address" in info.value.message


def test_connects_to_the_checked_address_not_a_second_lookup(
    monkeypatch: pytest.MonkeyPatch, site: Site
) -> None:
    """DNS rebinding: the name answers 127.0.0.1 when checked, then an unreachable address;
    the request must go to the address that was checked, with one lookup per hop."""
    port = site.http.rsplit(":", 1)[1]
    calls = _fake_dns(monkeypatch, {"rebind.test": [["127.0.0.1"], ["192.0.2.1"]]})
    fetcher = Fetcher(Limits(timeout=5), allow_private=True, user_agent="test")
    (hop,) = fetcher.fetch(f"http://rebind.test:{port}/post")
    assert hop.status == 200 and hop.ip == "127.0.0.1"
    assert calls["rebind.test"] == 1
    assert ("Host", f"rebind.test:{port}") in hop.request_headers


def test_timestamp_at_once(case: Case, site: Site, local_tsa: Any, tmp_path: Path) -> None:
    root = case.root
    pem = tmp_path / "tsa-root.pem"
    pem.write_bytes(local_tsa.root_pem)
    r = capture(
        root,
        f"{site.http}/post",
        "--no-browser",
        "--allow-private",
        "--tsa",
        local_tsa.url,
        "--tsa-root",
        pem,
    )
    assert r.exit_code == 0, r.output
    assert list((root / "timestamps").glob("*.tsr"))
    assert [e for e in events(root) if e["event"] == "timestamp"]
    assert cli("verify", root).exit_code == 0


def test_command_defaults_mirror_the_library() -> None:
    from cyberstalk.commands import capture as command

    assert command.DEFAULT_TIMEOUT == fetch.DEFAULT_TIMEOUT == 30.0
    assert command.DEFAULT_MAX_BYTES == fetch.DEFAULT_MAX_BYTES == 50 << 20
    assert command.DEFAULT_MAX_REDIRECTS == fetch.DEFAULT_MAX_REDIRECTS == 10
