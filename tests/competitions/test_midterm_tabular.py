"""The midterm competition (competitions/midterm-tabular): its data is deterministic and
has the promised properties; the baseline's predictions score as a prediction file; the
baseline notebook runs as a notebook submission in the real sandbox; the gradient-boosting
example clearly beats it.

Cost control: the sandbox test uses a copy of the competition with ``folds = 2``
(2 fold runs + 1 full run instead of 5 + 1) on the full-size data; the five-fold
submission runs in the demo (`coursebench demo`).  The strong example is compared on
the host by running both notebooks' code in this process.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from .conftest import COMPETITIONS, prepared, run_notebook_code

SLUG = "midterm-tabular"
ID, TARGET = "customer_id", "churn"
# what the README promises (CV AUC of 5 folds, seed 2026): baseline ≈ 0.845, strong ≈ 0.90
BASELINE_AUC = (0.82, 0.875)
STRONG_AUC = (0.88, 0.93)


def _prepare_module() -> Any:
    spec = importlib.util.spec_from_file_location("_midterm_prepare", COMPETITIONS / SLUG / "prepare.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.fixture(scope="module")
def comp(prepare_copy) -> Path:
    return prepare_copy(SLUG)


@pytest.fixture(scope="module")
def host_predictions(comp, tmp_path_factory) -> dict[str, pd.DataFrame]:
    """Both notebooks' own code run on the host: full train → test predictions."""
    out = tmp_path_factory.mktemp("midterm-host")
    predictions = {}
    for name in ("baseline", "gradient_boosting"):
        path = out / f"{name}.csv"
        run_notebook_code(comp / f"{name}.ipynb", {
            "train_path": str(comp / "data/public/train.csv"), "test_path": str(comp / "data/public/test.csv"),
            "output_path": str(path), "fold": -1,
        })
        predictions[name] = pd.read_csv(path)
    return predictions


def _service(comp: Path, db: Path, **kwargs: Any):
    from leaderboard.clock import FrozenClock
    from leaderboard.services import Service
    from leaderboard.spec import load_spec

    spec = load_spec(comp)
    assert spec.start is not None
    svc = Service(f"sqlite:///{db}", comp.parent, clock=FrozenClock(spec.start + dt.timedelta(days=1)), **kwargs)
    svc.sync(SLUG)
    return svc


def test_same_seed_gives_the_same_bytes(comp, tmp_path):
    from leaderboard.data import compute_version

    again = prepared(SLUG, tmp_path)
    first, second = compute_version(comp), compute_version(again)
    assert first.files == second.files and first.sha256 == second.sha256
    assert (comp / "data/public/train.csv").read_bytes() == (again / "data/public/train.csv").read_bytes()
    # and the seed matters
    module = _prepare_module()
    a, _ = module.make_data(1)
    b, _ = module.make_data(2)
    assert not a.drop(columns=[ID]).equals(b.drop(columns=[ID]))


def test_data_has_the_promised_properties(comp):
    train = pd.read_csv(comp / "data/public/train.csv")
    test = pd.read_csv(comp / "data/public/test.csv")
    solution = pd.read_csv(comp / "data/private/solution.csv")
    folds = pd.read_csv(comp / "data/private/folds.csv")
    assert len(train) == 20_000 and len(test) == 10_000 and len(solution) == 10_000
    assert TARGET not in test.columns and list(test.columns) == [c for c in train.columns if c != TARGET]
    assert not set(train[ID]) & set(test[ID])
    features = train.drop(columns=[ID, TARGET])
    categorical = features.select_dtypes(exclude="number").columns
    numeric = features.select_dtypes(include="number").columns
    assert len(categorical) >= 6 and len(numeric) >= 12, (list(categorical), list(numeric))
    # missing values, in numeric and categorical columns, in train and test alike
    missing = features.isna().mean()
    assert (missing > 0).sum() >= 6
    assert missing[categorical].max() > 0.05 and missing[numeric].max() > 0.05
    assert abs(test[features.columns].isna().mean() - missing).max() < 0.02
    # class imbalance: about 1 churner in 6, the same in train, test and each fold
    rate = train[TARGET].mean()
    assert 0.12 < rate < 0.22
    assert abs(solution[TARGET].mean() - rate) < 0.015
    per_fold = train[TARGET].groupby(folds["fold"].to_numpy()).mean()
    assert sorted(per_fold.index) == [0, 1, 2, 3, 4] and (per_fold - rate).abs().max() < 0.005
    # an interaction: many support calls AND low satisfaction is worse than either alone
    calls, unhappy = train["support_calls_90d"] >= 3, train["satisfaction_score"] <= 2
    both = train.loc[calls & unhappy, TARGET].mean()
    assert both > train.loc[calls & ~unhappy, TARGET].mean() + 0.1
    assert both > train.loc[~calls & unhappy, TARGET].mean() + 0.1


