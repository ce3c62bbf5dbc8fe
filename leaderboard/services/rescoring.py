"""Deriving stored results again, from the stored predictions: ``rescore`` after the
data changed (``prepare`` again), and the bootstrap replicates of submissions scored
before they were stored (:meth:`Rescoring.backfill_replicates`, run by every scoring
loop when it starts)."""

from __future__ import annotations

from sqlalchemy import select

from .. import replicates
from ..board import BoardCache
from ..clock import Clock
from ..db import Database
from ..errors import ScoringError
from ..models import Blob, Competition, Submission
from ..scoring import cv_score, score
from .blobs import from_parquet, put_blob
from .competitions import CompetitionRegistry


class Rescoring:
    def __init__(self, db: Database, clock: Clock, registry: CompetitionRegistry, boards: BoardCache) -> None:
        self.db = db
        self.clock = clock
        self.registry = registry
        self.boards = boards

    def rescore(self, slug: str) -> int:
        """Instructor: score every completed submission again against the current data
        (after ``prepare`` changed it), from the stored predictions.  Returns the count."""
        ds = self.registry.dataset(slug)
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
                boot = replicates.compute(ds, preds)
                sub.public_ci_low, sub.public_ci_high = replicates.interval(boot.public)
                put_blob(s, sub_id, replicates.BLOB, boot.to_bytes())
                sub.dataset_version = ds.version
                sub.scored_at = self.clock.now()
                count += 1
        self.boards.clear()
        return count


    def backfill_replicates(self, slugs: list[str] | None = None) -> int:
        """Store the bootstrap replicates (:mod:`leaderboard.replicates`) of completed
        submissions scored before they were stored, from their stored predictions, so
        that boards show their ties and private intervals.  Returns how many were
        stored; safe to run in several workers at once (one of two writers loses the
        insert and moves on)."""
        from sqlalchemy.exc import IntegrityError

        with self.db.read() as s:
            stored = select(Blob.submission_id).where(Blob.kind == replicates.BLOB)
            query = (select(Submission.id, Competition.slug).join(Competition, Competition.id == Submission.competition_id)
                     .where(Submission.status == "complete", Submission.dataset_version == Competition.dataset_version,
                            Submission.id.not_in(stored)).order_by(Submission.id))
            if slugs:
                query = query.where(Competition.slug.in_(slugs))
            todo = s.execute(query).all()
        count = 0
        for sub_id, slug in todo:
            ds = self.registry.dataset(slug)
            with self.db.read() as s:
                data = s.scalar(select(Blob.data).where(Blob.submission_id == sub_id, Blob.kind == "predictions"))
            if data is None:
                continue
            try:
                boot = replicates.compute(ds, from_parquet(data))
                with self.db.write() as s:
                    put_blob(s, sub_id, replicates.BLOB, boot.to_bytes())
            except IntegrityError:
                continue  # another worker stored them first
            count += 1
        return count
