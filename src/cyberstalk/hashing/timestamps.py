"""RFC 3161 trusted timestamps over ``manifest.json``: request, verify, store, re-verify.

A signature says *who* vouches for the manifest; a token from an independent Time-Stamp
Authority says *when* it existed. Flow for one TSA:

1. build a TimeStampReq (SHA-256 imprint of the manifest bytes, a random nonce, certReq);
2. POST it with ``Content-Type: application/timestamp-query`` (httpx; retry transport
   errors, timeouts and 5xx a few times);
3. verify the reply at once with rfc3161-client against the roots pinned for that TSA
   (status, CMS signature and chain at genTime, nonce, critical timeStamping EKU, imprint)
   and refuse it if anything fails;
4. store the request, the token exactly as received, the pinned roots and a copy of the
   manifest bytes under ``timestamps/``, then append a ``timestamp`` custody event with
   the SHA-256 of each file.

Most public TSAs serve plain HTTP, so the transport proves nothing: the pinned root is
what makes a token trustworthy. Revocation (CRL/OCSP) of TSA certificates is not checked.

This module imports nothing of ours but ``errors`` and other ``hashing`` modules.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import tomllib
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from asn1crypto import cms as a_cms
from asn1crypto import core as a_core
from asn1crypto import tsp as a_tsp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID
from rfc3161_client import (
    HashAlgorithm,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerifierBuilder,
    decode_timestamp_response,
)
from rfc3161_client import VerificationError as TspVerificationError

from cyberstalk.errors import TimestampError, UsageError
from cyberstalk.hashing.custody import CustodyLog, events, read_lines
from cyberstalk.hashing.fsutil import atomic_write

EVENT = "timestamp"
"""Custody event recording a stored, verified token."""
FAILED_EVENT = "timestamp_failed"
"""Custody event recording a TSA that gave no acceptable token."""

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
DEFAULT_TIMEOUT = 15.0
DEFAULT_RETRIES = 2
MAX_REPLY_BYTES = 1 << 20
"""A token is a few KB; a TSA sending more than 1 MiB is not answering a timestamp query."""
CLOCK_SKEW_WARN_SECONDS = 300
SHA256_OID = "2.16.840.1.101.3.4.2.1"

_PEM_CERT_RE = re.compile(
    rb"-----BEGIN CERTIFICATE-----\r?\n.+?\r?\n-----END CERTIFICATE-----", re.DOTALL
)


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class TsaSpec:
    """A Time-Stamp Authority and the root certificates pinned for it."""

    url: str
    """Where to POST queries (http or https)."""
    roots_pem: bytes
    """PEM of every certificate trusted as a root for this TSA's tokens."""
    roots_source: str
    """Where the roots came from (a path), for messages."""


