"""The hot path: anonymous ``GET``s of a public leaderboard, page or API, answered from
memory in front of the framework.

These are by far the most frequent requests (a class refreshing the board before a
deadline), and once the board is cached the answer is a few bytes of page shell around a
pre-rendered table, or pre-serialised JSON.  FastAPI's per-request work — routing,
parameter parsing, its middleware, the exception layers — would then cost more than the
answer itself.  So this small ASGI layer calls the *same* route functions directly, with
``block=False``, for exactly the requests whose answer cannot depend on anything it skips:

- method ``GET``, no query string (so every parameter has its default), no root path;
- the path is ``/c/{slug}/leaderboard`` or ``/api/v1/competitions/{slug}/leaderboard``;
- for the page, no session cookie (a visitor who is not logged in: no per-user parts).

Anything else, or anything the cache cannot answer at once (a miss, an error, an unknown
competition), goes down the full stack unchanged, which answers it the usual way.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request

from .auth import COOKIE

_PAGE = re.compile(r"/c/([^/]+)/leaderboard")
_API = re.compile(r"/api/v1/competitions/([^/]+)/leaderboard")
_COOKIE = COOKIE.encode() + b"="


class CachedBoardsMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable[[], Awaitable[dict]],
                       send: Callable[[dict], Awaitable[None]]) -> None:
        if (scope["type"] == "http" and scope["method"] == "GET" and not scope.get("query_string")
                and not scope.get("root_path")):
            response = self._answer(scope)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _answer(self, scope: dict) -> Any:
        path = scope["path"]
        try:
            match = _API.fullmatch(path)
            if match:
                from .routes.api import _leaderboard_json

                return _leaderboard_json(Request(dict(scope)), match[1], False, None, block=False)
            match = _PAGE.fullmatch(path)
            if match and not _has_session_cookie(scope):
                from .routes.pages import _leaderboard_page

                return _leaderboard_page(Request(dict(scope)), match[1], "public", block=False)
        except Exception:  # WouldBlock, NotFound, or a bug: the full stack redoes it and answers its way
            return None
        return None


def _has_session_cookie(scope: dict) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"cookie" and _COOKIE in value:
            return True
    return False
