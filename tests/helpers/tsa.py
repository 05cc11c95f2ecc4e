"""A real RFC 3161 TSA on 127.0.0.1 for tests: ``scripts/demo_tsa.py`` behind pytest fixtures.

Use from any test package's conftest.py::

    from helpers.tsa import local_tsa, tsa_factory  # noqa: F401  (re-exported fixtures)

``local_tsa`` is one TSA answering with ``openssl ts -reply``; ``tsa_factory(...)`` starts
more (``backend="asn1"`` for tokens OpenSSL refuses to make, identity options such as
``eku_critical=False``). Every TSA started is stopped at teardown.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "demo_tsa.py"


def _load() -> Any:
    name = "cyberstalk_demo_tsa"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, _SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


demo_tsa = _load()
LocalTsa = demo_tsa.LocalTsa
make_identity = demo_tsa.make_identity
build_reply_asn1 = demo_tsa.build_reply_asn1


@pytest.fixture
def tsa_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    started: list[Any] = []

    def start(backend: str = "openssl", **identity: Any) -> Any:
        workdir = tmp_path_factory.mktemp("tsa")
        tsa = demo_tsa.start_tsa(workdir, backend=backend, **identity)
        started.append(tsa)
        return tsa

    yield start
    for tsa in started:
        tsa.stop()


@pytest.fixture
def local_tsa(tsa_factory: Callable[..., Any]) -> Any:
    """A TSA signing with ``openssl ts -reply``; ``.url``, ``.root_pem``, ``.mode``."""
    return tsa_factory()


def write_root(tsa: Any, path: Path) -> Path:
    """Write the TSA's root certificate (PEM) to ``path`` and return it."""
    path.write_bytes(tsa.root_pem)
    return path
