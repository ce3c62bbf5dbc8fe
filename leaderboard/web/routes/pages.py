"""Pages for everyone: competitions, a competition, its leaderboard, submitting, your
submissions, the score-history chart, and logging in and out.  They work without
JavaScript (a small script only ticks the deadline countdown)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response

from ...errors import CompetitionOpen, LeaderboardError, NotFound, SubmissionInvalid
from ...views import ParticipantView
from .. import queries
from ..cache import BoardEntry, Fragment, nonblocking
from ..charts import history_svg
from ..deps import (
    AuthDep,
    CacheDep,
    CookieSessionDep,
    PageDep,
    ParticipantDep,
    ServiceDep,
    SessionDep,
    SettingsDep,
    ViewerDep,
    csrf_checked,
    require_participant,
)
from ..errors import RateLimited, status_of
from ..render import Page
from .common import SubmitterDep, safe_next

router = APIRouter(include_in_schema=False)
SubmissionId = Annotated[int, Path(ge=1, le=2**62)]
must_log_in = Depends(require_participant)


# -- log in / out -------------------------------------------------------------------------

@router.get("/login")
def login_form(page: PageDep, session: CookieSessionDep, next: str = "/") -> Response:
    session.csrf  # noqa: B018 — the visitor gets the CSRF cookie with the form
    return page.render("login.html", next=safe_next(next), error=None)


@router.post("/login", dependencies=[csrf_checked])
def login(request: Request, page: PageDep, session: CookieSessionDep, auth: AuthDep,
          token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    client = request.client.host if request.client else "?"
    retry = request.app.state.login_limiter.hit(f"login:{client}")
    if retry is not None:
        raise RateLimited(retry)
    try:
        auth.login(session, token)
    except LeaderboardError as exc:
        return page.render("login.html", status=401, next=safe_next(next), error=str(exc))
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", dependencies=[csrf_checked])
def logout(session: CookieSessionDep) -> Response:
    session.clear()
    return RedirectResponse("/", status_code=303)


# -- competitions -------------------------------------------------------------------------

@router.get("/")
def competitions(page: PageDep, svc: ServiceDep) -> Response:
    comps = svc.competitions()
    quotas = {c.slug: svc.quota(c.slug, page.viewer) for c in comps} if page.viewer else {}
    return page.render("competitions.html", competitions=comps, quotas=quotas)


@router.get("/c/{slug}")
def competition(slug: str, page: PageDep, svc: ServiceDep) -> Response:
    comp = svc.competition(slug)
    who = page.viewer
    files = [(f.name, f.stat().st_size if f.is_file() else None) for f in svc.public_files(slug)]
    quota = svc.quota(slug, who) if who else None
    team = svc.team(slug, who) if who else None
    return page.render("competition.html", comp=comp, files=files, quota=quota, team=team, tab="overview")


@router.get("/c/{slug}/data/{name}")
def download(slug: str, name: str, svc: ServiceDep) -> Response:
    """Only the listed public files, by exact name: nothing else under the folder."""
    for path in svc.public_files(slug):
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


def board_table(page: Page, entry: BoardEntry) -> Fragment:
    view = entry.view
    sizes: dict[int, int] = {}
    for r in view.rows:
        sizes[r.tie_group] = sizes.get(r.tie_group, 0) + 1
    return page.fragment("_board.html", board=view, whiskers=_whiskers(view), group_sizes=sizes)


def highlight(table: Fragment, team_id: int | None) -> Fragment:
    if team_id is None:
        return table
    marker = f'<tr id="t{team_id}" class="'.encode()
    data = table.data.replace(marker, f'<tr id="t{team_id}" aria-current="true" class="you '.encode(), 1)
    return Fragment(data, f'{table.etag[:-1]}-t{team_id}"')


@router.get("/c/{slug}/leaderboard")
async def leaderboard(slug: str, page: PageDep,
                      board: Annotated[str, Query(pattern="^(public|private)$")] = "public") -> Response:
    """Served on the event loop from the cached board and its pre-rendered table; only a
    cache miss (or a team to look up) goes to a worker thread."""
    cache = page.cache
    comp = await nonblocking(cache.competition, slug)
    who = page.viewer
    private = board == "private"
    can_private = comp.closed or (who is not None and who.is_instructor)
    if private and not can_private:
        raise CompetitionOpen(slug, comp.deadline.isoformat())
    entry = await nonblocking(cache.board, slug, private)
    table = await nonblocking(entry.rendering, "html", lambda: board_table(page, entry))
    team_id = await nonblocking(cache.team_id, slug, who)
    mine = next((r for r in entry.view.rows if r.team_id == team_id), None) if team_id else None
    shake = await nonblocking(cache.shakeup, slug) if private and comp.closed else None
    return page.render("leaderboard.html", comp=comp, board=entry.view, fragments={"table": highlight(table, team_id)},
                       mine=mine, private=private, can_private=can_private, shake=shake, tab="leaderboard",
                       before_deadline=not comp.closed, shared=True)


@router.get("/c/{slug}/history.svg")
def history(slug: str, viewer: ViewerDep, cache: CacheDep, svc: ServiceDep, db: SessionDep) -> Response:
    comp = cache.competition(slug)
    team_id = cache.team_id(slug, viewer)
    entry = cache.board(slug, False)

    def make() -> bytes:
        return history_svg(queries.score_history(db, slug), team_id, maximize=comp.direction == "max",
                           metric=comp.metric, now=svc.now())

    svg = entry.rendering(f"svg:{team_id}", make)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=5"})


# -- submitting -------------------------------------------------------------------------

def _submit_page(page: Page, svc: Any, slug: str, *, status: int = 200, **extra: Any) -> Response:
    comp = svc.competition(slug)
    quota = svc.quota(slug, page.viewer) if page.viewer else None
    extra.setdefault("problems", None)
    extra.setdefault("error", None)
    extra.setdefault("message", "")
    return page.render("submit.html", status=status, comp=comp, quota=quota, tab="submit", **extra)


@router.get("/c/{slug}/submit", dependencies=[must_log_in])
def submit_form(slug: str, page: PageDep, svc: ServiceDep) -> Response:
    return _submit_page(page, svc, slug)


@router.post("/c/{slug}/submit", dependencies=[must_log_in, csrf_checked])
def submit(slug: str, who: ParticipantDep, page: PageDep, svc: ServiceDep, submitter: SubmitterDep,
           settings: SettingsDep, file: Annotated[UploadFile | None, File()] = None,
           message: Annotated[str, Form()] = "") -> Response:
    if file is None or not file.filename:
        return _submit_page(page, svc, slug, status=422, message=message,
                            error="choose a file to upload: a .csv, .csv.gz or .zip of predictions, or a .ipynb")
    try:
        view, _ = submitter.store(who, slug, file.filename, file.file.read(), message, settings.wait_seconds)
    except SubmissionInvalid as exc:
        return _submit_page(page, svc, slug, status=422, message=message, problems=exc.problems, more=exc.more,
                            filename=exc.filename or file.filename)
    except LeaderboardError as exc:
        return _submit_page(page, svc, slug, status=status_of(exc), message=message, error=str(exc))
    return RedirectResponse(f"/c/{slug}/submissions?new={view.id}#s{view.id}", status_code=303)


# -- my submissions -----------------------------------------------------------------------

def _submissions_page(page: Page, svc: Any, cache: Any, slug: str, who: ParticipantView, *, new: int | None = None,
                      status: int = 200, selection_error: str | None = None) -> Response:
    comp = svc.competition(slug)
    subs = svc.submissions(slug, who)
    quota = svc.quota(slug, who)
    rank = None
    if selection_error is None and any(s.status == "complete" for s in subs):
        entry = cache.board(slug, False)
        team_id = cache.team_id(slug, who)
        row = next((r for r in entry.view.rows if r.team_id == team_id), None)
        rank = (row.rank, len(entry.view.rows)) if row else None
    waiting = selection_error is None and any(s.status in ("pending", "running") for s in subs)
    newest = next((s for s in subs if s.id == new), None) if new else None
    return page.render("submissions.html", status=status, comp=comp, subs=subs, quota=quota, rank=rank,
                       waiting=waiting, newest=newest, tab="submissions", selection_error=selection_error)


@router.get("/c/{slug}/submissions")
def my_submissions(slug: str, who: ParticipantDep, page: PageDep, svc: ServiceDep, cache: CacheDep,
                   new: Annotated[int | None, Query(ge=1, le=2**62)] = None) -> Response:
    return _submissions_page(page, svc, cache, slug, who, new=new)


@router.post("/c/{slug}/select", dependencies=[must_log_in, csrf_checked])
def select_finals(slug: str, who: ParticipantDep, page: PageDep, svc: ServiceDep, cache: CacheDep,
                  selected: Annotated[list[str], Form()] = []) -> Response:  # noqa: B006 — FastAPI copies it
    ids: list[int] = []
    for value in selected:
        try:
            number = int(value)
        except ValueError:
            continue
        if 1 <= number <= 2**62:
            ids.append(number)
    try:
        svc.select(slug, who, ids)
    except LeaderboardError as exc:
        return _submissions_page(page, svc, cache, slug, who, status=status_of(exc), selection_error=str(exc))
    cache.invalidate()
    return RedirectResponse(f"/c/{slug}/submissions?selected=1", status_code=303)


@router.get("/c/{slug}/submissions/{submission_id}")
def submission_detail(slug: str, submission_id: SubmissionId, who: ParticipantDep, page: PageDep,
                      svc: ServiceDep) -> Response:
    comp = svc.competition(slug)
    view = svc.submission(submission_id, who)  # NotFound for other teams' submissions
    if view.competition != slug:
        raise NotFound("submission", submission_id)
    return page.render("submission.html", comp=comp, sub=view, tab="submissions")
