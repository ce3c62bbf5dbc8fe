"""Errors → responses: JSON ``{"error": code, "message": text, ...}`` under ``/api/``, an
error page elsewhere; a page that needs a login redirects to it.  ``install`` registers
the handlers on the app."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

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
from ..worker.preflight import ScoringUnavailable
from .deps import LoginRequired, current_viewer

log = logging.getLogger("coursebench.web")

_STATUS: list[tuple[type, int]] = [
    (NotAuthenticated, 401), (PermissionDenied, 403), (NotFound, 404), (SubmissionInvalid, 422),
    (QuotaExceeded, 429), (CompetitionClosed, 409), (CompetitionOpen, 403), (SelectionError, 422),
    (TeamError, 409), (SpecError, 422), (DataError, 422), (ScoringUnavailable, 503),
]
TITLES = {400: "Bad request", 401: "Please log in", 403: "Not allowed", 404: "Not found", 405: "Method not allowed",
          409: "Not possible now", 413: "Upload too large", 422: "Not accepted", 429: "Slow down",
          503: "Not available now"}


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


def _api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def error_page(request: Request, status: int, exc: Any, headers: Any = None) -> Response:
    message = str(exc)
    if isinstance(exc, NotFound):  # never list what else exists to a visitor
        message = f"There is no {exc.kind} {exc.key!r} here."
    hdrs = dict(headers or {})
    if isinstance(exc, RateLimited):
        hdrs["Retry-After"] = str(exc.retry_after)
    page = request.app.state.renderer.bind(request, await current_viewer(request))
    return page.render("error.html", status=status, headers=hdrs or None, title=TITLES.get(status, "Error"),
                       message=message, status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login_first(request: Request, exc: LoginRequired) -> Response:
        if _api(request):
            return JSONResponse(exc.to_dict(), status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(LeaderboardError)
    async def _leaderboard_error(request: Request, exc: LeaderboardError) -> Response:
        status = status_of(exc)
        headers = {"Retry-After": str(getattr(exc, "retry_after", 60))} if status == 429 else None
        if _api(request):
            return JSONResponse(exc.to_dict(), status_code=status, headers=headers)
        return await error_page(request, status, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _api(request) or exc.status_code < 400:
            return JSONResponse({"error": "http_error", "message": str(exc.detail)}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        return await error_page(request, exc.status_code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
        problems = [{"where": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
                    for e in exc.errors()]
        if _api(request):
            return JSONResponse({"error": "bad_request", "message": "the request is malformed",
                                 "problems": problems}, status_code=422)
        text = "; ".join(f"{p['where']}: {p['message']}" for p in problems)
        return await error_page(request, 400, f"the request is malformed ({text})")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        if _api(request):
            return JSONResponse({"error": "internal_error", "message": "the server hit a bug; nothing was "
                                 "changed by this request"}, status_code=500)
        return HTMLResponse("<!doctype html><title>Server error</title><h1>Something went wrong</h1>"
                            "<p>The server hit a bug; nothing was changed by this request.</p>", status_code=500)
