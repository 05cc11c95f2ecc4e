"""RFC 3161 timestamps against a real TSA on 127.0.0.1 (openssl ts -reply, or asn1crypto)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import socket
import subprocess
import time
from pathlib import Path

import pytest
from asn1crypto import tsp
from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st
from rfc3161_client import HashAlgorithm, TimestampRequestBuilder, decode_timestamp_response

from cyberstalk.errors import TimestampError
from cyberstalk.hashing.timestamps import (
    TsaSpec,
    check_stored_tokens,
    request_token,
    verify_stored_tokens,
    verify_token,
)
from helpers.cases import cli, events, ingest
from helpers.tsa import build_reply_asn1, make_identity, write_root


def openssl_verify(root: Path, stem: str, ca: Path | None = None) -> subprocess.CompletedProcess:
    ts = root / "timestamps"
    return subprocess.run(
        [
            "openssl",
            "ts",
            "-verify",
            "-queryfile",
            ts / f"{stem}.tsq",
            "-in",
            ts / f"{stem}.tsr",
            "-CAfile",
            ca or ts / f"{stem}.root.pem",
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def stamp(root: Path, tsa, tmp_path: Path, *extra: str):
    pem = write_root(tsa, tmp_path / f"root-{id(tsa)}.pem")
    return cli("timestamp", root, "--tsa", tsa.url, "--tsa-root", pem, *extra)


# ------------------------------------------------------------------ the happy path


def test_timestamp_stores_verified_token_that_openssl_accepts(case_root, local_tsa, tmp_path):
    manifest = (case_root / "manifest.json").read_bytes()
    r = stamp(case_root, local_tsa, tmp_path, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["manifest_sha256"] == hashlib.sha256(manifest).hexdigest()
    [token] = out["tokens"]
    stem = Path(token["files"]["tsr"]).name.removesuffix(".tsr")
    assert stem.startswith("0001-127.0.0.1-")

    # What went over the wire: a timestamp-query with the SHA-256 of manifest.json and a nonce.
    assert local_tsa.content_types == ["application/timestamp-query"]
    req = tsp.TimeStampReq.load(local_tsa.requests[0])
    assert req["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    assert req["message_imprint"]["hashed_message"].native == hashlib.sha256(manifest).digest()
    assert req["nonce"].native is not None and req["cert_req"].native is True

    # Stored files are what the custody event says, byte for byte.
    [ev] = events(case_root, "timestamp")
    for role in ("tsq", "tsr", "roots", "manifest"):
        f = ev["details"]["files"][role]
        assert hashlib.sha256((case_root / f["path"]).read_bytes()).hexdigest() == f["sha256"]
    assert (case_root / ev["details"]["files"]["tsq"]["path"]).read_bytes() == local_tsa.requests[0]
    assert (case_root / ev["details"]["files"]["manifest"]["path"]).read_bytes() == manifest
    assert ev["details"]["manifest_sha256"] == out["manifest_sha256"]

    # Stock OpenSSL agrees, against the query and against the manifest itself.
    v = openssl_verify(case_root, stem)
    assert v.returncode == 0 and "Verification: OK" in v.stdout, v.stderr
    d = subprocess.run(
        [
            "openssl",
            "ts",
            "-verify",
            "-data",
            case_root / "manifest.json",
            "-in",
            case_root / "timestamps" / f"{stem}.tsr",
            "-CAfile",
            case_root / "timestamps" / f"{stem}.root.pem",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert d.returncode == 0, d.stderr

    assert verify_stored_tokens(case_root, manifest) == []
    v = cli("verify", case_root)
    assert v.exit_code == 0, v.output
    assert "1 timestamp tokens" in v.output


def test_two_tsas_one_run_and_a_second_run(case_root, tsa_factory, tmp_path):
    a = tsa_factory()
    b = tsa_factory(backend="asn1")
    ra = write_root(a, tmp_path / "a.pem")
    rb = write_root(b, tmp_path / "b.pem")
    r = cli(
        "timestamp", case_root, "--tsa", a.url, "--tsa", b.url, "--tsa-root", ra, "--tsa-root", rb
    )
    assert r.exit_code == 0, r.output
    r = cli("timestamp", case_root, "--tsa", b.url, "--tsa-root", rb)
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in (case_root / "timestamps").iterdir())
    assert sum(n.endswith(".tsr") for n in names) == 3
    assert "0001.manifest.json" in names and "0002.manifest.json" in names
    assert [n for n in names if n.endswith(".tsr")][2].startswith("0002-")
    for n in names:
        if n.endswith(".tsr"):
            assert openssl_verify(case_root, n.removesuffix(".tsr")).returncode == 0
    check = check_stored_tokens(case_root, (case_root / "manifest.json").read_bytes())
    assert check.problems == [] and len(check.current) == 3


def test_config_in_case_toml_with_relative_root(case_root, local_tsa):
    write_root(local_tsa, case_root / "tsa-root.pem")
    with (case_root / "case.toml").open("a") as f:
        f.write(f'\n[timestamps]\ntsa = [{{ url = "{local_tsa.url}", root = "tsa-root.pem" }}]\n')
    r = cli("timestamp", case_root)
    assert r.exit_code == 0, r.output
    assert len(events(case_root, "timestamp")) == 1


def test_user_config_used_when_case_has_none(case_root, local_tsa, tmp_path, monkeypatch):
    xdg = tmp_path / "xdg"
    (xdg / "cyberstalk").mkdir(parents=True)
    write_root(local_tsa, xdg / "cyberstalk" / "root.pem")
    (xdg / "cyberstalk" / "config.toml").write_text(
        f'[timestamps]\ntsa = [{{ url = "{local_tsa.url}", root = ["root.pem"] }}]\n'
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    r = cli("timestamp", case_root)
    assert r.exit_code == 0, r.output


# ------------------------------------------------------------------ after the timestamp


def test_tampered_manifest_is_reported(case_root, local_tsa, tmp_path):
    assert stamp(case_root, local_tsa, tmp_path).exit_code == 0
    m = json.loads((case_root / "manifest.json").read_bytes())
    m["exhibits"][0]["digests"]["sha256"] = "0" * 64
    tampered = json.dumps(m, indent=2, sort_keys=True).encode() + b"\n"
    problems = verify_stored_tokens(case_root, tampered)
    assert any("manifest changed after its timestamp" in p for p in problems), problems
    assert any("exhibit RE/1 changed (digests)" in p for p in problems), problems
    (case_root / "manifest.json").write_bytes(tampered)
    v = cli("verify", case_root)
    assert v.exit_code == 1
    assert "manifest changed after its timestamp" in v.output


def test_ingest_after_timestamp_then_retimestamp(case_root, local_tsa, tmp_path):
    assert stamp(case_root, local_tsa, tmp_path).exit_code == 0
    ingest(case_root, tmp_path / "more", {"later.txt": b"a later message"})
    manifest = (case_root / "manifest.json").read_bytes()
    problems = verify_stored_tokens(case_root, manifest)
    assert len(problems) == 1
    assert "manifest changed after its timestamp" in problems[0]
    assert "exhibits added since: RE/2" in problems[0]
    assert stamp(case_root, local_tsa, tmp_path).exit_code == 0
    check = check_stored_tokens(case_root, manifest)
    assert check.problems == []
    assert len(check.tokens) == 2 and len(check.current) == 1


def test_changed_or_unrecorded_token_files_are_reported(case_root, local_tsa, tmp_path):
    assert stamp(case_root, local_tsa, tmp_path).exit_code == 0
    manifest = (case_root / "manifest.json").read_bytes()
    [tsr] = (case_root / "timestamps").glob("*.tsr")
    tsr.chmod(0o644)
    data = bytearray(tsr.read_bytes())
    data[-1] ^= 1
    tsr.write_bytes(bytes(data))
    (case_root / "timestamps" / "0099-stray.tsr").write_bytes(b"x")
    problems = verify_stored_tokens(case_root, manifest)
    assert any(f"{tsr.name} was changed after it was stored" in p for p in problems), problems
    assert any("0099-stray.tsr is not recorded in the custody log" in p for p in problems)


def test_verify_against_an_independently_supplied_wrong_root(case_root, local_tsa, tmp_path):
    assert stamp(case_root, local_tsa, tmp_path).exit_code == 0
    other = make_identity("some other TSA").root_cert
    problems = verify_stored_tokens(
        case_root, (case_root / "manifest.json").read_bytes(), roots=[other]
    )
    assert len(problems) == 1 and "wrong root" in problems[0]


# ------------------------------------------------------------------ refusals at request time


def refused(root: Path, result, *needles: str) -> None:
    assert result.exit_code == 3, result.output
    for needle in needles:
        assert needle in result.output, result.output
    assert not list((root / "timestamps").glob("*.tsr")), "a refused token was stored"
    assert events(root, "timestamp") == []
    [failed] = events(root, "timestamp_failed")
    assert failed["details"]["reason"]


def test_wrong_root_is_refused(case_root, local_tsa, tmp_path):
    other = make_identity("another TSA")
    pem = tmp_path / "other.pem"
    pem.write_bytes(other.root_pem)
    r = cli("timestamp", case_root, "--tsa", local_tsa.url, "--tsa-root", pem)
    refused(case_root, r, "wrong root", "another TSA root")


def test_wrong_nonce_is_refused(case_root, local_tsa, tmp_path):
    local_tsa.mode = "wrong-nonce"
    refused(
        case_root,
        stamp(case_root, local_tsa, tmp_path),
        "response for a different request",
        "nonce",
    )


def test_answer_for_another_request_is_refused(case_root, local_tsa, tmp_path):
    local_tsa.mode = "other-request"
    refused(case_root, stamp(case_root, local_tsa, tmp_path), "response for a different request")


@pytest.mark.parametrize("identity", [{"eku_critical": False}, {"with_eku": False}])
def test_tsa_certificate_without_critical_eku_is_refused(
    case_root, tsa_factory, tmp_path, identity
):
    tsa = tsa_factory(backend="asn1", **identity)
    refused(case_root, stamp(case_root, tsa, tmp_path), "not a valid TSA certificate", "EKU")


def test_garbage_answer_is_refused(case_root, local_tsa, tmp_path):
    local_tsa.mode = "garbage"
    refused(case_root, stamp(case_root, local_tsa, tmp_path), "is not an RFC 3161 TimeStampResp")


def test_rejection_status_is_refused(case_root, local_tsa, tmp_path):
    local_tsa.mode = "reject"
    refused(
        case_root,
        stamp(case_root, local_tsa, tmp_path),
        "did not grant the request: status rejection",
        "bad_alg",
        "request refused by test TSA",
    )


def test_hanging_tsa_times_out_and_retries(case_root, local_tsa, tmp_path):
    local_tsa.mode = "hang"
    t0 = time.monotonic()
    r = stamp(case_root, local_tsa, tmp_path, "--timeout", "0.3", "--retries", "1")
    elapsed = time.monotonic() - t0
    refused(case_root, r, "timed out", "after 2 attempts")
    assert len(local_tsa.requests) == 2
    assert elapsed < 5


def test_unreachable_tsa(case_root, local_tsa, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pem = write_root(local_tsa, tmp_path / "r.pem")
    r = cli(
        "timestamp",
        case_root,
        "--tsa",
        f"http://127.0.0.1:{port}/tsr",
        "--tsa-root",
        pem,
        "--retries",
        "0",
    )
    refused(case_root, r, "unreachable", "ConnectError")


def test_http_error_and_retry_then_success(case_root, local_tsa, tmp_path):
    local_tsa.mode = "http-error"
    refused(case_root, stamp(case_root, local_tsa, tmp_path, "--retries", "0"), "HTTP 500")
    local_tsa.mode = "ok"
    local_tsa.fail_first = 2
    r = stamp(case_root, local_tsa, tmp_path, "--retries", "2")
    assert r.exit_code == 0, r.output
    [ev] = events(case_root, "timestamp")
    assert ev["details"]["attempts"] == 3


def test_one_good_one_bad_tsa_keeps_the_good_token(case_root, tsa_factory, tmp_path):
    good, bad = tsa_factory(), tsa_factory()
    bad.mode = "garbage"
    pg, pb = write_root(good, tmp_path / "g.pem"), write_root(bad, tmp_path / "b.pem")
    r = cli(
        "timestamp",
        case_root,
        "--tsa",
        good.url,
        "--tsa",
        bad.url,
        "--tsa-root",
        pg,
        "--tsa-root",
        pb,
    )
    assert r.exit_code == 3
    assert "1 of 2 TSA(s) gave no acceptable token; 1 token(s) stored" in r.output
    assert len(events(case_root, "timestamp")) == 1
    assert len(events(case_root, "timestamp_failed")) == 1


# ------------------------------------------------------------------ usage errors


def test_usage_errors(case_root, local_tsa, tmp_path):
    r = cli("timestamp", case_root, "--tsa", local_tsa.url)
    assert r.exit_code == 2 and "no pinned root certificate" in r.output
    pem = write_root(local_tsa, tmp_path / "r.pem")
    r = cli(
        "timestamp",
        case_root,
        "--tsa",
        "a",
        "--tsa",
        "b",
        "--tsa",
        "c",
        "--tsa-root",
        pem,
        "--tsa-root",
        pem,
    )
    assert r.exit_code == 2 and "3 --tsa URLs but 2 --tsa-root files" in r.output
    r = cli("timestamp", case_root, "--tsa", "ftp://x/", "--tsa-root", pem)
    assert r.exit_code == 2 and "not an http(s) URL" in r.output
    r = cli("timestamp", case_root)
    assert r.exit_code == 2 and "no TSA to ask" in r.output
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    r = cli("timestamp", case_root, "--tsa", local_tsa.url, "--tsa-root", bad)
    assert r.exit_code == 3 and "no PEM certificate found" in r.output


def test_case_without_manifest(tmp_path, local_tsa):
    root = tmp_path / "empty"
    assert (
        cli("case", "init", root, "--ref", "X/1", "--officer", "DC X", "--initials", "X").exit_code
        == 0
    )
    r = stamp(root, local_tsa, tmp_path)
    assert r.exit_code == 3 and "nothing to timestamp" in r.output


# ------------------------------------------------------------------ verify_token directly


def _query(data: bytes) -> bytes:
    return (
        TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256).build().as_bytes()
    )


def test_token_verifies_after_tsa_certificate_expired():
    now = dt.datetime.now(dt.UTC)
    ident = make_identity(
        not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=10)
    )
    q = _query(b"manifest")
    tsr = build_reply_asn1(q, ident, gen_time=now - dt.timedelta(days=20))
    info = verify_token(q, tsr, b"manifest", [ident.root_cert])
    assert info.tsa_cert_not_after < now
    assert info.gen_time == (now - dt.timedelta(days=20)).replace(microsecond=0)


def test_gen_time_before_certificate_validity_is_refused():
    now = dt.datetime.now(dt.UTC)
    ident = make_identity(not_before=now - dt.timedelta(days=5))
    q = _query(b"manifest")
    tsr = build_reply_asn1(q, ident, gen_time=now - dt.timedelta(days=6))
    with pytest.raises(TimestampError, match="does not verify at genTime"):
        verify_token(q, tsr, b"manifest", [ident.root_cert])


def test_flipped_signature_byte_and_other_message_are_refused():
    ident = make_identity()
    q = _query(b"manifest")
    tsr = build_reply_asn1(q, ident)
    assert verify_token(q, tsr, b"manifest", [ident.root_cert]).nonce is not None
    flipped = bytearray(tsr)
    flipped[-3] ^= 0x55
    with pytest.raises(TimestampError, match="does not verify"):
        verify_token(q, bytes(flipped), b"manifest", [ident.root_cert])
    with pytest.raises(TimestampError, match="manifest changed"):
        verify_token(q, tsr, b"manifest!", [ident.root_cert], changed_message="manifest changed")
    with pytest.raises(TimestampError, match="no pinned root"):
        verify_token(q, tsr, b"manifest", [])


def test_certificates_in_chain_order_are_accepted():
    """OpenSSL writes a token's certificates in chain order (valid BER, not DER) and
    rfc3161-client's parser refuses that; we sort them before verifying and store the
    token exactly as received."""
    ident = make_identity()
    q = _query(b"data")
    token = build_reply_asn1(q, ident)
    signed = tsp.TimeStampResp.load(token)["time_stamp_token"]["content"]
    first, second = (c.dump() for c in signed["certificates"])
    assert first < second
    # Swap the two adjacent certificates in place (asn1crypto would re-sort them).
    unsorted = token.replace(first + second, second + first)
    assert unsorted != token
    with pytest.raises(ValueError, match="SetOrdering"):
        decode_timestamp_response(unsorted)
    info = verify_token(q, unsorted, b"data", [ident.root_cert])
    assert info.imprint_sha256 == hashlib.sha256(b"data").hexdigest()


def test_request_token_directly(local_tsa):
    got = request_token(b"data", TsaSpec(local_tsa.url, local_tsa.root_pem, "root"))
    assert got.attempts == 1
    assert got.tsq == local_tsa.requests[0]
    root = x509.load_pem_x509_certificate(local_tsa.root_pem)
    assert verify_token(got.tsq, got.tsr, b"data", [root]).serial == got.info.serial


_IDENT = make_identity("property TSA")
_QUERY = _query(b"manifest bytes")
_TOKEN = build_reply_asn1(_QUERY, _IDENT)
_GOOD = verify_token(_QUERY, _TOKEN, b"manifest bytes", [_IDENT.root_cert])


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(_TOKEN) - 1), st.integers(1, 255))
def test_any_flipped_byte_is_refused_or_changes_nothing(position, mask):
    """A damaged token never yields a different accepted fact, and never a traceback:
    it is refused with TimestampError, or (a byte outside what is signed, e.g. in the
    untrusted copy of the root) it still says exactly what the intact token says."""
    damaged = bytearray(_TOKEN)
    damaged[position] ^= mask
    try:
        info = verify_token(_QUERY, bytes(damaged), b"manifest bytes", [_IDENT.root_cert])
    except TimestampError:
        return
    assert (info.gen_time, info.serial, info.imprint_sha256, info.nonce) == (
        _GOOD.gen_time,
        _GOOD.serial,
        _GOOD.imprint_sha256,
        _GOOD.nonce,
    )


def test_cli_defaults_mirror_the_library() -> None:
    from cyberstalk.commands import timestamp as command
    from cyberstalk.hashing import timestamps as library

    assert command.DEFAULT_TIMEOUT == library.DEFAULT_TIMEOUT
    assert command.DEFAULT_RETRIES == library.DEFAULT_RETRIES
