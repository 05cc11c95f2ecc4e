"""The case folder: create and open it, read ``case.toml``, and lock it for writing.

Layout (ARCHITECTURE.md, "The case folder")::

    CASE/case.toml custody.jsonl manifest.json manifest-sha256.txt manifest.sig
         keys/ evidence/ derived/ reports/ timestamps/
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import stat
import sys
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cyberstalk import TOOL_NAME, __version__
from cyberstalk.errors import CaseError, CaseLockedError, UsageError
from cyberstalk.hashing.custody import CustodyLog

DEFAULT_TIMEZONE = "Europe/London"
DEFAULT_FORCE = "North Wales Police"
INITIALS_RE = re.compile(r"^[A-Z]{1,5}$")
ROLES = ("victim", "suspect", "witness", "other")
IDENTIFIER_TYPES = ("phone", "email", "username", "display_name", "account_id")

SUBDIRS = ("evidence", "derived", "reports", "timestamps", "keys")


def tool_string() -> str:
    """Tool name and version as recorded in custody events and manifests."""
    return f"{TOOL_NAME} {__version__}"


@dataclass(frozen=True, slots=True)
class Identifier:
    """One way a person shows up in evidence."""

    type: str
    """phone, email, username, display_name or account_id."""
    value: str
    """The identifier as the officer entered it."""
    platform: str | None = None
    """Platform the identifier belongs to (usernames are per platform)."""


@dataclass(frozen=True, slots=True)
class Person:
    """A person in the case, with the identifiers that resolve records to them."""

    name: str
    """Name used in reports."""
    role: str
    """victim, suspect, witness or other."""
    identifiers: tuple[Identifier, ...] = ()
    """Phone numbers, emails, usernames and display names."""
    addresses: tuple[str, ...] = ()
    """Postal addresses (optional ``address`` key: a string or a list of strings). Nothing
    resolves records by address; reports that leave the force (the panel pack) mask them."""


@dataclass(frozen=True, slots=True)
class Order:
    """A court order (e.g. a Stalking Protection Order) recorded for the case."""

    kind: str
    """SPO, interim SPO, restraining order, non-molestation order..."""
    subject: str
    """Name of the person the order binds (a Person name)."""
    made: date | None = None
    """Date the order was made."""
    served: datetime | None = None
    """When it was served (aware); contact after this is listed as a possible breach."""
    conditions: tuple[str, ...] = ()
    """The prohibitions and requirements, as written in the order."""


@dataclass(frozen=True, slots=True)
class CaseConfig:
    """The contents of ``case.toml``."""

    reference: str
    officer: str
    exhibit_prefix: str
    timezone: str = DEFAULT_TIMEZONE
    force: str = DEFAULT_FORCE
    people: tuple[Person, ...] = ()
    orders: tuple[Order, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)
    """The whole parsed TOML, for sections other packages own (timestamps, advice...)."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _parse_served(value: Any, zone: ZoneInfo, where: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=zone)
    raise CaseError(f"case.toml: {where} must be a TOML date or date-time, found {value!r}")


def parse_config(data: Mapping[str, Any], source: str = "case.toml") -> CaseConfig:
    """Validate parsed TOML into a CaseConfig; errors name the key at fault."""
    case = data.get("case")
    if not isinstance(case, dict):
        raise CaseError(f"{source}: missing [case] table")
    for key in ("reference", "officer", "exhibit_prefix"):
        if not isinstance(case.get(key), str) or not case[key].strip():
            raise CaseError(f"{source}: [case] {key} must be a non-empty string")
    tz = case.get("timezone", DEFAULT_TIMEZONE)
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CaseError(f"{source}: [case] timezone {tz!r} is not a known IANA zone") from exc
    people: list[Person] = []
    for i, p in enumerate(data.get("people", [])):
        if not isinstance(p, dict) or not p.get("name"):
            raise CaseError(f"{source}: people[{i}] needs a name")
        role = p.get("role", "other")
        if role not in ROLES:
            raise CaseError(f"{source}: people[{i}] role {role!r} is not one of {ROLES}")
        idents = []
        for j, ident in enumerate(p.get("identifiers", [])):
            if not isinstance(ident, dict) or ident.get("type") not in IDENTIFIER_TYPES:
                raise CaseError(
                    f"{source}: people[{i}].identifiers[{j}] needs a type from {IDENTIFIER_TYPES}"
                )
            idents.append(
                Identifier(str(ident["type"]), str(ident.get("value", "")), ident.get("platform"))
            )
        address = p.get("address", [])
        if isinstance(address, str):
            address = [address]
        if not isinstance(address, list) or not all(
            isinstance(a, str) and a.strip() for a in address
        ):
            raise CaseError(f"{source}: people[{i}].address must be a string or a list of strings")
        people.append(Person(str(p["name"]), role, tuple(idents), tuple(address)))
    orders: list[Order] = []
    for i, o in enumerate(data.get("orders", [])):
        if not isinstance(o, dict) or not o.get("kind") or not o.get("subject"):
            raise CaseError(f"{source}: orders[{i}] needs a kind and a subject")
        made = o.get("made")
        if made is not None and not isinstance(made, date):
            raise CaseError(f"{source}: orders[{i}].made must be a TOML date")
        if isinstance(made, datetime):
            made = made.date()
        orders.append(
            Order(
                kind=str(o["kind"]),
                subject=str(o["subject"]),
                made=made,
                served=_parse_served(o.get("served"), zone, f"orders[{i}].served"),
                conditions=tuple(str(c) for c in o.get("conditions", [])),
            )
        )
    return CaseConfig(
        reference=case["reference"],
        officer=case["officer"],
        exhibit_prefix=case["exhibit_prefix"],
        timezone=tz,
        force=case.get("force", DEFAULT_FORCE),
        people=tuple(people),
        orders=tuple(orders),
        settings=dict(data.get("settings", {})),
        raw=dict(data),
    )


