"""Digests, the hash-chained custody log, the signed manifest, timestamps and verification.

This package imports nothing of ours but ``models`` and ``errors``.
"""
