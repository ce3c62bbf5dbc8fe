"""Log in with the course hub (JupyterHub OAuth), when the leaderboard runs as a hub service.

JupyterHub starts ``coursebench serve`` as its managed service ``leaderboard`` with the
``JUPYTERHUB_*`` variables of its OAuth client (docs/hub.md). ``GET /hub/login`` sends the
browser to the hub's authorize page; a student already logged into the hub comes straight
back to ``GET /hub/oauth_callback`` with a code, which is traded for a token, which names
the hub user; that user name is the roster id of a participant, and the session is bound
to that participant exactly as a token login would bind it. Token login (``/login``) keeps
working; without the hub's variables these two routes answer 404.
"""

from __future__ import annotations

import hmac
import os
import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from ...errors import NotAuthenticated, NotFound
from ...models import Participant
from ..deps import AuthDep, CookieSessionDep, ServiceDep
from .common import safe_next

router = APIRouter(include_in_schema=False)
_STATE, _NEXT = "hs", "hn"


def hub_oauth() -> Any | None:
    """jupyterhub's ``HubOAuth`` for this service, or None when not started by a hub."""
    if not (os.environ.get("JUPYTERHUB_API_TOKEN") and os.environ.get("JUPYTERHUB_CLIENT_ID")):
        return None
    from jupyterhub.services.auth import HubOAuth

    public = os.environ.get("JUPYTERHUB_PUBLIC_HUB_URL", "")
    host = public.split("/hub")[0] if public else os.environ.get("JUPYTERHUB_HOST", "")
    kwargs = {}
    own = os.environ.get("JUPYTERHUB_SERVICE_URL")
    if own:  # the redirect URI the hub registered for this service (the leaderboard's own URL)
        kwargs["oauth_redirect_uri"] = own.rstrip("/") + "/hub/oauth_callback"
    return HubOAuth(hub_host=host, cache_max_age=60, **kwargs)


def enabled() -> bool:
    return hub_oauth() is not None


@router.get("/hub/login")
def hub_login(session: CookieSessionDep, next: str = "/") -> Response:
    auth = hub_oauth()
    if auth is None:
        raise NotFound("this leaderboard is not running inside a course hub")
    state = secrets.token_urlsafe(24)
    session.data[_STATE], session.data[_NEXT] = state, safe_next(next)
    query = urlencode({"client_id": auth.oauth_client_id, "redirect_uri": auth.oauth_redirect_uri,
                       "response_type": "code", "state": state})
    return RedirectResponse(f"{auth.oauth_authorization_url}?{query}", status_code=302)


@router.get("/hub/oauth_callback")
async def hub_callback(session: CookieSessionDep, auth: AuthDep, svc: ServiceDep,
                       code: str = "", state: str = "") -> Response:
    oauth = hub_oauth()
    if oauth is None:
        raise NotFound("this leaderboard is not running inside a course hub")
    expected = session.data.pop(_STATE, None)
    target = safe_next(str(session.data.pop(_NEXT, "/") or "/"))
    if not code or not isinstance(expected, str) or not hmac.compare_digest(expected, state):
        raise NotAuthenticated("the hub login expired or was not started here; try again from /hub/login")
    token = await oauth.token_for_code(code, sync=False)
    user = await oauth.user_for_token(token, use_cache=False, sync=False)
    name = str((user or {}).get("name") or "")
    with svc.db.read() as s:
        pid = s.scalar(select(Participant.id).where(Participant.name == name))
    if pid is None:
        raise NotAuthenticated(f"the hub user {name!r} is not on this leaderboard's roster; "
                               "ask your instructor to run `coursebench compete tokens`")
    if not auth.login_as(session, pid):
        raise NotAuthenticated(f"{name!r} has no roster token yet; ask your instructor for one")
    return RedirectResponse(target, status_code=303)
