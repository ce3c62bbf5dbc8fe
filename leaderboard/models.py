"""The database schema (SQLAlchemy 2 typed ORM).  Alembic migrations in
``leaderboard/migrations`` create exactly this; a test checks they agree."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on SQLite (no time zones) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC times")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    pass


class Competition(Base):
    __tablename__ = "competitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    root: Mapped[str] = mapped_column(Text)
    spec: Mapped[dict] = mapped_column(JSON)
    dataset_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Participant(Base):
    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default="student")
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("competition_id", "name", name="uq_team_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"))
    name: Mapped[str] = mapped_column(String(100))
    leader_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True)

    members: Mapped[list[TeamMember]] = relationship(back_populates="team")


class TeamMember(Base):
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("competition_id", "participant_id", name="uq_member_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    team: Mapped[Team] = relationship(back_populates="members")
    participant: Mapped[Participant] = relationship()


class TeamInvite(Base):
    __tablename__ = "team_invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class QuotaUsage(Base):
    """Submissions counted per team and day; incremented with a conditional UPDATE so
    the daily limit holds exactly under concurrency."""

    __tablename__ = "quota_usage"

    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_comp_team", "competition_id", "team_id"),
        Index("ix_submissions_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    kind: Mapped[str] = mapped_column(String(10))                 # file | notebook
    filename: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending running complete failed
    failure_category: Mapped[str | None] = mapped_column(String(40), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    counted: Mapped[bool] = mapped_column(Boolean, default=True)
    quota_day: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    scored_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    public_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    public_released: Mapped[float | None] = mapped_column(Float, nullable=True)
    ladder_best: Mapped[bool] = mapped_column(Boolean, default=False)
    public_ci_low: Mapped[float | None] = mapped_column(Float, nullable=True)
    public_ci_high: Mapped[float | None] = mapped_column(Float, nullable=True)
    private_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    cv_mean: Mapped[float | None] = mapped_column(Float, nullable=True)
    cv_std: Mapped[float | None] = mapped_column(Float, nullable=True)
    cv_folds: Mapped[list | None] = mapped_column(JSON, nullable=True)
    cv_oof: Mapped[float | None] = mapped_column(Float, nullable=True)
    dataset_version: Mapped[str] = mapped_column(String(64))
    image: Mapped[str | None] = mapped_column(String(200), nullable=True)
    versions: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    runs: Mapped[list | None] = mapped_column(JSON, nullable=True)
    selected: Mapped[bool] = mapped_column(Boolean, default=False)


class Blob(Base):
    """Bytes that belong to a submission: the upload, the aligned predictions (Parquet),
    out-of-fold predictions, run logs.  Kept in the database so that nothing a
    submission needs lives outside one transaction."""

    __tablename__ = "blobs"
    __table_args__ = (UniqueConstraint("submission_id", "kind", name="uq_blob_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    kind: Mapped[str] = mapped_column(String(20))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class RateLimit(Base):
    """Recent attempts per key (a user's submissions, a client address's logins) for the
    web's per-minute limits, shared by every web process (leaderboard.web.ratelimit):
    ``hits`` holds the attempts' times (epoch seconds, space-separated) within the window."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    hits: Mapped[str] = mapped_column(Text, default="")
    last_hit: Mapped[float] = mapped_column(Float, default=0.0)


class ClockOffset(Base):
    """The test clock of ``coursebench serve --test-clock`` (leaderboard.web.testclock): how
    far the server's time is moved from real time, shared by all its web processes."""

    __tablename__ = "test_clock"

    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    offset_seconds: Mapped[float] = mapped_column(Float, default=0.0)
