"""Load a script of ``fixtures/`` (which is not a package) as a module, once per process."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def load_fixture(name: str) -> ModuleType:
    """``fixtures/<name>.py`` as module ``fixture_<name>`` (registered in sys.modules so that
    its dataclasses can find their module; the fixture scripts import ``story`` by name, so
    fixtures/ goes on sys.path)."""
    module_name = f"fixture_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    if str(FIXTURES) not in sys.path:
        sys.path.insert(0, str(FIXTURES))
    spec = importlib.util.spec_from_file_location(module_name, FIXTURES / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
