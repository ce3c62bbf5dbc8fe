"""Pages for everyone: competitions, a competition, its leaderboard, submitting, your
submissions, the score-history chart, and logging in and out.  They work without
JavaScript (a small script only ticks the deadline countdown)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response

from ...errors import CompetitionOpen, LeaderboardError, NotFound, SubmissionInvalid
from ...services import ParticipantView
from .. import queries
from ..auth import Authenticator
from ..boards import Fragment, WouldBlock
from ..charts import history_svg
from ..render import RateLimited, session_of, viewer_of
from .common import check_csrf, login_redirect, safe_next, service_of, store_submission, without_blocking

router = APIRouter(include_in_schema=False)

_team_cache: dict[tuple[str, int], tuple[float, int | None]] = {}


def _team_id(request: Request, slug: str, who: ParticipantView | None, block: bool = True) -> int | None:
    if who is None:
        return None
    key = (slug, who.id)
    hit = _team_cache.get(key)
    now = time.monotonic()
    if hit and now - hit[0] < 2.0:
        return hit[1]
    if not block:
        raise WouldBlock
    team = service_of(request).team(slug, who)
    value = team.id if team else None
    if len(_team_cache) > 20000:
        _team_cache.clear()
    _team_cache[key] = (now, value)
    return value


def _page(request: Request, template: str, **extra: Any) -> Response:
    return request.app.state.renderer.page(request, template, **extra)


# -- log in / out -------------------------------------------------------------------------

@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    session_of(request).dirty = True  # make sure the visitor has a CSRF token cookie
    return _page(request, "login.html", next=safe_next(next), error=None)


@router.post("/login")
def login(request: Request, token: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/") -> Response:
    check_csrf(request, csrf_token)
    client = request.client.host if request.client else "?"
    retry = request.app.state.login_limiter.hit(f"login:{client}")
    if retry is not None:
        raise RateLimited(retry)
    auth: Authenticator = request.app.state.auth
    try:
        auth.login(session_of(request), token)
    except LeaderboardError as exc:
        return request.app.state.renderer.page(request, "login.html", status=401, next=safe_next(next),
                                               error=str(exc))
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    Authenticator.logout(session_of(request))
    return RedirectResponse("/", status_code=303)


# -- competitions -------------------------------------------------------------------------

@router.get("/")
def competitions(request: Request) -> Response:
    svc = service_of(request)
    who = viewer_of(request)
    comps = svc.competitions()
    quotas = {c.slug: svc.quota(c.slug, who) for c in comps} if who else {}
    return _page(request, "competitions.html", competitions=comps, quotas=quotas)


@router.get("/c/{slug}")
def competition(request: Request, slug: str) -> Response:
    svc = service_of(request)
    comp = svc.competition(slug)
    who = viewer_of(request)
    files = [(f.name, f.stat().st_size if f.is_file() else None) for f in svc.public_files(slug)]
    quota = svc.quota(slug, who) if who else None
    team = svc.team(slug, who) if who else None
    return _page(request, "competition.html", comp=comp, files=files, quota=quota, team=team, tab="overview")


@router.get("/c/{slug}/data/{name}")
def download(request: Request, slug: str, name: str) -> Response:
    """Only the listed public files, by exact name: nothing else under the folder."""
    for path in service_of(request).public_files(slug):
        if path.name == name and path.is_file():
            return FileResponse(path, media_type="text/csv", filename=path.name)
    raise NotFound("file", name)


# -- leaderboard ------------------------------------------------------------------------

def _whiskers(view: Any) -> dict[int, tuple[float, float, float]]:
    """Per row: (low%, high%, score%) positions on a common axis."""
    values = []
    for r in view.rows:
        values.append(r.score)
        if r.ci:
            values += list(r.ci)
    if not values:
        return {}
    lo, hi = min(values), max(values)
    width = (hi - lo) or 1.0

    def pos(v: float) -> float:
        return round(2 + 96 * (v - lo) / width, 2)

    return {r.team_id: (pos(r.ci[0]), pos(r.ci[1]), pos(r.score)) if r.ci else (pos(r.score), pos(r.score),
                                                                                 pos(r.score))
            for r in view.rows}


def board_table_html(request: Request, entry: Any) -> Fragment:
    view = entry.view
    sizes: dict[int, int] = {}
    for r in view.rows:
        sizes[r.tie_group] = sizes.get(r.tie_group, 0) + 1
    return Fragment.of(request.app.state.renderer.env.get_template("_board.html").render(
        board=view, whiskers=_whiskers(view), group_sizes=sizes).encode())


def highlight(table: Fragment, team_id: int | None) -> Fragment:
    if team_id is None:
        return table
    marker = f'<tr id="t{team_id}" class="'.encode()
    data = table.data.replace(marker, f'<tr id="t{team_id}" aria-current="true" class="you '.encode(), 1)
    return Fragment(data, f'{table.etag[:-1]}-t{team_id}"')


def _leaderboard_page(request: Request, slug: str, board: str, *, block: bool) -> Response:
    boards = request.app.state.boards
    comp = boards.competition(slug, block=block)
    who = viewer_of(request, block)
    private = board == "private"
    can_private = comp.closed or (who is not None and who.is_instructor)
    if private and not can_private:
        raise CompetitionOpen(slug, comp.deadline.isoformat())
    entry = boards.get(slug, private, block=block)
    table = entry.extra("html", lambda: board_table_html(request, entry)) if block else entry.peek("html")
    team_id = _team_id(request, slug, who, block)
    mine = next((r for r in entry.view.rows if r.team_id == team_id), None) if team_id else None
    shake = boards.shakeup(slug, block=block) if private and comp.closed else None
    return _page(request, "leaderboard.html", comp=comp, board=entry.view, fragments={"table": highlight(table, team_id)},
                 mine=mine, private=private, can_private=can_private, shake=shake, tab="leaderboard",
                 before_deadline=not comp.closed, shared=True)


@router.get("/c/{slug}/leaderboard")
async def leaderboard(request: Request, slug: str,
                      board: str = Query("public", pattern="^(public|private)$")) -> Response:
    """Served on the event loop from the cached board and its pre-rendered table; only a
    cache miss (or a session or team to look up) goes to a worker thread."""
    return await without_blocking(_leaderboard_page, request, slug, board)


@router.get("/c/{slug}/history.svg")
def history(request: Request, slug: str) -> Response:
    boards = request.app.state.boards
    comp = boards.competition(slug)
    who = viewer_of(request)
    team_id = _team_id(request, slug, who)
    entry = boards.get(slug, False)
    svc = service_of(request)

    def make() -> bytes:
        return history_svg(queries.score_history(svc.db, slug), team_id, maximize=comp.direction == "max",
                           metric=comp.metric, now=svc.now())

    svg = entry.extra(f"svg:{team_id}", make)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=5"})


# -- submitting -------------------------------------------------------------------------

def _submit_page(request: Request, slug: str, *, status: int = 200, **extra: Any) -> Response:
    svc = service_of(request)
    who = viewer_of(request)
    comp = svc.competition(slug)
    quota = svc.quota(slug, who) if who else None
    extra.setdefault("problems", None)
    extra.setdefault("error", None)
    extra.setdefault("message", "")
    return request.app.state.renderer.page(request, "submit.html", status=status, comp=comp, quota=quota,
                                           tab="submit", **extra)


@router.get("/c/{slug}/submit")
def submit_form(request: Request, slug: str) -> Response:
    if viewer_of(request) is None:
        return login_redirect(request)
    return _submit_page(request, slug)


@router.post("/c/{slug}/submit")
def submit(request: Request, slug: str, file: Annotated[UploadFile | None, File()] = None,
           message: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "") -> Response:
    who = viewer_of(request)
    if who is None:
        return login_redirect(request)
    check_csrf(request, csrf_token)
    if file is None or not file.filename:
        return _submit_page(request, slug, status=422, message=message,
                            error="choose a file to upload: a .csv, .csv.gz or .zip of predictions, or a .ipynb")
    data = file.file.read()
    try:
        view, _ = store_submission(request, who, slug, file.filename, data, message,
                                   request.app.state.settings.wait_seconds)
    except SubmissionInvalid as exc:
        return _submit_page(request, slug, status=422, message=message, problems=exc.problems, more=exc.more,
                            filename=exc.filename or file.filename)
    except LeaderboardError as exc:
        from ..render import status_of

        return _submit_page(request, slug, status=status_of(exc), message=message, error=str(exc))
    request.app.state.boards.invalidate()
    return RedirectResponse(f"/c/{slug}/submissions?new={view.id}#s{view.id}", status_code=303)


# -- my submissions -----------------------------------------------------------------------

@router.get("/c/{slug}/submissions")
def my_submissions(request: Request, slug: str, new: Annotated[int | None, Query(ge=1, le=2**62)] = None) -> Response:
    who = viewer_of(request)
    if who is None:
        return login_redirect(request)
    svc = service_of(request)
    comp = svc.competition(slug)
    subs = svc.submissions(slug, who)
    quota = svc.quota(slug, who)
    rank = None
    if any(s.status == "complete" for s in subs):
        entry = request.app.state.boards.get(slug, False)
        team_id = _team_id(request, slug, who)
        row = next((r for r in entry.view.rows if r.team_id == team_id), None)
        rank = (row.rank, len(entry.view.rows)) if row else None
    waiting = any(s.status in ("pending", "running") for s in subs)
    newest = next((s for s in subs if s.id == new), None) if new else None
    return _page(request, "submissions.html", comp=comp, subs=subs, quota=quota, rank=rank, waiting=waiting,
                 newest=newest, tab="submissions", selection_error=None)


@router.post("/c/{slug}/select")
async def select_finals(request: Request, slug: str) -> Response:
    who = viewer_of(request)
    if who is None:
        return login_redirect(request)
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    ids: list[int] = []
    for value in form.getlist("selected"):
        try:
            ids.append(int(str(value)))
            if not 1 <= ids[-1] <= 2**62:
                ids.pop()
        except ValueError:
            continue
    svc = service_of(request)
    try:
        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(svc.select, slug, who, ids)
    except LeaderboardError as exc:
        from starlette.concurrency import run_in_threadpool

        from ..render import status_of

        comp, subs, quota = await run_in_threadpool(lambda: (svc.competition(slug), svc.submissions(slug, who),
                                                             svc.quota(slug, who)))
        return request.app.state.renderer.page(
            request, "submissions.html", status=status_of(exc), comp=comp, subs=subs, quota=quota, rank=None,
            waiting=False, newest=None, tab="submissions", selection_error=str(exc))
    request.app.state.boards.invalidate()
    return RedirectResponse(f"/c/{slug}/submissions?selected=1", status_code=303)


@router.get("/c/{slug}/submissions/{submission_id}")
def submission_detail(request: Request, slug: str, submission_id: Annotated[int, Path(ge=1, le=2**62)]) -> Response:
    who = viewer_of(request)
    if who is None:
        return login_redirect(request)
    svc = service_of(request)
    comp = svc.competition(slug)
    view = svc.submission(submission_id, who)  # NotFound for other teams' submissions
    if view.competition != slug:
        raise NotFound("submission", submission_id)
    return _page(request, "submission.html", comp=comp, sub=view, tab="submissions")
