"""Offline-first data for lectures and labs.

Every loader works without a network: scikit-learn's bundled sets, Keras datasets only
when they are already in the local Keras cache, and generated data.  Each load says
where its data came from in :attr:`Dataset.source` and in a one-line
:attr:`Dataset.message`, so a notebook that shows ``data.message`` tells the student
whether they saw real MNIST or the offline stand-in.

>>> from coursebench.datasets import load
>>> data = load("iris")
>>> data.X.shape, data.source
((150, 4), 'scikit-learn bundled')
>>> X_train, X_test, y_train, y_test = data.split(test_size=0.25)

This module imports nothing from the rest of coursebench: the lecture runner copies it
into the sandbox next to the notebook, where the toolkit itself is not installed.
"""

from __future__ import annotations

import difflib
import gzip
import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "SHAPE_CLASSES",
    "Dataset",
    "DatasetError",
    "DatasetUnavailable",
    "UnknownDataset",
    "data_dirs",
    "describe",
    "keras_cache_dir",
    "load",
    "make_shapes",
    "names",
]

SHAPE_CLASSES = ("circle", "square", "triangle", "cross")


class DatasetError(Exception):
    """Root of the errors this module raises on purpose."""


class UnknownDataset(DatasetError, KeyError):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name, self.known = name, known
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        super().__init__(f"unknown dataset {name!r}.{hint} Known datasets: {', '.join(known)}")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class DatasetUnavailable(DatasetError):
    """The data is not on this machine and the caller asked for no stand-in."""


@dataclass
class Dataset:
    """Features ``X``, targets ``y`` and what a person needs to know about them."""

    name: str
    X: Any
    y: Any
    feature_names: list[str]
    target_names: list[str] | None
    description: str
    source: str
    """Where the data came from: 'scikit-learn bundled', 'keras cache', 'generated', ..."""
    message: str = ""
    """One line for people: which data, how much, from where (and any stand-in used)."""
    task: str = "classification"
    """'classification' or 'regression'."""
    details: str = field(default="", repr=False)
    """The long description (scikit-learn's DESCR, where there is one)."""

    @property
    def n_samples(self) -> int:
        return len(self.X)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(np.shape(self.X))

    def split(
        self, test_size: float = 0.2, seed: int = 0, stratify: bool = True
    ) -> tuple[Any, Any, Any, Any]:
        """``X_train, X_test, y_train, y_test``; stratified by class for classification."""
        from sklearn.model_selection import train_test_split

        strat = self.y if (stratify and self.task == "classification") else None
        return train_test_split(self.X, self.y, test_size=test_size, random_state=seed, stratify=strat)

    def __repr__(self) -> str:
        classes = f", {len(self.target_names)} classes" if self.target_names else ""
        return f"<Dataset {self.name}: X{self.shape}{classes}, {self.task}, source: {self.source}>"

    def _repr_html_(self) -> str:
        import html

        rows = [
            ("samples", self.n_samples),
            ("X shape", self.shape),
            ("task", self.task),
            ("classes", ", ".join(self.target_names) if self.target_names else "-"),
            ("source", self.source),
        ]
        body = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
        return (
            f"<b>{html.escape(self.name)}</b> — {html.escape(self.description)}"
            f"<table>{body}</table><i>{html.escape(self.message)}</i>"
        )


# ---------------------------------------------------------------------------- registry

Loader = Callable[..., Dataset]
_REGISTRY: dict[str, tuple[Loader, str]] = {}


def _register(name: str, summary: str) -> Callable[[Loader], Loader]:
    def wrap(fn: Loader) -> Loader:
        _REGISTRY[name] = (fn, summary)
        return fn

    return wrap


def names() -> list[str]:
    """The names :func:`load` knows."""
    return sorted(_REGISTRY)


def describe() -> dict[str, str]:
    """Name → one-line summary, for a table of what is available."""
    return {name: _REGISTRY[name][1] for name in names()}


