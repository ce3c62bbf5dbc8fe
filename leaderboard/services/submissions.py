"""Submissions: taking them in (validated, then stored with a quota slot in one
transaction) and showing them (only what the viewer may see).

Scoring a stored submission is :mod:`.lifecycle`'s job; ``score_now`` runs it at once.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..clock import Clock
from ..data import PublicData
from ..db import Database
from ..errors import LeaderboardError, NotFound, Problem, SubmissionInvalid
from ..kfold import CATEGORIES
from ..models import Blob, Competition, Participant, Submission, Team
from ..spec import CompetitionSpec
from ..validation import SubmissionFormat, validate
from ..views import ParticipantView, SubmissionView
from .blobs import to_parquet
from .competitions import CompetitionRegistry
from .lifecycle import Progress, ScoringLifecycle
from .quotas import Quotas
from .teams import ensure_team, team_id_of


class SubmissionStore:
    def __init__(self, db: Database, clock: Clock, registry: CompetitionRegistry, quotas: Quotas,
                 scoring: ScoringLifecycle) -> None:
        self.db = db
        self.clock = clock
        self.registry = registry
        self.quotas = quotas
        self.scoring = scoring

    # -- taking them in -------------------------------------------------------------------
    def check_open(self, comp: Competition, spec: CompetitionSpec, kind: str) -> None:
        self.registry.check_not_over(spec, comp)
        if spec.start and self.clock.now() < spec.start:
            raise LeaderboardError(f"competition {comp.slug!r} opens at {spec.start.isoformat()}")
        if kind not in spec.submission_types:
            raise LeaderboardError(f"competition {comp.slug!r} takes {' and '.join(spec.submission_types)} "
                                   f"submissions, not {kind}s")

    def _open_dataset(self, slug: str, kind: str) -> PublicData:
        """The public view of the competition's dataset (never its private files), once
        it is checked to be open for ``kind`` — one read (the upload path is hot: a burst
        of uploads is answered one by one)."""
        return self.registry.public_data(slug, check=lambda comp, spec: self.check_open(comp, spec, kind))

    def submit_file(self, slug: str, who: ParticipantView, source: str | Path | bytes, *, message: str = "",
                    filename: str | None = None, score_now: bool = True) -> SubmissionView:
        """Validate and store a prediction file, then (by default) score it at once.

        Raises :class:`SubmissionInvalid` (nothing stored, nothing counted),
        :class:`QuotaExceeded` or :class:`CompetitionClosed`.
        """
        ds = self._open_dataset(slug, "file")
        name = filename or (Path(source).name if not isinstance(source, bytes) else "submission.csv")
        preds = validate(source, SubmissionFormat.for_dataset(ds), filename=name)
        blobs = {"predictions": to_parquet(preds)}
        if not score_now:
            return self.store_view(slug, who, "file", name, message, blobs)
        return self.process(self.store(slug, who, "file", name, message, blobs), viewer=who)

    def submit_notebook(self, slug: str, who: ParticipantView, path: str | Path, *, message: str = "",
                        score_now: bool = True, progress: Progress = False) -> SubmissionView:
        """Store a notebook submission; by default run its K+1 sandboxed runs now.

        A file that is not a runnable notebook at all is rejected like an invalid file.
        """
        from coursebench.execution.errors import NotebookInputError
        from coursebench.execution.job import load_notebook

        path = Path(path)
        limit = self._open_dataset(slug, "notebook").spec.max_bytes
        if path.is_file() and path.stat().st_size > limit:
            raise SubmissionInvalid([Problem(f"the notebook is {path.stat().st_size / 1024**2:.1f} MiB; the limit is "
                                             f"{limit / 1024**2:.0f} MiB", "clear its outputs (Edit → Clear Outputs "
                                             "of All Cells) and save it again")], filename=path.name)
        try:
            load_notebook(path)
        except NotebookInputError as exc:
            raise SubmissionInvalid([Problem(str(exc), "save the notebook from Jupyter and submit the .ipynb")],
                                    filename=path.name) from None
        blobs = {"notebook": path.read_bytes()}
        if not score_now:
            return self.store_view(slug, who, "notebook", path.name, message, blobs)
        return self.process(self.store(slug, who, "notebook", path.name, message, blobs), progress=progress,
                            viewer=who)

    def submit_model(self, slug: str, who: ParticipantView, source: str | Path | bytes, *, message: str = "",
                     filename: str | None = None, score_now: bool = True) -> SubmissionView:
        """Store a saved model (``.keras`` / ``.tflite``) for the efficiency track; by
        default run it in the sandbox now.  The cheap checks of
        :func:`~leaderboard.model_files.check_model_file` come first: a file they refuse
        raises :class:`SubmissionInvalid` (nothing stored, nothing counted); what only the
        sandbox finds fails the submission without counting it."""
        from ..model_files import check_model_file

        eff = self._open_dataset(slug, "model").spec.efficiency
        assert eff is not None  # the spec requires [efficiency] with model submissions
        name = filename or (Path(source).name if not isinstance(source, bytes) else "model")
        model = check_model_file(source, filename=name, formats=eff.formats, max_bytes=eff.max_model_bytes)
        sub_id = self.store(slug, who, "model", name, message, {"model": model.data})
        return self.process(sub_id, viewer=who) if score_now else self.submission(sub_id, who)

    def store(self, slug: str, who: ParticipantView, kind: str, filename: str, message: str,
              blobs: dict[str, bytes]) -> int:
        """One transaction: the openness checked again, a quota slot reserved, the row
        stored as 'pending' with its blobs.  Returns the submission id.

        The daily limit is exact under any concurrency, across processes: the
        participant's row is locked first (:func:`~.teams.ensure_team`: ``SELECT … FOR
        UPDATE`` on PostgreSQL; SQLite writers are serial), and the slot is one
        conditional ``UPDATE … WHERE used < limit`` (:meth:`Quotas.reserve`)."""
        with self.db.write() as s:
            return self._store(s, slug, who, kind, filename, message, blobs).id

    def store_view(self, slug: str, who: ParticipantView, kind: str, filename: str, message: str,
                   blobs: dict[str, bytes]) -> SubmissionView:
        """:meth:`store`, answering the stored submission as ``who`` sees it, from the
        same transaction (no second read)."""
        with self.db.write() as s:
            return self._view(s, self._store(s, slug, who, kind, filename, message, blobs), who)

    def _store(self, s: Session, slug: str, who: ParticipantView, kind: str, filename: str, message: str,
               blobs: dict[str, bytes]) -> Submission:
        comp = self.registry.row(s, slug)
        spec = self.registry.spec(comp)
        self.check_open(comp, spec, kind)  # again, inside the transaction
        now = self.clock.now()
        team = ensure_team(s, comp, who.id, who.name, now)
        day = self.quotas.reserve(s, comp, spec, team.id)
        sub = Submission(competition_id=comp.id, team_id=team.id, participant_id=who.id, kind=kind,
                         filename=filename[:255], message=message[:2000], status="pending", counted=True,
                         quota_day=day, created_at=now, dataset_version=comp.dataset_version,
                         attempts=0, selected=False, ladder_best=False)
        s.add(sub)
        s.flush()
        for blob_kind, data in blobs.items():
            s.add(Blob(submission_id=sub.id, kind=blob_kind, data=data))
        s.flush()
        return sub

    def process(self, submission_id: int, *, progress: Progress = False,
                viewer: ParticipantView | None = None) -> SubmissionView:
        """Score one stored submission (claim → evaluate → finish) and return it."""
        self.scoring.score(submission_id, progress)
        return self.submission(submission_id, viewer)

    # -- showing them ---------------------------------------------------------------------
    def submission(self, submission_id: int, viewer: ParticipantView | None = None) -> SubmissionView:
        """One submission.  ``viewer=None`` means trusted code (an instructor tool) and
        shows everything; pass the student to hide other teams' submissions and, before
        the deadline, private scores."""
        with self.db.read() as s:
            sub = s.get(Submission, submission_id)
            if sub is None:
                raise NotFound("submission", submission_id)
            if viewer is not None and not viewer.is_instructor:
                if team_id_of(s, sub.competition_id, viewer.id) != sub.team_id:
                    raise NotFound("submission", submission_id)
            return self._view(s, sub, viewer)

    def submissions(self, slug: str, who: ParticipantView) -> list[SubmissionView]:
        """The viewer's team's submissions, newest first."""
        with self.db.read() as s:
            comp = self.registry.row(s, slug)
            team_id = team_id_of(s, comp.id, who.id)
            if team_id is None:
                return []
            rows = s.scalars(select(Submission).where(Submission.competition_id == comp.id,
                                                      Submission.team_id == team_id)
                             .order_by(Submission.created_at.desc(), Submission.id.desc()))
            return [self._view(s, r, who) for r in rows]

    def counted(self, slug: str) -> int:
        """How many of the competition's submissions count against a limit."""
        with self.db.read() as s:
            comp = self.registry.row(s, slug)
            return int(s.scalar(select(func.count()).select_from(Submission).where(
                Submission.competition_id == comp.id, Submission.counted.is_(True))) or 0)

    def _view(self, s: Session, sub: Submission, viewer: ParticipantView | None) -> SubmissionView:
        comp = s.get(Competition, sub.competition_id)
        assert comp is not None
        spec = self.registry.spec(comp)
        trusted = viewer is None or viewer.is_instructor
        show_private = trusted or self.registry.is_over(spec, comp)
        team = s.get(Team, sub.team_id)
        who = s.get(Participant, sub.participant_id)
        ci = ((sub.public_ci_low, sub.public_ci_high)
              if sub.public_ci_low is not None and sub.public_ci_high is not None else None)
        public = sub.public_released if not trusted else (
            sub.public_released if sub.public_released is not None else sub.public_score)
        return SubmissionView(
            id=sub.id, competition=comp.slug, team=team.name if team else "", participant=who.name if who else "",
            kind=sub.kind, filename=sub.filename, message=sub.message, status=sub.status,
            failure_category=sub.failure_category,
            failure_label=CATEGORIES[sub.failure_category][0] if sub.failure_category in CATEGORIES else None,
            error=sub.error, counted=sub.counted, created_at=sub.created_at, scored_at=sub.scored_at,
            public_score=public, public_ci=ci if spec.release == "plain" or viewer is None else None,
            cv_mean=sub.cv_mean, cv_std=sub.cv_std, cv_folds=sub.cv_folds,
            private_score=sub.private_score if show_private else None, selected=sub.selected,
            dataset_version=sub.dataset_version, image=sub.image, versions=sub.versions or {},
            runs=sub.runs or [])
