"""Who is asking: the cookie session of the pages, bearer tokens of the REST API, CSRF
tokens for forms.  (The per-user rate limits live in the database: :mod:`leaderboard.web.ratelimit`.)

- A participant's token (from the roster) is traded once on the login page for a session
  cookie: Starlette's ``SessionMiddleware`` (signed with the server's secret by
  itsdangerous, ``HttpOnly``, ``SameSite=Lax``).  It holds the participant id, a prefix of
  the stored token *hash* (so replacing a token logs every old session out) and a CSRF
  token; never the token.
- The REST API takes ``Authorization: Bearer TOKEN`` (what ``compete.submit`` and
  scripts send); it never reads the cookie, so it needs no CSRF token.
- Every form carries the session's CSRF token; a POST without the right one is refused.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any

from fastapi.security import HTTPBearer
from starlette.requests import Request

from ..errors import NotAuthenticated
from ..services import hash_token
from ..views import ParticipantView
from .cache import WebCache

COOKIE = "cb_session"
SESSION_AGE = 7 * 24 * 3600


class CookieSession:
    """Typed access to ``request.session`` (keys ``p`` participant id, ``f`` token-hash
    prefix, ``c`` CSRF token).  Starlette writes the cookie only when it changed: a CSRF
    token is made — and the cookie written — only when a page hands out a form."""

    def __init__(self, data: MutableMapping[str, Any]) -> None:
        self.data = data

    @property
    def participant_id(self) -> int | None:
        pid = self.data.get("p")
        return pid if isinstance(pid, int) and not isinstance(pid, bool) else None

    @property
    def fingerprint(self) -> str:
        return str(self.data.get("f") or "")

    @property
    def csrf(self) -> str:
        token = self.data.get("c")
        if not isinstance(token, str) or not token:
            token = self.data["c"] = secrets.token_urlsafe(24)
        return token

    def csrf_ok(self, given: str | None) -> bool:
        expected = self.data.get("c")
        return bool(given) and isinstance(expected, str) and bool(expected) and hmac.compare_digest(
            expected, str(given))

    def bind(self, participant_id: int, fingerprint: str) -> None:
        """Log in: a fresh session with a new CSRF token (no fixation)."""
        self.data.clear()
        self.data.update(p=participant_id, f=fingerprint, c=secrets.token_urlsafe(24))

    def clear(self) -> None:
        self.data.clear()


class BearerToken(HTTPBearer):
    """``Authorization: Bearer TOKEN`` → the token; None when the header is absent; a
    header in another form is an error (401), not an anonymous request."""

    async def __call__(self, request: Request) -> str | None:  # type: ignore[override]
        header = request.headers.get("Authorization")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("use the header `Authorization: Bearer YOUR_TOKEN`")
        return token.strip()


bearer = BearerToken(auto_error=False, scheme_name="roster token",
                     description="your roster token (`coursebench compete tokens` makes them)")


class Authenticator:
    """Sessions and tokens → participants.  The participant behind a session comes from
    the cache (a replaced token logs out within the cache's ``identity_ttl``)."""

    def __init__(self, service: Any, cache: WebCache) -> None:
        self.service, self.cache = service, cache

    def from_session(self, session: CookieSession, *, block: bool = True) -> ParticipantView | None:
        """The participant of this session, or None.  ``block=False``: raise
        :class:`~leaderboard.web.cache.WouldBlock` instead of querying the database."""
        pid = session.participant_id
        if pid is None:
            return None
        found = self.cache.identity(pid, block=block)
        if found is None or not hmac.compare_digest(found[3], session.fingerprint):
            return None
        return ParticipantView(pid, found[0], found[1], found[2])

    def login(self, session: CookieSession, token: str) -> ParticipantView:
        """Check the token (raises NotAuthenticated) and bind the session to it."""
        who = self.service.authenticate(token)
        session.bind(who.id, hash_token(token)[:24])
        self.cache.forget_identity(who.id)
        return who

    def login_as(self, session: CookieSession, participant_id: int) -> bool:
        """Bind the session to a participant someone else vouched for (the course hub's
        OAuth, leaderboard.web.routes.hub); False when they have no token to fingerprint."""
        self.cache.forget_identity(participant_id)
        found = self.cache.identity(participant_id)
        if found is None:
            return False
        session.bind(participant_id, found[3])
        return True

    def from_token(self, token: str) -> ParticipantView:
        """A bearer token → its participant; raises NotAuthenticated when it is wrong."""
        return self.service.authenticate(token)
