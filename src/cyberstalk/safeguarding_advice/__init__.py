"""Safeguarding advice content: topic modules in English and Welsh, contacts, selection.

Content is data (``en/*.md``, ``cy/*.md``, ``contacts.toml``, ``rules.toml``); this package
loads and checks it and chooses topics for a sheet. Rendering lives in
:mod:`cyberstalk.reports.advice`.
"""

from cyberstalk.safeguarding_advice.content import (
    LANGUAGES,
    AdviceContentError,
    Contact,
    Module,
    load_contacts,
    load_modules,
    phone_numbers,
)
from cyberstalk.safeguarding_advice.selection import (
    Selection,
    catalogue,
    load_rules,
    select,
    select_for_case,
)

__all__ = [
    "LANGUAGES",
    "AdviceContentError",
    "Contact",
    "Module",
    "Selection",
    "catalogue",
    "load_contacts",
    "load_modules",
    "load_rules",
    "phone_numbers",
    "select",
    "select_for_case",
]
