"""Competitions as a package: spec, data, validation, scoring, k-fold, statistics, storage, web."""
