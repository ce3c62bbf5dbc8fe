"""Per-key rate limits kept in the database, so that every web process counts the same
attempts (``coursebench serve --processes N``): at most ``limit`` events per ``window``
seconds per key, a sliding window, exact under concurrency.

One row per key (table ``rate_limits``) holds the times of its recent attempts.  An attempt
is one short write transaction: make the row if it is missing (``INSERT … ON CONFLICT DO
NOTHING``), lock it (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE``
serialises writers already), drop the attempts older than the window, and add this one
unless the limit is reached.  Rows of keys quiet for a window are deleted now and then.
"""

from __future__ import annotations

import itertools
import time

from sqlalchemy import delete, select, update

from ..db import Database
from ..models import RateLimit


def _insert(dialect: str):  # type: ignore[no-untyped-def]
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


class DbRateLimiter:
    """``hit(key)`` → None when allowed (and counted), else the seconds until allowed."""

    def __init__(self, db: Database, limit: int, window: float = 60.0, *, sweep_every: int = 500) -> None:
        self.db, self.limit, self.window = db, limit, window
        self._insert = _insert(db.dialect)
        self._count = itertools.count(1)
        self.sweep_every = sweep_every

    def hit(self, key: str) -> float | None:
        if self.limit <= 0:
            return None
        key = key[:200]
        now = time.time()
        with self.db.write() as s:
            s.execute(self._insert(RateLimit).values(key=key, hits="", last_hit=now)
                      .on_conflict_do_nothing(index_elements=["key"]))
            hits = s.scalar(select(RateLimit.hits).where(RateLimit.key == key).with_for_update()) or ""
            recent = [t for t in (float(x) for x in hits.split()) if now - t < self.window]
            if len(recent) >= self.limit:
                return max(0.01, self.window - (now - min(recent)))
            recent.append(now)
            s.execute(update(RateLimit).where(RateLimit.key == key)
                      .values(hits=" ".join(f"{t:.3f}" for t in recent), last_hit=now))
        if next(self._count) % self.sweep_every == 0:
            self.sweep(now)
        return None

    def sweep(self, now: float | None = None) -> None:
        """Delete the rows of keys with no attempt within the window (best effort)."""
        now = time.time() if now is None else now
        try:
            with self.db.write() as s:
                s.execute(delete(RateLimit).where(RateLimit.last_hit < now - self.window))
        except Exception:  # another process sweeping at the same time: it does the job
            pass
