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
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cyberstalk import TOOL_NAME, __version__
from cyberstalk.errors import CaseError, CaseLockedError, UsageError
from cyberstalk.hashing.custody import CustodyLog
from cyberstalk.identifiers import IDENTIFIER_TYPES, check_identifier, identifier_key

DEFAULT_TIMEZONE = "Europe/London"
DEFAULT_FORCE = "North Wales Police"
INITIALS_RE = re.compile(r"^[A-Z]{1,5}$")
ROLES = ("victim", "suspect", "witness", "other")

SUBDIRS = ("evidence", "derived", "reports", "timestamps", "keys")


def tool_string() -> str:
    """Tool name and version as recorded in custody events and manifests."""
    return f"{TOOL_NAME} {__version__}"


class Identifier(NamedTuple):
    """One way a person shows up in evidence."""

    type: str
    """phone, email, username, display_name or account_id."""
    value: str
    """The identifier as the officer entered it."""
    platform: str | None = None
    """Platform the identifier belongs to (usernames are per platform)."""


class Person(NamedTuple):
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


class Order(NamedTuple):
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


SPO_STATUSES = ("considered", "applied", "granted", "refused", "not_applied")
"""Where a Stalking Protection Order stands: considered (and whether to apply decided or
not), applied for, granted or refused by the court, or considered and not applied for."""


class SpoRecord(NamedTuple):
    """One step in considering a Stalking Protection Order (``[[spo]]`` in case.toml)."""

    subject: str
    """The person it would bind (a Person name)."""
    status: str
    """One of :data:`SPO_STATUSES`."""
    date: date
    """When this step happened."""
    reasons: str
    """Why (e.g. why an order was or was not applied for)."""


class CaseConfig(NamedTuple):
    """The contents of ``case.toml``."""

    reference: str
    officer: str
    exhibit_prefix: str
    timezone: str = DEFAULT_TIMEZONE
    force: str = DEFAULT_FORCE
    people: tuple[Person, ...] = ()
    orders: tuple[Order, ...] = ()
    spo: tuple[SpoRecord, ...] = ()
    """SPO consideration records, in the order entered (the last is the latest step)."""
    settings: Mapping[str, Any] = MappingProxyType({})
    raw: Mapping[str, Any] = MappingProxyType({})
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


CASE_KEYS = ("reference", "officer", "exhibit_prefix", "timezone", "force")
PERSON_KEYS = ("name", "role", "identifiers", "address")
IDENTIFIER_KEYS = ("type", "value", "platform")
ORDER_KEYS = ("kind", "subject", "made", "served", "conditions")
SPO_KEYS = ("subject", "status", "date", "reasons")
TIMELINE_SETTINGS = (
    "occasion_gap_hours",
    "night_start",
    "night_end",
    "fixated_min_days",
    "obsessive_daily",
    "obsessive_unanswered",
    "obsessive_channels",
    "unanswered_run_min",
    "html_collapse_rows",
    "pdf_max_rows",
)
"""The timeline's ``[settings]`` keys (``timeline.settings.Settings``; a test holds the two
lists equal)."""
SETTINGS_KEYS = ("legacy_digests", *TIMELINE_SETTINGS)
TABLES = {
    "case": CASE_KEYS,
    "people": PERSON_KEYS,
    "orders": ORDER_KEYS,
    "spo": SPO_KEYS,
    "settings": SETTINGS_KEYS,
    "timestamps": ("tsa",),
}
"""Every table case.toml may hold, and the keys each may hold: anything else is refused,
so that a misspelt table (``[[peopel]]``) or a key written under the wrong table (a person
after ``[settings]``) is an error, never an entry silently ignored."""


