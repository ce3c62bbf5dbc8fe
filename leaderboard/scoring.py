"""Scores: public/private on the hidden test set, and cross-validation from out-of-fold
predictions.  Every submission is scored on all test rows at once; the split into public
and private is a mask, so both scores come from the same predictions."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .data import Dataset
from .errors import ScoringError
from .metrics import Metric


@dataclass(frozen=True)
class Scores:
    public: float
    private: float


@dataclass(frozen=True)
class CVScores:
    folds: list[float]
    oof: float
    mean: float = field(init=False)
    std: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "mean", float(np.mean(self.folds)))
        object.__setattr__(self, "std", float(np.std(self.folds, ddof=1)) if len(self.folds) > 1 else 0.0)


def scoring_truth(ds: Dataset, truth: np.ndarray) -> np.ndarray:
    """Truth as the metric wants it: binary probability metrics score P(positive)."""
    metric = ds.spec.metric_obj()
    if metric.kind == "proba" and ds.spec.task == "binary":
        return (truth == ds.positive_code).astype(np.int64)
    return truth


def metric_on(metric: Metric, ds: Dataset, truth: np.ndarray, preds: np.ndarray) -> float:
    return metric(scoring_truth(ds, truth), preds, n_classes=len(ds.labels) or None)


def score(ds: Dataset, preds: np.ndarray) -> Scores:
    """Public and private scores of predictions aligned with ``ds.ids``."""
    metric = ds.spec.metric_obj()
    pub, priv = ds.public, ~ds.public
    try:
        return Scores(public=metric_on(metric, ds, ds.truth[pub], preds[pub]),
                      private=metric_on(metric, ds, ds.truth[priv], preds[priv]))
    except ScoringError:
        raise
    except Exception as exc:  # a metric that cannot cope with these numbers
        raise ScoringError(f"{metric.name} failed on these predictions: {exc}") from None


def cv_score(ds: Dataset, oof: np.ndarray) -> CVScores:
    """Per-fold scores and the pooled out-of-fold score; ``oof`` is aligned with
    ``ds.train_ids``."""
    metric = ds.spec.metric_obj()
    per_fold = []
    for k in range(ds.spec.folds):
        rows = ds.folds == k
        per_fold.append(metric_on(metric, ds, ds.train_truth[rows], oof[rows]))
    pooled = metric_on(metric, ds, ds.train_truth, oof)
    if not all(math.isfinite(v) for v in per_fold):
        raise ScoringError("a fold's score is not finite")
    return CVScores(folds=per_fold, oof=pooled)