def load(
    name: str,
    *,
    as_frame: bool = False,
    n_samples: int | None = None,
    seed: int = 0,
    **options: Any,
) -> Dataset:
    """Load a dataset by name (see :func:`names`).

    ``n_samples`` takes a random (stratified, for classification) subset of a fixed set,
    or sets how many samples a generator makes.  ``as_frame`` gives ``X`` as a pandas
    DataFrame and ``y`` as a Series (images are flattened to pixel columns).  Extra
    ``options`` go to the generator (``noise=``, ``centers=``, ...) or, for Keras sets,
    ``fallback=False`` to fail instead of using the offline stand-in.
    """
    key = name.strip().lower().replace("-", "_")
    if key not in _REGISTRY:
        raise UnknownDataset(name, names())
    if n_samples is not None and n_samples <= 0:
        raise ValueError(f"n_samples must be positive, got {n_samples}")
    loader, _ = _REGISTRY[key]
    data = loader(n_samples=n_samples, seed=seed, **options)
    if as_frame:
        data = _to_frame(data)
    return data


# ------------------------------------------------------------------ scikit-learn bundled

_SKLEARN = {
    "iris": ("load_iris", "classification", "150 iris flowers, 4 measurements, 3 species"),
    "wine": ("load_wine", "classification", "178 Italian wines, 13 chemical measurements, 3 cultivars"),
    "breast_cancer": (
        "load_breast_cancer",
        "classification",
        "569 breast tumour samples, 30 cell-nucleus features, malignant or benign",
    ),
    "digits": ("load_digits", "classification", "1,797 handwritten digits as 8×8 images (64 pixels, 0–16)"),
    "diabetes": ("load_diabetes", "regression", "442 diabetes patients, 10 baseline variables, disease progression"),
}


def _sklearn_loader(name: str) -> Loader:
    function, task, summary = _SKLEARN[name]

    def loader(*, n_samples: int | None = None, seed: int = 0) -> Dataset:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, function)()
        X, y = np.asarray(bunch.data), np.asarray(bunch.target)
        total = len(X)
        X, y = _subsample(X, y, n_samples, seed, stratify=task == "classification")
        targets = [str(t) for t in bunch.target_names] if "target_names" in bunch else None
        note = f" (a random {len(X)} of {total})" if len(X) < total else ""
        return Dataset(
            name=name,
            X=X,
            y=y,
            feature_names=[str(f) for f in bunch.feature_names],
            target_names=targets,
            description=summary,
            source="scikit-learn bundled",
            message=f"{name}: {len(X)} samples{note} from scikit-learn's bundled copy (no download).",
            task=task,
            details=str(bunch.get("DESCR", "")),
        )

    return loader


for _name, (_fn, _task, _summary) in _SKLEARN.items():
    _register(_name, _summary)(_sklearn_loader(_name))


# ----------------------------------------------------------------------- keras datasets

MNIST_CLASSES = [str(i) for i in range(10)]
FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip


def keras_cache_dir() -> Path:
    """Where Keras keeps downloaded datasets: ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def data_dirs() -> list[Path]:
    """Directories searched for cached data, in order: ``$COURSEBENCH_DATA`` (e.g. baked
    into the course image), then the Keras cache."""
    dirs = [Path(p) for p in os.environ.get("COURSEBENCH_DATA", "").split(os.pathsep) if p]
    return [*dirs, keras_cache_dir()]


def _find(*relative: str) -> Path | None:
    for directory in data_dirs():
        for rel in relative:
            if (directory / rel).is_file():
                return directory / rel
    return None


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _mnist_from_cache() -> tuple[np.ndarray, np.ndarray, Path] | None:
    path = _find("mnist.npz")
    if path is None:
        return None
    with np.load(path, allow_pickle=False) as f:
        X = np.concatenate([f["x_train"], f["x_test"]])
        y = np.concatenate([f["y_train"], f["y_test"]])
    return X, y, path


def _fashion_from_cache() -> tuple[np.ndarray, np.ndarray, Path] | None:
    files = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    for directory in data_dirs():
        folder = directory / "fashion-mnist"
        if all((folder / f).is_file() for f in files):
            parts = [_read_idx(folder / f) for f in files]
            return np.concatenate([parts[0], parts[2]]), np.concatenate([parts[1], parts[3]]), folder
    return None


def digits_28(n_samples: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8×8 digits scaled to 20×20 and centred in 28×28 (the layout of
    MNIST), as uint8 0–255 images: the offline stand-in for MNIST."""
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits

    bunch = load_digits()
    X, y = _subsample(bunch.images, bunch.target, n_samples, seed, stratify=True)
    big = zoom(X / 16.0, (1, 2.5, 2.5), order=1)  # (n, 20, 20)
    out = np.zeros((len(X), 28, 28), dtype=np.float64)
    out[:, 4:24, 4:24] = np.clip(big, 0, 1)
    return (out * 255).round().astype(np.uint8), y.astype(np.int64)


