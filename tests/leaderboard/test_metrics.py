"""Every metric against scikit-learn or a reference implementation, on random inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn import metrics as skm

from leaderboard.errors import ScoringError, UnknownMetric
from leaderboard.metrics import get_metric, known_metrics

SETTINGS = settings(max_examples=60, deadline=None)


def labels(n_classes: int, size: st.SearchStrategy[int] = st.integers(2, 60)):
    return size.flatmap(lambda n: st.tuples(
        arrays(np.int64, n, elements=st.integers(0, n_classes - 1)),
        arrays(np.int64, n, elements=st.integers(0, n_classes - 1))))


@SETTINGS
@given(labels(4))
def test_accuracy_balanced_f1_kappa_match_sklearn(pair):
    y, p = pair
    assert get_metric("accuracy")(y, p) == pytest.approx(skm.accuracy_score(y, p))
    assert get_metric("f1_macro")(y, p, n_classes=4) == pytest.approx(skm.f1_score(y, p, average="macro", zero_division=0))
    with np.errstate(all="ignore"), _quiet():
        expected = skm.balanced_accuracy_score(y, p)
        kappa = skm.cohen_kappa_score(y, p, weights="quadratic", labels=[0, 1, 2, 3])
    assert get_metric("balanced_accuracy")(y, p, n_classes=4) == pytest.approx(expected)
    if math.isfinite(kappa):
        assert get_metric("quadratic_weighted_kappa")(y, p, n_classes=4) == pytest.approx(kappa)


class _quiet:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)


@SETTINGS
@given(st.integers(2, 80).flatmap(lambda n: st.tuples(
    arrays(np.int64, n, elements=st.integers(0, 1)),
    arrays(np.float64, n, elements=st.floats(0, 1, allow_nan=False)))))
def test_binary_roc_auc_and_log_loss_match_sklearn(pair):
    y, p = pair
    assume(0 < y.sum() < len(y))
    assert get_metric("roc_auc")(y, p) == pytest.approx(skm.roc_auc_score(y, p))
    clipped = np.clip(p, 1e-15, 1 - 1e-15)
    assert get_metric("log_loss")(y, p) == pytest.approx(skm.log_loss(y, clipped, labels=[0, 1]), rel=1e-9)


@SETTINGS
@given(st.integers(6, 60).flatmap(lambda n: st.tuples(
    arrays(np.int64, n, elements=st.integers(0, 2)),
    arrays(np.float64, (n, 3), elements=st.floats(0.01, 1, allow_nan=False)))))
def test_multiclass_log_loss_renormalises_and_auc_is_ovr(pair):
    y, raw = pair
    assume(len(np.unique(y)) == 3)
    proba = raw / raw.sum(axis=1, keepdims=True)
    assert get_metric("log_loss")(y, raw) == pytest.approx(skm.log_loss(y, proba, labels=[0, 1, 2]), rel=1e-9)
    assert get_metric("roc_auc")(y, proba) == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr", average="macro"))


def test_log_loss_clips_like_kaggle():
    y = np.array([1, 0])
    p = np.array([0.0, 1.0])  # confidently wrong: clipped, not infinite
    assert get_metric("log_loss")(y, p) == pytest.approx(-math.log(1e-15), rel=1e-4)


@SETTINGS
@given(st.integers(2, 80).flatmap(lambda n: st.tuples(
    arrays(np.float64, n, elements=st.floats(0, 1e4, allow_nan=False)),
    arrays(np.float64, n, elements=st.floats(0, 1e4, allow_nan=False)))))
@example((np.array([3.4006922e-158, 0.0]), np.array([1.0, 1.0])))  # found by hypothesis in CI
def test_regression_metrics_match_sklearn(pair):
    y, p = pair
    assert get_metric("rmse")(y, p) == pytest.approx(skm.root_mean_squared_error(y, p), rel=1e-9, abs=1e-9)
    assert get_metric("rmsle")(y, p) == pytest.approx(skm.root_mean_squared_log_error(y, p), rel=1e-9, abs=1e-9)
    assert get_metric("mae")(y, p) == pytest.approx(skm.mean_absolute_error(y, p), rel=1e-9, abs=1e-9)
    with np.errstate(over="ignore", divide="ignore"):
        expected = skm.r2_score(y, p)
    if np.isfinite(expected):
        assert get_metric("r2")(y, p) == pytest.approx(expected, rel=1e-7, abs=1e-9)
    else:  # a truth of (almost) zero variance, e.g. [3.4e-158, 0]: sklearn says -inf; a board takes no inf
        with pytest.raises(ScoringError, match="undefined"):
            get_metric("r2")(y, p)


def apk_reference(actual: list[int], predicted: list[int], k: int) -> float:
    """Kaggle's ml_metrics.apk (Ben Hamner), the reference for MAP@k."""
    predicted = predicted[:k]
    score, hits = 0.0, 0.0
    for i, p in enumerate(predicted):
        if p in actual and p not in predicted[:i]:
            hits += 1.0
            score += hits / (i + 1.0)
    return score / min(len(actual), k) if actual else 0.0


