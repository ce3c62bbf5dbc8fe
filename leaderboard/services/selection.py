"""The end of a competition: each team's final selections (what the private leaderboard
counts), and closing it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update

from ..board import BoardCache, LeaderboardView
from ..clock import Clock
from ..db import Database
from ..errors import CompetitionOpen, SelectionError
from ..models import Submission
from ..views import ParticipantView
from .competitions import CompetitionRegistry
from .standings import Standings
from .teams import team_id_of


class Selection:
    def __init__(self, db: Database, clock: Clock, registry: CompetitionRegistry, standings: Standings,
                 boards: BoardCache) -> None:
        self.db = db
        self.clock = clock
        self.registry = registry
        self.standings = standings
        self.boards = boards

    def select(self, slug: str, who: ParticipantView, ids: Iterable[int]) -> list[int]:
        """Choose the final submissions (replaces the previous choice)."""
        wanted = sorted(set(int(i) for i in ids))
        with self.db.write() as s:
            comp = self.registry.row(s, slug)
            spec = self.registry.spec(comp)
            self.registry.check_not_over(spec, comp)
            if len(wanted) > spec.final_selections:
                raise SelectionError(f"you may select at most {spec.final_selections} submissions "
                                     f"(you gave {len(wanted)})")
            team_id = team_id_of(s, comp.id, who.id)
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
        self.boards.clear()
        return wanted

    def close(self, slug: str, *, force: bool = False) -> LeaderboardView:
        """Instructor: end the competition (at or after the deadline, or ``force``) and
        return the private leaderboard."""
        with self.db.write() as s:
            comp = self.registry.row(s, slug)
            spec = self.registry.spec(comp)
            now = self.clock.now()
            if now < spec.deadline and not force:
                raise CompetitionOpen(slug, spec.deadline.isoformat())
            if comp.closed_at is None:
                comp.closed_at = now
        self.boards.clear()
        return self.standings.leaderboard(slug, private=True)