def _check_keys(table: Mapping[str, Any], known: tuple[str, ...], where: str, source: str) -> None:
    unknown = [k for k in table if k not in known]
    if not unknown:
        return
    key = unknown[0]
    advice = f"known keys there: {', '.join(known)}; fix or remove it by hand"
    if where == "[settings]" and key in ("people", "orders"):
        advice = (
            f"a {key[:-1] if key == 'orders' else 'person'} written after [settings] lands "
            f"inside it: give it a table of its own ([[{key}]] on a line of its own)"
        )
    elif where == "the file" and isinstance(table[key], Mapping | list):
        advice = f"known tables: {', '.join(known)}; check the spelling"
    raise CaseError(f"{source}: unknown key {key!r} in {where}", advice=advice)


def parse_config(data: Mapping[str, Any], source: str = "case.toml") -> CaseConfig:
    """Validate parsed TOML into a CaseConfig; errors name the key at fault. Unknown
    tables and keys are refused (see :data:`TABLES`)."""
    _check_keys(data, tuple(TABLES), "the file", source)
    case = data.get("case")
    if not isinstance(case, dict):
        raise CaseError(f"{source}: missing [case] table")
    _check_keys(case, CASE_KEYS, "[case]", source)
    for key in ("reference", "officer", "exhibit_prefix"):
        if not isinstance(case.get(key), str) or not case[key].strip():
            raise CaseError(f"{source}: [case] {key} must be a non-empty string")
    tz = case.get("timezone", DEFAULT_TIMEZONE)
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise CaseError(f"{source}: [case] timezone {tz!r} is not a known IANA zone") from exc
    for name in ("people", "orders", "spo"):
        if not isinstance(data.get(name, []), list):
            raise CaseError(f"{source}: {name} must be an array of tables ([[{name}]])")
    for name in ("settings", "timestamps"):
        if not isinstance(data.get(name, {}), dict):
            raise CaseError(f"{source}: {name} must be a table ([{name}])")
    _check_keys(data.get("settings", {}), SETTINGS_KEYS, "[settings]", source)
    _check_keys(data.get("timestamps", {}), ("tsa",), "[timestamps]", source)
    people: list[Person] = []
    for i, p in enumerate(data.get("people", [])):
        if not isinstance(p, dict) or not p.get("name"):
            raise CaseError(f"{source}: people[{i}] needs a name")
        _check_keys(p, PERSON_KEYS, f"people[{i}] ({p['name']})", source)
        role = p.get("role", "other")
        if role not in ROLES:
            raise CaseError(f"{source}: people[{i}] role {role!r} is not one of {', '.join(ROLES)}")
        idents = []
        raw_idents = p.get("identifiers", [])
        if not isinstance(raw_idents, list):
            raise CaseError(f"{source}: people[{i}].identifiers must be an array")
        for j, ident in enumerate(raw_idents):
            if not isinstance(ident, dict) or ident.get("type") not in IDENTIFIER_TYPES:
                raise CaseError(
                    f"{source}: people[{i}].identifiers[{j}] needs a type from "
                    f"{', '.join(IDENTIFIER_TYPES)}"
                )
            _check_keys(ident, IDENTIFIER_KEYS, f"people[{i}].identifiers[{j}]", source)
            platform = ident.get("platform")
            idents.append(
                Identifier(
                    str(ident["type"]),
                    str(ident.get("value", "")),
                    None if platform is None else str(platform),
                )
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
        _check_keys(o, ORDER_KEYS, f"orders[{i}] ({o['kind']})", source)
        made = o.get("made")
        if made is not None and not isinstance(made, date):
            raise CaseError(f"{source}: orders[{i}].made must be a TOML date")
        if isinstance(made, datetime):
            made = made.date()
        conditions = o.get("conditions", [])
        if not isinstance(conditions, list):
            raise CaseError(f"{source}: orders[{i}].conditions must be an array of strings")
        orders.append(
            Order(
                kind=str(o["kind"]),
                subject=str(o["subject"]),
                made=made,
                served=_parse_served(o.get("served"), zone, f"orders[{i}].served"),
                conditions=tuple(str(c) for c in conditions),
            )
        )
    spo: list[SpoRecord] = []
    for i, rec in enumerate(data.get("spo", [])):
        if not isinstance(rec, dict):
            raise CaseError(f"{source}: spo[{i}] must be a table")
        _check_keys(rec, SPO_KEYS, f"spo[{i}]", source)
        if rec.get("status") not in SPO_STATUSES:
            raise CaseError(
                f"{source}: spo[{i}].status {rec.get('status')!r} is not one of "
                f"{', '.join(SPO_STATUSES)}"
            )
        when = rec.get("date")
        if isinstance(when, datetime):
            when = when.date()
        if not isinstance(when, date) or not str(rec.get("subject") or "").strip():
            raise CaseError(f"{source}: spo[{i}] needs a subject and a TOML date")
        spo.append(
            SpoRecord(str(rec["subject"]), str(rec["status"]), when, str(rec.get("reasons", "")))
        )
    return CaseConfig(
        reference=case["reference"],
        officer=case["officer"],
        exhibit_prefix=case["exhibit_prefix"],
        timezone=tz,
        force=case.get("force", DEFAULT_FORCE),
        people=tuple(people),
        orders=tuple(orders),
        spo=tuple(spo),
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


class Case(NamedTuple):
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
    case_table = (
        _toml()
        .dumps(
            {
                "case": {
                    "reference": reference,
                    "officer": officer,
                    "exhibit_prefix": initials,
                    "timezone": timezone,
                    "force": force,
                }
            }
        )
        .strip()
    )
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


def _toml() -> Any:
    """tomlkit, imported by the commands that write case.toml only (not at start-up)."""
    import tomlkit

    return tomlkit


def _edit_case_toml(
    case: Case,
    command: str,
    edit: Callable[[Any], None],
    check: Callable[[CaseConfig], bool],
) -> None:
    """Change case.toml through tomlkit's document model, under the case lock.

    The file is read again under the lock, edited as a document (so the officer's
    comments, order and spacing survive), and written only if it still parses into a
    CaseConfig in which ``check`` finds the change: a write that could lose or misplace
    an entry (as appending text after ``[settings]`` once did) stops here instead.
    """
    tomlkit = _toml()
    from cyberstalk.hashing.fsutil import atomic_write

    text = case.case_toml.read_text("utf-8")
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.TOMLKitError as exc:
        raise CaseError(f"{case.case_toml}: invalid TOML: {exc}") from exc
    before = parse_config(tomllib.loads(text), str(case.case_toml))
    edit(doc)
    new_text = tomlkit.dumps(doc)
    after = parse_config(tomllib.loads(new_text), str(case.case_toml))
    if not check(after) or not _kept(before, after):
        raise RuntimeError(f"{command}: the edited case.toml does not read back as intended")
    atomic_write(case.case_toml, new_text.encode("utf-8"))


def _kept(before: CaseConfig, after: CaseConfig) -> bool:
    """Every person, identifier and order of ``before`` is still in ``after``."""
    people = {p.name: p for p in after.people}
    for person in before.people:
        now = people.get(person.name)
        if now is None or not set(person.identifiers) <= set(now.identifiers):
            return False
    return all(o in after.orders for o in before.orders) and after.spo[: len(before.spo)] == (
        before.spo
    )


def _array_of_tables(doc: Any, key: str) -> Any:
    """``doc[key]`` as a list we can append a table to, made if absent."""
    tomlkit = _toml()
    if key not in doc:
        doc.append(key, tomlkit.aot())
    return doc[key]


def _append_table(items: Any, table: Mapping[str, Any]) -> None:
    """Append ``table`` to an array of tables (``[[x]]``) or an inline array (``x = [..]``),
    whichever the officer's file uses."""
    tomlkit = _toml()
    if isinstance(items, tomlkit.items.AoT):
        item = tomlkit.table()
        item.trivia.indent = "\n"  # a blank line before its [[header]]
    else:
        item = tomlkit.inline_table()
    for k, v in table.items():
        item[k] = v
    items.append(item)


def _identifier_array(identifiers: list[Identifier]) -> Any:
    tomlkit = _toml()
    array = tomlkit.array()
    for ident in identifiers:
        array.append(_identifier_table(ident))
    if identifiers:
        array.multiline(True)
    return array


def _identifier_table(ident: Identifier) -> Any:
    item = _toml().inline_table()
    item["type"] = ident.type
    item["value"] = ident.value
    if ident.platform:
        item["platform"] = ident.platform
    return item


def _identifier_dict(ident: Identifier) -> dict[str, str]:
    out = {"type": ident.type, "value": ident.value}
    if ident.platform:
        out["platform"] = ident.platform
    return out


def _check_new_identifiers(
    case: Case, identifiers: list[Identifier], person: str | None = None
) -> None:
    """Refuse an identifier that is malformed, given twice, or already another person's
    (one identifier resolving to two people would make every record from it ambiguous)."""
    owners = {identifier_key(i): p.name for p in case.config.people for i in p.identifiers}
    seen: set[str] = set()
    for ident in identifiers:
        problem = check_identifier(ident)
        shown = f"{ident.type}:{ident.value}" + (f"@{ident.platform}" if ident.platform else "")
        if problem:
            raise UsageError(f"identifier {shown}: {problem}")
        key = identifier_key(ident)
        owner = owners.get(key)
        if owner is not None:
            whose = "this person's" if owner == person else f"{owner!r}'s"
            raise UsageError(
                f"identifier {shown} is already {whose} in case.toml",
                advice="one identifier belongs to one person; correct case.toml by hand if "
                "it was entered against the wrong person",
            )
        if key in seen:
            raise UsageError(f"identifier {shown} is given twice")
        seen.add(key)


def add_person(
    case: Case, *, name: str, role: str, identifiers: list[Identifier], actor: str | None = None
) -> Case:
    """Add a ``[[people]]`` table to case.toml (keeping the officer's comments); logged."""
    if role not in ROLES:
        raise UsageError(f"role {role!r} must be one of {', '.join(ROLES)}")
    if not name.strip():
        raise UsageError("a person needs a name")
    with case.lock("case person add"):
        case = case.reload()
        if any(p.name == name for p in case.config.people):
            raise UsageError(
                f"{name!r} is already a person in this case",
                advice=f"add identifiers with `cyberstalk case person add-id {case.root} "
                f"--name {_shell_word(name)} --id TYPE:VALUE`",
            )
        _check_new_identifiers(case, identifiers)

        def edit(doc: Any) -> None:
            table: dict[str, Any] = {"name": name, "role": role}
            table["identifiers"] = _identifier_array(identifiers)
            _append_table(_array_of_tables(doc, "people"), table)

        def check(cfg: CaseConfig) -> bool:
            return any(
                p.name == name and p.role == role and p.identifiers == tuple(identifiers)
                for p in cfg.people
            )

        _edit_case_toml(case, "case person add", edit, check)
        case.log(actor).append(
            "person_added",
            {
                "name": name,
                "role": role,
                "identifiers": [_identifier_dict(i) for i in identifiers],
            },
        )
    return case.reload()


def add_identifiers(
    case: Case, *, name: str, identifiers: list[Identifier], actor: str | None = None
) -> Case:
    """Add identifiers to a person already in case.toml; logged as ``identifiers_added``."""
    if not identifiers:
        raise UsageError("give at least one --id TYPE:VALUE")
    with case.lock("case person add-id"):
        case = case.reload()
        names = [p.name for p in case.config.people]
        if name not in names:
            close = [n for n in names if n.casefold() == name.casefold()]
            raise UsageError(
                f"{name!r} is not a person in this case",
                advice=f"did you mean {close[0]!r}?"
                if close
                else "add them with `cyberstalk case person add` (people: "
                + (", ".join(names) or "none yet")
                + ")",
            )
        _check_new_identifiers(case, identifiers, person=name)
        index = names.index(name)

        def edit(doc: Any) -> None:
            table = doc["people"][index]
            if "identifiers" not in table:
                table["identifiers"] = _identifier_array([])
            items = table["identifiers"]
            for ident in identifiers:
                _append_table(items, _identifier_dict(ident))
            if isinstance(items, _toml().items.Array):
                items.multiline(True)

        def check(cfg: CaseConfig) -> bool:
            person = cfg.people[index]
            return person.name == name and set(identifiers) <= set(person.identifiers)

        _edit_case_toml(case, "case person add-id", edit, check)
        case.log(actor).append(
            "identifiers_added",
            {"name": name, "identifiers": [_identifier_dict(i) for i in identifiers]},
        )
    return case.reload()


def set_setting(case: Case, key: str, value: Any, actor: str | None = None) -> Case:
    """Set one ``[settings]`` key in case.toml (value already checked by the caller);
    logged as ``setting_changed`` with the old and new values."""
    if key not in SETTINGS_KEYS:
        raise UsageError(
            f"unknown setting {key!r}", advice=f"known settings: {', '.join(SETTINGS_KEYS)}"
        )
    with case.lock("case set"):
        case = case.reload()
        old = case.config.settings.get(key)

        def edit(doc: Any) -> None:
            if "settings" not in doc:
                doc.append("settings", _toml().table())
            doc["settings"][key] = value

        def check(cfg: CaseConfig) -> bool:
            return bool(cfg.settings.get(key) == value)

        _edit_case_toml(case, "case set", edit, check)
        case.log(actor).append(
            "setting_changed", {"key": key, "old": _loggable(old), "new": _loggable(value)}
        )
    return case.reload()


def _loggable(value: Any) -> Any:
    """A setting's value for the custody log (TOML times and dates as ISO text)."""
    isoformat = getattr(value, "isoformat", None)
    return isoformat() if callable(isoformat) else value


def _shell_word(text: str) -> str:
    import shlex

    return shlex.quote(text)


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
    """Add an ``[[orders]]`` table to case.toml (keeping comments) and log it."""
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
    with case.lock("case order add"):
        case = case.reload()
        people = [p.name for p in case.config.people]
        if people and subject not in people:
            raise UsageError(
                f"--subject {subject!r} is not a person in this case",
                advice=f"people: {', '.join(people)} (add them with `cyberstalk case person add`)",
            )
        wanted = Order(
            kind=kind,
            subject=subject,
            made=made,
            served=_parse_served(served, case.config.zone, "served"),
            conditions=tuple(conditions),
        )
        _edit_case_toml(
            case,
            "case order add",
            lambda doc: _append_table(_array_of_tables(doc, "orders"), table),
            lambda cfg: wanted in cfg.orders,
        )
        logged = {
            **table,
            "made": made.isoformat() if made else None,
            "served": served.isoformat() if served else None,
        }
        case.log(actor).append("order_added", logged)
    return case.reload()


def add_spo_record(
    case: Case,
    *,
    subject: str,
    status: str,
    when: date,
    reasons: str,
    actor: str | None = None,
) -> Case:
    """Add an ``[[spo]]`` step (considered, applied, granted, refused, not_applied) to
    case.toml and log it as ``spo_recorded``; a later step is a new entry, never an edit.
    Recommendation 13 asks for an SPO to be considered in every stalking case: the force
    profile counts these."""
    if status not in SPO_STATUSES:
        raise UsageError(f"--status {status!r} must be one of {', '.join(SPO_STATUSES)}")
    if not reasons.strip():
        raise UsageError("an SPO step needs its reasons", advice='add --reason "why"')
    with case.lock("case order spo"):
        case = case.reload()
        people = [p.name for p in case.config.people]
        if subject not in people:
            raise UsageError(
                f"--subject {subject!r} is not a person in this case",
                advice=f"people: {', '.join(people) or 'none yet'} "
                "(add them with `cyberstalk case person add`)",
            )
        table = {"subject": subject, "status": status, "date": when, "reasons": reasons}
        wanted = SpoRecord(subject, status, when, reasons)
        _edit_case_toml(
            case,
            "case order spo",
            lambda doc: _append_table(_array_of_tables(doc, "spo"), table),
            lambda cfg: bool(cfg.spo) and cfg.spo[-1] == wanted,
        )
        case.log(actor).append("spo_recorded", {**table, "date": when.isoformat()})
    return case.reload()
