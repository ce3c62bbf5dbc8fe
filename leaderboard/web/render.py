"""Pages: the Jinja2 environment, its filters, the request's viewer and session, and
the mapping from leaderboard errors to HTTP statuses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
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


def viewer_of(request: Request) -> ParticipantView | None:
    cached = request.scope.get("cb_viewer", False)
    if cached is not False:
        return cached
    viewer = request.app.state.auth.from_session(session_of(request))
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


class Renderer:
    def __init__(self, folder: Path, settings: Any) -> None:
        self.settings = settings
        self.env = Environment(loader=FileSystemLoader(str(folder)), autoescape=select_autoescape(["html"]),
                               trim_blocks=True, lstrip_blocks=True, auto_reload=False)
        self.env.filters.update(score=fmt_score, time=fmt_time, iso=fmt_iso)

    def context(self, request: Request, **extra: Any) -> dict[str, Any]:
        service = request.app.state.service
        now = service.now()
        viewer = viewer_of(request)
        base = {"request": request, "viewer": viewer, "csrf": session_of(request).csrf, "now": now,
                "site_title": self.settings.title, "ago": lambda v: ago(v, now),
                "countdown": lambda d: countdown(d, now), "test_clock": self.settings.test_clock is not None,
                "path": request.url.path}
        base.update(extra)
        return base

    def page(self, request: Request, template: str, *, status: int = 200,
             headers: dict[str, str] | None = None, **extra: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(self.context(request, **extra))
        response = HTMLResponse(html, status_code=status, headers=headers)
        response.headers.setdefault("Cache-Control", "no-store" if viewer_of(request) else "no-cache")
        return response

    def error(self, request: Request, status: int, exc: Any, headers: Any = None) -> HTMLResponse:
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
