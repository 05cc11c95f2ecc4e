"""Sample text shared by the advice tests (a module: conftest is not importable by name)."""

HARD_SAMPLE = (
    "Notwithstanding the aforementioned considerations, practitioners should "
    "systematically contemporaneously document electronically mediated communications "
    "notwithstanding jurisdictional complications."
)
