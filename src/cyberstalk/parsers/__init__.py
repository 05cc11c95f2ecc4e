"""Export parsers: one module per format, a registry, and sniffing.

Parsers may import ``records`` (the model and time helpers), ``errors`` and ``intake``
(to read archives safely); never ``timeline`` or anything to their right.
"""
