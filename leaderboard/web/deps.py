"""The typed dependencies of the routes (``Annotated[..., Depends(...)]``).

What the app holds: ``ServiceDep`` (the :class:`~leaderboard.services.Service`), ``CacheDep``
(:class:`~leaderboard.web.cache.WebCache`), ``SettingsDep``, ``AuthDep``, ``WorkersDep`` (the
scoring threads), ``SessionDep`` (a read-only database session for the web's own queries,
:mod:`leaderboard.web.queries`).

Who is asking, on the pages (the session cookie): ``CookieSessionDep``; ``ViewerDep`` (the
participant or None); ``ParticipantDep`` (required: a visitor is sent to the login page);
``InstructorDep`` (401 for visitors, 403 for students); ``PageDep`` (the renderer bound to
the request and its viewer); ``csrf_checked`` (a form's ``csrf_token`` must match the
session's, else 403).

Who is asking, on the REST API (``Authorization: Bearer TOKEN``): ``ApiViewerDep``,
``ApiParticipantDep`` (401 without a token), ``ApiInstructorDep``.

The dependencies the leaderboard routes use are ``async`` and answer from memory when
they can, so a cached leaderboard is served on the event loop without a thread hop.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Form, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ..errors import NotAuthenticated, PermissionDenied
from ..services import Service
from ..views import ParticipantView
from .auth import Authenticator, CookieSession, bearer
from .cache import WebCache, WouldBlock
from .config import WebSettings
from .render import Page
from .workers import ScoringWorkers


async def get_service(request: Request) -> Service:
    return request.app.state.service


async def get_cache(request: Request) -> WebCache:
    return request.app.state.cache


async def get_settings(request: Request) -> WebSettings:
    return request.app.state.settings


async def get_auth(request: Request) -> Authenticator:
    return request.app.state.auth


async def get_workers(request: Request) -> ScoringWorkers:
    return request.app.state.workers


ServiceDep = Annotated[Service, Depends(get_service)]
CacheDep = Annotated[WebCache, Depends(get_cache)]
SettingsDep = Annotated[WebSettings, Depends(get_settings)]
AuthDep = Annotated[Authenticator, Depends(get_auth)]
WorkersDep = Annotated[ScoringWorkers, Depends(get_workers)]


def get_db_session(service: ServiceDep) -> Iterator[Session]:
    """One read transaction for the request's own queries (opened at its first query)."""
    with service.db.read() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db_session)]


# -- pages: the session cookie ---------------------------------------------------------------

async def get_cookie_session(request: Request) -> CookieSession:
    return CookieSession(request.session)


CookieSessionDep = Annotated[CookieSession, Depends(get_cookie_session)]


_UNKNOWN = object()


async def current_viewer(request: Request) -> ParticipantView | None:
    """The participant logged in with this request's session cookie, or None (also used
    by the error pages, which run outside the routes)."""
    known = getattr(request.state, "viewer", _UNKNOWN)
    if known is not _UNKNOWN:
        return known
    session = CookieSession(request.session)
    viewer = None
    if session.participant_id is not None:
        auth: Authenticator = request.app.state.auth
        try:
            viewer = auth.from_session(session, block=False)
        except WouldBlock:
            viewer = await run_in_threadpool(auth.from_session, session)
    request.state.viewer = viewer
    return viewer


ViewerDep = Annotated[ParticipantView | None, Depends(current_viewer)]


class LoginRequired(NotAuthenticated):
    """A page for logged-in participants, asked for by a visitor: they are sent to the
    login page, and back here afterwards (see :mod:`leaderboard.web.errors`)."""

    def __init__(self) -> None:
        super().__init__("log in to see this page")


async def require_participant(viewer: ViewerDep) -> ParticipantView:
    if viewer is None:
        raise LoginRequired
    return viewer


async def require_instructor(viewer: ViewerDep) -> ParticipantView:
    if viewer is None:
        raise NotAuthenticated("log in as an instructor to see this page")
    if not viewer.is_instructor:
        raise PermissionDenied("this page is for instructors")
    return viewer


ParticipantDep = Annotated[ParticipantView, Depends(require_participant)]
InstructorDep = Annotated[ParticipantView, Depends(require_instructor)]


async def get_page(request: Request, viewer: ViewerDep) -> Page:
    return request.app.state.renderer.bind(request, viewer)


PageDep = Annotated[Page, Depends(get_page)]


async def check_csrf(session: CookieSessionDep, csrf_token: Annotated[str, Form()] = "") -> None:
    """A form must carry the CSRF token of the session it came from."""
    if not session.csrf_ok(csrf_token):
        raise PermissionDenied("this form has expired or did not come from this site; "
                               "reload the page and send it again")


csrf_checked = Depends(check_csrf)


# -- the REST API: bearer tokens ---------------------------------------------------------------

Token = Annotated[str | None, Depends(bearer)]


async def api_viewer(token: Token, auth: AuthDep) -> ParticipantView | None:
    """The participant whose token the request carries, or None without one (a wrong
    token: 401)."""
    if token is None:
        return None
    return await run_in_threadpool(auth.from_token, token)


ApiViewerDep = Annotated[ParticipantView | None, Depends(api_viewer)]


async def api_participant(who: ApiViewerDep) -> ParticipantView:
    if who is None:
        raise NotAuthenticated("send your token as `Authorization: Bearer TOKEN`")
    return who


async def api_instructor(who: Annotated[ParticipantView, Depends(api_participant)]) -> ParticipantView:
    if not who.is_instructor:
        raise PermissionDenied("instructors only")
    return who


ApiParticipantDep = Annotated[ParticipantView, Depends(api_participant)]
ApiInstructorDep = Annotated[ParticipantView, Depends(api_instructor)]
