"""The one object the CLI, the web app, the demo and the benchmarks hold: :class:`Service`.

It builds the resources of :mod:`leaderboard.services` over one database, clock and set
of scoring settings, hands each exactly the collaborators it needs, and keeps the flat
API they have always called (``svc.submit_file(...)``, ``svc.leaderboard(...)``) by
binding each old name to the resource method that does the work.  It holds no logic.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Protocol

from ..board import BoardCache
from ..clock import Clock, SystemClock
from ..db import Database
from .competitions import CompetitionRegistry
from .lifecycle import ScoringLifecycle
from .participants import Participants
from .quotas import Quotas
from .rescoring import Rescoring
from .selection import Selection
from .standings import Standings
from .submissions import SubmissionStore
from .teams import Teams


class _Clocked(Protocol):
    clock: Clock


class Service:
    """One course's competitions, over one database.

    ``competitions_dir`` holds ``<slug>/competition.toml``; ``clock`` is where time comes
    from (a :class:`~leaderboard.clock.FrozenClock` in tests); ``backend`` and
    ``workers`` go to the sandboxed runner for notebook submissions (``trusted``: a
    non-isolating backend named explicitly may run them; ``cluster``: their runs go to
    that Dask scheduler); ``lease`` is how long a scorer's claim on a submission holds;
    ``keep_warm`` keeps the scoring slots, and a booted sandbox in each, between
    submissions (a long-lived scoring process; :meth:`close_scoring` ends them).

    The resources, for callers that want them by name:

    ========================  =============================================================
    ``participants``          :class:`~.participants.Participants` — tokens, authentication
    ``registry``              :class:`~.competitions.CompetitionRegistry` — specs, rows, data
    ``quotas``                :class:`~.quotas.Quotas` — daily limits
    ``submission_store``      :class:`~.submissions.SubmissionStore` — taking in, showing
    ``scoring``               :class:`~.lifecycle.ScoringLifecycle` — claim, score, rescore
    ``standings``             :class:`~.standings.Standings` — boards, shake-up, export
    ``selection``             :class:`~.selection.Selection` — final selections, closing
    ``teams``                 :class:`~.teams.Teams` — naming, invites, mergers, leaving
    ========================  =============================================================
    """

    def __init__(self, db: Database | str, competitions_dir: str | Path, *, clock: Clock | None = None,
                 backend: str = "auto", workers: int | None = None,
                 lease: dt.timedelta = dt.timedelta(minutes=30), migrate: bool = True,
                 cluster: str | None = None, trusted: bool = False, keep_warm: bool = False) -> None:
        self.db = db if isinstance(db, Database) else Database(db)
        if migrate:
            self.db.upgrade()
        self._clock: Clock = clock or SystemClock()
        boards = BoardCache()
        db, clock = self.db, self._clock
        self.registry = CompetitionRegistry(db, clock, competitions_dir)
        self.participants = Participants(db, clock)
        self.quotas = Quotas(db, clock, self.registry)
        self.scoring = ScoringLifecycle(db, clock, self.registry, self.quotas, boards,
                                        backend=backend, workers=workers, lease=lease, cluster=cluster,
                                        trusted=trusted, keep_warm=keep_warm)
        self.rescoring = Rescoring(db, clock, self.registry, boards)
        self.submission_store = SubmissionStore(db, clock, self.registry, self.quotas, self.scoring)
        self.standings = Standings(db, clock, self.registry, boards)
        self.selection = Selection(db, clock, self.registry, self.standings, boards)
        self.teams = Teams(db, clock, self.registry, boards)

        # -- the flat API, name by name ---------------------------------------------------
        # participants and authentication
        self.add_participant = self.participants.add
        self.authenticate = self.participants.authenticate
        self.participant = self.participants.get
        # competitions
        self.spec_of = self.registry.spec_of
        self.prepare = self.registry.prepare
        self.sync = self.registry.sync
        self.competitions = self.registry.all
        self.competition = self.registry.get
        self.public_files = self.registry.public_files
        self.dataset = self.registry.dataset
        # quotas
        self.quota = self.quotas.quota
        # submissions
        self.submit_file = self.submission_store.submit_file
        self.submit_notebook = self.submission_store.submit_notebook
        self.submit_model = self.submission_store.submit_model
        self.process = self.submission_store.process
        self.submission = self.submission_store.submission
        self.submissions = self.submission_store.submissions
        self.counted_submissions = self.submission_store.counted
        # the scoring life cycle
        self.claim = self.scoring.claim
        self.release = self.scoring.release
        self.close_scoring = self.scoring.close
        self.pending = self.scoring.pending
        self.score_pending = self.scoring.score_pending
        self.claim_next = self.scoring.claim_next
        self.renew = self.scoring.renew
        self.evaluate_claimed = self.scoring.evaluate_claimed
        self.rescore = self.rescoring.rescore
        self.backfill_replicates = self.rescoring.backfill_replicates
        # boards, final selections, closing
        self.leaderboard = self.standings.leaderboard
        self.shakeup = self.standings.shakeup
        self.export = self.standings.export
        self.select = self.selection.select
        self.close = self.selection.close
        # teams
        self.create_team = self.teams.create
        self.invite = self.teams.invite
        self.accept = self.teams.accept
        self.leave = self.teams.leave
        self.team = self.teams.view

    def now(self) -> dt.datetime:
        return self._clock.now()

    @property
    def clock(self) -> Clock:
        return self._clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        """Swap the clock (the web app's movable test clock, the demo's frozen one) for
        every resource at once."""
        self._clock = clock
        for resource in self._resources():
            resource.clock = clock

    def _resources(self) -> tuple[_Clocked, ...]:
        return (self.participants, self.registry, self.quotas, self.submission_store, self.scoring,
                self.rescoring, self.standings, self.selection, self.teams)

    @property
    def competitions_dir(self) -> Path:
        return self.registry.root

    @property
    def backend(self) -> str:
        return self.scoring.backend

    @backend.setter
    def backend(self, value: str) -> None:
        self.scoring.backend = value

    @property
    def workers(self) -> int | None:
        return self.scoring.workers

    @workers.setter
    def workers(self, value: int | None) -> None:
        self.scoring.workers = value

    @property
    def lease(self) -> dt.timedelta:
        return self.scoring.lease

    @lease.setter
    def lease(self, value: dt.timedelta) -> None:
        self.scoring.lease = value
