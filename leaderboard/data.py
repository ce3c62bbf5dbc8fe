"""A competition's data: ``prepare`` (deterministic from the seed) and ``load_dataset``.

Layout written by :func:`prepare`::

    competitions/<slug>/data/
      public/train.csv              features + target
      public/test.csv               features only
      public/sample_submission.csv  the format to submit, with a trivial baseline
      private/solution.csv          id, target, Usage (Public/Private)
      private/folds.csv             id, fold (CV folds of train)
      version.json                  sha256 of every file and of the whole dataset
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import random
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError
from .spec import CompetitionSpec, load_spec
from .splits import assign_folds, public_mask

PUBLIC_FILES = ("train.csv", "test.csv", "sample_submission.csv")
PRIVATE_FILES = ("solution.csv", "folds.csv")


@dataclass(frozen=True)
class Paths:
    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def public(self) -> Path:
        return self.data / "public"

    @property
    def private(self) -> Path:
        return self.data / "private"

    @property
    def version_file(self) -> Path:
        return self.data / "version.json"


@dataclass(frozen=True)
class DatasetVersion:
    sha256: str
    files: dict[str, str]

    @property
    def short(self) -> str:
        return self.sha256[:12]


def label_strings(values: pd.Series) -> pd.Series:
    """Class labels as the strings a CSV shows; integer-valued floats lose their '.0'."""
    if pd.api.types.is_float_dtype(values) and np.all(np.mod(values.dropna(), 1) == 0):
        values = values.astype("Int64")
    return values.astype(str)


def _sorted_labels(values: pd.Series) -> list[str]:
    unique = pd.unique(values)
    try:
        return [str(v) for v in sorted(unique, key=lambda s: float(s))]
    except ValueError:
        return sorted(str(v) for v in unique)


def _load_raw(root: Path, spec: CompetitionSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    if spec.data.train is not None and spec.data.test is not None:
        try:
            return pd.read_csv(root / spec.data.train), pd.read_csv(root / spec.data.test)
        except (OSError, pd.errors.ParserError) as exc:
            raise DataError(f"cannot read the given CSVs: {exc}", path=str(root)) from None
    script = root / spec.data.script
    if not script.is_file():
        raise DataError("no prepare.py and no [data] train/test CSVs in competition.toml", path=str(root))
    module_name = f"_coursebench_prepare_{spec.slug.replace('-', '_')}"
    loader = importlib.util.spec_from_file_location(module_name, script)
    module = importlib.util.module_from_spec(loader)  # type: ignore[arg-type]
    try:
        loader.loader.exec_module(module)  # type: ignore[union-attr]
    finally:
        sys.modules.pop(module_name, None)
    make = getattr(module, "make_data", None)
    if make is None:
        raise DataError("prepare.py must define make_data(seed) -> (train_df, test_df)", path=str(script))
    state = random.getstate(), np.random.get_state()
    try:
        random.seed(spec.seed)
        np.random.seed(spec.seed % 2**32)
        train, test = make(spec.seed)
    finally:
        random.setstate(state[0])
        np.random.set_state(state[1])
    if not isinstance(train, pd.DataFrame) or not isinstance(test, pd.DataFrame):
        raise DataError("make_data(seed) must return two pandas DataFrames (train, test)", path=str(script))
    return train, test


def _check_raw(train: pd.DataFrame, test: pd.DataFrame, spec: CompetitionSpec) -> None:
    for name, frame in (("train", train), ("test", test)):
        for col in (spec.id_column, spec.target_column):
            if col not in frame.columns:
                raise DataError(f"the {name} data has no column {col!r} (columns: {', '.join(map(str, frame.columns))})")
        if frame[spec.target_column].isna().any():
            row = int(np.flatnonzero(frame[spec.target_column].isna().to_numpy())[0]) + 1
            raise DataError(f"the {name} data has a missing target in row {row}")
        if spec.group_column and name == "train" and spec.group_column not in frame.columns:
            raise DataError(f"group_column {spec.group_column!r} is not a column of train")
    ids = pd.concat([train[spec.id_column], test[spec.id_column]]).astype(str)
    dup = ids[ids.duplicated()]
    if len(dup):
        raise DataError(f"ids must be unique across train and test; {dup.iloc[0]!r} appears twice")
    if list(train.columns.drop(spec.target_column)) != list(test.columns.drop(spec.target_column)):
        raise DataError("train and test must have the same feature columns in the same order")


def labels_of(spec: CompetitionSpec, train: pd.DataFrame, test: pd.DataFrame) -> list[str]:
    seen = set(label_strings(train[spec.target_column])) | set(label_strings(test[spec.target_column]))
    if spec.labels is not None:
        unknown = sorted(seen - set(spec.labels))
        if unknown:
            raise DataError(f"the data has labels {unknown} that competition.toml's labels do not list")
        labels = list(spec.labels)
    else:
        labels = _sorted_labels(pd.Series(sorted(seen)))
    if spec.task == "binary" and len(labels) != 2:
        raise DataError(f"a binary task needs exactly 2 labels; the data has {len(labels)}: {labels[:10]}")
    if spec.task == "multiclass" and len(labels) < 2:
        raise DataError("a multiclass task needs at least 2 labels")
    return labels


def prediction_columns(spec: CompetitionSpec, labels: list[str]) -> list[str]:
    """The columns a submission has besides the id: one per class for multiclass
    probabilities (Kaggle's format), else the target column."""
    if spec.metric_obj().kind == "proba" and spec.task == "multiclass":
        return list(labels)
    return [spec.target_column]


def positive_label(spec: CompetitionSpec, labels: list[str]) -> str:
    if spec.positive_label is not None:
        if spec.positive_label not in labels:
            raise DataError(f"positive_label {spec.positive_label!r} is not one of the labels {labels}")
        return spec.positive_label
    return labels[-1]


def _sample_submission(spec: CompetitionSpec, train: pd.DataFrame, test: pd.DataFrame,
                       labels: list[str]) -> pd.DataFrame:
    metric = spec.metric_obj()
    out = pd.DataFrame({spec.id_column: test[spec.id_column].to_numpy()})
    target = train[spec.target_column]
    if spec.task == "regression":
        out[spec.target_column] = float(target.mean())
    elif metric.kind == "proba" and spec.task == "binary":
        out[spec.target_column] = 0.5
    elif metric.kind == "proba":
        for label in labels:
            out[label] = round(1.0 / len(labels), 6)
    elif metric.kind == "ranking":
        common = label_strings(target).value_counts().index[: spec.k]
        out[spec.target_column] = " ".join(common)
    else:
        out[spec.target_column] = label_strings(target).value_counts().index[0]
    return out


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n")


def prepare(root: str | Path, spec: CompetitionSpec | None = None) -> DatasetVersion:
    """Write ``data/public`` and ``data/private`` for the competition in ``root``,
    deterministically from its seed, and return the dataset version."""
    root = Path(root)
    spec = spec or load_spec(root)
    train, test = _load_raw(root, spec)
    _check_raw(train, test, spec)
    train = train.reset_index(drop=True)
    test = test.reset_index(drop=True)
    labels = labels_of(spec, train, test) if spec.is_classification else []
    truth_test = label_strings(test[spec.target_column]) if spec.is_classification else test[spec.target_column]
    truth_train = label_strings(train[spec.target_column]) if spec.is_classification else train[spec.target_column]
    try:
        public = public_mask(truth_test.to_numpy(), spec.public_fraction, spec.seed,
                             stratify=spec.is_classification)
        groups = train[spec.group_column].to_numpy() if spec.group_column else None
        folds = assign_folds(truth_train.to_numpy(), spec.folds, spec.seed,
                             stratified=spec.use_stratified, groups=groups)
    except ValueError as exc:
        raise DataError(str(exc), path=str(root)) from None
    paths = Paths(root)
    paths.public.mkdir(parents=True, exist_ok=True)
    paths.private.mkdir(parents=True, exist_ok=True)
    paths.private.chmod(0o700)  # the answers: the owner (scorers, instructors) only, not the web process
    _write_csv(train, paths.public / "train.csv")
    _write_csv(test.drop(columns=[spec.target_column]), paths.public / "test.csv")
    _write_csv(_sample_submission(spec, train, test, labels), paths.public / "sample_submission.csv")
    solution = pd.DataFrame({
        spec.id_column: test[spec.id_column].to_numpy(),
        spec.target_column: truth_test.to_numpy(),
        "Usage": np.where(public, "Public", "Private"),
    })
    _write_csv(solution, paths.private / "solution.csv")
    _write_csv(pd.DataFrame({spec.id_column: train[spec.id_column].to_numpy(), "fold": folds}),
               paths.private / "folds.csv")
    for name in PRIVATE_FILES:
        (paths.private / name).chmod(0o600)
    version = compute_version(root)
    meta = {"sha256": version.sha256, "files": version.files, "seed": spec.seed, "labels": labels,
            "rows": {"train": len(train), "test": len(test), "public": int(public.sum())}}
    paths.version_file.write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    return version


def compute_version(root: str | Path) -> DatasetVersion:
    paths = Paths(Path(root))
    files: dict[str, str] = {}
    whole = hashlib.sha256()
    for folder, names in (("public", PUBLIC_FILES), ("private", PRIVATE_FILES)):
        for name in names:
            path = paths.data / folder / name
            if not path.is_file():
                raise DataError("missing; run `coursebench compete prepare` first", path=str(path))
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            key = f"{folder}/{name}"
            files[key] = digest
            whole.update(f"{key}\0{digest}\n".encode())
    return DatasetVersion(whole.hexdigest(), files)


@dataclass(kw_only=True)
class PublicData:
    """What the web process needs of a prepared competition: the rules, the dataset
    version and the test ids in the order predictions are stored (the order of
    ``test.csv`` and of ``solution.csv``), read from ``data/public`` and
    ``data/version.json`` only — never from ``data/private``."""

    root: Path
    spec: CompetitionSpec
    version: str
    labels: list[str]
    ids: np.ndarray                      # test ids as strings, in test.csv (= solution) order
    meta: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def paths(self) -> Paths:
        return Paths(self.root)

    @property
    def columns(self) -> list[str]:
        return prediction_columns(self.spec, self.labels)

    @cached_property
    def id_index(self) -> pd.Index:
        return pd.Index(self.ids)


@dataclass(kw_only=True)
class Dataset(PublicData):
    """A prepared competition, loaded and encoded for scoring (the hidden truth too:
    only scorers and instructor tools load it)."""

    truth: np.ndarray                    # codes (classification) or floats
    public: np.ndarray                   # bool mask
    train_ids: np.ndarray
    train_truth: np.ndarray
    folds: np.ndarray

    @cached_property
    def train_id_index(self) -> pd.Index:
        return pd.Index(self.train_ids)

    @property
    def positive_code(self) -> int:
        return self.labels.index(positive_label(self.spec, self.labels))


def _encode_truth(values: pd.Series, spec: CompetitionSpec, labels: list[str], where: str) -> np.ndarray:
    if not spec.is_classification:
        return pd.to_numeric(values).to_numpy(dtype=float)
    codes = pd.Index(labels).get_indexer(label_strings(values))
    if (codes < 0).any():
        raise DataError(f"{where} has labels outside the label set; prepare again")
    return codes.astype(np.int64)


def _read_meta(paths: Paths, spec: CompetitionSpec) -> dict[str, Any]:
    if not paths.version_file.is_file():
        raise DataError("the competition is not prepared; run `coursebench compete prepare "
                        f"{spec.slug}`", path=str(paths.root))
    try:
        return json.loads(paths.version_file.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the dataset version: {exc}", path=str(paths.version_file)) from None


def _test_ids(paths: Paths, spec: CompetitionSpec) -> np.ndarray:
    path = paths.public / "test.csv"
    try:
        test = pd.read_csv(path, dtype={spec.id_column: str}, usecols=[spec.id_column], keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read the test ids: {exc}", path=str(path)) from None
    return test[spec.id_column].to_numpy(dtype=object).astype(str)


def load_public(root: str | Path, spec: CompetitionSpec | None = None) -> PublicData:
    """The public view of a prepared competition (:class:`PublicData`): reads
    ``data/version.json`` and the id column of ``data/public/test.csv``, and checks that
    file against the digest the version records."""
    root = Path(root)
    spec = spec or load_spec(root)
    paths = Paths(root)
    meta = _read_meta(paths, spec)
    expected = (meta.get("files") or {}).get("public/test.csv")
    test_csv = paths.public / "test.csv"
    try:
        digest = hashlib.sha256(test_csv.read_bytes()).hexdigest()
    except OSError as exc:
        raise DataError(f"cannot read the test data: {exc}", path=str(test_csv)) from None
    if expected != digest:
        raise DataError("test.csv does not match data/version.json; prepare again", path=str(test_csv))
    return PublicData(root=root, spec=spec, version=meta["sha256"], labels=list(meta.get("labels") or []),
                      ids=_test_ids(paths, spec), meta=meta)


def load_dataset(root: str | Path, spec: CompetitionSpec | None = None) -> Dataset:
    root = Path(root)
    spec = spec or load_spec(root)
    paths = Paths(root)
    meta = _read_meta(paths, spec)
    labels = list(meta.get("labels") or [])
    try:
        solution = pd.read_csv(paths.private / "solution.csv", dtype={spec.id_column: str}, keep_default_na=False)
        folds = pd.read_csv(paths.private / "folds.csv", dtype={spec.id_column: str})
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read the hidden data (scoring needs it; the web process does not): {exc}",
                        path=str(paths.private)) from None
    try:
        train = pd.read_csv(paths.public / "train.csv", dtype={spec.id_column: str},
                            usecols=[spec.id_column, spec.target_column])
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read the training data: {exc}", path=str(paths.public / "train.csv")) from None
    if not (folds[spec.id_column].to_numpy() == train[spec.id_column].to_numpy()).all():
        raise DataError("folds.csv does not match train.csv; prepare again", path=str(paths.private))
    ids = solution[spec.id_column].to_numpy(dtype=object).astype(str)
    test_ids = _test_ids(paths, spec)
    if len(test_ids) != len(ids) or not (test_ids == ids).all():
        # the web process aligns uploads by test.csv's order (load_public); scoring by this one
        raise DataError("solution.csv's ids are not test.csv's, in the same order; prepare again",
                        path=str(paths.private))
    if spec.is_classification:
        solution[spec.target_column] = solution[spec.target_column].astype(str)
    return Dataset(
        root=root,
        spec=spec,
        version=meta["sha256"],
        labels=labels,
        ids=ids,
        truth=_encode_truth(solution[spec.target_column], spec, labels, "solution.csv"),
        public=(solution["Usage"] == "Public").to_numpy(),
        train_ids=train[spec.id_column].to_numpy(dtype=object).astype(str),
        train_truth=_encode_truth(train[spec.target_column], spec, labels, "train.csv"),
        folds=folds["fold"].to_numpy(dtype=np.int64),
        meta=meta,
    )
