from helpers.tsa import local_tsa, tsa_factory  # noqa: F401  (fixtures)
