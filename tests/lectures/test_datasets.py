"""coursebench.datasets: every registered name loads offline and says where it came from."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pandas as pd
import pytest

from coursebench import datasets
from coursebench.datasets import Dataset, DatasetUnavailable, UnknownDataset, load, make_shapes


@pytest.fixture(autouse=True)
def empty_keras_cache(tmp_path, monkeypatch):
    """No test sees the machine's real Keras cache or COURSEBENCH_DATA."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("COURSEBENCH_DATA", raising=False)
    return tmp_path / "keras" / "datasets"


def test_registry_lists_the_promised_names():
    expected = {"iris", "wine", "breast_cancer", "digits", "diabetes", "mnist", "fashion_mnist",
                "shapes", "moons", "blobs", "linear"}
    assert expected <= set(datasets.names())
    assert set(datasets.describe()) == set(datasets.names())


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "digits", "diabetes", "moons", "blobs", "linear"])
def test_every_tabular_set_loads_with_its_source(name):
    data = load(name, n_samples=40, seed=1)
    assert isinstance(data, Dataset)
    assert data.X.shape[0] == len(data.y) == 40
    assert data.X.shape[1] == len(data.feature_names)
    assert data.source in {"scikit-learn bundled", "generated"}
    assert data.message.startswith(f"{name}:") and "\n" not in data.message
    assert data.task in {"classification", "regression"}
    if data.task == "classification":
        assert data.target_names and set(np.unique(data.y)) <= set(range(len(data.target_names)))


def test_bundled_sets_are_the_real_data():
    iris = load("iris")
    assert iris.X.shape == (150, 4) and iris.target_names == ["setosa", "versicolor", "virginica"]
    assert load("diabetes").task == "regression"
    assert load("breast_cancer").X.shape == (569, 30)
    assert "scikit-learn" in load("wine").message


def test_subsample_is_stratified_and_reproducible():
    a = load("iris", n_samples=30, seed=3)
    b = load("iris", n_samples=30, seed=3)
    c = load("iris", n_samples=30, seed=4)
    assert np.bincount(a.y).tolist() == [10, 10, 10]
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)
    assert "random 30 of 150" in a.message


def test_as_frame_gives_named_columns_and_a_target_series():
    data = load("wine", as_frame=True)
    assert isinstance(data.X, pd.DataFrame) and isinstance(data.y, pd.Series)
    assert list(data.X.columns) == data.feature_names and data.y.name == "target"
    images = load("shapes", n_samples=8, as_frame=True)
    assert images.X.shape == (8, 28 * 28)


def test_split_is_stratified_for_classification_only():
    data = load("breast_cancer")
    _, X_test, y_train, y_test = data.split(test_size=0.25, seed=0)
    assert len(X_test) == len(y_test) == 143  # ceil(0.25 * 569)
    assert abs(y_train.mean() - y_test.mean()) < 0.01
    reg = load("diabetes").split(test_size=0.2)
    assert len(reg[1]) == 89


def test_unknown_name_lists_known_names_and_suggests():
    with pytest.raises(UnknownDataset) as info:
        load("irsi")
    message = str(info.value)
    assert "Did you mean 'iris'?" in message
    for name in datasets.names():
        assert name in message
    assert isinstance(info.value, KeyError)


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="n_samples must be positive"):
        load("iris", n_samples=0)
    with pytest.raises(ValueError, match="n must be positive"):
        make_shapes(n=0)


def test_mnist_falls_back_to_upscaled_digits_and_says_so(empty_keras_cache):
    data = load("mnist", n_samples=200)
    assert data.X.shape == (200, 28, 28) and data.X.dtype == np.uint8
    assert data.source == "scikit-learn digits upscaled to 28×28"
    assert "not in the Keras cache" in data.message and str(empty_keras_cache) in data.message
    assert data.X.max() > 200 and data.X[:, :3, :].max() == 0  # 0–255 ink, empty border like MNIST
    assert sorted(np.unique(data.y)) == list(range(10))


def test_mnist_without_fallback_explains_how_to_get_it():
    with pytest.raises(DatasetUnavailable, match="Nothing is downloaded at run time"):
        load("mnist", fallback=False)


