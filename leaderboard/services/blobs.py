"""How a submission's bytes are stored: predictions (and out-of-fold predictions) as
zstd Parquet, notebooks as they came, one :class:`~leaderboard.models.Blob` row each."""

from __future__ import annotations

import io

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..db import Database
from ..errors import NotFound
from ..models import Blob


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


def load_predictions(db: Database, sub_id: int) -> np.ndarray:
    """The stored test-set predictions of a scored submission."""
    with db.read() as s:
        data = s.scalar(select(Blob.data).where(Blob.submission_id == sub_id, Blob.kind == "predictions"))
    if data is None:
        raise NotFound("predictions of submission", sub_id)
    return from_parquet(data)
