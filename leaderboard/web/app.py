"""``create_app(service, settings)``: the FastAPI application.

Server-rendered pages (Jinja2, no JavaScript needed) and the REST API under ``/api/v1``
(OpenAPI at ``/api/v1/openapi.json``, docs at ``/api/v1/docs``), both over one
:class:`~leaderboard.services.Service`.  What the routes need comes to them as typed
dependencies (:mod:`leaderboard.web.deps`) from ``app.state``; what they may answer from
memory lives in one cache (:mod:`leaderboard.web.cache`).  Scoring happens in background
threads (:mod:`leaderboard.web.workers`) started with the app and stopped with it, or in
``coursebench worker`` processes; what several web processes share lives in the database:
rate limits (:mod:`leaderboard.web.ratelimit`), score-ready and board-changed notifications
(:mod:`leaderboard.notify`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from ..notify import Waiter
from ..services import Service
from . import errors
from .auth import COOKIE, SESSION_AGE, Authenticator
from .cache import GZIP_MIN_BYTES, WebCache
from .config import WebSettings
from .fastpath import VisitorBoards
from .middleware import BodyLimitMiddleware, GZip
from .ratelimit import DbRateLimiter
from .render import Renderer
from .workers import ScoringWorkers

HERE = Path(__file__).parent

__all__ = ["WebSettings", "create_app"]


def create_app(service: Service, settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    if settings.test_clock is not None:
        service.clock = settings.test_clock
    workers = ScoringWorkers(service, settings.workers)
    waiter = Waiter(service.db)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        waiter.start()
        if settings.workers > 0:
            workers.start()
            workers.wake()
        try:
            yield
        finally:
            workers.stop()
            waiter.stop()

    app = FastAPI(title="coursebench leaderboard API", version="1",
                  description="Competitions, leaderboards and submissions. Authenticate with "
                              "`Authorization: Bearer TOKEN` (your roster token).",
                  openapi_url="/api/v1/openapi.json", docs_url="/api/v1/docs", redoc_url=None,
                  lifespan=lifespan)
    cache = WebCache(service)
    app.state.service = service
    app.state.settings = settings
    app.state.cache = cache
    app.state.auth = Authenticator(service, cache)
    # in the database: every web process counts the same attempts
    app.state.submit_limiter = DbRateLimiter(service.db, settings.submit_rate, 60.0)
    app.state.login_limiter = DbRateLimiter(service.db, settings.login_rate, 60.0)
    app.state.workers = workers
    app.state.waiter = waiter
    app.state.renderer = Renderer(HERE / "templates", settings, service, cache)
    workers.listeners.append(lambda _id: cache.invalidate())
    workers.listeners.append(waiter.poke)  # this process's own scoring threads wake its waiters at once
    # a board changed through another process (a worker, another web process, the CLI)
    waiter.on_board_change.append(lambda _competition: cache.invalidate())

    from .routes import admin, api, hub, integrity, pages

    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(hub.router)  # log in with the course hub (JupyterHub OAuth), docs/hub.md
    app.include_router(admin.router)
    app.include_router(integrity.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    errors.install(app)

    # innermost first: gzip for what the cache did not encode; the cache's front door for
    # visitors' leaderboards (fastpath.py: its answers are encoded already, so it sits
    # outside gzip); the session cookie; the upload limit
    app.add_middleware(GZip, minimum_size=GZIP_MIN_BYTES, compresslevel=1)
    app.add_middleware(VisitorBoards)
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key, session_cookie=COOKIE,
                       max_age=SESSION_AGE, same_site="lax", https_only=settings.secure_cookies)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes)
    return app

