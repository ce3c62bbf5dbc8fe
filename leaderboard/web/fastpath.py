"""The front door of the cache for its most frequent question: a visitor who is not
logged in asking for a public leaderboard, page or API — a class refreshing the board
before a deadline.

Once the board is cached the answer is a few bytes of page shell around a pre-rendered,
pre-compressed table, or pre-serialised JSON: about 60–100 µs of work.  FastAPI's routing
and dependency resolution would cost three to four times that again per request (measured:
docs/web.md), which on a small server is the difference between meeting the 50 ms p99
target and missing it.  So for exactly the requests whose dependencies have known values
this middleware calls the public route functions itself, with those values:

- ``GET /api/v1/competitions/{slug}/leaderboard``, no query string (``private=False``) and no
  ``Authorization`` header (no token): :func:`~leaderboard.web.routes.api.visible_board`, then
  :func:`~leaderboard.web.routes.api.leaderboard`;
- ``GET /c/{slug}/leaderboard``, no query string (``board="public"``), a session without a
  participant (the viewer is None): :func:`~leaderboard.web.routes.pages.leaderboard` with the
  visitor's :class:`~leaderboard.web.render.Page`.

It sits inside the session middleware and outside gzip (its answers come gzip-encoded
from the cache already, or carry ``Vary: Accept-Encoding`` for clients that take none), so
they are those of the full stack byte for byte.  Anything else, and anything that raises (an unknown competition, …), goes
down the full stack unchanged, which answers it its own way.  It caches nothing itself.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .auth import CookieSession

_PAGE = re.compile(r"/c/([^/]+)/leaderboard")
_API = re.compile(r"/api/v1/competitions/([^/]+)/leaderboard")


class VisitorBoards:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable[[], Awaitable[dict]],
                       send: Callable[[dict], Awaitable[None]]) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("query_string") \
                and not scope.get("root_path"):
            response = await self._answer(scope, receive)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: dict, receive: Callable[[], Awaitable[dict]]) -> Response | None:
        from .routes import api, pages

        path = scope["path"]
        try:
            match = _API.fullmatch(path)
            if match:
                if any(name == b"authorization" for name, _ in scope.get("headers", ())):
                    return None
                request = Request(scope, receive)
                board = await api.visible_board(request, match[1], token=None, private=False)
                return await api.leaderboard(request, board)
            match = _PAGE.fullmatch(path)
            if match:
                request = Request(scope, receive)
                if CookieSession(request.session).participant_id is not None:
                    return None  # a participant (or a stale session): the full stack decides
                page = request.app.state.renderer.bind(request, None)
                return await pages.leaderboard(match[1], page, board="public")
        except Exception:  # NotFound, or a bug: the full stack redoes it and answers its way
            return None
        return None
