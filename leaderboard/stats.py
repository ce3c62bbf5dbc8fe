"""Statistics for the leaderboard: bootstrap confidence intervals, paired bootstrap
comparisons (statistical ties), the Ladder (Blum & Hardt 2015), Kendall's τ."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .metrics import Metric

ScoreFn = Callable[[np.ndarray, np.ndarray], float]


def resample_scores(metric: Metric, truth: np.ndarray, preds: Sequence[np.ndarray], n_boot: int,
                     seed: int, n_classes: int | None) -> np.ndarray:
    """``n_boot × len(preds)`` metric values on the same bootstrap resamples of rows."""
    n = len(truth)
    rng = np.random.default_rng(seed)
    out = np.empty((n_boot, len(preds)))
    if metric.row_values is not None:
        rows = [metric.row_values(truth, p) for p in preds]
        for b in range(n_boot):
            idx = rng.integers(0, n, n)
            for j, r in enumerate(rows):
                out[b, j] = metric.finish(float(r[idx].mean()))
        return out
    if metric.resampler is not None:  # the same resamples, as row counts (AUC: no sort per resample)
        fns = [metric.resampler(truth, p, n_classes) for p in preds]
        for b in range(n_boot):
            counts = np.bincount(rng.integers(0, n, n), minlength=n)
            for j, fn in enumerate(fns):
                try:
                    out[b, j] = fn(counts)
                except Exception:
                    out[b, j] = np.nan  # a resample with one class only
        return out
    for b in range(n_boot):
        idx = rng.integers(0, n, n)
        t = truth[idx]
        for j, p in enumerate(preds):
            try:
                out[b, j] = metric.fn(t, p[idx], n_classes=n_classes)
            except Exception:
                out[b, j] = np.nan  # e.g. a resample with one class only (AUC)
    return out


def percentile_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the finite values (NaN, NaN when none is)."""
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return (math.nan, math.nan)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_ci(metric: Metric, truth: np.ndarray, pred: np.ndarray, *, n_boot: int = 1000, seed: int = 0,
                 level: float = 0.95, n_classes: int | None = None) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the metric over rows."""
    with np.errstate(divide="ignore", invalid="ignore"):
        values = resample_scores(metric, truth, [pred], n_boot, seed, n_classes)[:, 0]
    return percentile_interval(values, level)


@dataclass(frozen=True)
class Paired:
    """Score of A minus score of B on the same resampled rows."""

    difference: float
    low: float
    high: float
    se: float

    @property
    def tied(self) -> bool:
        """The 95% interval of the difference contains 0."""
        return self.low <= 0.0 <= self.high


def paired_bootstrap(metric: Metric, truth: np.ndarray, a: np.ndarray, b: np.ndarray, *, n_boot: int = 1000,
                     seed: int = 0, level: float = 0.95, n_classes: int | None = None) -> Paired:
    with np.errstate(divide="ignore", invalid="ignore"):
        values = resample_scores(metric, truth, [a, b], n_boot, seed, n_classes)
        diff = values[:, 0] - values[:, 1]
    diff = diff[np.isfinite(diff)]
    point = metric(truth, a, n_classes=n_classes) - metric(truth, b, n_classes=n_classes)
    if len(diff) == 0:
        return Paired(point, math.nan, math.nan, math.nan)
    low, high = percentile_interval(diff, level)
    return Paired(float(point), low, high, float(np.std(diff, ddof=1)))


def paired_standard_error(metric: Metric, truth: np.ndarray, a: np.ndarray, b: np.ndarray, *,
                          n_boot: int = 200, seed: int = 0, n_classes: int | None = None) -> float:
    """Standard error of score(a) - score(b): exact from per-row losses where the metric
    is a mean of rows (std of the paired differences / √n), else by paired bootstrap."""
    if metric.row_values is not None and metric.finish(4.0) == 4.0:
        d = metric.row_values(truth, a) - metric.row_values(truth, b)
        return float(np.std(d, ddof=1) / math.sqrt(len(d))) if len(d) > 1 else 0.0
    return paired_bootstrap(metric, truth, a, b, n_boot=n_boot, seed=seed, n_classes=n_classes).se


@dataclass(frozen=True)
class LadderStep:
    released: float
    new_best: bool


def ladder_step(metric: Metric, truth: np.ndarray, new: np.ndarray, new_score: float,
                best: np.ndarray | None, best_released: float | None, *, n_classes: int | None = None,
                seed: int = 0) -> LadderStep:
    """The parameter-free Ladder (Blum & Hardt 2015, Algorithm 2): release the new
    score, rounded to a multiple of 1/n, only when it beats the best so far by more than
    the paired standard error; otherwise release the previous best again."""
    n = len(truth)

    def rounded(x: float) -> float:
        return round(x * n) / n

    if best is None or best_released is None:
        return LadderStep(rounded(new_score), True)
    se = paired_standard_error(metric, truth, new, best, n_classes=n_classes, seed=seed)
    margin = new_score - best_released if metric.greater_is_better else best_released - new_score
    if margin > se:
        return LadderStep(rounded(new_score), True)
    return LadderStep(best_released, False)


def kendall_tau(a: Sequence[float], b: Sequence[float]) -> float:
    """Kendall's τ-b between two rankings (NaN with fewer than two entries)."""
    if len(a) < 2:
        return math.nan
    from scipy.stats import kendalltau

    return float(kendalltau(a, b).statistic)
