"""Who is asking: session cookies (signed, holding no secret), bearer tokens for the
REST API, CSRF tokens for forms, per-user rate limits, and the request-size limit.

- A participant's token (from the roster) is traded once on the login page for a
  session cookie.  The cookie holds the participant id, a prefix of the stored token
  *hash* (so replacing a token logs every old session out) and a CSRF token; it is
  signed with the server's secret, ``HttpOnly`` and ``SameSite=Lax``.
- The REST API takes ``Authorization: Bearer TOKEN`` (what ``compete.submit`` and
  scripts send); it never reads the cookie, so it needs no CSRF token.
- Every form carries the session's CSRF token; a POST without the right one is refused.
"""

from __future__ import annotations

import collections
import hmac
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..services import ParticipantView, hash_token
from . import queries
from .boards import WouldBlock

COOKIE = "cb_session"
SESSION_AGE = 7 * 24 * 3600


@dataclass
class WebSession:
    participant_id: int | None = None
    fingerprint: str = ""
    _csrf: str | None = None  # made on first use: most anonymous page views never need one
    dirty: bool = False
    clear: bool = False

    @property
    def csrf(self) -> str:
        if self._csrf is None:
            self._csrf = secrets.token_urlsafe(24)
        return self._csrf

    @csrf.setter
    def csrf(self, value: str) -> None:
        self._csrf = value

    def to_data(self) -> dict[str, Any]:
        return {"p": self.participant_id, "f": self.fingerprint, "c": self.csrf}


class Sessions:
    def __init__(self, secret: str, *, secure: bool = False) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt="coursebench-session")
        self.secure = secure

    def load(self, cookie: str | None) -> WebSession:
        if cookie:
            try:
                data = self.serializer.loads(cookie, max_age=SESSION_AGE)
                if isinstance(data, dict) and isinstance(data.get("c"), str):
                    pid = data.get("p")
                    return WebSession(pid if isinstance(pid, int) else None, str(data.get("f") or ""), data["c"])
            except (BadSignature, ValueError, TypeError):
                pass
        return WebSession()  # a cookie is written only once a page hands out a form (see login)

    def header(self, session: WebSession) -> bytes:
        if session.clear:
            return f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax".encode()
        value = self.serializer.dumps(session.to_data())
        secure = "; Secure" if self.secure else ""
        return f"{COOKIE}={value}; Path=/; Max-Age={SESSION_AGE}; HttpOnly; SameSite=Lax{secure}".encode()


class SessionMiddleware:
    """Pure ASGI: puts ``scope['cb_session']`` in place and writes the cookie back when
    it changed (cheap: no BaseHTTPMiddleware)."""

    def __init__(self, app: Any, sessions: Sessions) -> None:
        self.app, self.sessions = app, sessions

    async def __call__(self, scope: dict, receive: Callable[[], Awaitable[dict]],
                       send: Callable[[dict], Awaitable[None]]) -> None:
        if scope["type"] != "http" or scope["path"].startswith(("/api/", "/static/")):
            await self.app(scope, receive, send)
            return
        cookie = None
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                for part in value.decode("latin-1").split(";"):
                    key, _, val = part.strip().partition("=")
                    if key == COOKIE:
                        cookie = val
        session = self.sessions.load(cookie)
        scope["cb_session"] = session

        async def send_with_cookie(message: dict) -> None:
            if message["type"] == "http.response.start" and (session.dirty or session.clear):
                headers = list(message.get("headers", ()))
                headers.append((b"set-cookie", self.sessions.header(session)))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


class Authenticator:
    """Session → participant, with a short cache so pages do not hit the database for it
    on every request (a replaced token logs out within ``ttl`` seconds)."""

    def __init__(self, service: Any, ttl: float = 5.0) -> None:
        self.service, self.ttl = service, ttl
        self._cache: dict[int, tuple[float, tuple[str, str, str, str] | None]] = {}
        self._lock = threading.Lock()

    def _lookup(self, pid: int, block: bool = True) -> tuple[str, str, str, str] | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(pid)
            if hit and now - hit[0] < self.ttl:
                return hit[1]
        if not block:
            raise WouldBlock
        value = queries.token_fingerprint(self.service.db, pid)
        with self._lock:
            if len(self._cache) > 10000:
                self._cache.clear()
            self._cache[pid] = (now, value)
        return value

    def forget(self, pid: int) -> None:
        with self._lock:
            self._cache.pop(pid, None)

    def from_session(self, session: WebSession, block: bool = True) -> ParticipantView | None:
        """The participant of this session, or None.  ``block=False``: raise
        :class:`WouldBlock` instead of querying the database (for the event loop)."""
        if session.participant_id is None:
            return None
        found = self._lookup(session.participant_id, block)
        if found is None or not hmac.compare_digest(found[3], session.fingerprint):
            return None
        return ParticipantView(session.participant_id, found[0], found[1], found[2])

    def login(self, session: WebSession, token: str) -> ParticipantView:
        """Check the token (raises NotAuthenticated) and bind the session to it; a new
        CSRF token is issued at login (no fixation)."""
        who = self.service.authenticate(token)
        session.participant_id, session.fingerprint = who.id, hash_token(token)[:24]
        session.csrf, session.dirty = secrets.token_urlsafe(24), True
        self.forget(who.id)
        return who

    @staticmethod
    def logout(session: WebSession) -> None:
        session.participant_id, session.fingerprint, session.clear = None, "", True

    def from_bearer(self, header: str | None) -> ParticipantView | None:
        """``Authorization: Bearer TOKEN`` → participant; None when absent; raises
        NotAuthenticated when the token is wrong."""
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            from ..errors import NotAuthenticated

            raise NotAuthenticated("use the header `Authorization: Bearer YOUR_TOKEN`")
        return self.service.authenticate(token.strip())


def csrf_ok(session: WebSession, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(session.csrf, str(given))


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds per key (sliding window)."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self._events: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Record an event; returns None when allowed, else seconds until allowed."""
        if self.limit <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            q = self._events.setdefault(key, collections.deque())
            while q and now - q[0] >= self.window:
                q.popleft()
            if len(q) >= self.limit:
                return max(0.01, self.window - (now - q[0]))
            q.append(now)
            if len(self._events) > 50000:
                self._events = {k: v for k, v in self._events.items() if v and now - v[-1] < self.window}
            return None


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with 413, by Content-Length up front and
    by counting while streaming (chunked uploads), before anything is parsed or stored."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict, receive: Callable[[], Awaitable[dict]],
                       send: Callable[[dict], Awaitable[None]]) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await self._refuse(scope, send)
                    return
        seen = 0
        started = False

        async def counting_receive() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, send)

    async def _refuse(self, scope: dict, send: Callable[[dict], Awaitable[None]]) -> None:
        mb = self.max_bytes / 2**20
        text = f"the upload is larger than this server's limit of {mb:.0f} MiB; compress it (.csv.gz or .zip)"
        if scope["path"].startswith("/api/"):
            import json

            body = json.dumps({"error": "payload_too_large", "message": text}).encode()
            ctype = b"application/json"
        else:
            body = (f"<!doctype html><title>Upload too large</title><h1>Upload too large</h1><p>{text}.</p>"
                    '<p><a href="javascript:history.back()">Go back</a></p>').encode()
            ctype = b"text/html; charset=utf-8"
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
