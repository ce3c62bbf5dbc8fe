"""Participants and authentication: who may submit, and who a token belongs to.

Only the sha256 of a token is stored; the token itself is shown once, when it is made.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from ..clock import Clock
from ..db import Database
from ..errors import LeaderboardError, NotAuthenticated, NotFound
from ..models import Participant
from ..views import ParticipantView

ROLES = ("student", "instructor")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


def participant_view(row: Participant) -> ParticipantView:
    return ParticipantView(row.id, row.name, row.display_name, row.role)


class Participants:
    """The course's students and instructors, over one database."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def add(self, name: str, *, display_name: str = "", email: str = "", role: str = "student") -> str:
        """Create (or re-key) a participant; returns a new token (only its hash is stored)."""
        if role not in ROLES:
            raise LeaderboardError(f"role must be {' or '.join(ROLES)}, not {role!r}")
        token = secrets.token_urlsafe(24)
        with self.db.write() as s:
            row = s.scalar(select(Participant).where(Participant.name == name))
            if row is None:
                row = Participant(name=name, display_name=display_name or name, email=email, role=role,
                                  created_at=self.clock.now())
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
            return participant_view(row)

    def get(self, name: str) -> ParticipantView:
        with self.db.read() as s:
            row = s.scalar(select(Participant).where(Participant.name == name))
            if row is None:
                raise NotFound("participant", name)
            return participant_view(row)
