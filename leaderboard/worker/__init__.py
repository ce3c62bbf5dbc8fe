"""Scoring workers as their own processes (``coursebench worker``, docs/workers.md):
``loop`` (claim with a lease → score → store, with a heartbeat), ``preflight`` (fail
closed without a sandbox), ``cluster`` (notebook folds on a Dask cluster), ``cli``."""