def test_readme_documents_every_column(comp):
    readme = (COMPETITIONS / SLUG / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\|\s*`([a-z0-9_]+)`\s*\|", readme, flags=re.M))
    columns = set(pd.read_csv(comp / "data/public/train.csv", nrows=1).columns)
    assert columns <= documented, f"README's data dictionary misses {sorted(columns - documented)}"
    assert documented <= columns, f"README documents columns that do not exist: {sorted(documented - columns)}"


def test_baseline_predictions_validate_and_score_as_a_prediction_file(comp, host_predictions, tmp_path):
    svc = _service(comp, tmp_path / "lb.db")
    try:
        who = svc.authenticate(svc.add_participant("s01"))
        path = tmp_path / "baseline_predictions.csv"
        host_predictions["baseline"].to_csv(path, index=False)
        view = svc.submit_file(SLUG, who, path, message="logistic regression")
        assert view.status == "complete", view.error
        assert view.counted and view.dataset_version
        assert BASELINE_AUC[0] < view.public_score < BASELINE_AUC[1]
        assert view.public_ci is not None and view.public_ci[0] < view.public_score < view.public_ci[1]
    finally:
        svc.db.dispose()


def test_strong_example_clearly_beats_the_baseline(comp, host_predictions):
    solution = pd.read_csv(comp / "data/private/solution.csv").set_index(ID)
    auc = {}
    for name, pred in host_predictions.items():
        pred = pred.set_index(ID).loc[solution.index]
        assert pred[TARGET].between(0, 1).all() and np.isfinite(pred[TARGET]).all()
        auc[name] = roc_auc_score(solution[TARGET], pred[TARGET])
    assert BASELINE_AUC[0] < auc["baseline"] < BASELINE_AUC[1], auc
    assert STRONG_AUC[0] < auc["gradient_boosting"] < STRONG_AUC[1], auc
    assert auc["gradient_boosting"] > auc["baseline"] + 0.03, auc


@pytest.mark.slow
def test_baseline_notebook_scores_as_a_notebook_submission_in_the_sandbox(prepare_copy, bwrap_or_skip, tmp_path):
    comp = prepare_copy(SLUG, folds=2)  # a cheaper copy: 2 fold runs + the full run
    svc = _service(comp, tmp_path / "lb.db", backend=bwrap_or_skip, workers=2)
    try:
        who = svc.authenticate(svc.add_participant("s02"))
        view = svc.submit_notebook(SLUG, who, comp / "baseline.ipynb", message="baseline notebook")
        assert view.status == "complete", (view.failure_label, view.error, view.runs)
        assert view.cv_folds is not None and len(view.cv_folds) == 2
        assert view.cv_mean is not None and BASELINE_AUC[0] < view.cv_mean < BASELINE_AUC[1], view.cv_folds
        assert view.public_score is not None and BASELINE_AUC[0] < view.public_score < BASELINE_AUC[1]
        assert len(view.runs) == 3 and all(r["status"] == "ok" for r in view.runs), view.runs
    finally:
        svc.db.dispose()
