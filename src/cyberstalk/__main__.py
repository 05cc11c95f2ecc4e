"""``python -m cyberstalk``."""

from cyberstalk.cli import main

main()
