"""Pages: the Jinja2 environment, its filters, the request's viewer and session, and
the mapping from leaderboard errors to HTTP statuses."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..errors import (
    CompetitionClosed,
    CompetitionOpen,
    DataError,
    LeaderboardError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    SelectionError,
    SpecError,
    SubmissionInvalid,
    TeamError,
)
from ..services import ParticipantView
from .auth import WebSession
from .boards import Fragment

UTC = dt.timezone.utc

_STATUS: list[tuple[type, int]] = [
    (NotAuthenticated, 401), (PermissionDenied, 403), (NotFound, 404), (SubmissionInvalid, 422),
    (QuotaExceeded, 429), (CompetitionClosed, 409), (CompetitionOpen, 403), (SelectionError, 422),
    (TeamError, 409), (SpecError, 422), (DataError, 422),
]


class RateLimited(LeaderboardError):
    code = "rate_limited"

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, int(retry_after + 0.999))
        super().__init__(f"too many requests; wait {self.retry_after} s and try again")


def status_of(exc: LeaderboardError) -> int:
    if isinstance(exc, RateLimited):
        return 429
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def session_of(request: Request) -> WebSession:
    session = request.scope.get("cb_session")
    if session is None:  # API paths carry no session
        session = WebSession()
        request.scope["cb_session"] = session
    return session


def viewer_of(request: Request, block: bool = True) -> ParticipantView | None:
    cached = request.scope.get("cb_viewer", False)
    if cached is not False:
        return cached
    viewer = request.app.state.auth.from_session(session_of(request), block=block)
    request.scope["cb_viewer"] = viewer
    return viewer


# -- filters ------------------------------------------------------------------------------

def fmt_score(value: float | None, digits: int = 5) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def fmt_time(value: dt.datetime | None) -> str:
    if value is None:
        return "–"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def fmt_iso(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat(timespec="seconds")


def span(seconds: float) -> str:
    seconds = int(abs(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{seconds} s"


def ago(value: dt.datetime | None, now: dt.datetime) -> str:
    if value is None:
        return "–"
    delta = (now - value).total_seconds()
    return f"{span(delta)} ago" if delta >= 0 else f"in {span(delta)}"


def countdown(deadline: dt.datetime, now: dt.datetime) -> str:
    left = (deadline - now).total_seconds()
    return f"{span(left)} left" if left > 0 else f"ended {span(left)} ago"


class LazyCsrf:
    """The session's CSRF token, made only when a template writes a form with it."""

    __slots__ = ("session",)

    def __init__(self, session: WebSession) -> None:
        self.session = session

    def __str__(self) -> str:
        return self.session.csrf

    def __html__(self) -> str:  # URL-safe base64: nothing to escape
        return self.session.csrf


GZIP_MIN_BYTES = 1024
_GZIPPED: OrderedDict[str, bytes] = OrderedDict()  # ETag -> that body, gzip-encoded
_GZIPPED_MAX = 64
_GZIP_LOCK = threading.Lock()


def accepts_gzip(request: Request) -> bool:
    """Whether the client takes ``Content-Encoding: gzip`` (every browser does)."""
    header = request.headers.get("accept-encoding")
    if not header:
        return False
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.strip().lower()
            return not (q.startswith("q=") and q[2:].strip() in ("0", "0.0", "0.00", "0.000"))
    return False


def _gzipped(etag: str, body: bytes) -> bytes:
    """``body`` gzip-encoded, compressed once per ETag (an ETag names exactly one body)."""
    with _GZIP_LOCK:
        hit = _GZIPPED.get(etag)
        if hit is not None:
            _GZIPPED.move_to_end(etag)
            return hit
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: the gzip container
    data = packer.compress(body) + packer.flush()
    with _GZIP_LOCK:
        _GZIPPED[etag] = data
        while len(_GZIPPED) > _GZIPPED_MAX:
            _GZIPPED.popitem(last=False)
    return data


def cached_response(request: Request, body: bytes, media_type: str, etag: str | None,
                    headers: dict[str, str] | None = None, status: int = 200) -> Response:
    """``body`` with its ETag, or 304 Not Modified when the client already has it.

    A body with an ETag is also offered gzip-encoded to clients that accept it,
    compressed once per ETag and then served from memory: the leaderboard page is a few
    hundred KB of HTML that compresses about tenfold, and sending it is most of what a
    cached page costs.  The encoded variant has its own ETag (``"…-gz"``), as the
    standard asks, and both carry ``Vary: Accept-Encoding``."""
    hdrs = dict(headers or {})
    if etag is not None:
        gzip = status == 200 and len(body) >= GZIP_MIN_BYTES and accepts_gzip(request)
        tag = etag[:-1] + '-gz"' if gzip and etag.endswith('"') else etag
        hdrs["ETag"] = tag
        hdrs["Vary"] = "Accept-Encoding"
        if status == 200 and etag_matches(request.headers.get("if-none-match"), tag):
            return Response(status_code=304, headers=hdrs)
        if gzip:
            hdrs["Content-Encoding"] = "gzip"
            return Response(_gzipped(etag, body), status_code=status, media_type=media_type, headers=hdrs)
    return Response(body, status_code=status, media_type=media_type, headers=hdrs)


def etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def _same(a: tuple, b: tuple) -> bool:
    """Equal inputs of a shared page: objects by identity, plain values by value."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if x is y:
            continue
        if isinstance(x, tuple) and isinstance(y, tuple):
            if not _same(x, y):
                return False
        elif type(x) is not type(y) or not isinstance(x, (str, int, float, bool, dt.datetime)) or x != y:
            return False
    return True


class Renderer:
    def __init__(self, folder: Path, settings: Any) -> None:
        self.settings = settings
        self._shared: dict[tuple[str, str], tuple[tuple, bytes, str | None]] = {}
        self.env = Environment(loader=FileSystemLoader(str(folder)), autoescape=select_autoescape(["html"]),
                               trim_blocks=True, lstrip_blocks=True, auto_reload=False)
        self.env.filters.update(score=fmt_score, time=fmt_time, iso=fmt_iso)

    def context(self, request: Request, now: dt.datetime | None = None, **extra: Any) -> dict[str, Any]:
        if now is None:
            now = request.app.state.service.now()
        viewer = viewer_of(request)
        base = {"request": request, "viewer": viewer, "csrf": LazyCsrf(session_of(request)), "now": now,
                "site_title": self.settings.title, "ago": lambda v: ago(v, now),
                "countdown": lambda d: countdown(d, now), "test_clock": self.settings.test_clock is not None,
                "path": request.url.path}
        base.update(extra)
        return base

    def page(self, request: Request, template: str, *, status: int = 200,
             headers: dict[str, str] | None = None, fragments: dict[str, Fragment] | None = None,
             shared: bool = False, **extra: Any) -> Response:
        """Render ``template``.  Each of ``fragments`` (pre-rendered bytes, e.g. the big
        leaderboard table) is passed to the template as a placeholder and spliced into the
        encoded page afterwards, so it is neither re-rendered nor re-encoded per request.
        Pages for anonymous visitors carry an ETag and answer If-None-Match with 304.

        ``shared=True`` promises that, for a visitor who is not logged in, the page depends
        only on the arguments given here and on the clock: such a page is rendered with the
        clock to the whole second and reused for every anonymous visitor until an argument
        (compared by identity) or the second changes."""
        viewer = viewer_of(request)
        if shared and viewer is None and status == 200 and headers is None:
            now = request.app.state.service.now().replace(microsecond=0)
            inputs = (template, request.url.path, now, *extra.items(), *(fragments or {}).items())
            hit = self._shared.get((template, request.url.path))
            if hit is not None and _same(hit[0], inputs):
                return cached_response(request, hit[1], "text/html; charset=utf-8", hit[2],
                                       {"Cache-Control": "no-cache"})
            body, etag = self._render(request, template, now, fragments, extra, cache=True)
            self._shared[(template, request.url.path)] = (inputs, body, etag)
            return cached_response(request, body, "text/html; charset=utf-8", etag, {"Cache-Control": "no-cache"})
        cache = (headers or {}).get("Cache-Control") or ("no-store" if viewer else "no-cache")
        body, etag = self._render(request, template, None, fragments, extra, cache=status == 200 and cache == "no-cache")
        return cached_response(request, body, "text/html; charset=utf-8", etag,
                               {**(headers or {}), "Cache-Control": cache}, status)

    def _render(self, request: Request, template: str, now: dt.datetime | None,
                fragments: dict[str, Fragment] | None, extra: dict[str, Any], cache: bool) -> tuple[bytes, str | None]:
        """The encoded page, and an ETag when ``cache`` (from the shell around the fragments
        and the fragments' own tags, so the big fragments are not hashed again)."""
        slots = {name: f"<!--cb-fragment:{name}-->" for name in fragments or ()}
        html = self.env.get_template(template).render(self.context(request, now, **extra, **slots))
        shell: list[bytes] = []  # the page around the fragments: small, rendered per request
        body_parts: list[bytes] = []
        tags: list[str] = []
        for name, fragment in (fragments or {}).items():
            before, found, html = html.partition(slots[name])
            shell.append(before.encode())
            body_parts.append(shell[-1])
            if found:
                body_parts.append(fragment.data)
                tags.append(fragment.etag)
        shell.append(html.encode())
        body = b"".join([*body_parts, shell[-1]]) if body_parts else shell[-1]
        if not cache:
            return body, None
        digest = hashlib.blake2b(digest_size=12)
        for part in shell:
            digest.update(part)
        digest.update(" ".join(tags).encode())
        return body, '"' + digest.hexdigest() + '"'

    def error(self, request: Request, status: int, exc: Any, headers: Any = None) -> Response:
        titles = {400: "Bad request", 401: "Please log in", 403: "Not allowed", 404: "Not found",
                  409: "Not possible now", 413: "Upload too large", 422: "Not accepted",
                  429: "Slow down", 405: "Method not allowed"}
        message = str(exc)
        if isinstance(exc, NotFound):  # never list what else exists to a visitor
            message = f"There is no {exc.kind} {exc.key!r} here."
        hdrs = dict(headers or {})
        if isinstance(exc, RateLimited):
            hdrs["Retry-After"] = str(exc.retry_after)
        return self.page(request, "error.html", status=status, headers=hdrs or None,
                         title=titles.get(status, "Error"), message=message, status_code=status)
