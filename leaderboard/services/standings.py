"""Standings: the public and private leaderboards of a competition, the shake-up between
them, and the instructor's export of final ranks (built by :mod:`leaderboard.board`, from
the database alone: no dataset is loaded here, so the web process needs no private data)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from .. import board, efficiency
from ..board import BoardCache, LeaderboardView, ShakeUp
from ..clock import Clock
from ..db import Database
from ..errors import CompetitionOpen
from ..models import Participant, Team, TeamMember
from ..views import ParticipantView
from .blobs import load_replicates
from .competitions import CompetitionRegistry


class Standings:
    """``boards`` caches what is costly to recompute (tie flags, private intervals); the
    resources that change who ranks where clear it."""

    def __init__(self, db: Database, clock: Clock, registry: CompetitionRegistry, boards: BoardCache) -> None:
        self.db = db
        self.clock = clock
        self.registry = registry
        self.boards = boards

    def leaderboard(self, slug: str, *, private: bool = False,
                    viewer: ParticipantView | None = None) -> LeaderboardView:
        """Public board (released scores), or the private one after the deadline
        (instructors may see it any time)."""
        with self.db.read() as s:
            comp = self.registry.row(s, slug)
            spec = self.registry.spec(comp)
            over = self.registry.is_over(spec, comp)
            if private and not over and not (viewer is None or viewer.is_instructor):
                raise CompetitionOpen(slug, spec.deadline.isoformat())
            entries = board.load_entries(s, comp.id)
            models = efficiency.load_model_scores(s, comp.id, private=private) if spec.efficiency else None
            version = comp.dataset_version
        view = board.build(spec, version, entries, private=private, cache=self.boards,
                           replicates=lambda ids: load_replicates(self.db, ids, version), now=self.clock.now(),
                           plain=spec.release == "plain")
        if spec.efficiency is not None and models is not None:  # the efficiency track's ranking and front
            view = efficiency.with_efficiency(view, spec.efficiency, models)
        return view

    def shakeup(self, slug: str, viewer: ParticipantView | None = None) -> ShakeUp:
        public = self.leaderboard(slug, viewer=viewer)
        private = self.leaderboard(slug, private=True, viewer=viewer)
        return board.shakeup(public, private)

    def export(self, slug: str) -> list[dict[str, Any]]:
        """Instructor: one row per participant with the team's private rank and score."""
        view = self.leaderboard(slug, private=True)
        with self.db.read() as s:
            comp = self.registry.row(s, slug)
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
