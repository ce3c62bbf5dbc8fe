"""The scoring life cycle of a stored submission: claim (a lease) → evaluate (outside
any transaction) → finish (one transaction), with retries of infrastructure failures and
the Ladder.  (Scoring stored results again: :mod:`.rescoring`.)

A claim is fenced by its attempt number: claiming increments ``attempts``, and renewing
the lease, handing the submission back and storing the result all check that the row's
``attempts`` is still the claimer's.  A scorer whose lease ran out (it was stopped, its
machine paused) and whose submission another scorer took over therefore cannot renew,
release or overwrite the newer attempt; its result is dropped.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from coursebench.execution import SlotPool

from .. import notify, replicates
from ..board import BoardCache
from ..clock import Clock
from ..data import Dataset
from ..db import Database
from ..efficiency_run import score_model_submission
from ..errors import ScoringError
from ..kfold import evaluate_notebook
from ..models import Blob, Competition, Submission
from ..scoring import score, scoring_truth
from ..stats import ladder_step
from .blobs import from_parquet, put_blob, to_parquet
from .competitions import CompetitionRegistry
from .quotas import Quotas

MAX_ATTEMPTS = 3
#: the blob holding each kind of submission's upload
UPLOAD_BLOB = {"file": "predictions", "notebook": "notebook", "model": "model"}

Progress = Callable[[int, int, Any], None] | bool


@dataclass(frozen=True)
class Claim:
    """A lease on one submission: its id and the attempt number that fences it."""

    submission_id: int
    attempt: int


class ScoringLifecycle:
    """Scores stored submissions.  ``backend`` and ``workers`` go to the sandboxed
    runner for notebook submissions (``trusted`` lets a non-isolating backend named
    explicitly run them; ``cluster``, a Dask scheduler address, runs their folds there);
    ``lease`` is how long a claim holds before another scorer may take the submission
    over (after a crash)."""

    def __init__(self, db: Database, clock: Clock, registry: CompetitionRegistry, quotas: Quotas,
                 boards: BoardCache, *, backend: str = "auto", workers: int | None = None,
                 lease: dt.timedelta = dt.timedelta(minutes=30), cluster: Any = None,
                 trusted: bool = False, keep_warm: bool = False) -> None:
        self.db = db
        self.clock = clock
        self.registry = registry
        self.quotas = quotas
        self.boards = boards
        self.backend = backend
        self.workers = workers
        self.lease = lease
        self.cluster = cluster
        self.trusted = trusted
        self.keep_warm = keep_warm
        self._pool: SlotPool | None = None
        self._pool_lock = threading.Lock()

    def slot_pool(self) -> SlotPool | None:
        """The local slots notebook submissions are scored on, kept between submissions
        (``keep_warm``: a long-lived scoring process), so their sandboxes are booted before
        the next submission comes (docs/warm.md); None: each scoring starts its own."""
        if not self.keep_warm or self.cluster is not None:
            return None
        with self._pool_lock:
            if self._pool is None or self._pool.closed:
                self._pool = SlotPool(self.workers)
            return self._pool

    def close(self) -> None:
        """End the kept slots and their booted sandboxes (the scoring process stops)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    # -- the queue ------------------------------------------------------------------------
    def claim(self, submission_id: int) -> bool:
        """Take the lease on a submission to score it (pending, or running with an
        expired lease).  False when someone else holds it or it is done."""
        now = self.clock.now()
        with self.db.write() as s:
            done = s.execute(
                update(Submission)
                .where(Submission.id == submission_id,
                       or_(Submission.status == "pending",
                           and_(Submission.status == "running", Submission.lease_until < now)))
                .values(status="running", lease_until=now + self.lease, attempts=Submission.attempts + 1)
                .execution_options(synchronize_session=False))
            return done.rowcount == 1

    def claim_next(self, slugs: list[str] | None = None, max_attempts: int = MAX_ATTEMPTS,
                   on_give_up: Callable[[int], None] | None = None) -> Claim | None:
        """Claim the oldest claimable submission (pending, or running with an expired
        lease), or None when there is none.  Row-level: on PostgreSQL the candidate is
        read ``FOR UPDATE SKIP LOCKED``, so concurrent workers never wait on each other
        and never take the same row; on SQLite the write transaction (``BEGIN
        IMMEDIATE``) makes the read and the update one step.  A candidate already
        claimed ``max_attempts`` times is failed on the way (infrastructure, not
        counted: the scorer kept dying on it; ``on_give_up`` hears of it once that is
        committed) and the next one is tried."""
        now = self.clock.now()
        claimable = or_(Submission.status == "pending",
                        and_(Submission.status == "running", Submission.lease_until < now))
        for _ in range(100):  # at most this many given up per call; the next call goes on
            given_up = None
            with self.db.write() as s:
                query = select(Submission).where(claimable)
                if slugs:
                    query = query.where(Submission.competition_id.in_(
                        select(Competition.id).where(Competition.slug.in_(slugs))))
                sub = s.scalars(query.order_by(Submission.id).limit(1)
                                .with_for_update(skip_locked=True)).first()
                if sub is None:
                    return None
                if sub.attempts < max_attempts:
                    sub.status, sub.lease_until, sub.attempts = "running", now + self.lease, sub.attempts + 1
                    return Claim(sub.id, sub.attempts)
                self._give_up(s, sub, now)
                given_up = sub.id
            if on_give_up is not None:
                on_give_up(given_up)
        return None

    def renew(self, claim: Claim) -> bool:
        """Extend the lease of a claim still held (the heartbeat); False when the
        submission is done or another scorer has taken it over."""
        with self.db.write() as s:
            done = s.execute(update(Submission)
                             .where(Submission.id == claim.submission_id, Submission.status == "running",
                                    Submission.attempts == claim.attempt)
                             .values(lease_until=self.clock.now() + self.lease)
                             .execution_options(synchronize_session=False))
            return done.rowcount == 1

    def _give_up(self, s: Session, sub: Submission, now: dt.datetime) -> None:
        sub.status, sub.failure_category = "failed", "infrastructure"
        sub.error = (f"the scorer stopped {sub.attempts} times while working on this submission "
                     "(a crash or restart of the server, not your code); it was not counted — "
                     "submit it again, and tell your instructor if this repeats")
        sub.lease_until, sub.scored_at = None, now
        if sub.counted:
            self.quotas.refund(s, sub)
        notify.scored(s, sub.id)

    def score(self, submission_id: int, progress: Progress = False) -> bool:
        """Claim and score one stored submission; False when it could not be claimed."""
        if not self.claim(submission_id):
            return False
        self.evaluate_claimed(submission_id, progress)
        return True

    def pending(self, slug: str | None = None) -> list[int]:
        now = self.clock.now()
        with self.db.read() as s:
            query = select(Submission.id).where(or_(
                Submission.status == "pending",
                and_(Submission.status == "running", Submission.lease_until < now)))
            if slug:
                query = query.where(Submission.competition_id == self.registry.row(s, slug).id)
            return list(s.scalars(query.order_by(Submission.id)))

    def score_pending(self, slug: str | None = None, progress: Progress = False) -> list[int]:
        """Score every submission left pending (e.g. by a crash); returns their ids."""
        return [sub_id for sub_id in self.pending(slug) if self.score(sub_id, progress)]

    def evaluate_claimed(self, sub_id: int | Claim, progress: Progress = False) -> None:
        """Evaluate and store a submission this process has claimed (:meth:`claim` or
        :meth:`claim_next`; pass the :class:`Claim` to fence the result by its attempt).
        When that does not finish (a crash of the scorer, Ctrl-C, SIGTERM), the
        submission goes back to the queue at once (the attempt stays counted), so the
        next scorer takes it without waiting for the lease to run out.  A SIGKILL cannot
        do this; the lease covers that case."""
        claim = sub_id if isinstance(sub_id, Claim) else None
        submission_id = claim.submission_id if claim else int(sub_id)  # type: ignore[arg-type]
        try:
            self._evaluate_and_finish(submission_id, progress, claim.attempt if claim else None)
        except BaseException:
            self.release(submission_id, claim.attempt if claim else None)
            raise

    def release(self, submission_id: int, attempt: int | None = None) -> bool:
        """Return a claimed ('running') submission to 'pending'; True when it was.
        With ``attempt``, only if that claim still holds it."""
        with self.db.write() as s:
            query = update(Submission).where(Submission.id == submission_id, Submission.status == "running")
            if attempt is not None:
                query = query.where(Submission.attempts == attempt)
            done = s.execute(query.values(status="pending", lease_until=None)
                             .execution_options(synchronize_session=False))
            return done.rowcount == 1

    # -- evaluating -----------------------------------------------------------------------
    def _evaluate_and_finish(self, sub_id: int, progress: Progress, attempt: int | None = None) -> None:
        with self.db.read() as s:
            sub = s.get(Submission, sub_id)
            assert sub is not None
            comp = s.get(Competition, sub.competition_id)
            assert comp is not None
            kind, slug, filename = sub.kind, comp.slug, sub.filename
            attempts = attempt if attempt is not None else sub.attempts
            blob = s.scalar(select(Blob.data).where(Blob.submission_id == sub_id,
                                                    Blob.kind == UPLOAD_BLOB.get(kind, "notebook")))
        ds = self.registry.dataset(slug)
        result: dict[str, Any] = {}
        try:
            if kind == "file":
                result = self._score_predictions(ds, from_parquet(blob))
            elif kind == "model":  # the efficiency track: the saved model runs in the sandbox
                result = score_model_submission(ds, blob, filename, backend=self.backend, trusted=self.trusted)
            else:
                result = self._score_notebook(ds, blob, progress)
        except ScoringError as exc:
            result = {"status": "failed", "failure_category": "scoring_error", "error": str(exc)}
        self._finish(sub_id, ds, result, attempts)

    def _score_predictions(self, ds: Dataset, preds: np.ndarray) -> dict[str, Any]:
        scores = score(ds, preds)
        return {"status": "complete", "public_score": scores.public, "private_score": scores.private,
                "_preds": preds, "image": None, "versions": _host_versions()}

    def _score_notebook(self, ds: Dataset, notebook: bytes, progress: Progress) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="nb-submission-") as tmp:
            path = Path(tmp) / "submission.ipynb"
            path.write_bytes(notebook)
            outcome = evaluate_notebook(ds, path, backend=self.backend, workers=self.workers, progress=progress,
                                        cluster=self.cluster, trusted=self.trusted, pool=self.slot_pool())
        runs = [r.to_dict() for r in outcome.runs]
        if not outcome.ok:
            return {"status": "failed", "failure_category": outcome.category, "error": outcome.message,
                    "runs": runs, "image": outcome.image, "versions": outcome.versions}
        assert outcome.scores is not None and outcome.cv is not None and outcome.oof is not None
        return {"status": "complete", "public_score": outcome.scores.public,
                "private_score": outcome.scores.private, "cv_mean": outcome.cv.mean, "cv_std": outcome.cv.std,
                "cv_folds": outcome.cv.folds, "cv_oof": outcome.cv.oof, "runs": runs, "image": outcome.image,
                "versions": outcome.versions, "_preds": outcome.predictions, "_oof": outcome.oof}

    def _finish(self, sub_id: int, ds: Dataset, result: dict[str, Any], attempts: int) -> None:
        preds = result.pop("_preds", None)
        oof = result.pop("_oof", None)
        efficiency, refund = result.pop("_efficiency", None), result.pop("_refund", False)
        boot = None
        if preds is not None:  # the web builds ties and private intervals from these (no truth there)
            boot = replicates.compute(ds, preds)
            result["public_ci_low"], result["public_ci_high"] = replicates.interval(boot.public)
        with self.db.write() as s:
            sub = s.get(Submission, sub_id)
            assert sub is not None
            if sub.status != "running" or sub.attempts != attempts:
                return  # someone else finished it, or took it over after our lease ran out
            infra = result.get("failure_category") == "infrastructure"
            if infra and attempts < MAX_ATTEMPTS:
                sub.status, sub.lease_until, sub.error = "pending", None, result.get("error")
                return
            for key, value in result.items():
                setattr(sub, key, value)
            sub.scored_at = self.clock.now()
            sub.lease_until = None
            sub.dataset_version = ds.version
            if infra or refund:
                self.quotas.refund(s, sub)
            if efficiency is not None:
                put_blob(s, sub_id, "efficiency", efficiency)
            if preds is not None:
                put_blob(s, sub_id, "predictions", to_parquet(preds))
                assert boot is not None
                put_blob(s, sub_id, replicates.BLOB, boot.to_bytes())
                if oof is not None:
                    put_blob(s, sub_id, "oof", to_parquet(oof))
                self._release_public(s, sub, ds, preds)
            notify.scored(s, sub_id)  # wakes the web processes' waiters on commit (PostgreSQL)

    def _release_public(self, s: Session, sub: Submission, ds: Dataset, preds: np.ndarray) -> None:
        """The public score students see: plain, or through the Ladder."""
        assert sub.public_score is not None
        if ds.spec.release != "ladder":
            sub.public_released = sub.public_score
            return

        best = s.scalar(select(Submission).where(
            Submission.team_id == sub.team_id, Submission.ladder_best.is_(True), Submission.id != sub.id,
            Submission.status == "complete").order_by(Submission.id.desc()).limit(1))
        best_preds = None
        if best is not None:
            data = s.scalar(select(Blob.data).where(Blob.submission_id == best.id, Blob.kind == "predictions"))
            best_preds = from_parquet(data)[ds.public] if data is not None else None
        truth = scoring_truth(ds, ds.truth[ds.public])
        step = ladder_step(ds.spec.metric_obj(), truth, preds[ds.public], sub.public_score,
                           best_preds, best.public_released if best is not None else None,
                           n_classes=len(ds.labels) or None, seed=sub.id)
        sub.public_released = step.released
        if step.new_best:
            sub.ladder_best = True
            if best is not None:
                best.ladder_best = False


def _host_versions() -> dict[str, str]:
    from importlib.metadata import version

    out = {"python": sys.version.split()[0]}
    for pkg in ("numpy", "pandas", "pyarrow", "scikit-learn", "coursebench"):
        try:
            out[pkg] = version(pkg)
        except Exception:
            continue
    return out
