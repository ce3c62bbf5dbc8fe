"""A clock that runs with real time but can be moved (``coursebench serve --test-clock``).

Tests and demos move it past a deadline through the instructor-only hook
``POST /api/v1/admin/clock`` (or the instructor page /admin/clock).  A server started
without ``--test-clock`` has neither the hook nor this clock.

Given the database, the offset lives there (the ``test_clock`` table, one row), so every
web process of one server (``--processes N``) goes by the same moved time: a process
moving it writes the row and uses the new offset at once; the others read the row again
at most ``ttl`` seconds after their last look.  Without a database (a test's in-process
app) the offset is this object's alone.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..db import Database

UTC = dt.timezone.utc
KEY = "server"


class MovableClock:
    def __init__(self, start: dt.datetime | None = None, *, db: Database | None = None, ttl: float = 0.5) -> None:
        self._offset = dt.timedelta(0)
        self._lock = threading.Lock()
        self._db = db
        self._ttl = ttl
        self._read_at = -float("inf")
        if start is not None:
            self.set(start)

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC) + self._current()

    def set(self, when: dt.datetime) -> dt.datetime:
        if when.tzinfo is None:
            raise ValueError("give the time with a timezone, e.g. 2026-03-21T00:00:00+00:00")
        self._store(when.astimezone(UTC) - dt.datetime.now(UTC))
        return self.now()

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        self._store(self._current() + delta)
        return self.now()

    def reset(self) -> None:
        """Back to real time (``serve --test-clock`` does this once, before its processes start)."""
        self._store(dt.timedelta(0))

    # -- the offset -----------------------------------------------------------------------
    def _current(self) -> dt.timedelta:
        if self._db is None or time.monotonic() - self._read_at < self._ttl:
            with self._lock:
                return self._offset
        from ..models import ClockOffset

        with self._db.read() as s:
            row = s.get(ClockOffset, KEY)
            offset = dt.timedelta(seconds=row.offset_seconds) if row is not None else dt.timedelta(0)
        with self._lock:
            self._offset, self._read_at = offset, time.monotonic()
        return offset

    def _store(self, offset: dt.timedelta) -> None:
        if self._db is not None:
            from ..models import ClockOffset

            with self._db.write() as s:
                row = s.get(ClockOffset, KEY, with_for_update=True)
                if row is None:
                    s.add(ClockOffset(key=KEY, offset_seconds=offset.total_seconds()))
                else:
                    row.offset_seconds = offset.total_seconds()
        with self._lock:
            self._offset, self._read_at = offset, time.monotonic()
