"""The scoring loop: ``concurrency`` threads that claim stored submissions with leases
(:meth:`Service.claim_next`), score them (prediction files directly, notebooks in the
sandbox, locally or on a Dask cluster) and store the result — plus one heartbeat thread
that renews the lease of every claim held, so that a long notebook is never taken over
while it is still being scored.

Durability comes from the database, not from memory: a submission is 'pending' from the
moment it was accepted, and 'running' only under a lease.  When the process dies
(SIGKILL, a lost machine) its leases run out and another loop — in another worker
process, or this one restarted — claims the submissions again (the attempt counted);
after ``max_attempts`` claims a submission fails clearly as an infrastructure failure,
not counted against the daily limit.  :meth:`ScoringLoop.stop` (SIGTERM) stops claiming,
lets what is being scored finish within a grace period and hands back the rest at once.

The same loop runs in ``coursebench worker`` processes and, as the embedded one-process
default, in threads of ``coursebench serve`` (:mod:`leaderboard.web.workers`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..services import MAX_ATTEMPTS, Service
from ..services.lifecycle import Claim

log = logging.getLogger("coursebench.worker")


class ScoringLoop:
    """Claim → score → store, ``concurrency`` at a time.

    ``slugs`` limits the loop to some competitions (None: all); ``poll`` is how long an
    idle thread sleeps before looking again (:meth:`wake` cuts it short); ``on_done`` is
    called with each submission id the loop finished (scored, failed or given up).
    """

    def __init__(self, service: Service, concurrency: int = 1, *, slugs: list[str] | None = None,
                 poll: float = 2.0, max_attempts: int = MAX_ATTEMPTS,
                 on_done: Callable[[int], None] | None = None) -> None:
        self.service, self.concurrency, self.slugs = service, max(1, concurrency), slugs or None
        self.poll, self.max_attempts, self.on_done = poll, max_attempts, on_done
        self.scored = 0
        self.errors = 0
        self._threads: list[threading.Thread] = []
        self._heart: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Condition()
        self._wakes = 0
        self._held: dict[int, Claim] = {}
        self._lock = threading.Lock()
        self._drain = False

    # -- life cycle -----------------------------------------------------------------------
    def start(self, *, drain: bool = False) -> None:
        """Start the threads; with ``drain`` each stops once nothing is left to claim."""
        self._drain = drain
        for i in range(self.concurrency):
            thread = threading.Thread(target=self._loop, name=f"scoring-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._heart = threading.Thread(target=self._heartbeat, name="scoring-heartbeat", daemon=True)
        self._heart.start()
        threading.Thread(target=self._backfill, name="scoring-backfill", daemon=True).start()

    def _backfill(self) -> None:
        """Once per start: the replicates of submissions scored before they were stored."""
        try:
            stored = self.service.backfill_replicates(self.slugs)
        except Exception:
            log.exception("could not store the bootstrap replicates of earlier submissions")
            return
        if stored:
            log.info("stored the bootstrap replicates of %s earlier submission(s)", stored)

    def drain(self) -> int:
        """Score everything claimable now, ``concurrency`` at a time; returns how many
        were scored.  For tests, cron and ``coursebench worker --drain``."""
        before = self.scored
        self.start(drain=True)
        self.join()
        return self.scored - before

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the scoring threads to end; True when all did."""
        end = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if end is None else max(0.0, end - time.monotonic()))
        alive = any(t.is_alive() for t in self._threads)
        if not alive:
            self._stop.set()  # the heartbeat too
        return not alive

    def stop(self, grace: float = 10.0) -> list[int]:
        """Stop claiming; wait up to ``grace`` seconds for the submissions being scored,
        then hand the rest back to the queue (fenced by their attempt: a claim another
        scorer has taken over is left alone).  Returns the ids handed back."""
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        self.join(grace)
        handed = []
        for claim in self.held():
            try:
                if self.service.release(claim.submission_id, claim.attempt):
                    handed.append(claim.submission_id)
            except Exception:
                log.exception("could not hand back submission %s", claim.submission_id)
        if handed:
            log.warning("handed back %s unfinished submission(s): %s", len(handed), handed)
        self._threads.clear()
        return handed

    def wake(self) -> None:
        """New work was stored: wake a thread now rather than at the next poll."""
        with self._wake:
            self._wakes += 1
            self._wake.notify()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def held(self) -> list[Claim]:
        with self._lock:
            return list(self._held.values())

    # -- the threads ----------------------------------------------------------------------
    def _claim(self) -> Claim | None:
        try:
            return self.service.claim_next(self.slugs, self.max_attempts, on_give_up=self._done)
        except Exception:
            log.exception("could not claim the next submission")
            return None

    def _loop(self) -> None:
        while not self._stop.is_set():
            claim = self._claim()
            if claim is None:
                if self._drain:
                    return
                with self._wake:
                    if self._wakes == 0 and not self._stop.is_set():
                        self._wake.wait(self.poll)
                    self._wakes = 0
                continue
            with self._lock:
                self._held[claim.submission_id] = claim
            try:
                self.service.evaluate_claimed(claim)
                self.scored += 1
            except Exception:
                self.errors += 1
                log.exception("scoring submission %s crashed; it was handed back", claim.submission_id)
            finally:
                with self._lock:
                    self._held.pop(claim.submission_id, None)
                self._done(claim.submission_id)

    def _done(self, submission_id: int) -> None:
        if self.on_done is None:
            return
        try:
            self.on_done(submission_id)
        except Exception:  # a listener must not stop scoring
            log.exception("on_done failed for submission %s", submission_id)

    def _heartbeat(self) -> None:
        """Renew every held lease a few times per lease period."""
        while True:
            every = max(0.2, min(60.0, self.service.lease.total_seconds() / 3))
            if self._stop.wait(every) and not self.held():
                return
            for claim in self.held():
                try:
                    if not self.service.renew(claim):
                        log.warning("lost the lease on submission %s (taken over or finished)", claim.submission_id)
                except Exception:
                    log.exception("could not renew the lease on submission %s", claim.submission_id)
