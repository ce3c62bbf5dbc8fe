"""Background scoring inside ``coursebench serve``: the embedded one-process default.

The threads are a :class:`~leaderboard.worker.loop.ScoringLoop` — the same claim → score
→ store loop, with leases and a heartbeat, that ``coursebench worker`` processes run
(docs/workers.md) — plus what the web process needs on top: waiting for one
submission's score (``wait``) and listeners told of each finished submission (the
cache).  ``coursebench serve --workers 0`` starts none: separate worker processes score.

Durability comes from the database, not from memory: a submission is stored 'pending'
before the upload is answered, so a restart or ``kill -9`` loses nothing — the next
start (or another worker) finds it pending (or 'running' with a lease that runs out) and
scores it.  A submission is never pending forever: an unexpected crash of the scorer
hands it back at once; after ``max_attempts`` claims it fails clearly as an
infrastructure failure, which does not count against the daily limit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any

from ..services import MAX_ATTEMPTS, Service
from ..worker.loop import ScoringLoop

log = logging.getLogger("coursebench.web.workers")


class ScoringWorkers:
    def __init__(self, service: Service, count: int = 2, *, poll: float = 2.0,
                 max_attempts: int = MAX_ATTEMPTS) -> None:
        self.service, self.count, self.poll, self.max_attempts = service, count, poll, max_attempts
        self._loop = ScoringLoop(service, count, poll=poll, max_attempts=max_attempts, on_done=self._mark_done)
        self._stopped = False
        self._done: OrderedDict[int, None] = OrderedDict()
        self._done_cond = threading.Condition()
        self.listeners: list[Any] = []

    @property
    def scored(self) -> int:
        return self._loop.scored

    # -- life cycle -----------------------------------------------------------------------
    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopped = True
        self._loop.stop(timeout)

    def wake(self) -> None:
        """New work was stored: wake a worker now rather than at the next poll."""
        self._loop.wake()

    # -- waiting for a result -------------------------------------------------------------
    def wait(self, submission_id: int, timeout: float) -> bool:
        """Block until this process finished scoring ``submission_id`` (True) or timeout."""
        end = time.monotonic() + timeout
        with self._done_cond:
            while submission_id not in self._done:
                left = end - time.monotonic()
                if left <= 0 or self._stopped:
                    return False
                self._done_cond.wait(min(left, 0.5))
            return True

    def _mark_done(self, submission_id: int) -> None:
        with self._done_cond:
            self._done[submission_id] = None
            while len(self._done) > 10000:
                self._done.popitem(last=False)
            self._done_cond.notify_all()
        for listener in list(self.listeners):
            try:
                listener(submission_id)
            except Exception:  # a listener must not stop scoring
                log.exception("listener failed")