def load_certificates(pem: bytes, source: str) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle; an error naming ``source`` when there is none."""
    blocks = _PEM_CERT_RE.findall(pem)
    if not blocks:
        raise TimestampError(
            f"{source}: no PEM certificate found (expected '-----BEGIN CERTIFICATE-----')",
            advice="give the TSA's root certificate in PEM form (convert DER with "
            "`openssl x509 -inform der -in root.cer -out root.pem`)",
        )
    certs = []
    for i, block in enumerate(blocks, start=1):
        try:
            certs.append(x509.load_pem_x509_certificate(block))
        except ValueError as exc:
            raise TimestampError(f"{source}: certificate {i} cannot be read: {exc}") from exc
    return certs


def _read_roots(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(
            f"cannot read TSA root certificate {path}: {exc.strerror}",
            advice="give the path of the TSA's root certificate in PEM form",
        ) from exc
    load_certificates(data, str(path))
    return data


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"TSA URL {url!r} is not an http(s) URL",
            advice="give the TSA's full URL, e.g. http://timestamp.digicert.com",
        )
    return url


def specs_from_cli(urls: Sequence[str], roots: Sequence[Path]) -> list[TsaSpec]:
    """``--tsa`` / ``--tsa-root`` pairs: one root file for all URLs, or one per URL in order."""
    if roots and not urls:
        raise UsageError("--tsa-root was given without --tsa", advice="add --tsa URL")
    if not urls:
        return []
    if not roots:
        raise UsageError(
            f"no pinned root certificate for {urls[0]}",
            advice="add --tsa-root PEM: most TSAs serve plain HTTP, so a token is only "
            "trustworthy against a root you pinned",
        )
    if len(roots) not in (1, len(urls)):
        raise UsageError(
            f"{len(urls)} --tsa URLs but {len(roots)} --tsa-root files",
            advice="give one --tsa-root for every --tsa (in the same order), or a single one "
            "for all",
        )
    pairs = zip(urls, roots if len(roots) == len(urls) else list(roots) * len(urls), strict=True)
    return [TsaSpec(_check_url(u), _read_roots(r), str(r)) for u, r in pairs]


def specs_from_config(section: Any, base_dir: Path, source: str) -> list[TsaSpec]:
    """The ``[timestamps]`` table of case.toml or the user config::

        [timestamps]
        tsa = [{ url = "http://timestamp.digicert.com", root = "roots/digicert-g4.pem" }]

    ``root`` may be a list; relative paths are relative to ``base_dir``.
    """
    if section is None:
        return []
    if not isinstance(section, Mapping):
        raise UsageError(f"{source}: [timestamps] must be a table")
    entries = section.get("tsa", [])
    if not isinstance(entries, list):
        raise UsageError(f"{source}: [timestamps] tsa must be an array of tables")
    specs = []
    for i, entry in enumerate(entries):
        where = f"{source}: [timestamps] tsa[{i}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("url"), str):
            raise UsageError(f'{where} needs url = "..."')
        root_value = entry.get("root")
        root_list = [root_value] if isinstance(root_value, str) else root_value
        if (
            not isinstance(root_list, list)
            or not root_list
            or not all(isinstance(r, str) for r in root_list)
        ):
            raise UsageError(
                f'{where} ({entry["url"]}) needs root = "path/to/root.pem"',
                advice="pin the TSA's root certificate: most TSAs serve plain HTTP",
            )
        pem = b"".join(_read_roots(base_dir / r) for r in root_list)
        specs.append(TsaSpec(_check_url(entry["url"]), pem, ", ".join(root_list)))
    return specs


def user_config_path() -> Path:
    """``$XDG_CONFIG_HOME/cyberstalk/config.toml`` (default ``~/.config/...``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "cyberstalk" / "config.toml"


def configured_tsas(case_raw: Mapping[str, Any], case_root: Path) -> list[TsaSpec]:
    """TSAs from case.toml's ``[timestamps]``, else from the user config, else none."""
    specs = specs_from_config(case_raw.get("timestamps"), case_root, str(case_root / "case.toml"))
    if specs:
        return specs
    path = user_config_path()
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: cannot read user config: {exc}") from exc
    return specs_from_config(data.get("timestamps"), path.parent, str(path))


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a verified token says."""

    gen_time: datetime
    """The TSA's time (UTC) at which the manifest existed."""
    serial: int
    """The token's serial number at that TSA."""
    policy: str
    """TSA policy OID."""
    nonce: int | None
    """Nonce echoed from the request."""
    imprint_sha256: str
    """Hex SHA-256 the token covers (the manifest's hash)."""
    tsa_subject: str
    """Subject of the certificate that signed the token (RFC 4514)."""
    tsa_cert_sha256: str
    """SHA-256 fingerprint of that certificate."""
    tsa_cert_not_after: datetime
    """When the TSA certificate expires (the token stays valid: checked at genTime)."""


def _fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _describe_roots(roots: Sequence[x509.Certificate]) -> str:
    return "; ".join(
        f"{c.subject.rfc4514_string()} (SHA-256 {_fingerprint(c)[:16]}...)" for c in roots
    )


def _der_normalise(tsr: bytes) -> bytes:
    """Re-encode the token's certificate SET OF in DER order.

    OpenSSL (and some public TSAs) write SignedData certificates in chain order, which is
    valid BER but not DER, and rfc3161-client's parser refuses it (InvalidSetOrdering).
    The certificates are outside the signed attributes, so sorting them changes nothing
    that is signed; the token is stored exactly as received.
    """
    resp = a_tsp.TimeStampResp.load(tsr)
    cert_set = resp["time_stamp_token"]["content"]["certificates"]
    original: bytes = cert_set.dump()  # the bytes as parsed (nothing modified)
    members: list[bytes] = [c.dump() for c in cert_set]
    header = original[: len(original) - sum(len(m) for m in members)]
    # Same members, same total length: splice the sorted SET OF in place of the original
    # (re-encoding the whole token with asn1crypto is ~100x slower).
    at = tsr.find(original)
    if at < 0:  # pragma: no cover - the set was parsed from these bytes
        raise TimestampError("token certificates could not be located for re-ordering")
    return tsr[:at] + header + b"".join(sorted(members)) + tsr[at + len(original) :]


class _TimeStampResp(a_core.Sequence):  # type: ignore[misc]
    """TimeStampResp with the token OPTIONAL, as RFC 3161 2.4.2 has it (asn1crypto's
    definition requires it, so it cannot read a rejection)."""

    _fields = [  # noqa: RUF012 - asn1crypto's declaration style
        ("status", a_tsp.PKIStatusInfo),
        ("time_stamp_token", a_cms.ContentInfo, {"optional": True}),
    ]


def _status_problem(tsr: bytes, what: str) -> str | None:
    """A sentence when the reply is not a granted TimeStampResp, else None."""
    try:
        resp = _TimeStampResp.load(tsr)
        status_info = resp["status"]
        status = status_info["status"].native
        texts = status_info["status_string"].native or []
        fail = status_info["fail_info"].native
        has_token = not isinstance(resp["time_stamp_token"], a_core.Void)
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        return (
            f"{what} is not an RFC 3161 TimeStampResp ({len(tsr)} bytes starting "
            f"{tsr[:16]!r}): {exc}"
        )
    if status != "granted":
        detail = ""
        if texts:
            detail += f"; status text: {' / '.join(str(t) for t in texts)}"
        if fail:
            detail += f"; failInfo: {', '.join(sorted(str(f) for f in fail))}"
        return f"{what}: the TSA did not grant the request: status {status}{detail}"
    if not has_token:
        return f"{what}: status granted but the reply carries no token"
    return None


def _parse(tsr: bytes) -> TimeStampResponse:
    """Decode and touch every part verification reads: rfc3161-client parses some parts
    lazily, and a malformed part would otherwise surface later as a bare ValueError."""
    resp = decode_timestamp_response(tsr)
    info = resp.tst_info
    _ = (info.nonce, info.policy, info.serial_number, info.gen_time)
    _ = (info.message_imprint.message, info.message_imprint.hash_algorithm)
    for der in resp.signed_data.certificates:
        x509.load_der_x509_certificate(der)
    for si in resp.signed_data.signer_infos:
        _ = (si.issuer, si.serial_number)
    resp.time_stamp_token()
    return resp


def _decode(tsr: bytes, what: str) -> TimeStampResponse:
    problem = _status_problem(tsr, what)
    if problem:
        raise TimestampError(problem, advice="check the TSA URL, or try another TSA")
    try:
        return _parse(tsr)
    except ValueError as first:
        if "SetOrdering" not in str(first):
            raise TimestampError(f"{what}: token cannot be parsed: {first}") from first
    try:
        return _parse(_der_normalise(tsr))
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise TimestampError(f"{what}: token cannot be parsed: {exc}") from exc


def _leaf(resp: TimeStampResponse) -> x509.Certificate | None:
    infos = list(resp.signed_data.signer_infos)
    if len(infos) != 1:
        return None
    si = infos[0]
    for der in resp.signed_data.certificates:
        cert = x509.load_der_x509_certificate(der)
        if cert.issuer == si.issuer and cert.serial_number == si.serial_number:
            return cert
    return None


def _request_fields(tsq: bytes, what: str) -> tuple[int | None, str | None, bytes, str]:
    """(nonce, policy OID, imprint digest, imprint algorithm OID) of a stored request."""
    try:
        req = a_tsp.TimeStampReq.load(tsq)
        nonce = req["nonce"].native
        policy = req["req_policy"].dotted if req["req_policy"].native is not None else None
        imprint = req["message_imprint"]
        digest = bytes(imprint["hashed_message"].native)
        algo = imprint["hash_algorithm"]["algorithm"].dotted
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampError(f"{what}: the stored request (.tsq) cannot be read: {exc}") from exc
    return nonce, policy, digest, algo


def verify_token(
    tsq: bytes,
    tsr: bytes,
    message: bytes,
    roots: Sequence[x509.Certificate],
    *,
    what: str = "token",
    changed_message: str | None = None,
) -> TokenInfo:
    """Verify a token for ``message`` against ``roots``; raise TimestampError saying why not.

    ``tsq`` is the request that asked for it (its nonce and policy must be echoed).
    ``changed_message`` replaces the generic imprint-mismatch sentence (``verify`` says
    "manifest changed after its timestamp").
    """
    if not roots:
        raise TimestampError(f"{what}: no pinned root certificate to verify against")
    try:
        with warnings.catch_warnings():
            # A damaged certificate (e.g. a serial flipped negative) draws a deprecation
            # warning from cryptography; the token is refused below anyway.
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            return _verify(tsq, tsr, message, roots, what, changed_message)
    except TimestampError:
        raise
    except Exception as exc:
        # The token is untrusted input and the parsers under us are lazy (cryptography's
        # Name and extensions, rfc3161-client's fields): a damaged part surfaces wherever
        # it is first read, as ValueError, InvalidVersion, DuplicateExtension... Whatever
        # the type, it means a malformed token, never a crash.
        raise TimestampError(
            f"{what}: token is malformed: {exc.__class__.__name__}: {exc}"
        ) from exc


def _verify(
    tsq: bytes,
    tsr: bytes,
    message: bytes,
    roots: Sequence[x509.Certificate],
    what: str,
    changed_message: str | None,
) -> TokenInfo:
    resp = _decode(tsr, what)
    nonce, policy, req_digest, req_algo = _request_fields(tsq, what)
    info = resp.tst_info
    imprint = info.message_imprint
    # Our own checks first, for messages a user can act on; rfc3161-client then does all.
    if nonce is not None and info.nonce != nonce:
        raise TimestampError(
            f"{what}: response for a different request: the request's nonce is {nonce}, "
            f"the token's is {info.nonce}",
            advice="the TSA (or something between) answered another query; try again",
        )
    if imprint.message != req_digest or imprint.hash_algorithm.dotted_string != req_algo:
        raise TimestampError(
            f"{what}: response for a different request: the token covers "
            f"{imprint.message.hex()}, the request asked for {req_digest.hex()}",
            advice="the TSA answered another query; try again or use another TSA",
        )
    if imprint.hash_algorithm.dotted_string != SHA256_OID:
        raise TimestampError(
            f"{what}: token imprint uses {imprint.hash_algorithm.dotted_string}, not SHA-256"
        )
    actual = hashlib.sha256(message).digest()
    if imprint.message != actual:
        raise TimestampError(
            changed_message
            or f"{what}: the token covers SHA-256 {imprint.message.hex()} but the data "
            f"hashes to {actual.hex()}",
            advice="the timestamped file was changed after its timestamp",
        )
    leaf = _leaf(resp)
    if leaf is None:
        raise TimestampError(
            f"{what}: the token has no certificate matching its signer (or more than one "
            "signer); it cannot be checked",
            advice="ask the TSA for its certificate (certReq) or use another TSA",
        )
    eku_problem = _eku_problem(leaf)
    if eku_problem:
        raise TimestampError(
            f"{what}: the certificate of {leaf.subject.rfc4514_string()} is not a valid TSA "
            f"certificate: {eku_problem} (RFC 3161 2.3 requires a critical extended key usage "
            "of timeStamping)",
            advice="do not rely on this TSA",
        )
    builder = VerifierBuilder(nonce=nonce)
    if policy is not None:
        builder = builder.policy_id(x509.ObjectIdentifier(policy))
    for root in roots:
        builder = builder.add_root_certificate(root)
    try:
        builder.build().verify_message(resp, message)
    except TspVerificationError as exc:
        raise _explain(str(exc), what, resp, leaf, roots) from exc
    except ValueError as exc:  # raised by the Rust layer for malformed structures
        raise TimestampError(f"{what}: token cannot be verified: {exc}") from exc
    return TokenInfo(
        gen_time=info.gen_time.astimezone(UTC),
        serial=info.serial_number,
        policy=info.policy.dotted_string,
        nonce=info.nonce,
        imprint_sha256=imprint.message.hex(),
        tsa_subject=leaf.subject.rfc4514_string(),
        tsa_cert_sha256=_fingerprint(leaf),
        tsa_cert_not_after=leaf.not_valid_after_utc,
    )


def _eku_problem(cert: x509.Certificate) -> str | None:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        return "it has no extended key usage (EKU) extension"
    if not eku.critical:
        return "its EKU extension is not critical"
    if ExtendedKeyUsageOID.TIME_STAMPING not in eku.value:
        return "its EKU does not include timeStamping"
    return None


def _explain(
    reason: str,
    what: str,
    resp: TimeStampResponse,
    leaf: x509.Certificate | None,
    roots: Sequence[x509.Certificate],
) -> TimestampError:
    """Turn rfc3161-client's terse reason into a sentence with the facts."""
    gen = resp.tst_info.gen_time.astimezone(UTC).isoformat()
    signer = leaf.subject.rfc4514_string() if leaf is not None else "an unknown signer"
    if "certificates" in reason and "verifying" in reason:
        chain_names = {
            x509.load_der_x509_certificate(d).issuer for d in resp.signed_data.certificates
        }
        if leaf is not None:
            chain_names.add(leaf.issuer)
        pinned = {r.subject for r in roots}
        if not chain_names & pinned:
            return TimestampError(
                f"{what}: wrong root: the token is signed by {signer}, which does not chain "
                f"to the pinned root(s) {_describe_roots(roots)}",
                advice="pin this TSA's own root certificate (--tsa-root), obtained from the "
                "TSA's website, not from the token",
            )
        return TimestampError(
            f"{what}: signature or certificate chain does not verify at genTime {gen} "
            f"against the pinned root(s) {_describe_roots(roots)}: {reason}",
            advice="the token is damaged or was not issued by this TSA; do not rely on it",
        )
    if "EKU" in reason:
        return TimestampError(
            f"{what}: the certificate of {signer} is not a valid TSA certificate: {reason} "
            "(RFC 3161 2.3 requires a critical extended key usage of timeStamping only)",
            advice="do not rely on this TSA",
        )
    if "Nonce" in reason:
        return TimestampError(f"{what}: response for a different request (nonce mismatch)")
    if "Policy" in reason:
        return TimestampError(f"{what}: the token's policy is not the one requested")
    return TimestampError(f"{what}: token refused: {reason}")


# --------------------------------------------------------------------------- requesting


@dataclass(frozen=True, slots=True)
class Obtained:
    """A verified token, not yet stored."""

    tsa: TsaSpec
    tsq: bytes
    tsr: bytes
    info: TokenInfo
    attempts: int


def _post(
    client: httpx.Client, url: str, body: bytes
) -> tuple[int, str, bytes]:  # status, content type, body
    with client.stream(
        "POST",
        url,
        content=body,
        headers={"Content-Type": QUERY_TYPE, "Accept": REPLY_TYPE},
    ) as r:
        chunks: list[bytes] = []
        size = 0
        for chunk in r.iter_bytes():
            size += len(chunk)
            if size > MAX_REPLY_BYTES:
                raise TimestampError(
                    f"{url}: reply larger than {MAX_REPLY_BYTES} bytes; not a timestamp reply",
                    advice="check the TSA URL",
                )
            chunks.append(chunk)
        return r.status_code, r.headers.get("content-type", ""), b"".join(chunks)


def request_token(
    message: bytes,
    tsa: TsaSpec,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    backoff: float = 0.25,
    transport: httpx.BaseTransport | None = None,
) -> Obtained:
    """Ask one TSA for a token over ``message`` and verify it against the pinned roots."""
    roots = load_certificates(tsa.roots_pem, tsa.roots_source)
    req = (
        TimestampRequestBuilder()
        .data(message)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    tsq = req.as_bytes()
    host = urlsplit(tsa.url).hostname
    last = ""
    attempts = 0
    with httpx.Client(timeout=timeout, follow_redirects=False, transport=transport) as client:
        for attempt in range(retries + 1):
            attempts = attempt + 1
            if attempt:
                time.sleep(backoff * 2 ** (attempt - 1))
            try:
                status, ctype, body = _post(client, tsa.url, tsq)
            except httpx.TimeoutException:
                last = f"no answer within {timeout:g} s (timed out)"
                continue
            except httpx.TransportError as exc:
                last = f"unreachable: {exc.__class__.__name__}: {exc}"
                continue
            if status >= 500 or status == 429:
                last = f"HTTP {status} from the TSA"
                continue
            if status != 200:
                snippet = body[:120].decode("utf-8", "replace").strip()
                raise TimestampError(
                    f"{tsa.url}: HTTP {status} from the TSA ({ctype or 'no content type'}): "
                    f"{snippet!r}",
                    advice="check the URL; some TSAs need a path such as /tsr",
                )
            what = f"reply from {tsa.url}"
            if ctype.split(";")[0].strip().lower() != REPLY_TYPE:
                what += f" (content type {ctype or 'none'}, expected {REPLY_TYPE})"
            info = verify_token(tsq, body, message, roots, what=what)
            return Obtained(tsa, tsq, body, info, attempts)
    raise TimestampError(
        f"{tsa.url}: TSA {host} {last} after {attempts} attempt{'s' if attempts > 1 else ''}",
        advice="check the network and the URL, or try again later or with another TSA "
        "(--timeout and --retries change the waiting)",
    )


# --------------------------------------------------------------------------- storing


@dataclass(frozen=True, slots=True)
class StoredToken:
    """A token stored under ``timestamps/`` and recorded in the custody log."""

    stem: str
    """File name stem, e.g. ``0001-timestamp.digicert.com``."""
    url: str
    info: TokenInfo
    files: Mapping[str, str]
    """Role (tsq, tsr, roots, manifest) → path relative to the case root."""


@dataclass(frozen=True, slots=True)
class Failure:
    """A TSA that gave no acceptable token."""

    url: str
    reason: str


@dataclass(frozen=True, slots=True)
class TimestampRun:
    """The result of ``timestamp_case``."""

    run: int
    manifest_sha256: str
    stored: list[StoredToken] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


_STEM_RE = re.compile(r"^(\d{4,})-")


def _safe_host(url: str) -> str:
    parts = urlsplit(url)
    host = re.sub(r"[^A-Za-z0-9.-]", "_", parts.hostname or "tsa")
    if parts.port:
        host += f"-{parts.port}"
    return host


def _next_run(timestamps_dir: Path) -> int:
    numbers = [0]
    if timestamps_dir.is_dir():
        for p in timestamps_dir.iterdir():
            m = _STEM_RE.match(p.name)
            if m:
                numbers.append(int(m.group(1)))
    return max(numbers) + 1


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def timestamp_case(
    case_root: Path,
    tsas: Sequence[TsaSpec],
    log: CustodyLog,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    backoff: float = 0.25,
    progress: Callable[[str], None] | None = None,
) -> TimestampRun:
    """Timestamp ``case_root/manifest.json`` with every TSA. The caller holds the case lock.

    Each verified token is stored and logged; each failure is logged as
    ``timestamp_failed``. Returns what happened; raises only when there is nothing to
    timestamp or no TSA.
    """
    if not tsas:
        raise UsageError(
            "no TSA to ask",
            advice="give --tsa URL --tsa-root PEM, or add [timestamps] tsa = [{url=..., "
            "root=...}] to case.toml or the user config",
        )
    manifest_path = case_root / "manifest.json"
    try:
        manifest = manifest_path.read_bytes()
    except FileNotFoundError:
        raise TimestampError(
            f"{manifest_path} does not exist: nothing to timestamp",
            advice="ingest evidence first (cyberstalk ingest), which writes the manifest",
        ) from None
    if not manifest:
        raise TimestampError(f"{manifest_path} is empty: nothing to timestamp")
    timestamps_dir = case_root / "timestamps"
    timestamps_dir.mkdir(exist_ok=True)
    run_no = _next_run(timestamps_dir)
    digest = _sha256(manifest)
    result = TimestampRun(run=run_no, manifest_sha256=digest)
    manifest_copy = f"{run_no:04d}.manifest.json"
    used_stems: set[str] = set()
    for tsa in tsas:
        if progress:
            progress(f"asking {tsa.url} ...")
        try:
            got = request_token(manifest, tsa, timeout=timeout, retries=retries, backoff=backoff)
        except TimestampError as exc:
            result.failures.append(Failure(tsa.url, str(exc)))
            log.append(
                FAILED_EVENT,
                {"tsa": tsa.url, "manifest_sha256": digest, "reason": exc.message},
            )
            continue
        stem = f"{run_no:04d}-{_safe_host(tsa.url)}"
        n = 2
        while stem in used_stems:
            stem = f"{run_no:04d}-{_safe_host(tsa.url)}-{n}"
            n += 1
        used_stems.add(stem)
        contents = {
            "tsq": (f"{stem}.tsq", got.tsq),
            "tsr": (f"{stem}.tsr", got.tsr),
            "roots": (f"{stem}.root.pem", tsa.roots_pem),
            "manifest": (manifest_copy, manifest),
        }
        for name, data in contents.values():
            target = timestamps_dir / name
            if not target.exists():
                atomic_write(target, data)
        now = datetime.now(UTC)
        skew = (now - got.info.gen_time).total_seconds()
        if abs(skew) > CLOCK_SKEW_WARN_SECONDS:
            result.warnings.append(
                f"{tsa.url}: this computer's clock differs from the TSA's genTime by "
                f"{skew:+.0f} s; trust the TSA time and check the system clock"
            )
        files = {role: f"timestamps/{name}" for role, (name, _) in contents.items()}
        log.append(
            EVENT,
            {
                "tsa": tsa.url,
                "run": run_no,
                "manifest_sha256": digest,
                "gen_time": got.info.gen_time.isoformat(),
                "local_time": now.isoformat(timespec="seconds"),
                "serial": str(got.info.serial),
                "nonce": str(got.info.nonce),
                "policy": got.info.policy,
                "tsa_subject": got.info.tsa_subject,
                "tsa_cert_sha256": got.info.tsa_cert_sha256,
                "roots_source": tsa.roots_source,
                "roots_sha256": [
                    _fingerprint(c) for c in load_certificates(tsa.roots_pem, tsa.roots_source)
                ],
                "attempts": got.attempts,
                "files": {
                    role: {"path": files[role], "sha256": _sha256(data)}
                    for role, (_, data) in contents.items()
                },
            },
        )
        result.stored.append(StoredToken(stem, tsa.url, got.info, files))
    return result


# --------------------------------------------------------------------------- re-verification


@dataclass(frozen=True, slots=True)
class StoredCheck:
    """The outcome of re-verifying the stored tokens of a case."""

    tokens: list[StoredToken]
    """Tokens that verified (against the manifest copy they cover)."""
    current: list[StoredToken]
    """Of those, the tokens covering the manifest.json as it is now."""
    problems: list[str]
    """Every problem found, as sentences."""


def _exhibit_changes(old: bytes, new: bytes) -> tuple[list[str], list[str]]:
    """(changed-or-removed sentences, added refs) between two manifests' exhibit lists."""
    try:
        old_ex = {e["ref"]: e for e in json.loads(old).get("exhibits", [])}
        new_ex = {e["ref"]: e for e in json.loads(new).get("exhibits", [])}
    except (ValueError, TypeError, KeyError, AttributeError):
        return [], []
    changed = []
    for ref, entry in old_ex.items():
        if ref not in new_ex:
            changed.append(f"exhibit {ref} is no longer in manifest.json")
        elif new_ex[ref] != entry:
            keys = sorted(
                k for k in set(entry) | set(new_ex[ref]) if entry.get(k) != new_ex[ref].get(k)
            )
            changed.append(f"exhibit {ref} changed ({', '.join(keys)})")
    added = [ref for ref in new_ex if ref not in old_ex]
    return changed, added


def check_stored_tokens(
    case_root: Path,
    manifest_bytes: bytes,
    roots: Sequence[x509.Certificate] | None = None,
) -> StoredCheck:
    """Re-verify every token recorded in the custody log against the files under
    ``timestamps/`` and the current manifest.

    Each token is verified against the manifest copy stored with it (the bytes it
    covers) and against the roots pinned when it was obtained (``roots`` overrides them,
    e.g. with a root the checker obtained independently). Then:

    * no token covers the current manifest.json → "manifest changed after its timestamp";
    * an exhibit present when a token was issued has changed or gone since → a problem;
    * token files with no custody event, or whose bytes differ from the event → a problem.
    """
    problems: list[str] = []
    tokens: list[StoredToken] = []
    ts_events = [
        e for e in events(read_lines(case_root / "custody.jsonl")) if e.get("event") == EVENT
    ]
    referenced: set[str] = set()
    copies: dict[str, tuple[bytes, str, datetime]] = {}
    for ev in ts_events:
        d = ev.get("details", {})
        files = d.get("files", {})
        where = f"timestamp token from {d.get('tsa')} (custody line {ev.get('seq')})"
        blobs: dict[str, bytes] = {}
        for role in ("tsq", "tsr", "roots", "manifest"):
            entry = files.get(role) or {}
            rel = entry.get("path")
            if not isinstance(rel, str):
                problems.append(f"{where}: custody event does not name its {role} file")
                continue
            referenced.add(rel)
            path = case_root / rel
            try:
                data = path.read_bytes()
            except OSError as exc:
                problems.append(f"{where}: {rel} cannot be read ({exc.strerror})")
                continue
            if _sha256(data) != entry.get("sha256"):
                problems.append(
                    f"{where}: {rel} was changed after it was stored (SHA-256 "
                    f"{_sha256(data)}, custody log says {entry.get('sha256')})"
                )
                continue
            blobs[role] = data
        if len(blobs) != 4:
            continue
        try:
            trusted = (
                list(roots) if roots is not None else load_certificates(blobs["roots"], "roots")
            )
            info = verify_token(blobs["tsq"], blobs["tsr"], blobs["manifest"], trusted, what=where)
        except TimestampError as exc:
            problems.append(exc.message)
            continue
        stem = Path(files["tsr"]["path"]).name.removesuffix(".tsr")
        token = StoredToken(stem, str(d.get("tsa")), info, {r: files[r]["path"] for r in files})
        tokens.append(token)
        copies.setdefault(info.imprint_sha256, (blobs["manifest"], stem, info.gen_time))
    ts_dir = case_root / "timestamps"
    if ts_dir.is_dir():
        for p in sorted(ts_dir.iterdir()):
            rel = f"timestamps/{p.name}"
            if p.suffix in (".tsr", ".tsq") and rel not in referenced:
                problems.append(
                    f"{rel} is not recorded in the custody log (added by hand, or the command "
                    "was interrupted before recording it)"
                )
    current_digest = _sha256(manifest_bytes)
    current = [t for t in tokens if t.info.imprint_sha256 == current_digest]
    for _digest, (old, stem, gen) in sorted(copies.items(), key=lambda kv: kv[1][2]):
        changed, _added = _exhibit_changes(old, manifest_bytes)
        for sentence in changed:
            problems.append(
                f"{sentence} since it was timestamped at {gen.isoformat()} (token {stem})"
            )
    if tokens and not current:
        latest = max(tokens, key=lambda t: (t.info.gen_time, t.stem))
        _changed, added = _exhibit_changes(copies[latest.info.imprint_sha256][0], manifest_bytes)
        extra = f"; exhibits added since: {', '.join(added)}" if added else ""
        problems.append(
            f"manifest changed after its timestamp: the latest token ({latest.stem}, genTime "
            f"{latest.info.gen_time.isoformat()}) covers SHA-256 {latest.info.imprint_sha256}, "
            f"manifest.json now hashes to {current_digest}{extra}; run `cyberstalk timestamp` "
            "again after ingesting"
        )
    return StoredCheck(tokens, current, problems)


def verify_stored_tokens(
    case_root: Path,
    manifest_bytes: bytes,
    roots: Sequence[x509.Certificate] | None = None,
) -> list[str]:
    """Problems with the case's stored timestamp tokens, as sentences (empty: all good,
    including when the case has no tokens yet). See :func:`check_stored_tokens`."""
    return check_stored_tokens(case_root, manifest_bytes, roots).problems