@_register("mnist", "70,000 handwritten digits, 28×28 (Keras cache; offline stand-in: digits upscaled)")
def _mnist(*, n_samples: int | None = None, seed: int = 0, fallback: bool = True) -> Dataset:
    cached = _mnist_from_cache()
    if cached is not None:
        X, y, path = cached
        total = len(X)
        X, y = _subsample(X, y, n_samples, seed, stratify=True)
        return _images(
            "mnist", X, y, MNIST_CLASSES, "MNIST handwritten digits, 28×28 grayscale",
            "keras cache", f"mnist: {len(X)} of {total} images from the Keras cache ({path}).",
        )  # fmt: skip
    if not fallback:
        raise DatasetUnavailable(_missing("mnist", "mnist.npz"))
    X, y = digits_28(n_samples, seed)
    return _images(
        "mnist", X, y, MNIST_CLASSES,
        "handwritten digits, 28×28 grayscale (scikit-learn digits upscaled: the offline stand-in for MNIST)",
        "scikit-learn digits upscaled to 28×28",
        f"mnist: not in the Keras cache ({keras_cache_dir()}), so using scikit-learn's {len(X)} "
        "8×8 digits upscaled to 28×28 instead — same shape and classes, fewer and blurrier images.",
    )  # fmt: skip


@_register("fashion_mnist", "70,000 clothing images, 28×28, 10 classes (Keras cache; stand-in: shapes)")
def _fashion(*, n_samples: int | None = None, seed: int = 0, fallback: bool = True) -> Dataset:
    cached = _fashion_from_cache()
    if cached is not None:
        X, y, path = cached
        total = len(X)
        X, y = _subsample(X, y, n_samples, seed, stratify=True)
        return _images(
            "fashion_mnist", X, y, FASHION_CLASSES, "Fashion-MNIST clothing images, 28×28 grayscale",
            "keras cache", f"fashion_mnist: {len(X)} of {total} images from the Keras cache ({path}).",
        )  # fmt: skip
    if not fallback:
        raise DatasetUnavailable(_missing("fashion_mnist", "fashion-mnist/*.gz"))
    n = n_samples or 6000
    X, y = make_shapes(n=n, seed=seed)
    return _images(
        "fashion_mnist", X, y, list(SHAPE_CLASSES),
        "generated 28×28 shape images (the offline stand-in for Fashion-MNIST)",
        "generated shapes (stand-in)",
        f"fashion_mnist: not in the Keras cache ({keras_cache_dir()}), so using {n} generated "
        f"28×28 shape images ({', '.join(SHAPE_CLASSES)}) instead — 4 classes, not 10.",
    )  # fmt: skip


def _missing(name: str, file: str) -> str:
    where = ", ".join(str(d) for d in data_dirs())
    return (
        f"{name} is not on this machine (looked for {file} in {where}). Nothing is downloaded "
        f"at run time: on a machine with network, run keras.datasets.{name}.load_data() once to "
        "fill the cache, or set COURSEBENCH_DATA to a folder that has it."
    )


def _images(name: str, X: np.ndarray, y: np.ndarray, classes: list[str], description: str, source: str, message: str) -> Dataset:
    h, w = X.shape[1:3]
    return Dataset(
        name=name,
        X=X,
        y=y.astype(np.int64),
        feature_names=[f"pixel_{r}_{c}" for r in range(h) for c in range(w)],
        target_names=classes,
        description=description,
        source=source,
        message=message,
        task="classification",
    )


# --------------------------------------------------------------------------- generated


