"""Time, injectable: the services read the time only from a clock, so tests move a
:class:`FrozenClock` past a deadline instead of sleeping."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol

UTC = dt.timezone.utc


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)


class FrozenClock:
    """A clock that stands still until moved.  Thread-safe."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        start = start or dt.datetime.now(UTC)
        if start.tzinfo is None:
            raise ValueError("give the clock an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def set(self, when: dt.datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("give the clock an aware datetime")
        with self._lock:
            self._now = when.astimezone(UTC)

    def advance(self, delta: dt.timedelta | None = None, **kwargs: float) -> dt.datetime:
        step = delta or dt.timedelta(**kwargs)
        with self._lock:
            self._now += step
            return self._now
