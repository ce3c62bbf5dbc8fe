"""Teams, as on Kaggle: everyone is in a team (a solo one at first); the team is the
unit of quotas and of the leaderboard.  Invitations, joining (a merger: the joining
team's submissions come along) and leaving are allowed until the merger deadline; a
merger only when the teams' submissions together fit ``daily_limit × days so far``.

:func:`team_id_of` and :func:`ensure_team` work inside a caller's transaction (storing a
submission, reading a quota); :class:`Teams` is the resource the facade exposes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..board import BoardCache
from ..clock import Clock
from ..db import Database
from ..errors import NotFound, TeamError
from ..models import Competition, Participant, QuotaUsage, Submission, Team, TeamInvite, TeamMember
from ..spec import CompetitionSpec
from ..views import ParticipantView
from .competitions import CompetitionRegistry


@dataclass(frozen=True)
class TeamView:
    id: int
    name: str
    leader: str
    members: list[str]
    invites: list[str]


def team_id_of(s: Session, competition_id: int, participant_id: int) -> int | None:
    return s.scalar(select(TeamMember.team_id).where(TeamMember.competition_id == competition_id,
                                                     TeamMember.participant_id == participant_id))


def ensure_team(s: Session, comp: Competition, participant_id: int, participant_name: str, now: dt.datetime) -> Team:
    """The participant's team, created (solo) on first need.  The participant's row is
    locked first (PostgreSQL: FOR UPDATE; SQLite writers are serial anyway), so two
    concurrent first submissions cannot both create a team."""
    s.execute(select(Participant.id).where(Participant.id == participant_id).with_for_update())
    team_id = team_id_of(s, comp.id, participant_id)
    if team_id is not None:
        team = s.get(Team, team_id)
        assert team is not None
        return team
    team = Team(competition_id=comp.id, name=_free_name(s, comp.id, participant_name), leader_id=participant_id,
                created_at=now)
    s.add(team)
    s.flush()
    s.add(TeamMember(competition_id=comp.id, team_id=team.id, participant_id=participant_id, joined_at=now))
    s.flush()
    return team


def days_so_far(spec: CompetitionSpec, comp: Competition, now: dt.datetime) -> int:
    """Quota days since the competition started, today included."""
    tz = ZoneInfo(spec.quota_timezone)
    start = (spec.start or comp.created_at).astimezone(tz).date()
    return max(1, (now.astimezone(tz).date() - start).days + 1)


def _free_name(s: Session, competition_id: int, wanted: str) -> str:
    name, n = wanted, 1
    while s.scalar(select(Team.id).where(Team.competition_id == competition_id, Team.name == name)) is not None:
        n += 1
        name = f"{wanted}-{n}"
    return name


def _members(s: Session, team_id: int) -> list[int]:
    return list(s.scalars(select(TeamMember.participant_id).where(TeamMember.team_id == team_id)))


def _before_merger_deadline(spec: CompetitionSpec, now: dt.datetime, what: str) -> None:
    if now >= spec.effective_merger_deadline:
        raise TeamError(f"the team merger deadline ({spec.effective_merger_deadline.isoformat()}) has passed; "
                        f"you can no longer {what}")


def _counted(s: Session, team_id: int) -> int:
    return int(s.scalar(select(func.count()).select_from(Submission).where(
        Submission.team_id == team_id, Submission.counted.is_(True))) or 0)


class Teams:
    """Naming, inviting, merging and leaving.  A merger or a departure changes the
    leaderboard's teams, so it clears the board cache."""

    def __init__(self, db: Database, clock: Clock, registry: CompetitionRegistry, boards: BoardCache) -> None:
        self.db = db
        self.clock = clock
        self.registry = registry
        self.boards = boards

    def create(self, slug: str, who: ParticipantView, name: str) -> str:
        """'Create' a team: name the team you are in (you must lead it)."""
        name = name.strip()
        if not name or len(name) > 100:
            raise TeamError("a team name is 1 to 100 characters")
        with self.db.write() as s:
            comp = self.registry.row(s, slug)
            team = ensure_team(s, comp, who.id, who.name, self.clock.now())
            if team.leader_id != who.id:
                raise TeamError("only the team leader can rename the team")
            if team.name != name and s.scalar(select(Team.id).where(Team.competition_id == comp.id,
                                                                    Team.name == name)):
                raise TeamError(f"the team name {name!r} is taken")
            team.name = name
        return name

    def invite(self, slug: str, who: ParticipantView, invitee: str) -> int:
        now = self.clock.now()
        with self.db.write() as s:
            comp = self.registry.row(s, slug)
            spec = self.registry.spec(comp)
            _before_merger_deadline(spec, now, "invite")
            team = ensure_team(s, comp, who.id, who.name, now)
            if team.leader_id != who.id:
                raise TeamError("only the team leader can invite")
            other = s.scalar(select(Participant).where(Participant.name == invitee))
            if other is None:
                raise NotFound("participant", invitee)
            if other.id in _members(s, team.id):
                raise TeamError(f"{invitee} is already in your team")
            other_team = team_id_of(s, comp.id, other.id)
            size = len(_members(s, team.id)) + (len(_members(s, other_team)) if other_team else 1)
            if size > spec.team_size:
                raise TeamError(f"the merged team would have {size} members; the limit is {spec.team_size}")
            row = TeamInvite(team_id=team.id, participant_id=other.id, status="open", created_at=now)
            s.add(row)
            s.flush()
            return row.id

    def accept(self, slug: str, who: ParticipantView, team_name: str) -> str:
        """Join a team that invited you (your own submissions come along: a merger)."""
        now = self.clock.now()
        with self.db.write() as s:
            comp = self.registry.row(s, slug)
            spec = self.registry.spec(comp)
            name = self._merge(s, comp, spec, who, team_name, now)
        self.boards.clear()
        return name

    def _merge(self, s: Session, comp: Competition, spec: CompetitionSpec, who: ParticipantView, team_name: str,
               now: dt.datetime) -> str:
        _before_merger_deadline(spec, now, "join a team")
        target = s.scalar(select(Team).where(Team.competition_id == comp.id, Team.name == team_name,
                                             Team.merged_into_id.is_(None)))
        if target is None:
            raise NotFound("team", team_name)
        inv = s.scalar(select(TeamInvite).where(TeamInvite.team_id == target.id, TeamInvite.participant_id == who.id,
                                                TeamInvite.status == "open"))
        if inv is None:
            raise TeamError(f"team {team_name!r} has not invited you (ask its leader to invite you first)")
        own = ensure_team(s, comp, who.id, who.name, now)
        if own.id == target.id:
            raise TeamError("you are already in this team")
        own_members = _members(s, own.id)
        if len(own_members) > 1 and own.leader_id != who.id:
            raise TeamError("only your team's leader can merge your team into another")
        size = len(_members(s, target.id)) + len(own_members)
        if size > spec.team_size:
            raise TeamError(f"the merged team would have {size} members; the limit is {spec.team_size}")
        days = days_so_far(spec, comp, now)
        total, allowed = _counted(s, own.id) + _counted(s, target.id), spec.daily_limit * days
        if total > allowed:
            raise TeamError(f"the teams have {total} submissions together; a merged team may have at most "
                            f"{allowed} by now (daily limit {spec.daily_limit} × {days} day(s)). "
                            "Wait until the limit grows, or merge with fewer submissions.")
        # the joining team's selections are dropped; the target team chooses again
        s.execute(update(Submission).where(Submission.team_id == own.id).values(team_id=target.id, selected=False)
                  .execution_options(synchronize_session=False))
        s.execute(update(TeamMember).where(TeamMember.team_id == own.id).values(team_id=target.id)
                  .execution_options(synchronize_session=False))
        for day, used in s.execute(select(QuotaUsage.day, QuotaUsage.used).where(QuotaUsage.team_id == own.id)).all():
            row = s.get(QuotaUsage, (comp.id, target.id, day))
            if row is None:
                s.add(QuotaUsage(competition_id=comp.id, team_id=target.id, day=day, used=used))
            else:
                row.used += used
        s.execute(QuotaUsage.__table__.delete().where(QuotaUsage.team_id == own.id))
        own.merged_into_id = target.id
        own.name = _free_name(s, comp.id, f"{own.name} (merged)")
        inv.status = "accepted"
        return target.name

    def leave(self, slug: str, who: ParticipantView) -> str:
        """Leave your team for a new solo team; the team keeps its submissions."""
        now = self.clock.now()
        with self.db.write() as s:
            comp = self.registry.row(s, slug)
            _before_merger_deadline(self.registry.spec(comp), now, "leave a team")
            team_id = team_id_of(s, comp.id, who.id)
            if team_id is None or len(_members(s, team_id)) < 2:
                raise TeamError("you are not in a team with others")
            team = s.get(Team, team_id)
            assert team is not None
            member = s.scalar(select(TeamMember).where(TeamMember.competition_id == comp.id,
                                                       TeamMember.participant_id == who.id))
            assert member is not None
            if team.leader_id == who.id:
                team.leader_id = next(m for m in _members(s, team_id) if m != who.id)
            solo = Team(competition_id=comp.id, name=_free_name(s, comp.id, who.name), leader_id=who.id,
                        created_at=now)
            s.add(solo)
            s.flush()
            member.team_id = solo.id
            member.joined_at = now
            name = solo.name
        self.boards.clear()
        return name

    def view(self, slug: str, who: ParticipantView) -> TeamView | None:
        with self.db.read() as s:
            comp = self.registry.row(s, slug)
            team_id = team_id_of(s, comp.id, who.id)
            if team_id is None:
                return None
            team = s.get(Team, team_id)
            assert team is not None
            names = list(s.scalars(select(Participant.name)
                                   .join(TeamMember, TeamMember.participant_id == Participant.id)
                                   .where(TeamMember.team_id == team_id).order_by(Participant.name)))
            leader = s.scalar(select(Participant.name).where(Participant.id == team.leader_id)) or ""
            invites = list(s.scalars(select(Participant.name)
                                     .join(TeamInvite, TeamInvite.participant_id == Participant.id)
                                     .where(TeamInvite.team_id == team_id, TeamInvite.status == "open")))
            return TeamView(team.id, team.name, leader, names, invites)