def _segments_distance(px: np.ndarray, py: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Distance from each pixel centre to the nearest of the segments ``points[i]→points[i+1]``."""
    best = np.full(px.shape, np.inf)
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        dx, dy = x1 - x0, y1 - y0
        t = np.clip(((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy + 1e-12), 0.0, 1.0)
        d = np.hypot(px - (x0 + t * dx), py - (y0 + t * dy))
        best = np.minimum(best, d)
    return best


def _draw(kind: int, size: int, rng: np.random.Generator) -> np.ndarray:
    grid = np.arange(size) + 0.5
    px, py = np.meshgrid(grid, grid)
    r = rng.uniform(0.20, 0.36) * size
    margin = r + 1.5
    cx, cy = rng.uniform(margin, size - margin, 2)
    angle = rng.uniform(0, 2 * np.pi)
    thickness = rng.uniform(1.2, 2.4)
    shape = SHAPE_CLASSES[kind]
    if shape == "circle":
        d = np.abs(np.hypot(px - cx, py - cy) - r * rng.uniform(0.8, 1.0))
    else:
        if shape == "square":
            corners, rr = 4, r * 1.2
        elif shape == "triangle":
            corners, rr = 3, r * 1.15
        else:
            corners, rr = 0, r
        if corners:
            theta = angle + np.arange(corners + 1) * 2 * np.pi / corners
            poly = np.stack([cx + rr * np.cos(theta), cy + rr * np.sin(theta)], axis=1)
            d = _segments_distance(px, py, poly)
        else:  # a plus-shaped cross: two crossing strokes
            ends = [np.array([[cx + rr * np.cos(a), cy + rr * np.sin(a)], [cx - rr * np.cos(a), cy - rr * np.sin(a)]]) for a in (angle, angle + np.pi / 2)]
            d = np.minimum(_segments_distance(px, py, ends[0]), _segments_distance(px, py, ends[1]))
    ink = np.clip(thickness / 2 + 0.5 - d, 0.0, 1.0) * rng.uniform(0.65, 1.0)
    return ink


def make_shapes(
    n: int = 2000,
    size: int = 28,
    seed: int = 0,
    *,
    noise: float = 0.12,
    dtype: str = "uint8",
    classes: tuple[str, ...] = SHAPE_CLASSES,
) -> tuple[np.ndarray, np.ndarray]:
    """Generated grayscale images of outlined shapes: ``(X [n, size, size], y [n])``.

    Each image holds one circle, square, triangle or cross (class = index in
    :data:`SHAPE_CLASSES`) at a random position, size, rotation and stroke width, with
    Gaussian pixel noise and a few bright specks.  Because the shape moves around the
    image, the same pixel means different things in different images: a model that
    looks at local patterns wherever they are (a CNN) does clearly better than one that
    weighs each pixel separately (an MLP).  ``dtype`` is ``'uint8'`` (0–255) or
    ``'float32'`` (0–1).  The classes are balanced.
    """
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    if size < 12:
        raise ValueError(f"size must be at least 12 pixels, got {size}")
    if dtype not in ("uint8", "float32"):
        raise ValueError(f"dtype must be 'uint8' or 'float32', got {dtype!r}")
    kinds = [SHAPE_CLASSES.index(c) for c in classes]
    rng = np.random.default_rng(seed)
    labels = np.resize(np.arange(len(kinds)), n)
    rng.shuffle(labels)
    X = np.empty((n, size, size), dtype=np.float32)
    for i, label in enumerate(labels):
        img = _draw(kinds[label], size, rng)
        img = img + rng.normal(0.0, noise, img.shape)
        specks = rng.integers(0, 4)
        if specks:
            img[rng.integers(0, size, specks), rng.integers(0, size, specks)] += rng.uniform(0.5, 1.0, specks)
        X[i] = np.clip(img, 0.0, 1.0)
    if dtype == "uint8":
        return (X * 255).round().astype(np.uint8), labels.astype(np.int64)
    return X, labels.astype(np.int64)


@_register("shapes", "generated 28×28 images of circles, squares, triangles and crosses (for CNNs)")
def _shapes(*, n_samples: int | None = None, seed: int = 0, **options: Any) -> Dataset:
    n = n_samples or 4000
    X, y = make_shapes(n=n, seed=seed, **options)
    size = X.shape[1]
    return _images(
        "shapes", X, y, list(SHAPE_CLASSES),
        f"generated {size}×{size} grayscale images of outlined shapes at random positions, sizes and rotations",
        "generated", f"shapes: {n} images generated with seed {seed} (no download).",
    )  # fmt: skip


@_register("moons", "two interleaving half-moons in 2-D (a non-linear boundary)")
def _moons(*, n_samples: int | None = None, seed: int = 0, noise: float = 0.25) -> Dataset:
    from sklearn.datasets import make_moons

    n = n_samples or 500
    X, y = make_moons(n_samples=n, noise=noise, random_state=seed)
    return Dataset(
        "moons", X, y, ["x1", "x2"], ["upper moon", "lower moon"],
        "two interleaving half-circles in 2-D; no straight line separates them",
        "generated", f"moons: {n} points generated with noise {noise}, seed {seed}.",
    )  # fmt: skip


@_register("blobs", "Gaussian clusters in 2-D (for clustering and KNN)")
def _blobs(
    *, n_samples: int | None = None, seed: int = 0, centers: int = 4, cluster_std: float = 1.0, n_features: int = 2
) -> Dataset:
    from sklearn.datasets import make_blobs

    n = n_samples or 500
    X, y = make_blobs(n_samples=n, centers=centers, cluster_std=cluster_std, n_features=n_features, random_state=seed)
    return Dataset(
        "blobs", X, y, [f"x{i + 1}" for i in range(n_features)], [f"cluster {i}" for i in range(centers)],
        f"{centers} round Gaussian clusters in {n_features}-D",
        "generated", f"blobs: {n} points in {centers} clusters generated with seed {seed}.",
    )  # fmt: skip


@_register("linear", "synthetic regression: y = 4 + 3·x (+ more features) + Gaussian noise")
def _linear(
    *, n_samples: int | None = None, seed: int = 0, n_features: int = 1, noise: float = 1.0
) -> Dataset:
    """``y = 4 + 3·x1 − 2·x2 + 0.5·x3 + …`` with x uniform on [0, 2) and N(0, noise²) noise.
    The true intercept and coefficients are in ``details`` so students can compare."""
    n = n_samples or 100
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 2.0, size=(n, n_features))
    base = np.array([3.0, -2.0, 0.5, 1.5, -1.0])
    coef = np.resize(base, n_features)
    y = 4.0 + X @ coef + rng.normal(0.0, noise, n)
    terms = " ".join(f"{'+' if c >= 0 else '-'} {abs(c):g}·x{i + 1}" for i, c in enumerate(coef))
    return Dataset(
        "linear", X, y, [f"x{i + 1}" for i in range(n_features)], None,
        f"synthetic: y = 4 {terms} + noise (σ = {noise:g})",
        "generated", f"linear: {n} points generated with noise σ = {noise:g}, seed {seed}.",
        task="regression",
        details=f"intercept=4.0 coef={coef.tolist()} noise={noise}",
    )  # fmt: skip


# ----------------------------------------------------------------------------- helpers


def _subsample(
    X: np.ndarray, y: np.ndarray, n: int | None, seed: int, *, stratify: bool
) -> tuple[np.ndarray, np.ndarray]:
    if n is None or n >= len(X):
        return X, y
    if stratify:
        from sklearn.model_selection import train_test_split

        try:
            _, Xs, _, ys = train_test_split(X, y, test_size=n, random_state=seed, stratify=y)
            return Xs, ys
        except ValueError:  # fewer samples than classes: fall back to a plain random subset
            pass
    idx = np.random.default_rng(seed).choice(len(X), size=n, replace=False)
    return X[idx], y[idx]


def _to_frame(data: Dataset) -> Dataset:
    import pandas as pd

    X = np.asarray(data.X)
    if X.ndim > 2:
        X = X.reshape(len(X), -1)
    frame = pd.DataFrame(X, columns=data.feature_names)
    data.X, data.y = frame, pd.Series(data.y, name="target")
    return data