def test_mnist_from_the_keras_cache(empty_keras_cache):
    empty_keras_cache.mkdir(parents=True)
    rng = np.random.default_rng(0)
    np.savez(empty_keras_cache / "mnist.npz",
             x_train=rng.integers(0, 255, (30, 28, 28), dtype=np.uint8), y_train=np.arange(30) % 10,
             x_test=rng.integers(0, 255, (10, 28, 28), dtype=np.uint8), y_test=np.arange(10) % 10)
    data = load("mnist")
    assert data.source == "keras cache" and data.X.shape == (40, 28, 28)
    assert "40 of 40 images from the Keras cache" in data.message


def _idx(path, array):
    header = struct.pack(">HBB", 0, 8, array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_from_cache_and_fallback(empty_keras_cache):
    fallback = load("fashion_mnist", n_samples=40)
    assert fallback.source == "generated shapes (stand-in)" and "4 classes, not 10" in fallback.message
    folder = empty_keras_cache / "fashion-mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    _idx(folder / "train-images-idx3-ubyte.gz", rng.integers(0, 255, (12, 28, 28)))
    _idx(folder / "train-labels-idx1-ubyte.gz", np.arange(12) % 10)
    _idx(folder / "t10k-images-idx3-ubyte.gz", rng.integers(0, 255, (5, 28, 28)))
    _idx(folder / "t10k-labels-idx1-ubyte.gz", np.arange(5) % 10)
    data = load("fashion_mnist")
    assert data.source == "keras cache" and data.X.shape == (17, 28, 28)
    assert data.target_names[9] == "Ankle boot"


def test_coursebench_data_dir_is_searched_first(tmp_path, monkeypatch):
    baked = tmp_path / "baked"
    baked.mkdir()
    np.savez(baked / "mnist.npz", x_train=np.zeros((3, 28, 28), np.uint8), y_train=np.arange(3),
             x_test=np.zeros((1, 28, 28), np.uint8), y_test=np.arange(1))
    monkeypatch.setenv("COURSEBENCH_DATA", str(baked))
    assert datasets.data_dirs()[0] == baked
    assert str(baked) in load("mnist").message


def test_make_shapes_is_balanced_varied_and_reproducible():
    X, y = make_shapes(n=400, seed=7)
    X2, y2 = make_shapes(n=400, seed=7)
    assert X.shape == (400, 28, 28) and X.dtype == np.uint8
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert np.bincount(y).tolist() == [100, 100, 100, 100]
    # the shapes move: the centre of the ink varies from image to image
    ink = X.astype(float) * (X > 128)
    rows = (ink.sum(axis=2) * np.arange(28)).sum(axis=1) / ink.sum(axis=(1, 2))
    assert rows.std() > 2.0
    Xf, _ = make_shapes(n=4, size=32, seed=0, dtype="float32")
    assert Xf.dtype == np.float32 and Xf.shape == (4, 32, 32) and 0 <= Xf.min() and Xf.max() <= 1


def test_shapes_are_hard_for_a_model_of_single_pixels():
    """Why shapes suit CNNs: the shapes move, so a linear model that weighs each pixel
    separately stays far from perfect (the lecture's CNN reaches > 90%)."""
    from sklearn.linear_model import LogisticRegression

    X, y = make_shapes(n=1200, seed=0, dtype="float32")
    flat = X.reshape(len(X), -1)
    pixels = LogisticRegression(max_iter=300).fit(flat[:900], y[:900]).score(flat[900:], y[900:])
    assert pixels < 0.8
    assert pixels > 0.3  # but the images are not noise


def test_linear_recovers_its_documented_coefficients():
    data = load("linear", n_samples=2000, n_features=3, noise=0.5, seed=0)
    Xb = np.c_[np.ones(len(data.X)), data.X]
    theta = np.linalg.lstsq(Xb, data.y, rcond=None)[0]
    np.testing.assert_allclose(theta, [4.0, 3.0, -2.0, 0.5], atol=0.1)
    assert "coef=[3.0, -2.0, 0.5]" in data.details