CASE_TOML_TEMPLATE = """\
# cyberstalk case file. Edit by hand; `cyberstalk case show` checks it.
# Times: TOML dates (2026-03-01) or date-times with an offset (2026-03-01T10:00:00+00:00).

{case}
# People and the identifiers that link records to them. Roles: victim, suspect, witness, other.
# Identifier types: phone (any format; UK numbers may start 07), email, username,
# display_name, account_id. Add `platform = "instagram"` to per-platform usernames.
#
# [[people]]
# name = "Sam Victim"
# role = "victim"
# identifiers = [{{ type = "phone", value = "07700 900123" }}]
# address = "1 Example Street, Bangor LL57 1AA"   # optional; masked in panel packs

# Orders (e.g. a Stalking Protection Order). Contact from the subject after `served`
# is listed as a possible breach, for the officer to assess.
#
# [[orders]]
# kind = "Stalking Protection Order"
# subject = "Alex Suspect"
# made = 2026-03-01
# served = 2026-03-02T14:00:00+00:00
# conditions = ["Must not contact Sam Victim directly or indirectly"]

[settings]
# SHA-256 is the exhibits' digest. Set true to also record SHA-1 and MD5 at ingest, for
# tools or agencies that still ask for them (they cost CPU time: ingest is then slower).
legacy_digests = false
"""


@dataclass(frozen=True)
class Case:
    """An opened case folder."""

    root: Path
    config: CaseConfig

    # --- paths
    @property
    def case_toml(self) -> Path:
        return self.root / "case.toml"

    @property
    def custody_path(self) -> Path:
        return self.root / "custody.jsonl"

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    @property
    def manifest_sha256_path(self) -> Path:
        return self.root / "manifest-sha256.txt"

    @property
    def signature_path(self) -> Path:
        return self.root / "manifest.sig"

    @property
    def keys_dir(self) -> Path:
        return self.root / "keys"

    @property
    def evidence_dir(self) -> Path:
        return self.root / "evidence"

    @property
    def derived_dir(self) -> Path:
        return self.root / "derived"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def timestamps_dir(self) -> Path:
        return self.root / "timestamps"

    @property
    def lock_path(self) -> Path:
        return self.root / ".lock"

    # --- behaviour
    def log(self, actor: str | None = None) -> CustodyLog:
        """The custody log, appending as ``actor`` (default: the case officer)."""
        return CustodyLog(self.custody_path, tool=tool_string(), actor=actor or self.config.officer)

    @contextlib.contextmanager
    def lock(self, command: str) -> Iterator[None]:
        """Hold the case's write lock; a second writer fails at once naming the holder."""
        with hold_lock(self.root, command):
            yield

    def reload(self) -> Case:
        return open_case(self.root)


def _check_writable(root: Path) -> None:
    # Root ignores permission bits; an investigator who made a case read-only
    # (chmod a-w) means it, so honour the bits even when running as root.
    mode = root.stat().st_mode
    if not mode & stat.S_IWUSR:
        raise CaseError(
            f"case folder {root} is read-only (mode {stat.filemode(mode)})",
            advice="make it writable (chmod u+w) if you mean to change the case",
        )


