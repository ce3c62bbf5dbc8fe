"""The metric registry.  Every metric knows its direction and the shape of predictions it
scores; all are vectorised numpy (no per-row Python) and are checked against
scikit-learn or a reference implementation in ``tests/leaderboard/test_metrics.py``.

Encodings (done by :mod:`leaderboard.validation` and :mod:`leaderboard.scoring`):

* classification truth: integer codes ``0..C-1`` into the competition's label list;
* ``label`` predictions: integer codes; ``proba`` predictions: a float vector (binary,
  probability of the positive class) or an ``n × C`` matrix (multiclass);
* ``ranking`` predictions (map@k): an ``n × k`` matrix of codes, ``-1`` where empty;
* regression: floats.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .errors import ScoringError, UnknownMetric

Kind = Literal["label", "proba", "value", "ranking"]
Direction = Literal["max", "min"]
EPS = 1e-15


@dataclass(frozen=True)
class Metric:
    name: str
    direction: Direction
    kind: Kind
    tasks: tuple[str, ...]
    fn: Callable[..., float]
    description: str = ""
    row_values: Callable[..., np.ndarray] | None = None
    """Per-row contributions whose mean, passed to ``finish``, is the score (for fast
    bootstraps and paired standard errors); None when the metric does not decompose."""
    finish: Callable[[float], float] = field(default=lambda m: m)
    resampler: Callable[..., Callable[[np.ndarray], float]] | None = None
    """For metrics that do not decompose into rows: ``resampler(y_true, y_pred, n_classes)``
    does the costly part once (AUC: the sort) and returns ``f(counts)``, the metric on the
    resample that holds row i ``counts[i]`` times — what bootstraps call B times."""
    min_prediction: float | None = None
    """Predictions must be at least this (rmsle: 0)."""

    @property
    def greater_is_better(self) -> bool:
        return self.direction == "max"

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray, *, n_classes: int | None = None) -> float:
        y_true = np.asarray(y_true)
        y_pred = np.asarray(y_pred)
        if len(y_true) == 0:
            raise ScoringError(f"{self.name}: there are no rows to score")
        with np.errstate(divide="ignore", invalid="ignore"):
            value = float(self.fn(y_true, y_pred, n_classes=n_classes))
        if not np.isfinite(value):
            raise ScoringError(f"{self.name} is undefined on these rows (got {value})")
        return value

    def better(self, a: float, b: float) -> bool:
        """Is score ``a`` strictly better than ``b``?"""
        return a > b if self.direction == "max" else a < b

    def sort_key(self, score: float) -> float:
        """Ascending sort by this key puts the best first."""
        return -score if self.direction == "max" else score


_REGISTRY: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    _REGISTRY[metric.name] = metric
    return metric


def get_metric(name: str) -> Metric:
    key = name.strip().lower()
    if key.startswith("map@"):
        return _REGISTRY["map@k"]
    try:
        return _REGISTRY[key]
    except KeyError:
        raise UnknownMetric(name, known_metrics()) from None


def known_metrics() -> list[str]:
    return sorted(_REGISTRY)


# -- classification --------------------------------------------------------------------

def _nclasses(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int | None) -> int:
    if n_classes:
        return n_classes
    top = max(int(y_true.max(initial=0)), int(y_pred.max(initial=0)) if y_pred.ndim == 1 else y_pred.shape[1] - 1)
    return top + 1


def _confusion(y_true: np.ndarray, y_pred: np.ndarray, c: int) -> np.ndarray:
    return np.bincount(y_true.astype(np.int64) * c + y_pred.astype(np.int64), minlength=c * c).reshape(c, c)


def accuracy(y_true, y_pred, n_classes=None) -> float:
    return float(np.mean(y_true == y_pred))


def balanced_accuracy(y_true, y_pred, n_classes=None) -> float:
    c = _nclasses(y_true, y_pred, n_classes)
    cm = _confusion(y_true, y_pred, c)
    support = cm.sum(axis=1)
    present = support > 0
    return float(np.mean(np.diag(cm)[present] / support[present]))


def f1_macro(y_true, y_pred, n_classes=None) -> float:
    c = _nclasses(y_true, y_pred, n_classes)
    cm = _confusion(y_true, y_pred, c)
    tp = np.diag(cm).astype(float)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    present = (cm.sum(axis=0) + cm.sum(axis=1)) > 0  # sklearn: labels in y_true ∪ y_pred
    return float(np.mean(2 * tp[present] / (2 * tp[present] + fp[present] + fn[present])))


def quadratic_weighted_kappa(y_true, y_pred, n_classes=None) -> float:
    c = _nclasses(y_true, y_pred, n_classes)
    cm = _confusion(y_true, y_pred, c).astype(float)
    n = cm.sum()
    expected = np.outer(cm.sum(axis=1), cm.sum(axis=0)) / n
    i = np.arange(c)
    w = (i[:, None] - i[None, :]) ** 2
    return float(1.0 - (w * cm).sum() / (w * expected).sum())


def _binary_auc(y: np.ndarray, score: np.ndarray) -> float:
    from scipy.stats import rankdata

    pos = y.astype(bool)
    n_pos = int(pos.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ScoringError("ROC AUC needs both classes among the scored rows")
    ranks = rankdata(score)  # average ranks for ties
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _binary_auc_resampler(y: np.ndarray, score: np.ndarray) -> Callable[[np.ndarray], float]:
    """The Mann-Whitney AUC on a resample given by row counts: sorted once, then O(n) per
    resample (weighted sums over groups of equal scores; ties count a half)."""
    order = np.argsort(score, kind="stable")
    s = score[order]
    pos = y[order].astype(bool)
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])

    def auc(counts: np.ndarray) -> float:
        w = counts[order].astype(float)
        wp = np.where(pos, w, 0.0)
        p_g = np.add.reduceat(wp, starts)
        n_g = np.add.reduceat(w - wp, starts)
        total_p, total_n = p_g.sum(), n_g.sum()
        if total_p == 0 or total_n == 0:
            raise ScoringError("ROC AUC needs both classes among the scored rows")
        below = np.cumsum(n_g) - n_g
        return float((p_g * (below + 0.5 * n_g)).sum() / (total_p * total_n))

    return auc


def _auc_resampler(y_true, y_pred, n_classes=None) -> Callable[[np.ndarray], float]:
    if y_pred.ndim == 1:
        return _binary_auc_resampler(y_true, y_pred)
    per_class = [_binary_auc_resampler(y_true == k, y_pred[:, k]) for k in range(y_pred.shape[1])]
    return lambda counts: float(np.mean([auc(counts) for auc in per_class]))


def roc_auc(y_true, y_pred, n_classes=None) -> float:
    if y_pred.ndim == 1:
        return _binary_auc(y_true, y_pred)
    present = np.unique(y_true)
    if len(present) < 2:
        raise ScoringError("ROC AUC needs at least two classes among the scored rows")
    # one-vs-rest, macro average over the classes (as scikit-learn's multi_class="ovr")
    return float(np.mean([_binary_auc(y_true == k, y_pred[:, k]) for k in range(y_pred.shape[1])]))


def _proba_matrix(y_pred: np.ndarray) -> np.ndarray:
    p = np.clip(y_pred.astype(float), EPS, 1 - EPS)
    if p.ndim == 1:
        return np.column_stack([1 - p, p])
    return p / p.sum(axis=1, keepdims=True)


def _logloss_rows(y_true, y_pred, n_classes=None) -> np.ndarray:
    p = _proba_matrix(y_pred)
    return -np.log(p[np.arange(len(y_true)), y_true.astype(np.int64)])


def log_loss(y_true, y_pred, n_classes=None) -> float:
    return float(np.mean(_logloss_rows(y_true, y_pred)))


def _accuracy_rows(y_true, y_pred, n_classes=None) -> np.ndarray:
    return (y_true == y_pred).astype(float)


def _apk_rows(y_true, y_pred, n_classes=None) -> np.ndarray:
    """Average precision at k with one relevant label per row (Kaggle's MAP@k): 1/rank of
    the first correct guess within the k given; repeats of a guess do not score twice."""
    pred = y_pred if y_pred.ndim == 2 else y_pred[:, None]
    hits = pred == y_true[:, None]
    found = hits.any(axis=1)
    first = hits.argmax(axis=1)
    return np.where(found, 1.0 / (first + 1), 0.0)


def map_at_k(y_true, y_pred, n_classes=None) -> float:
    return float(np.mean(_apk_rows(y_true, y_pred)))


# -- regression -------------------------------------------------------------------------

def _sq_rows(y_true, y_pred, n_classes=None) -> np.ndarray:
    d = y_pred.astype(float) - y_true.astype(float)
    return d * d


def _sqlog_rows(y_true, y_pred, n_classes=None) -> np.ndarray:
    d = np.log1p(y_pred.astype(float)) - np.log1p(y_true.astype(float))
    return d * d


def _abs_rows(y_true, y_pred, n_classes=None) -> np.ndarray:
    return np.abs(y_pred.astype(float) - y_true.astype(float))


def rmse(y_true, y_pred, n_classes=None) -> float:
    return float(np.sqrt(np.mean(_sq_rows(y_true, y_pred))))


def rmsle(y_true, y_pred, n_classes=None) -> float:
    return float(np.sqrt(np.mean(_sqlog_rows(y_true, y_pred))))


def mae(y_true, y_pred, n_classes=None) -> float:
    return float(np.mean(_abs_rows(y_true, y_pred)))


def r2(y_true, y_pred, n_classes=None) -> float:
    t = y_true.astype(float)
    ss_res = float(np.sum((t - y_pred.astype(float)) ** 2))
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    if ss_tot == 0.0:  # scikit-learn's force_finite convention
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


CLS = ("binary", "multiclass")
register(Metric("accuracy", "max", "label", CLS, accuracy, "fraction of rows labelled correctly",
                row_values=_accuracy_rows))
register(Metric("balanced_accuracy", "max", "label", CLS, balanced_accuracy, "mean recall over classes"))
register(Metric("f1_macro", "max", "label", CLS, f1_macro, "F1 averaged over classes"))
register(Metric("roc_auc", "max", "proba", CLS, roc_auc,
                "area under the ROC curve (multiclass: one-vs-rest, macro)", resampler=_auc_resampler))
register(Metric("log_loss", "min", "proba", CLS, log_loss,
                "Kaggle's log loss: clipped to [1e-15, 1-1e-15], rows renormalised",
                row_values=_logloss_rows))
register(Metric("quadratic_weighted_kappa", "max", "label", CLS, quadratic_weighted_kappa,
                "Cohen's kappa with quadratic weights over the ordered labels"))
register(Metric("map@k", "max", "ranking", CLS, map_at_k,
                "mean average precision of up to k space-separated guesses per row", row_values=_apk_rows))
register(Metric("rmse", "min", "value", ("regression",), rmse, "root mean squared error",
                row_values=_sq_rows, finish=lambda m: float(np.sqrt(m))))
register(Metric("rmsle", "min", "value", ("regression",), rmsle, "root mean squared logarithmic error",
                row_values=_sqlog_rows, finish=lambda m: float(np.sqrt(m)), min_prediction=0.0))
register(Metric("mae", "min", "value", ("regression",), mae, "mean absolute error", row_values=_abs_rows))
register(Metric("r2", "max", "value", ("regression",), r2, "coefficient of determination"))
_REGISTRY["qwk"] = _REGISTRY["quadratic_weighted_kappa"]
