"""One exception base for the toolkit and the exit codes of ARCHITECTURE.md.

The CLI catches :class:`CyberstalkError` in one place and maps it to a message on stderr
and an exit code; anything else is a bug and keeps its traceback (exit 4).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, shared by every command."""

    OK = 0
    """Success."""
    FINDINGS = 1
    """Verification failed, or findings that need an officer's attention."""
    USAGE = 2
    """The command line was wrong."""
    INPUT = 3
    """Input could not be processed (bad file, unsupported format, unusable case)."""
    INTERNAL = 4
    """An internal fault: a bug in the toolkit."""


class CyberstalkError(Exception):
    """Base of every error the toolkit raises on purpose.

    ``message`` states the fact (what, where, expected vs found); ``advice`` is one
    sentence telling the user what to do about it.
    """

    exit_code: ExitCode = ExitCode.INPUT

    def __init__(self, message: str, *, advice: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.advice = advice

    def __str__(self) -> str:
        if self.advice:
            return f"{self.message}\n  hint: {self.advice}"
        return self.message


class UsageError(CyberstalkError):
    """Arguments that cannot work together or name nothing usable."""

    exit_code = ExitCode.USAGE


class CaseError(CyberstalkError):
    """The case folder is missing, malformed, or cannot be written."""


class CaseLockedError(CaseError):
    """Another process holds the case lock."""


class IngestError(CyberstalkError):
    """An item of a submission could not be taken into the case."""

    def __init__(self, message: str, *, path: str | None = None, advice: str | None = None):
        super().__init__(message, advice=advice)
        self.path = path


class ArchiveError(IngestError):
    """An archive or one of its members was refused (traversal, bomb, CRC, encryption...)."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        member: str | None = None,
        advice: str | None = None,
    ) -> None:
        super().__init__(message, path=path, advice=advice)
        self.member = member


class ParseError(CyberstalkError):
    """An export could not be parsed. Carries the file and position of the fault."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        position: str | None = None,
        advice: str | None = None,
        records_before_fault: int | None = None,
    ) -> None:
        where = ""
        if path:
            where = f"{path}"
            if position:
                where += f" ({position})"
            where += ": "
        super().__init__(where + message, advice=advice)
        self.path = path
        self.position = position
        self.records_before_fault = records_before_fault


class DateOrderError(ParseError):
    """The file's dates fit more than one day/month/year order (or none the user named).

    ``orders`` are the orders still possible, so that a caller can name them in a hint
    (``cyberstalk process CASE --exhibit REF --date-order ...`` inside a case)."""

    def __init__(
        self,
        message: str,
        *,
        orders: Sequence[str],
        path: str | None = None,
        advice: str | None = None,
    ) -> None:
        super().__init__(message, path=path, advice=advice)
        self.orders = tuple(orders)


class UnrecognisedFormatError(ParseError):
    """No parser recognised the file."""


class MediaError(CyberstalkError):
    """An image could not be read safely (corrupt, truncated, decompression bomb)."""


class TimestampError(CyberstalkError):
    """An RFC 3161 timestamp could not be obtained or did not verify."""


class ReportError(CyberstalkError):
    """A report or export could not be produced."""


class VerificationError(CyberstalkError):
    """Verification found problems. ``problems`` lists every one, not only the first."""

    exit_code = ExitCode.FINDINGS

    def __init__(self, problems: Sequence[object], *, advice: str | None = None) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(
            f"verification failed: {count} problem{'s' if count != 1 else ''}", advice=advice
        )
