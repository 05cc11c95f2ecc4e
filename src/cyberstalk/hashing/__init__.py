"""Digests, the hash-chained custody log, the signed manifest, timestamps and verification.

This package imports nothing of ours but ``errors``. What other packages use: the
custody log (:mod:`.custody`), sealing (:mod:`.seal`), :func:`.verify.check_case` and
:func:`.verify.timestamp_check`, the stored-timestamp check that ``cyberstalk verify``
and the force profile both pass to it.
"""
