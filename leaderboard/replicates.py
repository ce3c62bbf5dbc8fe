"""Bootstrap replicates: a submission's metric on B bootstrap resamples of the public test
rows and on B resamples of the private ones, computed once by the scorer (which holds the
hidden truth) and stored with the submission (the ``replicates`` blob).

The resamples are the same for every submission of a dataset version: their seed comes
from the version and the split, not from the submission.  So the replicates of any two
submissions pair up row for row, and

- a **statistical tie** between neighbours on a board (the paired bootstrap: does the 95 %
  interval of score(A) − score(B) on the same resampled rows contain 0?) is the difference
  of two stored vectors;
- a **confidence interval** (public or private) is the percentiles of one vector.

The web process builds boards from these alone: it never reads ``data/private``.
Stored as float32 (an ``.npy`` of shape ``(2, B)``: public, private), 8 KB a submission at
B = 1000; the rounding (~1e-7 relative) is far below any bootstrap spread.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np

from .data import Dataset
from .scoring import scoring_truth
from .stats import percentile_interval, resample_scores

BLOB = "replicates"
LEVEL = 0.95


def seed_of(version: str, split: str) -> int:
    """The resampling seed shared by every submission of a dataset version and split."""
    return int(hashlib.sha256(f"{version}\0{split}".encode()).hexdigest()[:16], 16)


@dataclass(frozen=True)
class Replicates:
    public: np.ndarray
    private: np.ndarray

    def of(self, private: bool) -> np.ndarray:
        return self.private if private else self.public

    def to_bytes(self) -> bytes:
        sink = io.BytesIO()
        np.save(sink, np.vstack([self.public, self.private]).astype(np.float32), allow_pickle=False)
        return sink.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Replicates:
        """Raises ValueError for bytes that are not two rows of replicates."""
        values = np.load(io.BytesIO(data), allow_pickle=False)
        if values.ndim != 2 or values.shape[0] != 2:
            raise ValueError(f"replicates of shape {values.shape}, expected (2, B)")
        return cls(values[0].astype(np.float64), values[1].astype(np.float64))


def compute(ds: Dataset, preds: np.ndarray) -> Replicates:
    """The metric of ``preds`` (aligned with ``ds.ids``) on ``spec.bootstrap`` shared
    resamples of each split."""
    spec = ds.spec
    metric = spec.metric_obj()
    n_classes = len(ds.labels) or None
    out = []
    for split, mask in (("public", ds.public), ("private", ~ds.public)):
        truth = scoring_truth(ds, ds.truth[mask])
        with np.errstate(divide="ignore", invalid="ignore"):
            values = resample_scores(metric, truth, [preds[mask]], spec.bootstrap, seed_of(ds.version, split),
                                     n_classes)[:, 0]
        out.append(values)
    return Replicates(out[0], out[1])


def interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """Percentile bootstrap interval of the finite replicates (NaN, NaN when none is)."""
    return percentile_interval(values, level)


def tied(a: np.ndarray, b: np.ndarray, n_boot: int, level: float = LEVEL) -> bool:
    """The paired bootstrap on the first ``n_boot`` shared resamples: True when the
    interval of score(A) − score(B) contains 0."""
    n = min(n_boot, len(a), len(b))
    with np.errstate(invalid="ignore"):
        low, high = interval(a[:n] - b[:n], level)
    return low <= 0.0 <= high
