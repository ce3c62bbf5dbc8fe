"""``competitions/<slug>/competition.toml`` → :class:`CompetitionSpec` (pydantic).

A minimal file::

    slug = "wine-demo"
    title = "Wine cultivars"
    task = "multiclass"
    metric = "accuracy"
    id_column = "id"
    target_column = "cultivar"
    deadline = 2026-11-30T23:59:00+09:00

Everything else has Kaggle's defaults: public fraction 0.3, 5 (stratified) folds, 5
submissions a day, 2 final selections, plain public scores.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal

import tomllib
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from coursebench.execution.limits import Limits, parse_size

from .errors import SpecError
from .metrics import get_metric

SPEC_FILE = "competition.toml"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class NotebookLimits(_Model):
    """Limits of each sandboxed run of a notebook submission (per fold and full run)."""

    timeout: float = Field(600.0, gt=0, description="seconds per run")
    cell_timeout: float | None = Field(None, gt=0)
    memory: str | int = "2G"
    cpus: float = Field(1.0, gt=0)
    gpus: int = Field(0, ge=0)

    @field_validator("memory")
    @classmethod
    def _size(cls, value: Any) -> Any:
        parse_size(value)
        return value

    def limits(self) -> Limits:
        return Limits(timeout=self.timeout, cell_timeout=self.cell_timeout, memory=self.memory,
                      cpus=self.cpus, gpus=self.gpus)


class EfficiencySpec(_Model):
    """``[efficiency]``: a track for saved-model submissions, run on the hidden test in the
    sandbox and ranked by :func:`leaderboard.efficiency.combined_score`::

        combined = accuracy − size_weight·log10(size / size_ref) − latency_weight·log10(latency / latency_ref)

    (size in bytes of the file, latency the median milliseconds of CPU time per batch of
    ``batch_size`` rows on ``cpus`` pinned threads after ``warmup_batches``: the lowest
    median of ``rounds`` rounds of at least ``timed_batches``).  A model 10× smaller gains ``size_weight`` of accuracy."""

    formats: list[Literal["keras", "tflite"]] = Field(default_factory=lambda: ["keras", "tflite"], min_length=1)
    input_shape: list[int] = Field(..., min_length=1, description="one row's shape; the features in column order")
    batch_size: int = Field(64, ge=1, le=4096)
    warmup_batches: int = Field(5, ge=0, le=1000)
    timed_batches: int = Field(50, ge=5, le=10000, description="per round (at least; a round lasts ≥ 0.25 s)")
    rounds: int = Field(5, ge=1, le=50, description="the latency is the lowest of the rounds' medians")
    cpus: int = Field(1, ge=1, le=8, description="CPU threads the model may use (pinned)")
    timeout: float = Field(300.0, gt=0, description="seconds for the whole sandboxed run")
    memory: str | int = "2G"
    max_model_size: str | int = "20M"
    size_weight: float = Field(0.02, ge=0)
    size_ref: str | int = "1M"
    latency_weight: float = Field(0.02, ge=0)
    latency_ref_ms: float = Field(1.0, gt=0)

    @field_validator("memory", "max_model_size", "size_ref")
    @classmethod
    def _size(cls, value: Any) -> Any:
        if not parse_size(value):
            raise ValueError(f"give a size like '20M', not {value!r}")
        return value

    @property
    def max_model_bytes(self) -> int:
        return int(parse_size(self.max_model_size) or 0)

    @property
    def size_ref_bytes(self) -> int:
        return int(parse_size(self.size_ref) or 1)

    def limits(self) -> Limits:
        return Limits(timeout=self.timeout, memory=self.memory, cpus=float(self.cpus), gpus=0)


class DataSource(_Model):
    """Where the labelled data comes from: ``prepare.py`` (a function
    ``make_data(seed) -> (train_df, test_df)``, both with the target column), or two CSVs."""

    script: str = "prepare.py"
    train: str | None = None
    test: str | None = None

    @model_validator(mode="after")
    def _both(self) -> DataSource:
        if (self.train is None) != (self.test is None):
            raise ValueError("give both data.train and data.test (CSV paths), or neither to use prepare.py")
        return self


class CompetitionSpec(_Model):
    slug: str
    title: str
    description: str = ""
    task: Literal["binary", "multiclass", "regression"]
    metric: str
    k: int = Field(5, ge=1, le=100, description="k of map@k")
    id_column: str = "id"
    target_column: str = "target"
    labels: list[str] | None = Field(
        None, description="the label set in order (ordinal metrics use the order); default: from the data"
    )
    positive_label: str | None = Field(None, description="binary: the class whose probability is predicted")
    public_fraction: float = Field(0.3, gt=0, lt=1)
    folds: int = Field(5, ge=2, le=20)
    stratified: bool | None = Field(None, description="default: True for classification")
    group_column: str | None = None
    seed: int = 0
    daily_limit: int = Field(5, ge=1)
    final_selections: int = Field(2, ge=1)
    start: dt.datetime | None = None
    deadline: dt.datetime
    merger_deadline: dt.datetime | None = None
    team_size: int = Field(1, ge=1)
    submission_types: list[Literal["file", "notebook", "model"]] = Field(
        default_factory=lambda: ["file", "notebook"])
    max_file_size: str | int = "50M"
    release: Literal["plain", "ladder"] = "plain"
    bootstrap: int = Field(1000, ge=100, le=20000, description="bootstrap resamples for CIs and ties")
    quota_timezone: str = "UTC"
    notebook: NotebookLimits = Field(default_factory=NotebookLimits)
    data: DataSource = Field(default_factory=DataSource)
    efficiency: EfficiencySpec | None = None

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("a slug is 2-63 lowercase letters, digits and dashes, e.g. 'midterm-tabular'")
        return value

    @field_validator("metric")
    @classmethod
    def _metric(cls, value: str) -> str:
        get_metric(value)  # raises UnknownMetric with the known names
        return value

    @field_validator("deadline", "start", "merger_deadline")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give times with a timezone, e.g. 2026-11-30T23:59:00+09:00")
        return value

    @field_validator("max_file_size")
    @classmethod
    def _maxsize(cls, value: Any) -> Any:
        parse_size(value)
        return value

    @field_validator("quota_timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except Exception:
            raise ValueError(f"unknown timezone {value!r}; use an IANA name like 'UTC' or 'Asia/Seoul'") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CompetitionSpec:
        metric = get_metric(self.metric)
        if self.task not in metric.tasks:
            raise ValueError(
                f"metric {self.metric!r} does not fit a {self.task} task; it fits: {', '.join(metric.tasks)}"
            )
        if self.id_column == self.target_column:
            raise ValueError("id_column and target_column must differ")
        if self.merger_deadline and self.merger_deadline > self.deadline:
            raise ValueError("merger_deadline must be before the deadline")
        if self.start and self.start >= self.deadline:
            raise ValueError("start must be before the deadline")
        if self.labels is not None and len(set(self.labels)) != len(self.labels):
            raise ValueError("labels must be distinct")
        if ("model" in self.submission_types) != (self.efficiency is not None):
            raise ValueError("model submissions and an [efficiency] table go together: give both or neither")
        if self.efficiency is not None and (self.task != "multiclass" or self.metric != "accuracy"):
            raise ValueError("the efficiency track scores multiclass accuracy; set task and metric to match")
        return self

    # -- derived -------------------------------------------------------------------------
    @property
    def is_classification(self) -> bool:
        return self.task in ("binary", "multiclass")

    @property
    def use_stratified(self) -> bool:
        return self.is_classification if self.stratified is None else self.stratified

    @property
    def max_bytes(self) -> int:
        return int(parse_size(self.max_file_size) or 0)

    @property
    def effective_merger_deadline(self) -> dt.datetime:
        return self.merger_deadline or self.deadline

    def metric_obj(self):  # -> Metric (import cycle-free)
        return get_metric(self.metric)


def load_spec(path: str | Path) -> CompetitionSpec:
    """Read a competition.toml (or the folder holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / SPEC_FILE
    if not path.is_file():
        raise SpecError("no such file; every competition folder needs a competition.toml", path=str(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"not valid TOML: {exc}", path=str(path)) from None
    return parse_spec(data, path=str(path))


def parse_spec(data: dict[str, Any], *, path: str | None = None) -> CompetitionSpec:
    try:
        return CompetitionSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        message = first["msg"].removeprefix("Value error, ")
        raise SpecError(message, path=path, field=field) from None
