"""``create_app(service, settings)``: the FastAPI application.

Server-rendered pages (Jinja2, no JavaScript needed) and the REST API under ``/api/v1``
(OpenAPI at ``/api/v1/openapi.json``, docs at ``/api/v1/docs``), both over one
:class:`~leaderboard.services.Service`.  Scoring happens in background threads
(:mod:`leaderboard.web.workers`) started with the app and stopped with it.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import LeaderboardError
from ..services import Service
from .auth import Authenticator, BodyLimitMiddleware, RateLimiter, SessionMiddleware, Sessions
from .boards import Boards
from .fastpath import CachedBoardsMiddleware
from .render import Renderer, status_of
from .testclock import MovableClock
from .workers import ScoringWorkers

HERE = Path(__file__).parent
log = logging.getLogger("coursebench.web")


@dataclass
class WebSettings:
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    max_upload_bytes: int = 64 * 2**20
    submit_rate: int = 12          # submission attempts per user per minute (valid or not)
    login_rate: int = 20           # login attempts per client address per minute
    workers: int = 2               # background scoring threads (0: this process scores nothing)
    wait_seconds: float = 10.0     # how long the upload page waits for a prediction file's score
    test_clock: MovableClock | None = None
    secure_cookies: bool = False
    title: str = "coursebench competitions"


def create_app(service: Service, settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    if settings.test_clock is not None:
        service.clock = settings.test_clock
    workers = ScoringWorkers(service, settings.workers)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.workers > 0:
            workers.start()
            workers.wake()
        try:
            yield
        finally:
            workers.stop()

    app = FastAPI(title="coursebench leaderboard API", version="1",
                  description="Competitions, leaderboards and submissions. Authenticate with "
                              "`Authorization: Bearer TOKEN` (your roster token).",
                  openapi_url="/api/v1/openapi.json", docs_url="/api/v1/docs", redoc_url=None,
                  lifespan=lifespan)
    app.state.service = service
    app.state.settings = settings
    app.state.auth = Authenticator(service)
    app.state.submit_limiter = RateLimiter(settings.submit_rate, 60.0)
    app.state.login_limiter = RateLimiter(settings.login_rate, 60.0)
    app.state.workers = workers
    app.state.boards = Boards(service)
    app.state.renderer = Renderer(HERE / "templates", settings)
    workers.listeners.append(lambda _id: app.state.boards.invalidate())

    from .routes import admin, api, pages

    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(admin.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(LeaderboardError)
    async def _leaderboard_error(request: Request, exc: LeaderboardError) -> Response:
        status = status_of(exc)
        headers = {"Retry-After": str(getattr(exc, "retry_after", 60))} if status == 429 else None
        if request.url.path.startswith("/api/"):
            return JSONResponse(exc.to_dict(), status_code=status, headers=headers)
        return app.state.renderer.error(request, status, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/") or exc.status_code < 400:
            return JSONResponse({"error": "http_error", "message": str(exc.detail)}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        return app.state.renderer.error(request, exc.status_code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
        problems = [{"where": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
                    for e in exc.errors()]
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "bad_request", "message": "the request is malformed",
                                 "problems": problems}, status_code=422)
        text = "; ".join(f"{p['where']}: {p['message']}" for p in problems)
        return app.state.renderer.error(request, 400, f"the request is malformed ({text})")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "internal_error", "message": "the server hit a bug; nothing was "
                                 "changed by this request"}, status_code=500)
        return HTMLResponse("<!doctype html><title>Server error</title><h1>Something went wrong</h1>"
                            "<p>The server hit a bug; nothing was changed by this request.</p>", status_code=500)

    app.add_middleware(SessionMiddleware, sessions=Sessions(settings.secret_key, secure=settings.secure_cookies))
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes)
    app.add_middleware(CachedBoardsMiddleware)  # outermost: see fastpath.py
    return app


def settings_summary(app: Any) -> dict[str, Any]:
    s: WebSettings = app.state.settings
    return {"max_upload_bytes": s.max_upload_bytes, "submit_rate": s.submit_rate, "workers": s.workers,
            "test_clock": s.test_clock is not None}
