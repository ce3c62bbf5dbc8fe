"""Daily submission limits, per team, per day in the competition's quota time zone.

A slot is reserved by one conditional ``UPDATE ... WHERE used < limit`` inside the
transaction that stores the submission, so the limit is exact under any concurrency;
a refund (an infrastructure failure) gives the slot back.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..clock import Clock
from ..db import Database
from ..errors import QuotaExceeded
from ..models import Competition, QuotaUsage, Submission
from ..spec import CompetitionSpec
from ..views import ParticipantView, QuotaView
from .competitions import CompetitionRegistry
from .teams import team_id_of

UTC = dt.timezone.utc


class Quotas:
    def __init__(self, db: Database, clock: Clock, registry: CompetitionRegistry) -> None:
        self.db = db
        self.clock = clock
        self.registry = registry

    def day(self, spec: CompetitionSpec) -> tuple[str, dt.datetime]:
        """Today's quota day (ISO date in the quota time zone) and when it resets (UTC)."""
        tz = ZoneInfo(spec.quota_timezone)
        local = self.clock.now().astimezone(tz)
        reset = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), tzinfo=tz)
        return local.date().isoformat(), reset.astimezone(UTC)

    def reserve(self, s: Session, comp: Competition, spec: CompetitionSpec, team_id: int) -> str:
        """Take one of today's slots in the caller's transaction; returns the quota day.
        Raises :class:`QuotaExceeded` when none is left."""
        day, resets = self.day(spec)
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

    @staticmethod
    def refund(s: Session, sub: Submission) -> None:
        """Give the submission's slot back (it no longer counts)."""
        s.execute(update(QuotaUsage)
                  .where(QuotaUsage.competition_id == sub.competition_id, QuotaUsage.team_id == sub.team_id,
                         QuotaUsage.day == sub.quota_day, QuotaUsage.used > 0)
                  .values(used=QuotaUsage.used - 1).execution_options(synchronize_session=False))
        sub.counted = False

    def quota(self, slug: str, who: ParticipantView) -> QuotaView:
        with self.db.read() as s:
            comp = self.registry.row(s, slug)
            spec = self.registry.spec(comp)
            day, resets = self.day(spec)
            team_id = team_id_of(s, comp.id, who.id)
            used = 0 if team_id is None else (s.scalar(select(QuotaUsage.used).where(
                QuotaUsage.competition_id == comp.id, QuotaUsage.team_id == team_id, QuotaUsage.day == day)) or 0)
            return QuotaView(used=used, limit=spec.daily_limit, resets_at=resets)
