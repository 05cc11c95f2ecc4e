"""Force-level stalking profile: many case folders -> monthly figures, never identities.

Each case is verified first (:func:`cyberstalk.hashing.verify.check_case`, as
``cyberstalk verify`` runs it); a case that fails is excluded and named with its reasons.
Included cases are analysed with :func:`cyberstalk.timeline.analyse`, and only
identity-free facts leave the analysis: months, platforms, indicator ids, whether contact
followed a block or the service of an order, and days from first contact to report.
Nothing of a case is changed (no custody event is written: a profile is read-only).

What counts, in one place (the reports print the same words, see :data:`DEFINITIONS`):

- *report time*: the earliest ``received_at`` of the case's exhibits in the signed
  manifest (the moment the force first took evidence in, from the hash-chained custody
  log); case.toml holds no created date, and the ``case_created`` event only says when a
  folder was opened;
- *first contact*: the earliest contact the timeline analysis counts from a person of
  interest to the victim (``PersonSummary.first``);
- *month*: the report month (default) or the first-contact month, in each case's own
  timezone (case.toml ``[case] timezone``).
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from cyberstalk.case import SPO_STATUSES, open_case
from cyberstalk.errors import CyberstalkError
from cyberstalk.hashing.manifest import load_manifest
from cyberstalk.hashing.verify import TimestampCheck, check_case
from cyberstalk.reports.common import generated_at
from cyberstalk.risk import GRADINGS, read_assessment
from cyberstalk.timeline import INDICATOR_IDS, analyse

FORMAT = "cyberstalk-profile/1"
SUPPRESS_BELOW = 5
"""Counts from 1 to SUPPRESS_BELOW - 1 are shown as ``<5`` unless exact counts are asked for."""

MONTH_BASES = ("report", "first-contact")

FOUR_IDS = ("fixated", "obsessive", "unwanted", "repeated")
"""FOUR, in the order of the mnemonic."""
S2A3_IDS = ("contact_any_means", "monitoring", "loitering", "publishing")
"""PHA 1997 s.2A(3) behaviours messages can show (as the timeline flags them)."""
OTHER_IDS = tuple(i for i in INDICATOR_IDS if i not in (*FOUR_IDS, *S2A3_IDS))
"""Threats, blocks, orders and patterns."""
INDICATOR_ORDER = (*FOUR_IDS, *S2A3_IDS, *OTHER_IDS)

LABELS = {
    "fixated": "Fixated",
    "obsessive": "Obsessive",
    "unwanted": "Unwanted",
    "repeated": "Repeated",
    "contact_any_means": "Contacting by any means (b)",
    "monitoring": "Monitoring (d, g)",
    "loitering": "Following, loitering, watching (a, e, g)",
    "publishing": "Publishing material (c)",
    "threats": "Threats",
    "contact_after_block": "Contact after a block",
    "new_identifier_after_block": "New identifier after a block",
    "order_breach": "Possible order breach",
    "night_contact": "Night contact",
    "third_party_contact": "Contact through third parties",
}
"""Short labels of every indicator id (the timeline's own titles can name people)."""

DEFINITIONS = (
    (
        "Cases",
        "Case folders that passed verification (hash chain, manifest, signature, every "
        "exhibit re-hashed) and whose timeline could be analysed. Each case is counted in "
        "one month.",
    ),
    (
        "Month",
        "The month of the report time (or, with --by first-contact, of the first contact), "
        "in each case's own timezone from case.toml.",
    ),
    (
        "Report time",
        "The earliest time the force received an exhibit of the case (received_at in the "
        "signed manifest, from the hash-chained custody log). case.toml has no created date.",
    ),
    (
        "First contact",
        "The earliest contact from a person of interest to the victim that the timeline "
        "analysis counts (duplicates and corroborating screenshot lines not counted).",
    ),
    (
        "Days to report",
        "Calendar days (case timezone) from first contact to report time: number of cases "
        "with both, median and quartiles; cases whose first counted contact came after the "
        "report time are counted apart and left out of the median.",
    ),
    (
        "Platforms",
        "Cases in which a person of interest contacted the victim on the platform.",
    ),
    (
        "Indicators",
        "Cases in which the timeline flagged the indicator (FOUR; s.2A(3) behaviours; "
        "threats, blocks, orders and patterns). Indicators are material for an officer's "
        "judgement, never findings.",
    ),
    ("Blocked", "Cases with a block event of a person of interest in the evidence."),
    (
        "Contact after block",
        "Cases where a person of interest contacted the victim after a block.",
    ),
    ("Order served", "Cases with a court order whose service time is recorded."),
    (
        "Possible order breach",
        "Cases with contact by an order's subject after it was served (possible breaches "
        "for the officer to assess).",
    ),
)


# ---------------------------------------------------------------- one case


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What a profile keeps of one included case: no name, identifier or message."""

    reference: str
    """The force's case reference (listed only among the included cases)."""
    folder: str
    """The folder's own name (shown only if the case is excluded as a repeat)."""
    force: str
    timezone: str
    report_month: str
    """``YYYY-MM`` of the report time in the case timezone."""
    first_contact_month: str | None
    days_to_report: int | None
    """Calendar days from first contact to report (negative: first contact after it)."""
    platforms: tuple[str, ...]
    indicators: tuple[str, ...]
    """Indicator ids raised, in :data:`INDICATOR_ORDER`."""
    blocked: bool
    contact_after_block: bool
    order_served: bool
    possible_breach: bool
    has_contact: bool
    newest_event: datetime
    """Generated-at candidate: the case's last custody event that changed it."""
    risk_assessed: bool = False
    """Any S-DASH answer or grading is recorded (``cyberstalk risk``)."""
    grading: str | None = None
    """The latest risk grading (standard, medium, high), if any."""
    spo_status: str | None = None
    """The latest SPO consideration step (``[[spo]]`` in case.toml), if any."""


@dataclass(frozen=True, slots=True)
class Excluded:
    """A case left out of the profile, and why."""

    folder: str
    """The folder's own name (not its full path)."""
    reference: str | None
    """Case reference, when case.toml could be read."""
    reasons: tuple[str, ...]
    """Why, in words that name no person or file (these go into the outputs)."""
    problems: tuple[str, ...] = ()
    """The full problems (verify's words, which can name exhibit files): stderr only."""


_REASONS = (
    (("custody.jsonl", "custody log"), "the custody log is broken or does not match"),
    (("manifest.sig", "signature", "signed by key", "public key", "keys/"), "the signature"),
    (("manifest-sha256.txt",), "the checksum file does not match the manifest"),
    (("manifest.json", "manifest was not re-sealed"), "the manifest does not match the log"),
    (("SHA-256 is", " size is ", "differs from the manifest"), "a stored exhibit changed"),
    (("is writable",), "stored evidence is writable"),
    (("no exhibit records it", "partial copy"), "files in evidence/ that nothing records"),
    (("is missing", "no longer a regular file", "cannot be read"), "a stored exhibit is missing"),
    (("timestamp", ".tsr", "token"), "a trusted timestamp does not verify"),
)


def verification_reasons(problems: Sequence[str]) -> tuple[str, ...]:
    """verify's problems as identity-free reasons with counts, in a fixed order.

    verify's own sentences name stored files, whose names carry the original file name
    (``WhatsApp Chat with <name>.txt``): they go to stderr, never into a profile.
    """
    counts: dict[str, int] = {}
    for problem in problems:
        reason = next(
            (text for keys, text in _REASONS if any(k in problem for k in keys)),
            "another verification problem",
        )
        counts[reason] = counts.get(reason, 0) + 1
    order = [text for _, text in _REASONS] + ["another verification problem"]
    return tuple(
        f"verification failed: {r} ({counts[r]} problem{'s' if counts[r] > 1 else ''})"
        for r in order
        if r in counts
    )


def _indicator_key(ind_id: str) -> tuple[int, str]:
    known = ind_id in INDICATOR_ORDER
    return (INDICATOR_ORDER.index(ind_id) if known else len(INDICATOR_ORDER), ind_id)


def _month(when: datetime, zone: ZoneInfo) -> str:
    return when.astimezone(zone).strftime("%Y-%m")


def examine_case(path: Path, timestamp_check: TimestampCheck | None = None) -> CaseFacts | Excluded:
    """Verify one case, then analyse it; never raises for a bad case (it is Excluded)."""
    folder = path.name or str(path)
    try:
        case = open_case(path)
    except CyberstalkError as exc:
        return Excluded(folder, None, ("not a readable case folder (case.toml)",), (exc.message,))
    ref = case.config.reference
    try:
        report = check_case(path, workers=1, timestamp_check=timestamp_check)
    except (OSError, CyberstalkError) as exc:
        return Excluded(folder, ref, ("verification could not run",), (str(exc),))
    if not report.ok:
        return Excluded(folder, ref, verification_reasons(report.problems), tuple(report.problems))
    try:
        a = analyse(case)
    except (CyberstalkError, OSError, ValueError) as exc:
        return Excluded(
            folder,
            ref,
            (f"the timeline could not be analysed ({type(exc).__name__})",),
            (str(exc),),
        )
    zone = ZoneInfo(case.config.timezone)
    exhibits = load_manifest(case.manifest_path).get("exhibits") or []
    received = sorted(
        datetime.fromisoformat(str(e["received_at"])).astimezone(UTC)
        for e in exhibits
        if isinstance(e, dict) and e.get("received_at")
    )
    if not received:  # verify refuses an empty manifest, so this is a malformed one
        return Excluded(folder, ref, ("no exhibit records when it was received",))
    reported = received[0]
    firsts = [ps.first for ps in a.summary.persons if ps.first is not None]
    first = min(firsts) if firsts else None
    days = (
        (reported.astimezone(zone).date() - first.astimezone(zone).date()).days
        if first is not None
        else None
    )
    raised = {i.id for i in a.indicators}
    assessment = read_assessment(case)
    return CaseFacts(
        reference=ref,
        folder=folder,
        force=case.config.force,
        timezone=case.config.timezone,
        report_month=_month(reported, zone),
        first_contact_month=_month(first, zone) if first is not None else None,
        days_to_report=days,
        platforms=tuple(
            sorted({plat for ps in a.summary.persons for plat, n in ps.channels if n > 0})
        ),
        indicators=tuple(sorted(raised, key=_indicator_key)),
        blocked=bool(a.after_block),
        contact_after_block=any(b.contacts for b in a.after_block),
        order_served=any(o.served is not None for o in case.config.orders),
        possible_breach=any(b.records for b in a.breaches),
        has_contact=first is not None,
        newest_event=generated_at(case.custody_path),
        risk_assessed=assessment.recorded,
        grading=assessment.grading.grading if assessment.grading else None,
        spo_status=case.config.spo[-1].status if case.config.spo else None,
    )


# ---------------------------------------------------------------- aggregation


@dataclass(frozen=True, slots=True)
class DaysStats:
    """Days from first contact to report over a group of cases."""

    cases: int
    """Cases with a first contact at or before the report time."""
    median: float | None
    p25: float | None
    p75: float | None
    after_report: int
    """Cases whose first counted contact came after the report time (not in the median)."""


@dataclass(frozen=True, slots=True)
class Figures:
    """Counts of cases for one month (or all months)."""

    cases: int
    no_counted_contact: int
    platforms: tuple[tuple[str, int], ...]
    """(platform, cases) for every platform of the profile, sorted."""
    indicators: tuple[tuple[str, int], ...]
    """(indicator id, cases) for every id in :data:`INDICATOR_ORDER` (and any other seen)."""
    blocked: int
    contact_after_block: int
    order_served: int
    possible_breach: int
    days_to_report: DaysStats
    risk_assessed: int = 0
    """Cases with a recorded risk assessment (any S-DASH answer or grading)."""
    gradings: tuple[tuple[str, int], ...] = ()
    """(grading, cases) for standard, medium and high: each case's latest grading."""
    spo_considered: int = 0
    """Cases with any SPO consideration step recorded."""
    spo: tuple[tuple[str, int], ...] = ()
    """(status, cases) by each case's latest SPO step."""

    def indicator(self, ind_id: str) -> int:
        return dict(self.indicators).get(ind_id, 0)


@dataclass(frozen=True, slots=True)
class Profile:
    """The force-level profile: figures per month and over all months, plus which cases."""

    month_basis: str
    """``report`` or ``first-contact``."""
    generated_at: datetime
    generated_at_basis: str
    months: tuple[tuple[str, Figures], ...]
    total: Figures
    platforms: tuple[str, ...]
    indicator_ids: tuple[str, ...]
    included: tuple[str, ...]
    """Case references, sorted."""
    excluded: tuple[Excluded, ...]
    forces: tuple[str, ...]
    timezones: tuple[str, ...]
    without_month: int = 0
    """Cases in the total but in no month (first-contact basis, no counted contact)."""


def _quartiles(values: list[int]) -> tuple[float | None, float | None, float | None]:
    if not values:
        return None, None, None
    if len(values) == 1:
        v = float(values[0])
        return v, v, v
    q1, _median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return float(statistics.median(values)), round(q1, 1), round(q3, 1)


def figures(cases: Sequence[CaseFacts], platforms: Sequence[str], ids: Sequence[str]) -> Figures:
    """Count ``cases`` (every platform and indicator id listed, zeros included)."""
    days = [c.days_to_report for c in cases if c.days_to_report is not None]
    median, p25, p75 = _quartiles(sorted(d for d in days if d >= 0))
    return Figures(
        cases=len(cases),
        no_counted_contact=sum(1 for c in cases if not c.has_contact),
        platforms=tuple((p, sum(1 for c in cases if p in c.platforms)) for p in platforms),
        indicators=tuple((i, sum(1 for c in cases if i in c.indicators)) for i in ids),
        blocked=sum(1 for c in cases if c.blocked),
        contact_after_block=sum(1 for c in cases if c.contact_after_block),
        order_served=sum(1 for c in cases if c.order_served),
        possible_breach=sum(1 for c in cases if c.possible_breach),
        risk_assessed=sum(1 for c in cases if c.risk_assessed),
        gradings=tuple((g, sum(1 for c in cases if c.grading == g)) for g in GRADINGS),
        spo_considered=sum(1 for c in cases if c.spo_status is not None),
        spo=tuple((st, sum(1 for c in cases if c.spo_status == st)) for st in SPO_STATUSES),
        days_to_report=DaysStats(
            cases=sum(1 for d in days if d >= 0),
            median=median,
            p25=p25,
            p75=p75,
            after_report=sum(1 for d in days if d < 0),
        ),
    )


def aggregate(
    results: Iterable[CaseFacts | Excluded],
    *,
    month_basis: str = "report",
    pinned: datetime | None = None,
) -> Profile:
    """The profile of examined cases. A second case with a reference already counted is
    excluded (the same case given twice, or two folders of one case)."""
    if month_basis not in MONTH_BASES:
        raise ValueError(f"month basis {month_basis!r} is not one of {MONTH_BASES}")
    included: dict[str, CaseFacts] = {}
    excluded: list[Excluded] = []
    for r in results:
        if isinstance(r, Excluded):
            excluded.append(r)
        elif r.reference in included:
            excluded.append(
                Excluded(
                    r.folder,
                    r.reference,
                    ("the same case reference as another folder given: counted once",),
                )
            )
        else:
            included[r.reference] = r
    cases = [included[k] for k in sorted(included)]
    platforms = tuple(sorted({p for c in cases for p in c.platforms}))
    extra = sorted({i for c in cases for i in c.indicators} - set(INDICATOR_ORDER))
    ids = (*INDICATOR_ORDER, *extra)
    by_month: dict[str, list[CaseFacts]] = {}
    without_month = 0
    for c in cases:
        month = c.report_month if month_basis == "report" else c.first_contact_month
        if month is None:
            without_month += 1
            continue
        by_month.setdefault(month, []).append(c)
    if pinned is not None:
        when, basis = pinned, "SOURCE_DATE_EPOCH"
    elif cases:
        when = max(c.newest_event for c in cases)
        basis = "the newest custody event of the included cases"
    else:
        when, basis = datetime(1970, 1, 1, tzinfo=UTC), "no case included"
    return Profile(
        month_basis=month_basis,
        generated_at=when.astimezone(UTC),
        generated_at_basis=basis,
        months=tuple(
            (m, figures(by_month.get(m, []), platforms, ids))
            for m in _month_range(sorted(by_month))
        )
        if by_month
        else (),
        total=figures(cases, platforms, ids),
        platforms=platforms,
        indicator_ids=ids,
        included=tuple(sorted(included)),
        excluded=tuple(sorted(excluded, key=lambda e: (e.reference or "", e.folder, e.reasons))),
        forces=tuple(sorted({c.force for c in cases})),
        timezones=tuple(sorted({c.timezone for c in cases})),
        without_month=without_month,
    )


def _month_range(months: list[str]) -> Iterator[str]:
    """Every month from the first to the last (months without cases are shown as 0)."""
    year, month = map(int, months[0].split("-"))
    last = months[-1]
    while True:
        key = f"{year:04d}-{month:02d}"
        yield key
        if key >= last:
            return
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


# ---------------------------------------------------------------- many cases


def _pinned_time() -> datetime | None:
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return generated_at(None)
    return None


def examine_cases(
    paths: Sequence[Path],
    *,
    jobs: int | None = None,
    timestamp_check: TimestampCheck | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[CaseFacts | Excluded]:
    """:func:`examine_case` for every path, in the order given, over ``jobs`` processes
    (default: every core). A case is a verify and an analysis, short beside a process's
    start-up, so fewer than 16 cases are done in this process."""
    total = len(paths)
    jobs = max(1, jobs or os.cpu_count() or 1)
    work = partial(examine_case, timestamp_check=timestamp_check)
    out: list[CaseFacts | Excluded] = []
    if jobs == 1 or total < 16:
        for path in paths:
            out.append(work(path))
            if progress:
                progress(len(out), total)
        return out
    # fork: workers inherit the loaded library (phonenumbers, lexicons) instead of paying
    # ~0.3 s each to import it again; elsewhere the platform default is used.
    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)
    chunk = max(1, min(32, total // (jobs * 8)))
    with ProcessPoolExecutor(max_workers=min(jobs, total), mp_context=ctx) as pool:
        for result in pool.map(work, paths, chunksize=chunk):
            out.append(result)
            if progress:
                progress(len(out), total)
    return out


def build_profile(
    paths: Sequence[Path],
    *,
    month_basis: str = "report",
    jobs: int | None = None,
    timestamp_check: TimestampCheck | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Profile:
    """Verify and analyse every case folder, then aggregate. ``Profile.excluded`` carries
    each excluded case's full problems too (for stderr; renderers show only reasons)."""
    if month_basis not in MONTH_BASES:
        raise ValueError(f"month basis {month_basis!r} is not one of {MONTH_BASES}")
    seen: set[Path] = set()
    unique: list[Path] = []
    for p in paths:  # the same folder named twice is examined once
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    results = examine_cases(unique, jobs=jobs, timestamp_check=timestamp_check, progress=progress)
    return aggregate(results, month_basis=month_basis, pinned=_pinned_time())