@SETTINGS
@given(st.integers(1, 40).flatmap(lambda n: st.tuples(
    arrays(np.int64, n, elements=st.integers(0, 6)),
    arrays(np.int64, (n, 3), elements=st.integers(-1, 6)))))
def test_map_at_k_matches_reference(pair):
    y, raw = pair
    # validation pads empty guesses with -1 at the end of a row
    guesses = np.array([[g for g in row if g >= 0] + [-1] * int((row < 0).sum()) for row in raw]).reshape(raw.shape)
    expected = np.mean([apk_reference([int(t)], [int(g) for g in row if g >= 0], 3) for t, row in zip(y, guesses, strict=True)])
    assert get_metric("map@3")(y, guesses) == pytest.approx(expected)


def test_registry_directions_and_errors():
    assert get_metric("rmse").direction == "min" and get_metric("roc_auc").direction == "max"
    assert get_metric("log_loss").better(0.1, 0.2) and get_metric("accuracy").better(0.9, 0.8)
    assert {"accuracy", "balanced_accuracy", "f1_macro", "roc_auc", "log_loss", "rmse", "rmsle", "mae", "r2",
            "quadratic_weighted_kappa", "map@k"} <= set(known_metrics())
    with pytest.raises(UnknownMetric, match=r"known metrics: .*accuracy"):
        get_metric("auc_roc")
    with pytest.raises(ScoringError, match="both classes"):
        get_metric("roc_auc")(np.array([1, 1]), np.array([0.2, 0.4]))


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 60), st.integers(0, 3), st.sampled_from([None, 3]), st.integers(0, 2**31))
def test_auc_on_row_counts_is_auc_on_the_resampled_rows(n, decimals, classes, seed):
    """The bootstrap's fast path (a resample as row counts, sorted once) gives exactly the
    AUC of the resampled rows themselves — ties, absent classes (NaN) and all."""
    from dataclasses import replace

    from leaderboard.stats import resample_scores

    metric = get_metric("roc_auc")
    rng = np.random.default_rng(seed)
    if classes:
        y = rng.integers(0, classes, n)
        p = rng.random((n, classes)).round(decimals)
        p = (p + 1e-3) / (p + 1e-3).sum(axis=1, keepdims=True)
    else:
        y = rng.integers(0, 2, n)
        p = rng.random(n).round(decimals)  # decimals 0: nearly all tied
    fast = resample_scores(metric, y, [p, p[::-1].copy()], 30, seed, classes)
    slow = resample_scores(replace(metric, resampler=None), y, [p, p[::-1].copy()], 30, seed, classes)
    assert np.array_equal(np.isnan(fast), np.isnan(slow))
    assert fast[~np.isnan(fast)] == pytest.approx(slow[~np.isnan(slow)], abs=1e-12)
