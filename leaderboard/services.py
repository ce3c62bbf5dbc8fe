"""The leaderboard's API: what the CLI calls today and the web app (issue #6) calls next.

Everything goes through :class:`Service`; it returns plain dataclasses (``*View``) that
carry only what the caller may see, and raises :class:`~leaderboard.errors.LeaderboardError`
subclasses with structured fields.  It never prints.

Submissions follow one life cycle, durable at every step::

    submit_*  → validated (invalid: SubmissionInvalid, nothing stored or counted)
              → one transaction: quota slot reserved + row 'pending' + predictions/notebook stored
    process   → claim ('running' with a lease) → evaluate (outside any transaction)
              → one transaction: scores stored, 'complete' | 'failed'
    crash     → the row stays 'pending'/'running'; ``score_pending`` picks it up again
              (a 'running' row once its lease has expired)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from . import board, teams
from .clock import Clock, SystemClock
from .data import PUBLIC_FILES, Dataset, Paths, compute_version, load_dataset
from .data import prepare as prepare_data
from .db import Database
from .errors import (
    CompetitionClosed,
    LeaderboardError,
    NotAuthenticated,
    NotFound,
    QuotaExceeded,
    SelectionError,
    SubmissionInvalid,
)
from .kfold import CATEGORIES
from .lifecycle import MAX_ATTEMPTS, ScoringLifecycle, _from_parquet, _to_parquet
from .models import Blob, Competition, Participant, QuotaUsage, Submission, Team, TeamMember
from .spec import CompetitionSpec, load_spec, parse_spec
from .validation import SubmissionFormat, validate
from .views import CompetitionView, ParticipantView, QuotaView, SubmissionView

UTC = dt.timezone.utc

__all__ = [
    "MAX_ATTEMPTS",
    "CompetitionView",
    "ParticipantView",
    "QuotaView",
    "Service",
    "SubmissionView",
    "hash_token",
]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


class Service(ScoringLifecycle):
    """One course's competitions, over one database.

    ``competitions_dir`` holds ``<slug>/competition.toml``; ``clock`` is where time comes
    from (a :class:`~leaderboard.clock.FrozenClock` in tests); ``backend`` and
    ``workers`` go to the sandboxed runner for notebook submissions.
    """

    def __init__(self, db: Database | str, competitions_dir: str | Path, *, clock: Clock | None = None,
                 backend: str = "auto", workers: int | None = None,
                 lease: dt.timedelta = dt.timedelta(minutes=30), migrate: bool = True) -> None:
        self.db = db if isinstance(db, Database) else Database(db)
        if migrate:
            self.db.upgrade()
        self.competitions_dir = Path(competitions_dir)
        self.clock = clock or SystemClock()
        self.backend = backend
        self.workers = workers
        self.lease = lease
        self._datasets: dict[tuple[str, str], Dataset] = {}
        self._board_cache = board.BoardCache()

    def now(self) -> dt.datetime:
        return self.clock.now()

    # -- participants ---------------------------------------------------------------------
    def add_participant(self, name: str, *, display_name: str = "", email: str = "",
                        role: str = "student") -> str:
        """Create (or re-key) a participant; returns a new token (only its hash is stored)."""
        if role not in ("student", "instructor"):
            raise LeaderboardError(f"role must be student or instructor, not {role!r}")
        token = secrets.token_urlsafe(24)
        with self.db.write() as s:
            row = s.scalar(select(Participant).where(Participant.name == name))
            if row is None:
                row = Participant(name=name, display_name=display_name or name, email=email, role=role,
                                  created_at=self.now())
                s.add(row)
            else:
                row.role = role
                row.display_name = display_name or row.display_name
            row.token_hash = hash_token(token)
        return token

    def authenticate(self, token: str | None) -> ParticipantView:
        if not token:
            raise NotAuthenticated("no token given; ask your instructor for yours and run "
                                   "`coursebench compete login TOKEN`")
        with self.db.read() as s:
            row = s.scalar(select(Participant).where(Participant.token_hash == hash_token(token)))
            if row is None:
                raise NotAuthenticated("this token is not known (mistyped, or replaced by a newer one)")
            return self._participant_view(row)

    def participant(self, name: str) -> ParticipantView:
        with self.db.read() as s:
            row = s.scalar(select(Participant).where(Participant.name == name))
            if row is None:
                raise NotFound("participant", name)
            return self._participant_view(row)

    @staticmethod
    def _participant_view(row: Participant) -> ParticipantView:
        return ParticipantView(row.id, row.name, row.display_name, row.role)

    # -- competitions ---------------------------------------------------------------------
    def spec_of(self, slug: str) -> CompetitionSpec:
        path = self.competitions_dir / slug
        if not (path / "competition.toml").is_file():
            known = sorted(p.name for p in self.competitions_dir.glob("*/competition.toml"))
            raise NotFound("competition", slug, [Path(k).parent.name for k in known] or None)
        return load_spec(path)

    def prepare(self, slug: str) -> CompetitionView:
        """Instructor: write the data (deterministic from the seed) and register it."""
        spec = self.spec_of(slug)
        prepare_data(self.competitions_dir / slug, spec)
        return self.sync(slug)

    def sync(self, slug: str) -> CompetitionView:
        """Register a prepared competition (or update its spec and dataset version)."""
        spec = self.spec_of(slug)
        root = self.competitions_dir / slug
        version = compute_version(root).sha256
        with self.db.write() as s:
            row = s.scalar(select(Competition).where(Competition.slug == slug))
            data = json.loads(spec.model_dump_json())
            if row is None:
                row = Competition(slug=slug, title=spec.title, root=str(root.resolve()), spec=data,
                                  dataset_version=version, created_at=self.now())
                s.add(row)
            else:
                row.title, row.root, row.spec, row.dataset_version = spec.title, str(root.resolve()), data, version
            s.flush()
            return self._competition_view(row)

    def competitions(self) -> list[CompetitionView]:
        with self.db.read() as s:
            return [self._competition_view(c) for c in s.scalars(select(Competition).order_by(Competition.slug))]

    def competition(self, slug: str) -> CompetitionView:
        with self.db.read() as s:
            return self._competition_view(self._competition_row(s, slug))

    def public_files(self, slug: str) -> list[Path]:
        """The files students may download (never data/private)."""
        with self.db.read() as s:
            root = Path(self._competition_row(s, slug).root)
        return [Paths(root).public / name for name in PUBLIC_FILES]

    def _competition_row(self, s: Session, slug: str) -> Competition:
        row = s.scalar(select(Competition).where(Competition.slug == slug))
        if row is None:
            known = list(s.scalars(select(Competition.slug)))
            raise NotFound("competition", slug, known or None)
        return row

    def _spec(self, row: Competition) -> CompetitionSpec:
        return parse_spec(row.spec, path=f"{row.slug} (stored spec)")

    def _is_over(self, spec: CompetitionSpec, row: Competition) -> bool:
        return row.closed_at is not None or self.now() >= spec.deadline

    def _competition_view(self, row: Competition) -> CompetitionView:
        spec = self._spec(row)
        metric = spec.metric_obj()
        now = self.now()
        over = self._is_over(spec, row)
        return CompetitionView(
            slug=row.slug, title=row.title, description=spec.description, task=spec.task, metric=spec.metric,
            direction=metric.direction, deadline=spec.deadline, is_open=not over and (spec.start is None or now >= spec.start),
            closed=over, daily_limit=spec.daily_limit, final_selections=spec.final_selections,
            team_size=spec.team_size, submission_types=list(spec.submission_types), release=spec.release,
            dataset_version=row.dataset_version, folds=spec.folds)

    def dataset(self, slug: str) -> Dataset:
        with self.db.read() as s:
            row = self._competition_row(s, slug)
            key, root, spec = (row.slug, row.dataset_version), Path(row.root), self._spec(row)
        ds = self._datasets.get(key)
        if ds is None:
            ds = load_dataset(root, spec)
            if ds.version != key[1]:
                raise LeaderboardError(f"the data of {slug!r} changed on disk since it was registered; "
                                       "run `coursebench compete prepare` (or rescore) again")
            self._datasets = {k: v for k, v in self._datasets.items() if k[0] != slug}
            self._datasets[key] = ds
        return ds

    # -- quotas ---------------------------------------------------------------------------
    def _quota_day(self, spec: CompetitionSpec) -> tuple[str, dt.datetime]:
        tz = ZoneInfo(spec.quota_timezone)
        local = self.now().astimezone(tz)
        reset = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), tzinfo=tz)
        return local.date().isoformat(), reset.astimezone(UTC)

    def _reserve(self, s: Session, comp: Competition, spec: CompetitionSpec, team_id: int) -> str:
        day, resets = self._quota_day(spec)
        values = {"competition_id": comp.id, "team_id": team_id, "day": day, "used": 0}
        if self.db.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        s.execute(dialect_insert(QuotaUsage).values(**values).on_conflict_do_nothing())
        done = s.execute(
            update(QuotaUsage)
            .where(QuotaUsage.competition_id == comp.id, QuotaUsage.team_id == team_id, QuotaUsage.day == day,
                   QuotaUsage.used < spec.daily_limit)
            .values(used=QuotaUsage.used + 1)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:
            raise QuotaExceeded(limit=spec.daily_limit, used=spec.daily_limit, resets_at=resets.isoformat())
        return day

    def _refund(self, s: Session, sub: Submission) -> None:
        s.execute(update(QuotaUsage)
                  .where(QuotaUsage.competition_id == sub.competition_id, QuotaUsage.team_id == sub.team_id,
                         QuotaUsage.day == sub.quota_day, QuotaUsage.used > 0)
                  .values(used=QuotaUsage.used - 1).execution_options(synchronize_session=False))
        sub.counted = False

    def quota(self, slug: str, who: ParticipantView) -> QuotaView:
        with self.db.read() as s:
            comp = self._competition_row(s, slug)
            spec = self._spec(comp)
            day, resets = self._quota_day(spec)
            team_id = teams.team_id_of(s, comp.id, who.id)
            used = 0 if team_id is None else (s.scalar(select(QuotaUsage.used).where(
                QuotaUsage.competition_id == comp.id, QuotaUsage.team_id == team_id, QuotaUsage.day == day)) or 0)
            return QuotaView(used=used, limit=spec.daily_limit, resets_at=resets)

    # -- submitting -----------------------------------------------------------------------
    def _check_open(self, comp: Competition, spec: CompetitionSpec, kind: str) -> None:
        if self._is_over(spec, comp):
            raise CompetitionClosed(comp.slug, spec.deadline.isoformat())
        if spec.start and self.now() < spec.start:
            raise LeaderboardError(f"competition {comp.slug!r} opens at {spec.start.isoformat()}")
        if kind not in spec.submission_types:
            raise LeaderboardError(f"competition {comp.slug!r} takes {' and '.join(spec.submission_types)} "
                                   f"submissions, not {kind}s")

    def submit_file(self, slug: str, who: ParticipantView, source: str | Path | bytes, *, message: str = "",
                    filename: str | None = None, score_now: bool = True) -> SubmissionView:
        """Validate and store a prediction file, then (by default) score it at once.

        Raises :class:`SubmissionInvalid` (nothing stored, nothing counted),
        :class:`QuotaExceeded` or :class:`CompetitionClosed`.
        """
        with self.db.read() as s:
            comp = self._competition_row(s, slug)
            self._check_open(comp, self._spec(comp), "file")
        ds = self.dataset(slug)
        name = filename or (Path(source).name if not isinstance(source, bytes) else "submission.csv")
        preds = validate(source, SubmissionFormat.for_dataset(ds), filename=name)
        sub_id = self._store(slug, who, "file", name, message, {"predictions": _to_parquet(preds)})
        return self.process(sub_id, viewer=who) if score_now else self.submission(sub_id, who)

    def submit_notebook(self, slug: str, who: ParticipantView, path: str | Path, *, message: str = "",
                        score_now: bool = True,
                        progress: Callable[[int, int, Any], None] | bool = False) -> SubmissionView:
        """Store a notebook submission; by default run its K+1 sandboxed runs now.

        A file that is not a runnable notebook at all is rejected like an invalid file.
        """
        from coursebench.execution.errors import NotebookInputError
        from coursebench.execution.job import load_notebook

        with self.db.read() as s:
            comp = self._competition_row(s, slug)
            self._check_open(comp, self._spec(comp), "notebook")
        path = Path(path)
        from .errors import Problem

        limit = self.dataset(slug).spec.max_bytes
        if path.is_file() and path.stat().st_size > limit:
            raise SubmissionInvalid([Problem(f"the notebook is {path.stat().st_size / 1024**2:.1f} MiB; the limit is "
                                             f"{limit / 1024**2:.0f} MiB", "clear its outputs (Edit → Clear Outputs "
                                             "of All Cells) and save it again")], filename=path.name)
        try:
            load_notebook(path)
        except NotebookInputError as exc:
            raise SubmissionInvalid([Problem(str(exc), "save the notebook from Jupyter and submit the .ipynb")],
                                    filename=path.name) from None
        sub_id = self._store(slug, who, "notebook", path.name, message, {"notebook": path.read_bytes()})
        return self.process(sub_id, progress=progress, viewer=who) if score_now else self.submission(sub_id, who)

    def _store(self, slug: str, who: ParticipantView, kind: str, filename: str, message: str,
               blobs: dict[str, bytes]) -> int:
        with self.db.write() as s:
            comp = self._competition_row(s, slug)
            spec = self._spec(comp)
            self._check_open(comp, spec, kind)  # again, inside the transaction
            team = teams.ensure_team(s, comp, who.id, who.name, self.now())
            day = self._reserve(s, comp, spec, team.id)
            sub = Submission(competition_id=comp.id, team_id=team.id, participant_id=who.id, kind=kind,
                             filename=filename[:255], message=message[:2000], status="pending", counted=True,
                             quota_day=day, created_at=self.now(), dataset_version=comp.dataset_version,
                             attempts=0, selected=False, ladder_best=False)
            s.add(sub)
            s.flush()
            for blob_kind, data in blobs.items():
                s.add(Blob(submission_id=sub.id, kind=blob_kind, data=data))
            return sub.id

    # -- reading submissions --------------------------------------------------------------
    def submission(self, submission_id: int, viewer: ParticipantView | None = None) -> SubmissionView:
        """One submission.  ``viewer=None`` means trusted code (an instructor tool) and
        shows everything; pass the student to hide other teams' submissions and, before
        the deadline, private scores."""
        with self.db.read() as s:
            sub = s.get(Submission, submission_id)
            if sub is None:
                raise NotFound("submission", submission_id)
            if viewer is not None and not viewer.is_instructor:
                if teams.team_id_of(s, sub.competition_id, viewer.id) != sub.team_id:
                    raise NotFound("submission", submission_id)
            return self._submission_view(s, sub, viewer)

    def submissions(self, slug: str, who: ParticipantView) -> list[SubmissionView]:
        """The viewer's team's submissions, newest first."""
        with self.db.read() as s:
            comp = self._competition_row(s, slug)
            team_id = teams.team_id_of(s, comp.id, who.id)
            if team_id is None:
                return []
            rows = s.scalars(select(Submission).where(Submission.competition_id == comp.id,
                                                      Submission.team_id == team_id)
                             .order_by(Submission.created_at.desc(), Submission.id.desc()))
            return [self._submission_view(s, r, who) for r in rows]

    def _submission_view(self, s: Session, sub: Submission, viewer: ParticipantView | None) -> SubmissionView:
        comp = s.get(Competition, sub.competition_id)
        assert comp is not None
        spec = self._spec(comp)
        show_private = viewer is None or viewer.is_instructor or self._is_over(spec, comp)
        team = s.get(Team, sub.team_id)
        who = s.get(Participant, sub.participant_id)
        ci = ((sub.public_ci_low, sub.public_ci_high)
              if sub.public_ci_low is not None and sub.public_ci_high is not None else None)
        public = sub.public_released if viewer is not None and not viewer.is_instructor else (
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

    # -- final selections, closing, boards ------------------------------------------------
    def select(self, slug: str, who: ParticipantView, ids: Iterable[int]) -> list[int]:
        """Choose the final submissions (replaces the previous choice)."""
        wanted = sorted(set(int(i) for i in ids))
        with self.db.write() as s:
            comp = self._competition_row(s, slug)
            spec = self._spec(comp)
            if self._is_over(spec, comp):
                raise CompetitionClosed(comp.slug, spec.deadline.isoformat())
            if len(wanted) > spec.final_selections:
                raise SelectionError(f"you may select at most {spec.final_selections} submissions "
                                     f"(you gave {len(wanted)})")
            team_id = teams.team_id_of(s, comp.id, who.id)
            own = {sid: status for sid, status in s.execute(
                select(Submission.id, Submission.status).where(Submission.team_id == team_id,
                                                               Submission.competition_id == comp.id))}
            for sid in wanted:
                if sid not in own:
                    raise SelectionError(f"submission {sid} is not one of your team's submissions")
                if own[sid] != "complete":
                    raise SelectionError(f"submission {sid} has no score ({own[sid]}); select a scored one")
            s.execute(update(Submission).where(Submission.team_id == team_id, Submission.competition_id == comp.id)
                      .values(selected=False).execution_options(synchronize_session=False))
            if wanted:
                s.execute(update(Submission).where(Submission.id.in_(wanted))
                          .values(selected=True).execution_options(synchronize_session=False))
        self._board_cache.clear()
        return wanted

    def close(self, slug: str, *, force: bool = False) -> board.LeaderboardView:
        """Instructor: end the competition (at or after the deadline, or ``force``) and
        return the private leaderboard."""
        with self.db.write() as s:
            comp = self._competition_row(s, slug)
            spec = self._spec(comp)
            if self.now() < spec.deadline and not force:
                from .errors import CompetitionOpen

                raise CompetitionOpen(slug, spec.deadline.isoformat())
            if comp.closed_at is None:
                comp.closed_at = self.now()
        self._board_cache.clear()
        return self.leaderboard(slug, private=True)

    def leaderboard(self, slug: str, *, private: bool = False,
                    viewer: ParticipantView | None = None) -> board.LeaderboardView:
        """Public board (released scores), or the private one after the deadline
        (instructors may see it any time)."""
        with self.db.read() as s:
            comp = self._competition_row(s, slug)
            spec = self._spec(comp)
            over = self._is_over(spec, comp)
            if private and not over and not (viewer is None or viewer.is_instructor):
                from .errors import CompetitionOpen

                raise CompetitionOpen(slug, spec.deadline.isoformat())
            entries = board.load_entries(s, comp.id)
        ds = self.dataset(slug)
        return board.build(ds, entries, private=private, cache=self._board_cache, load=self._load_preds,
                           now=self.now(), plain=spec.release == "plain")

    def shakeup(self, slug: str, viewer: ParticipantView | None = None) -> board.ShakeUp:
        public = self.leaderboard(slug, viewer=viewer)
        private = self.leaderboard(slug, private=True, viewer=viewer)
        return board.shakeup(public, private)

    def _load_preds(self, sub_id: int) -> np.ndarray:
        with self.db.read() as s:
            data = s.scalar(select(Blob.data).where(Blob.submission_id == sub_id, Blob.kind == "predictions"))
        if data is None:
            raise NotFound("predictions of submission", sub_id)
        return _from_parquet(data)

    def export(self, slug: str) -> list[dict[str, Any]]:
        """Instructor: one row per participant with the team's private rank and score."""
        view = self.leaderboard(slug, private=True)
        with self.db.read() as s:
            comp = self._competition_row(s, slug)
            members = s.execute(select(Team.id, Participant.name, Participant.display_name)
                                .join(TeamMember, TeamMember.team_id == Team.id)
                                .join(Participant, Participant.id == TeamMember.participant_id)
                                .where(Team.competition_id == comp.id)).all()
        out = []
        by_team = {row.team_id: row for row in view.rows}
        for team_id, name, display in sorted(members, key=lambda m: m[1]):
            row = by_team.get(team_id)
            out.append({"participant": name, "name": display, "team": row.team if row else "",
                        "private_rank": row.rank if row else None, "private_score": row.score if row else None,
                        "public_score": row.public_score if row else None,
                        "submission_id": row.submission_id if row else None, "entries": row.entries if row else 0})
        return out

    # -- teams (see teams.py) -------------------------------------------------------------
    def create_team(self, slug: str, who: ParticipantView, name: str) -> str:
        with self.db.write() as s:
            comp = self._competition_row(s, slug)
            return teams.rename_own_team(s, comp, self._spec(comp), who.id, who.name, name, self.now())

    def invite(self, slug: str, who: ParticipantView, invitee: str) -> int:
        with self.db.write() as s:
            comp = self._competition_row(s, slug)
            return teams.invite(s, comp, self._spec(comp), who.id, who.name, invitee, self.now())

    def accept(self, slug: str, who: ParticipantView, team_name: str) -> str:
        """Join a team that invited you (your own submissions come along: a merger)."""
        with self.db.write() as s:
            comp = self._competition_row(s, slug)
            name = teams.accept(s, comp, self._spec(comp), who.id, who.name, team_name, self.now(),
                                self._days_so_far(comp))
        self._board_cache.clear()
        return name

    def leave(self, slug: str, who: ParticipantView) -> str:
        with self.db.write() as s:
            comp = self._competition_row(s, slug)
            name = teams.leave(s, comp, self._spec(comp), who.id, who.name, self.now())
        self._board_cache.clear()
        return name

    def team(self, slug: str, who: ParticipantView) -> teams.TeamView | None:
        with self.db.read() as s:
            comp = self._competition_row(s, slug)
            return teams.view(s, comp.id, who.id)

    def _days_so_far(self, comp: Competition) -> int:
        spec = self._spec(comp)
        tz = ZoneInfo(spec.quota_timezone)
        start = (spec.start or comp.created_at).astimezone(tz).date()
        return max(1, (self.now().astimezone(tz).date() - start).days + 1)

    def counted_submissions(self, slug: str) -> int:
        with self.db.read() as s:
            comp = self._competition_row(s, slug)
            return int(s.scalar(select(func.count()).select_from(Submission).where(
                Submission.competition_id == comp.id, Submission.counted.is_(True))) or 0)
