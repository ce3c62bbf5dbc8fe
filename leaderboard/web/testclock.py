"""A clock that runs with real time but can be moved (``coursebench serve --test-clock``).

Tests and demos move it past a deadline through the instructor-only hook
``POST /api/v1/admin/clock`` (or the instructor page /admin/clock).  A server started
without ``--test-clock`` has neither the hook nor this clock.
"""

from __future__ import annotations

import datetime as dt
import threading

UTC = dt.timezone.utc


class MovableClock:
    def __init__(self, start: dt.datetime | None = None) -> None:
        self._offset = dt.timedelta(0)
        self._lock = threading.Lock()
        if start is not None:
            self.set(start)

    def now(self) -> dt.datetime:
        with self._lock:
            return dt.datetime.now(UTC) + self._offset

    def set(self, when: dt.datetime) -> dt.datetime:
        if when.tzinfo is None:
            raise ValueError("give the time with a timezone, e.g. 2026-03-21T00:00:00+00:00")
        with self._lock:
            self._offset = when.astimezone(UTC) - dt.datetime.now(UTC)
        return self.now()

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        with self._lock:
            self._offset += delta
        return self.now()
