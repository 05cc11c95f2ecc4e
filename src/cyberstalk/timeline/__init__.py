"""Course-of-conduct timeline: identities -> directed contacts -> occasions -> indicators.

:func:`analyse` is the one entry point; reports render its :class:`Analysis`. The
analysis reads records only (``derived/``) and case.toml; it changes nothing.

Modules: :mod:`.analysis` (the passes over the records), :mod:`.identities` (who sent
what), :mod:`.occasions`, :mod:`.summary` (per-person figures), :mod:`.indicators` (FOUR
and s.2A(3)), :mod:`.lexicon` (the phrase lists), :mod:`.model` (the results),
:mod:`.settings`.
"""

from __future__ import annotations

from cyberstalk.timeline.analysis import analyse, analyse_records
from cyberstalk.timeline.indicators import INDICATOR_IDS
from cyberstalk.timeline.model import (
    AfterBlock,
    Analysis,
    Breach,
    Direction,
    Entry,
    Indicator,
    Occasion,
    PersonSummary,
    Run,
    Summary,
)
from cyberstalk.timeline.settings import Settings

__all__ = [
    "INDICATOR_IDS",
    "AfterBlock",
    "Analysis",
    "Breach",
    "Direction",
    "Entry",
    "Indicator",
    "Occasion",
    "PersonSummary",
    "Run",
    "Settings",
    "Summary",
    "analyse",
    "analyse_records",
]
