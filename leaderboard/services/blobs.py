"""How a submission's bytes are stored: predictions (and out-of-fold predictions) as
zstd Parquet, notebooks as they came, one :class:`~leaderboard.models.Blob` row each."""

from __future__ import annotations

import io

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..db import Database
from ..models import Blob, Submission
from ..replicates import BLOB as REPLICATES
from ..replicates import Replicates


def to_parquet(values: np.ndarray) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    matrix = values if values.ndim == 2 else values[:, None]
    table = pa.table({f"p{j}": matrix[:, j] for j in range(matrix.shape[1])})
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def from_parquet(data: bytes) -> np.ndarray:
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    cols = [table[name].to_numpy() for name in table.column_names]
    return cols[0] if len(cols) == 1 else np.column_stack(cols)


def put_blob(s: Session, sub_id: int, kind: str, data: bytes) -> None:
    """Insert or replace the submission's blob of this kind."""
    existing = s.scalar(select(Blob).where(Blob.submission_id == sub_id, Blob.kind == kind))
    if existing is None:
        s.execute(insert(Blob).values(submission_id=sub_id, kind=kind, data=data))
    else:
        existing.data = data


def load_replicates(db: Database, sub_ids: list[int], version: str) -> dict[int, Replicates]:
    """The stored bootstrap replicates of these submissions, by id, in one read.  Left out:
    those without any, with unreadable ones, and those scored on another dataset version
    than ``version`` (their resamples are not the current ones; ``compete rescore``)."""
    out: dict[int, Replicates] = {}
    with db.read() as s:
        for start in range(0, len(sub_ids), 500):
            chunk = sub_ids[start:start + 500]
            for sub_id, data in s.execute(
                    select(Blob.submission_id, Blob.data).join(Submission, Submission.id == Blob.submission_id)
                    .where(Blob.submission_id.in_(chunk), Blob.kind == REPLICATES,
                           Submission.dataset_version == version)):
                try:
                    out[sub_id] = Replicates.from_bytes(data)
                except ValueError:
                    continue
    return out
