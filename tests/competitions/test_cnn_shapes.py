"""The Keras practice competition (competitions/cnn-shapes): its data is deterministic and
as promised (28×28 images flattened into p0..p783, four balanced classes); a tiny CNN
clearly beats an MLP trained on the same budget; the baseline CNN notebook runs one fold
as a notebook submission would, in the real sandbox, and scores well on it."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from .conftest import COMPETITIONS, prepared

SLUG = "cnn-shapes"
CLASSES = ["circle", "square", "triangle", "cross"]
PIXELS = [f"p{i}" for i in range(28 * 28)]


def _prepare_module() -> Any:
    spec = importlib.util.spec_from_file_location("_shapes_prepare", COMPETITIONS / SLUG / "prepare.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.fixture(scope="module")
def comp(prepare_copy) -> Path:
    return prepare_copy(SLUG)


@pytest.fixture(scope="module")
def train(comp) -> pd.DataFrame:
    return pd.read_csv(comp / "data/public/train.csv")


def test_same_seed_gives_the_same_bytes(comp, tmp_path):
    from leaderboard.data import compute_version

    again = prepared(SLUG, tmp_path)
    assert compute_version(comp).files == compute_version(again).files
    module = _prepare_module()
    a, _ = module.make_images(50, np.random.default_rng(1))
    b, _ = module.make_images(50, np.random.default_rng(2))
    assert not np.array_equal(a, b)


def test_data_is_as_promised(comp, train):
    test = pd.read_csv(comp / "data/public/test.csv")
    solution = pd.read_csv(comp / "data/private/solution.csv")
    assert len(train) == 6_000 and len(test) == 3_000
    assert list(train.columns) == ["id", *PIXELS, "shape"]
    assert list(test.columns) == ["id", *PIXELS]
    values = train[PIXELS].to_numpy()
    assert values.dtype.kind == "i" and values.min() >= 0 and values.max() <= 255
    for labels in (train["shape"], solution["shape"]):
        share = labels.value_counts(normalize=True)
        assert sorted(share.index) == sorted(CLASSES) and share.between(0.22, 0.28).all(), share
    # the shapes move around: the bright pixels' centre of mass varies a lot between images
    images = values.reshape(-1, 28, 28).astype(float)
    weight = np.clip(images - 100, 0, None)
    cols = (weight.sum(axis=1) * np.arange(28)).sum(axis=1) / weight.sum(axis=(1, 2))
    assert np.std(cols) > 2.0


def test_a_tiny_cnn_clearly_beats_an_mlp_on_the_same_budget(train):
    """Same data (2,000 images), epochs, batch size and optimiser; the MLP has 7× the weights."""
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    X = (train[PIXELS].to_numpy(dtype="float32") / 255.0).reshape(-1, 28, 28, 1)
    y = train["shape"].map({c: i for i, c in enumerate(CLASSES)}).to_numpy()
    fit, held = slice(0, 2000), slice(2000, 3000)
    models = {
        "cnn": keras.Sequential([
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(8, 3, activation="relu"), keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.GlobalMaxPooling2D(),
            keras.layers.Dense(4, activation="softmax"),
        ]),
        "mlp": keras.Sequential([
            keras.Input((28, 28, 1)), keras.layers.Flatten(),
            keras.layers.Dense(32, activation="relu"), keras.layers.Dense(4, activation="softmax"),
        ]),
    }
    accuracy = {}
    for name, model in models.items():
        model.compile(optimizer=keras.optimizers.Adam(5e-3), loss="sparse_categorical_crossentropy")
        model.fit(X[fit], y[fit], epochs=8, batch_size=32, verbose=0)
        accuracy[name] = float((model.predict(X[held], verbose=0).argmax(axis=1) == y[held]).mean())
    assert models["mlp"].count_params() > 5 * models["cnn"].count_params()
    # measured: cnn ≈ 0.84, mlp ≈ 0.34 (guessing: 0.25)
    assert accuracy["cnn"] > 0.75, accuracy
    assert accuracy["cnn"] > accuracy["mlp"] + 0.3, accuracy


@pytest.mark.slow
def test_baseline_notebook_runs_a_fold_in_the_sandbox(comp, train, bwrap_or_skip, tmp_path):
    """Fold 0 exactly as the leaderboard runs it (the other folds with labels → the fold's
    features only), under the competition's notebook limits; ~40-70 s on a busy machine."""
    from coursebench.execution import run_notebook
    from leaderboard.data import load_dataset
    from leaderboard.validation import SubmissionFormat, validate

    ds = load_dataset(comp)
    held = ds.folds == 0
    assert held.any() and (train["id"].astype(str).to_numpy() == ds.train_ids).all()
    train[~held].to_csv(tmp_path / "train.csv", index=False)
    train[held].drop(columns=["shape"]).to_csv(tmp_path / "test.csv", index=False)
    started = time.monotonic()
    result = run_notebook(
        comp / "baseline.ipynb",
        {"train_path": "train.csv", "test_path": "test.csv", "output_path": "submission.csv", "fold": 0},
        limits=ds.spec.notebook.limits(), backend=bwrap_or_skip,
        files=((tmp_path / "train.csv", "train.csv"), (tmp_path / "test.csv", "test.csv")),
        collect=("submission.csv",), artifacts_dir=tmp_path / "out",
    )
    took = time.monotonic() - started
    assert result.status == "ok", (result.status, result.message, result.traceback_tail(30))
    output = result.artifacts.get("submission.csv")
    assert output is not None
    preds = validate(output, SubmissionFormat.for_dataset(ds, ids=ds.train_ids[held]), filename="fold 0 submission.csv")
    accuracy = float((np.asarray(preds) == ds.train_truth[held]).mean())
    assert accuracy > 0.85, accuracy
    assert took < ds.spec.notebook.timeout
