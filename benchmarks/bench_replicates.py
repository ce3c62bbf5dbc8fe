"""Bootstrap replicates (leaderboard/replicates.py), as ratios measured in one run.

1. A board's statistical ties from stored replicates (what the web process does now, with
   no hidden truth) against the paired bootstrap of each neighbouring pair against the
   truth from their predictions (what it did before): 300 teams, 2,000 test rows, ROC AUC,
   500 resamples per pair.  Informational (the old way is what it replaces).
2. The AUC of B bootstrap resamples of 500,000 rows, each resample as row counts over rows
   sorted once (``Metric.resampler``), against sorting each resampled set (rankdata).
   Informational; the two give the same numbers (tests/leaderboard/test_metrics.py).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import numpy as np
from common import Row, timed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _ties(quick: bool) -> Row:
    from leaderboard import replicates
    from leaderboard.metrics import get_metric
    from leaderboard.stats import paired_bootstrap, resample_scores

    metric = get_metric("roc_auc")
    rng = np.random.default_rng(0)
    n, teams, n_boot = 2000, 100 if quick else 300, 500
    truth = rng.integers(0, 2, n)
    preds = [np.clip(truth * rng.uniform(0.1, 0.5) + rng.random(n), 0, 2) / 2 for _ in range(teams)]
    stored = [resample_scores(metric, truth, [p], 1000, 7, None)[:, 0] for p in preds]  # the scorer's work

    def from_replicates() -> list[bool]:
        return [replicates.tied(a, b, n_boot) for a, b in pairwise(stored)]

    def against_truth() -> list[bool]:
        return [paired_bootstrap(metric, truth, a, b, n_boot=n_boot, seed=i).tied
                for i, (a, b) in enumerate(pairwise(preds))]

    t_new, _ = timed(from_replicates, 3)
    t_old, _ = timed(against_truth, 1)
    return Row(f"board ties for {teams} teams: stored replicates vs paired bootstrap on the truth", t_new, t_old,
               note=f"{n:,} rows, ROC AUC, {n_boot} resamples per neighbour pair; informational")


def _auc(quick: bool) -> Row:
    from leaderboard.metrics import get_metric
    from leaderboard.stats import resample_scores

    metric = get_metric("roc_auc")
    rng = np.random.default_rng(1)
    n, b = 500_000, 5 if quick else 20
    truth = rng.integers(0, 2, n)
    pred = rng.random(n).round(4)
    t_new, _ = timed(lambda: resample_scores(metric, truth, [pred], b, 3, None), 1)
    t_old, _ = timed(lambda: resample_scores(replace(metric, resampler=None), truth, [pred], b, 3, None), 1)
    return Row(f"AUC on {b} bootstrap resamples of {n:,} rows: row counts, sorted once vs sorted per resample",
               t_new, t_old, note="the same values; informational")


def run(quick: bool) -> list[Row]:
    return [_ties(quick), _auc(quick)]
