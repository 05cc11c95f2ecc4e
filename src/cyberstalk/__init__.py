"""cyberstalk: evidence intake, chain of custody, course-of-conduct timelines and
safeguarding advice for digital stalking cases."""

from importlib.metadata import PackageNotFoundError, version

TOOL_NAME = "cyberstalk"

try:
    __version__ = version("cyberstalk")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["TOOL_NAME", "__version__"]
