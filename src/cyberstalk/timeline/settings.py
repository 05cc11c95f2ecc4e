"""Analysis settings: defaults, ``case.toml [settings]`` values and command-line overrides.

Every number here shapes what the report says, so every one is printed in the report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import time
from typing import Any

from cyberstalk.errors import CaseError, UsageError

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class Settings:
    """Thresholds of the course-of-conduct analysis (defaults in brackets)."""

    occasion_gap_hours: float = 6.0
    """A contact more than this many hours after the previous one starts a new occasion [6]."""
    night_start: time = time(22, 0)
    """Contacts at or after this local time count as night contacts [22:00]."""
    night_end: time = time(6, 0)
    """...and before this local time [06:00]."""
    fixated_min_days: int = 14
    """Fixated: contact spanning at least this many days, first to last [14]."""
    obsessive_daily: int = 5
    """Obsessive: at least this many contacts on one day [5]..."""
    obsessive_unanswered: int = 5
    """...or at least this many contacts in a row with no reply [5]..."""
    obsessive_channels: int = 3
    """...or at least this many channels used [3]."""
    unanswered_run_min: int = 3
    """Unanswered runs of at least this length are listed [3]."""
    html_collapse_rows: int = 5000
    """HTML chronology: above this many records, month sections start collapsed [5000]."""
    pdf_max_rows: int = 3000
    """PDF chronology: above this many records only cited records are printed [3000]."""

    def describe(self) -> list[tuple[str, str]]:
        """(setting, value) pairs in a fixed order, for reports."""
        out = []
        for f in fields(self):
            value = getattr(self, f.name)
            out.append((f.name, value.strftime("%H:%M") if isinstance(value, time) else str(value)))
        return out

    def as_dict(self) -> dict[str, Any]:
        return dict(self.describe())


SETTING_HELP = {
    "occasion_gap_hours": "hours without contact that start a new occasion",
    "night_start": "start of night hours (local time)",
    "night_end": "end of night hours (local time)",
    "fixated_min_days": "fixated: contact spanning at least this many days",
    "obsessive_daily": "obsessive: at least this many contacts on one day",
    "obsessive_unanswered": "obsessive: at least this many contacts in a row with no reply",
    "obsessive_channels": "obsessive: at least this many channels",
    "unanswered_run_min": "shortest unanswered run listed in the summary",
    "html_collapse_rows": "HTML: month sections start collapsed above this many records",
    "pdf_max_rows": "PDF: above this many records only cited records are printed",
}
"""One line per setting, printed in the report next to its value."""


def _coerce(name: str, value: Any, where: str, error: type[Exception]) -> Any:
    default = getattr(Settings(), name)
    if isinstance(default, time):
        if isinstance(value, time):
            return value.replace(tzinfo=None)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 23:
            return time(value, 0)
        if isinstance(value, str) and (m := _HHMM.match(value.strip())):
            return time(int(m.group(1)), int(m.group(2)))
        raise error(f'{where}: {name} must be a time like "22:00" (found {value!r})')
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise error(f"{where}: {name} must be a positive number of hours (found {value!r})")
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise error(f"{where}: {name} must be a positive whole number (found {value!r})")
    return value


def load_settings(
    case_settings: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Defaults, then ``case.toml [settings]``, then overrides (None values are ignored).

    Unknown keys in case.toml are left alone: the section is shared with other commands.
    """
    names = {f.name for f in fields(Settings)}
    settings = Settings()
    for key, value in case_settings.items():
        if key in names:
            coerced = _coerce(key, value, "case.toml [settings]", CaseError)
            settings = replace(settings, **{key: coerced})
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key not in names:
            raise UsageError(f"unknown timeline setting {key!r}; known: {', '.join(sorted(names))}")
        settings = replace(settings, **{key: _coerce(key, value, "option", UsageError)})
    return settings
