"""Export parsers: one module per format, a registry, and sniffing.

Parsers may import ``models``, ``errors``, ``timeutil`` and ``intake`` (to read archives
safely); never ``timeline`` or anything to their right.
"""
