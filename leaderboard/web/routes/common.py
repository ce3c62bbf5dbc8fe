"""What the routers share: who is asking, CSRF checks, and the one submission path that
the upload form and the REST API both use."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from ...errors import NotAuthenticated, PermissionDenied
from ...services import ParticipantView, Service, SubmissionView
from ..auth import csrf_ok
from ..boards import WouldBlock
from ..render import RateLimited, session_of, viewer_of

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")
T = TypeVar("T")


async def without_blocking(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args, block=False)`` right here on the event loop (the common case: every
    answer is in memory); when that would need the database or a wait (it raises
    :class:`~leaderboard.web.boards.WouldBlock`), ``fn(*args, block=True)`` in a worker
    thread instead.  ``fn`` must not have changed anything before raising WouldBlock."""
    try:
        return fn(*args, block=False)
    except WouldBlock:
        return await run_in_threadpool(fn, *args, block=True)


def service_of(request: Request) -> Service:
    return request.app.state.service


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def require_instructor(request: Request) -> ParticipantView:
    who = viewer_of(request)
    if who is None:
        raise NotAuthenticated("log in as an instructor to see this page")
    if not who.is_instructor:
        raise PermissionDenied("this page is for instructors")
    return who


def check_csrf(request: Request, token: str | None) -> None:
    if not csrf_ok(session_of(request), token):
        raise PermissionDenied("this form has expired or did not come from this site; "
                               "reload the page and send it again")


def safe_next(target: str | None) -> str:
    """Only local paths after login (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def safe_filename(name: str | None) -> str:
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    base = _SAFE_NAME.sub("_", base)[:200]
    return base or "submission.csv"


def store_submission(request: Request, who: ParticipantView, slug: str, filename: str | None, data: bytes,
                     message: str, wait: float) -> tuple[SubmissionView, bool]:
    """Rate-limit, validate and store (pending), wake the workers and wait up to ``wait``
    seconds for the score.  Returns (view, finished)."""
    app = request.app
    retry = app.state.submit_limiter.hit(f"submit:{who.id}")
    if retry is not None:
        raise RateLimited(retry)
    svc: Service = app.state.service
    name = safe_filename(filename)
    message = (message or "")[:2000]
    if name.lower().endswith(".ipynb"):
        with tempfile.TemporaryDirectory(prefix="cb-upload-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(data)
            view = svc.submit_notebook(slug, who, path, message=message, score_now=False)
    else:
        view = svc.submit_file(slug, who, data, message=message, filename=name, score_now=False)
    workers = app.state.workers
    workers.wake()
    finished = False
    if wait > 0 and app.state.settings.workers > 0:
        finished = workers.wait(view.id, wait)
    return svc.submission(view.id, who), finished
