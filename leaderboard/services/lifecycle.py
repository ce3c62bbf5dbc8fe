"""The scoring life cycle of a stored submission: claim (a lease) → evaluate (outside
any transaction) → finish (one transaction), with retries of infrastructure failures,
the Ladder, and rescoring after the data changed."""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from .. import notify
from ..board import BoardCache
from ..clock import Clock
from ..data import Dataset
from ..db import Database
from ..errors import ScoringError
from ..kfold import evaluate_notebook
from ..models import Blob, Competition, Submission
from ..scoring import cv_score, score, scoring_truth
from ..stats import bootstrap_ci, ladder_step
from .blobs import from_parquet, put_blob, to_parquet
from .competitions import CompetitionRegistry
from .quotas import Quotas

MAX_ATTEMPTS = 3

Progress = Callable[[int, int, Any], None] | bool


class ScoringLifecycle:
    """Scores stored submissions.  ``backend`` and ``workers`` go to the sandboxed
    runner for notebook submissions; ``lease`` is how long a claim holds before another
    scorer may take the submission over (after a crash)."""

    def __init__(self, db: Database, clock: Clock, registry: CompetitionRegistry, quotas: Quotas,
                 boards: BoardCache, *, backend: str = "auto", workers: int | None = None,
                 lease: dt.timedelta = dt.timedelta(minutes=30)) -> None:
        self.db = db
        self.clock = clock
        self.registry = registry
        self.quotas = quotas
        self.boards = boards
        self.backend = backend
        self.workers = workers
        self.lease = lease

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

    def evaluate_claimed(self, sub_id: int, progress: Progress = False) -> None:
        """Evaluate a submission this process has claimed.  When that does not finish (a
        crash of the scorer, Ctrl-C), the submission goes back to the queue at once (the
        attempt stays counted), so the next scorer takes it without waiting for the
        lease to run out.  A SIGKILL cannot do this; the lease covers that case."""
        try:
            self._evaluate_and_finish(sub_id, progress)
        except BaseException:
            self.release(sub_id)
            raise

    def release(self, submission_id: int) -> bool:
        """Return a claimed ('running') submission to 'pending'; True when it was."""
        with self.db.write() as s:
            done = s.execute(update(Submission)
                             .where(Submission.id == submission_id, Submission.status == "running")
                             .values(status="pending", lease_until=None)
                             .execution_options(synchronize_session=False))
            return done.rowcount == 1

    # -- evaluating -----------------------------------------------------------------------
    def _evaluate_and_finish(self, sub_id: int, progress: Progress) -> None:
        with self.db.read() as s:
            sub = s.get(Submission, sub_id)
            assert sub is not None
            comp = s.get(Competition, sub.competition_id)
            assert comp is not None
            kind, slug, attempts = sub.kind, comp.slug, sub.attempts
            blob = s.scalar(select(Blob.data).where(Blob.submission_id == sub_id,
                                                    Blob.kind == ("predictions" if kind == "file" else "notebook")))
        ds = self.registry.dataset(slug)
        result: dict[str, Any] = {}
        try:
            if kind == "file":
                result = self._score_predictions(ds, from_parquet(blob))
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
            outcome = evaluate_notebook(ds, path, backend=self.backend, workers=self.workers, progress=progress)
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
        spec = ds.spec
        metric = spec.metric_obj()
        preds = result.pop("_preds", None)
        oof = result.pop("_oof", None)
        if preds is not None:
            truth = scoring_truth(ds, ds.truth[ds.public])
            low, high = bootstrap_ci(metric, truth, preds[ds.public], n_boot=spec.bootstrap, seed=sub_id,
                                     n_classes=len(ds.labels) or None)
            result["public_ci_low"], result["public_ci_high"] = low, high
        with self.db.write() as s:
            sub = s.get(Submission, sub_id)
            assert sub is not None
            if sub.status != "running":
                return  # someone else finished it
            infra = result.get("failure_category") == "infrastructure"
            if infra and attempts < MAX_ATTEMPTS:
                sub.status, sub.lease_until, sub.error = "pending", None, result.get("error")
                return
            for key, value in result.items():
                setattr(sub, key, value)
            sub.scored_at = self.clock.now()
            sub.lease_until = None
            sub.dataset_version = ds.version
            if infra:
                self.quotas.refund(s, sub)
            if preds is not None:
                put_blob(s, sub_id, "predictions", to_parquet(preds))
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

    # -- rescoring ------------------------------------------------------------------------
    def rescore(self, slug: str) -> int:
        """Instructor: score every completed submission again against the current data
        (after ``prepare`` changed it), from the stored predictions.  Returns the count."""
        ds = self.registry.dataset(slug)
        metric = ds.spec.metric_obj()
        count = 0
        with self.db.read() as s:
            comp = self.registry.row(s, slug)
            ids = list(s.scalars(select(Submission.id).where(
                Submission.competition_id == comp.id, Submission.status == "complete").order_by(Submission.id)))
        for sub_id in ids:
            with self.db.write() as s:
                sub = s.get(Submission, sub_id)
                assert sub is not None
                blobs = dict(s.execute(select(Blob.kind, Blob.data).where(Blob.submission_id == sub_id)).all())
                try:
                    preds = from_parquet(blobs["predictions"])
                    scores = score(ds, preds)
                except (ScoringError, KeyError, ValueError, IndexError) as exc:
                    sub.status, sub.failure_category, sub.error = "failed", "scoring_error", f"rescore: {exc}"
                    continue
                sub.public_score, sub.private_score = scores.public, scores.private
                if ds.spec.release != "ladder":
                    sub.public_released = scores.public
                if "oof" in blobs:
                    cv = cv_score(ds, from_parquet(blobs["oof"]))
                    sub.cv_mean, sub.cv_std, sub.cv_folds, sub.cv_oof = cv.mean, cv.std, cv.folds, cv.oof
                low, high = bootstrap_ci(metric, scoring_truth(ds, ds.truth[ds.public]), preds[ds.public],
                                         n_boot=ds.spec.bootstrap, seed=sub_id, n_classes=len(ds.labels) or None)
                sub.public_ci_low, sub.public_ci_high = low, high
                sub.dataset_version = ds.version
                sub.scored_at = self.clock.now()
                count += 1
        self.boards.clear()
        return count


def _host_versions() -> dict[str, str]:
    from importlib.metadata import version

    out = {"python": sys.version.split()[0]}
    for pkg in ("numpy", "pandas", "pyarrow", "scikit-learn", "coursebench"):
        try:
            out[pkg] = version(pkg)
        except Exception:
            continue
    return out
