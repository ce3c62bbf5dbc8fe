"""Background scoring: threads that take pending submissions from the database, claim
each with a lease (``Service.claim``), score it (prediction files directly, notebooks
through the sandboxed runner via ``Service``/``kfold``), and store the result.

Durability comes from the database, not from memory: a submission is stored 'pending'
before the upload is answered, so a restart or ``kill -9`` loses nothing — the next
start finds it pending (or 'running' with a lease that runs out) and scores it.  A
submission is never pending forever: an unexpected crash of the scorer hands it back
at once; after ``max_attempts`` claims it fails clearly as an infrastructure failure,
which does not count against the daily limit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any

from ..services import MAX_ATTEMPTS, Service
from . import queries

log = logging.getLogger("coursebench.web.workers")


class ScoringWorkers:
    def __init__(self, service: Service, count: int = 2, *, poll: float = 2.0,
                 max_attempts: int = MAX_ATTEMPTS) -> None:
        self.service, self.count, self.poll, self.max_attempts = service, count, poll, max_attempts
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._wake = threading.Condition()
        self._pending_wake = 0
        self._done: OrderedDict[int, None] = OrderedDict()
        self._done_cond = threading.Condition()
        self._claiming = threading.Lock()
        self._busy: set[int] = set()
        self.scored = 0
        self.listeners: list[Any] = []

    # -- life cycle -----------------------------------------------------------------------
    def start(self) -> None:
        for i in range(self.count):
            thread = threading.Thread(target=self._loop, name=f"scoring-worker-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def wake(self) -> None:
        """New work was stored: wake a worker now rather than at the next poll."""
        with self._wake:
            self._pending_wake += 1
            self._wake.notify()

    # -- waiting for a result -------------------------------------------------------------
    def wait(self, submission_id: int, timeout: float) -> bool:
        """Block until this process finished scoring ``submission_id`` (True) or timeout."""
        end = time.monotonic() + timeout
        with self._done_cond:
            while submission_id not in self._done:
                left = end - time.monotonic()
                if left <= 0 or self._stop.is_set():
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

    # -- the loop -------------------------------------------------------------------------
    def _next(self) -> int | None:
        """Claim the next pending submission (or None)."""
        with self._claiming:
            try:
                ids = self.service.pending()
            except Exception:
                log.exception("could not read pending submissions")
                return None
            for sub_id in ids:
                if sub_id in self._busy:
                    continue
                try:
                    if queries.give_up(self.service.db, sub_id, self.max_attempts, self.service.now()):
                        log.warning("submission %s failed after %s attempts", sub_id, self.max_attempts)
                        self._mark_done(sub_id)
                        continue
                    if self.service.claim(sub_id):
                        self._busy.add(sub_id)
                        return sub_id
                except Exception:
                    log.exception("could not claim submission %s", sub_id)
            return None

    def _loop(self) -> None:
        while not self._stop.is_set():
            sub_id = self._next()
            if sub_id is None:
                with self._wake:
                    if self._pending_wake == 0 and not self._stop.is_set():
                        self._wake.wait(self.poll)
                    self._pending_wake = 0
                continue
            try:
                # we hold the lease already; process() sees status 'running' and only
                # evaluates when it can claim, so evaluate through the claimed path
                # (which hands the submission back when scoring crashes):
                self.service._evaluate_claimed(sub_id, False)
                self.scored += 1
            except Exception:
                log.exception("scoring submission %s crashed; it was handed back", sub_id)
            finally:
                with self._claiming:
                    self._busy.discard(sub_id)
                self._mark_done(sub_id)