@contextlib.contextmanager
def hold_lock(root: Path, command: str) -> Iterator[None]:
    """flock on ``CASE/.lock``; the file records who holds it for the error message."""
    _check_writable(root)
    lock_path = root / ".lock"
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise CaseError(
            f"cannot open lock file {lock_path}: {exc.strerror}",
            advice="check that the case folder is writable",
        ) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
            try:
                info = json.loads(holder)
                who = (
                    f"pid {info.get('pid')} ({info.get('command')}) run by {info.get('user')} "
                    f"on {info.get('host')} since {info.get('since')}"
                )
            except json.JSONDecodeError:
                who = "another process"
            raise CaseLockedError(
                f"case {root} is locked by {who}",
                advice="wait for that command to finish; the lock is released when it exits",
            ) from None
        info = {
            "pid": os.getpid(),
            "command": command,
            "user": _user(),
            "host": os.uname().nodename,  # what socket.gethostname() returns
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _toml_dumps(table: Mapping[str, Any]) -> str:
    """TOML text for case.toml (tomli_w is imported only by the commands that write it)."""
    import tomli_w

    return tomli_w.dumps(table)


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no passwd entry in some containers
        return str(os.getuid())


def open_case(path: Path) -> Case:
    """Open an existing case folder, validating ``case.toml``."""
    toml_path = path / "case.toml"
    if not path.is_dir():
        raise CaseError(
            f"no case folder at {path}",
            advice="create one with `cyberstalk case init DIR --ref REF --officer NAME "
            "--initials XX`",
        )
    try:
        data = tomllib.loads(toml_path.read_text("utf-8"))
    except FileNotFoundError:
        raise CaseError(
            f"{path} is not a case folder: case.toml is missing",
            advice="create one with `cyberstalk case init`",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise CaseError(f"{toml_path}: invalid TOML: {exc}") from exc
    return Case(root=path, config=parse_config(data, str(toml_path)))


def init_case(
    path: Path,
    *,
    reference: str,
    officer: str,
    initials: str,
    timezone: str = DEFAULT_TIMEZONE,
    force: str = DEFAULT_FORCE,
) -> Case:
    """Create a new case folder and record the ``case_created`` event."""
    if not INITIALS_RE.match(initials):
        raise UsageError(
            f"--initials {initials!r} must be 1 to 5 capital letters (the exhibit prefix, e.g. JS)"
        )
    if not reference.strip() or not officer.strip():
        raise UsageError("--ref and --officer must not be empty")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"--tz {timezone!r} is not a known IANA timezone") from None
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise UsageError(
            f"{path} already exists and is not an empty folder",
            advice="choose a new folder for the case",
        )
    case_table = _toml_dumps(
        {
            "case": {
                "reference": reference,
                "officer": officer,
                "exhibit_prefix": initials,
                "timezone": timezone,
                "force": force,
            }
        }
    ).strip()
    try:
        path.mkdir(parents=True, exist_ok=True)
        for sub in SUBDIRS:
            (path / sub).mkdir()
        (path / "case.toml").write_text(CASE_TOML_TEMPLATE.format(case=case_table), "utf-8")
    except OSError as exc:
        raise CaseError(f"cannot create case folder {path}: {exc.strerror}") from exc
    case = open_case(path)
    with case.lock("case init"):
        case.log().append(
            "case_created",
            {
                "reference": reference,
                "officer": officer,
                "exhibit_prefix": initials,
                "timezone": timezone,
                "force": force,
                "python": sys.version.split()[0],
            },
        )
    return case


def add_person(
    case: Case, *, name: str, role: str, identifiers: list[Identifier], actor: str | None = None
) -> Case:
    """Append a ``[[people]]`` table to case.toml (keeping the officer's comments)."""
    if role not in ROLES:
        raise UsageError(f"role {role!r} must be one of {', '.join(ROLES)}")
    if any(p.name == name for p in case.config.people):
        raise UsageError(f"{name!r} is already a person in this case; edit case.toml to change")
    table: dict[str, Any] = {"name": name, "role": role, "identifiers": []}
    for ident in identifiers:
        item = {"type": ident.type, "value": ident.value}
        if ident.platform:
            item["platform"] = ident.platform
        table["identifiers"].append(item)
    block = "\n" + _toml_dumps({"people": [table]})
    with case.lock("case person add"):
        text = case.case_toml.read_text("utf-8")
        new_text = text + block
        parse_config(tomllib.loads(new_text))  # refuse to write a file we could not read
        from cyberstalk.hashing.fsutil import atomic_write

        atomic_write(case.case_toml, new_text.encode("utf-8"))
        case.log(actor).append("person_added", table)
    return case.reload()


def add_order(
    case: Case,
    *,
    kind: str,
    subject: str,
    made: date | None,
    served: datetime | None,
    conditions: list[str],
    actor: str | None = None,
) -> Case:
    """Append an ``[[orders]]`` table to case.toml (keeping comments) and log it."""
    if not kind.strip() or not subject.strip():
        raise UsageError("an order needs a kind and a subject")
    if served is not None and (served.tzinfo is None or served.utcoffset() is None):
        served = served.replace(tzinfo=case.config.zone)
    table: dict[str, Any] = {"kind": kind, "subject": subject}
    if made is not None:
        table["made"] = made
    if served is not None:
        table["served"] = served
    table["conditions"] = conditions
    block = "\n" + _toml_dumps({"orders": [table]})
    with case.lock("case order add"):
        text = case.case_toml.read_text("utf-8")
        new_text = text + block
        parse_config(tomllib.loads(new_text))
        from cyberstalk.hashing.fsutil import atomic_write

        atomic_write(case.case_toml, new_text.encode("utf-8"))
        logged = {
            **table,
            "made": made.isoformat() if made else None,
            "served": served.isoformat() if served else None,
        }
        case.log(actor).append("order_added", logged)
    return case.reload()
