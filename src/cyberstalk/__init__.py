"""cyberstalk: evidence intake, chain of custody, course-of-conduct timelines and
safeguarding advice for digital stalking cases."""

TOOL_NAME = "cyberstalk"

__version__ = "0.1.0"
"""The one place the version is written (pyproject.toml reads it from here): recorded in
every custody event, so it must never depend on how the package was installed. A literal
also spares every command importing importlib.metadata (~30 ms)."""

__all__ = ["TOOL_NAME", "__version__"]
