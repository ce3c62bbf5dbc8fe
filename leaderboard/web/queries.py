"""Thin read/write adapters the web app needs and :class:`~leaderboard.services.Service`
does not offer (yet).  Each is one small query over the competitions helper's models;
if the Service grows an equivalent, the web app should switch to it.  The ones the
routes call take the request's read session (``SessionDep``); the caches and the
scoring workers, which run outside requests, pass the :class:`Database`.

- ``token_fingerprint``: lets a session cookie die when the participant's token is replaced;
- ``participants``: the roster page;
- ``score_history``: released public scores over time (the history chart);
- ``activity``: per-student counts for instructors;
- ``board_fingerprint``: a cheap "did anything on this board change" check for caching;
- ``give_up``: a submission that keeps crashing the scorer gets a clear failure (not
  counted) instead of staying pending forever (a crashed worker hands its claim back
  through ``Service.release``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from .. import notify
from ..db import Database
from ..models import Competition, Participant, QuotaUsage, Submission, TeamMember


@dataclass(frozen=True)
class ParticipantRow:
    id: int
    name: str
    display_name: str
    email: str
    role: str
    has_token: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class HistoryPoint:
    submission_id: int
    team_id: int
    created_at: dt.datetime
    public: float


@dataclass(frozen=True)
class ActivityRow:
    participant: str
    display_name: str
    submissions: int
    complete: int
    failed: int
    pending: int
    first: dt.datetime | None
    last: dt.datetime | None
    best_public: float | None
    selected: int


def token_fingerprint(db: Database, participant_id: int) -> tuple[str, str, str, str] | None:
    """(name, display name, role, token-hash prefix) of a participant, or None."""
    with db.read() as s:
        row = s.execute(select(Participant.name, Participant.display_name, Participant.role,
                               Participant.token_hash).where(Participant.id == participant_id)).first()
    if row is None or row.token_hash is None:
        return None
    return row.name, row.display_name, row.role, row.token_hash[:24]


def participants(s: Session) -> list[ParticipantRow]:
    rows = s.execute(select(Participant).order_by(Participant.role.desc(), Participant.name)).scalars()
    return [ParticipantRow(p.id, p.name, p.display_name, p.email, p.role, p.token_hash is not None,
                           p.created_at) for p in rows]


def _comp_id(s: Session, slug: str) -> int | None:
    return s.scalar(select(Competition.id).where(Competition.slug == slug))


def score_history(s: Session, slug: str) -> list[HistoryPoint]:
    """Every scored submission's *released* public score, oldest first (what the public
    leaderboard showed at the time; never the hidden private score)."""
    cid = _comp_id(s, slug)
    if cid is None:
        return []
    rows = s.execute(select(Submission.id, Submission.team_id, Submission.created_at, Submission.public_released)
                     .where(Submission.competition_id == cid, Submission.status == "complete",
                            Submission.public_released.is_not(None))
                     .order_by(Submission.created_at, Submission.id)).all()
    return [HistoryPoint(r[0], r[1], r[2], float(r[3])) for r in rows]


def board_fingerprint(db: Database, slug: str) -> tuple:
    """Changes whenever a submission of this competition is scored, selected or closed."""
    with db.read() as s:
        comp = s.execute(select(Competition.id, Competition.closed_at, Competition.dataset_version)
                         .where(Competition.slug == slug)).first()
        if comp is None:
            return (None,)
        agg = s.execute(select(func.count(), func.max(Submission.scored_at), func.max(Submission.id),
                               func.sum(Submission.selected.cast(Submission.attempts.type)))
                        .where(Submission.competition_id == comp.id)).first()
        members = s.scalar(select(func.count()).select_from(TeamMember).where(TeamMember.competition_id == comp.id))
    return (comp.closed_at, comp.dataset_version, *tuple(agg or ()), members)


def activity(s: Session, slug: str) -> list[ActivityRow]:
    """One row per participant on the roster, by name; best = best released public score."""
    cid = _comp_id(s, slug)
    if cid is None:
        return []
    people = s.execute(select(Participant.id, Participant.name, Participant.display_name)
                       .order_by(Participant.name)).all()
    rows = s.execute(select(Submission.participant_id, Submission.status, Submission.created_at,
                            Submission.public_released, Submission.selected)
                     .where(Submission.competition_id == cid)).all()
    direction = _direction(s, cid)
    per: dict[int, list] = {}
    for pid, status, created, public, selected in rows:
        per.setdefault(pid, []).append((status, _aware(created), public, bool(selected)))
    out = []
    for pid, name, display in people:
        subs = per.get(pid, [])
        scores = [float(p) for st, _, p, _ in subs if st == "complete" and p is not None]
        best = (max(scores) if direction == "max" else min(scores)) if scores else None
        times = [c for _, c, _, _ in subs if c is not None]
        out.append(ActivityRow(
            participant=name, display_name=display, submissions=len(subs),
            complete=sum(st == "complete" for st, *_ in subs), failed=sum(st == "failed" for st, *_ in subs),
            pending=sum(st in ("pending", "running") for st, *_ in subs),
            first=min(times) if times else None, last=max(times) if times else None,
            best_public=best, selected=sum(sel for *_, sel in subs)))
    return out


def _direction(s: Session, cid: int) -> str:
    from ..spec import parse_spec

    spec = s.scalar(select(Competition.spec).where(Competition.id == cid))
    return parse_spec(spec).metric_obj().direction


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


def give_up(db: Database, submission_id: int, max_attempts: int, now: dt.datetime) -> bool:
    """Fail (as an infrastructure failure, not counted) a submission that was claimed
    ``max_attempts`` times without finishing; True when it did."""
    with db.write() as s:
        sub = s.get(Submission, submission_id)
        if sub is None or sub.attempts < max_attempts:
            return False
        if not (sub.status == "pending" or (sub.status == "running" and sub.lease_until is not None
                                              and _aware(sub.lease_until) < now)):
            return False
        sub.status, sub.failure_category = "failed", "infrastructure"
        sub.error = (f"the scorer stopped {sub.attempts} times while working on this submission "
                     "(a crash or restart of the server, not your code); it was not counted — "
                     "submit it again, and tell your instructor if this repeats")
        sub.lease_until, sub.scored_at = None, now
        notify.scored(s, sub.id)
        if sub.counted:
            s.execute(update(QuotaUsage)
                      .where(and_(QuotaUsage.competition_id == sub.competition_id, QuotaUsage.team_id == sub.team_id,
                                  QuotaUsage.day == sub.quota_day, QuotaUsage.used > 0))
                      .values(used=QuotaUsage.used - 1).execution_options(synchronize_session=False))
            sub.counted = False
        return True
