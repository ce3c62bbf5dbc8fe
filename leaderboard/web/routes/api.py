"""The REST API under /api/v1 (OpenAPI: /api/v1/openapi.json).

Authenticate with ``Authorization: Bearer TOKEN``.  Anonymous callers may read the
competitions, the public data listing and the public leaderboard.  Errors are JSON:
``{"error": CODE, "message": TEXT, ...}`` — a rejected file adds ``problems`` (each with
``row``, ``column``, ``message``, ``fix``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from ...errors import CompetitionOpen, NotAuthenticated, NotFound, PermissionDenied
from ...services import CompetitionView, ParticipantView, SubmissionView
from .. import queries
from ..boards import Fragment, WouldBlock
from ..render import cached_response
from .common import service_of, store_submission, without_blocking

router = APIRouter(prefix="/api/v1", tags=["leaderboard"])
MAX_ID = 2**62
SubmissionId = Annotated[int, Path(ge=1, le=MAX_ID, description="a submission id")]


class ErrorOut(BaseModel):
    error: str
    message: str


class ProblemOut(BaseModel):
    row: int | None = Field(None, description="1-based data row (the header is not counted)")
    column: str | None = None
    message: str
    fix: str = ""


class InvalidOut(ErrorOut):
    problems: list[ProblemOut] = []
    more: int = 0


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "no or wrong token"},
    403: {"model": ErrorOut, "description": "not allowed (e.g. private results before the deadline)"},
    404: {"model": ErrorOut, "description": "no such thing (or not yours)"},
}


class MeOut(BaseModel):
    name: str
    display_name: str
    role: str


class CompetitionOut(BaseModel):
    slug: str
    title: str
    description: str
    task: str
    metric: str
    direction: str
    deadline: dt.datetime
    is_open: bool
    closed: bool
    daily_limit: int
    final_selections: int
    team_size: int
    submission_types: list[str]
    folds: int
    dataset_version: str

    @classmethod
    def of(cls, c: CompetitionView) -> CompetitionOut:
        return cls(slug=c.slug, title=c.title, description=c.description, task=c.task, metric=c.metric,
                   direction=c.direction, deadline=c.deadline, is_open=c.is_open, closed=c.closed,
                   daily_limit=c.daily_limit, final_selections=c.final_selections, team_size=c.team_size,
                   submission_types=c.submission_types, folds=c.folds, dataset_version=c.dataset_version)


class FileOut(BaseModel):
    name: str
    size: int | None
    url: str


class RowOut(BaseModel):
    rank: int
    team: str
    members: list[str]
    score: float
    ci_low: float | None
    ci_high: float | None
    cv_mean: float | None
    cv_std: float | None
    entries: int
    last_submission: dt.datetime | None
    tied_with_above: bool
    tie_group: int


class LeaderboardOut(BaseModel):
    competition: str
    board: str
    metric: str
    direction: str
    generated_at: dt.datetime
    rows: list[RowOut]


class ShakeRowOut(BaseModel):
    team: str
    public_rank: int
    private_rank: int
    change: int


class ShakeUpOut(BaseModel):
    kendall_tau: float
    mean_abs_change: float
    rows: list[ShakeRowOut]


class RunOut(BaseModel):
    fold: int
    status: str
    wall_time: float | None = None
    message: str = ""
    traceback: str = ""


class SubmissionOut(BaseModel):
    id: int
    competition: str
    team: str
    participant: str
    kind: str
    filename: str
    message: str
    status: str = Field(description="pending | running | complete | failed")
    failure_category: str | None
    failure_label: str | None
    error: str | None
    counted: bool
    created_at: dt.datetime
    scored_at: dt.datetime | None
    public_score: float | None
    public_ci: list[float] | None
    cv_mean: float | None
    cv_std: float | None
    cv_folds: list[float] | None
    private_score: float | None = Field(description="null until the deadline (instructors: always)")
    selected: bool
    rank: int | None = Field(None, description="the team's public rank, when just scored")
    runs: list[RunOut] = []

    @classmethod
    def of(cls, v: SubmissionView, rank: int | None = None) -> SubmissionOut:
        return cls(id=v.id, competition=v.competition, team=v.team, participant=v.participant, kind=v.kind,
                   filename=v.filename, message=v.message, status=v.status, failure_category=v.failure_category,
                   failure_label=v.failure_label, error=v.error, counted=v.counted, created_at=v.created_at,
                   scored_at=v.scored_at, public_score=v.public_score,
                   public_ci=list(v.public_ci) if v.public_ci else None, cv_mean=v.cv_mean, cv_std=v.cv_std,
                   cv_folds=v.cv_folds, private_score=v.private_score, selected=v.selected, rank=rank,
                   runs=[RunOut(**{k: r.get(k) for k in ("fold", "status", "wall_time", "message", "traceback")
                                   if r.get(k) is not None}) for r in v.runs])


class QuotaOut(BaseModel):
    used: int
    limit: int
    remaining: int
    resets_at: dt.datetime


class SelectionIn(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(max_length=100,
                                                             description="submission ids; replaces the previous choice")


class SelectionOut(BaseModel):
    selected: list[int]


class ClockIn(BaseModel):
    now: dt.datetime


class ClockOut(BaseModel):
    now: dt.datetime


class ActionOut(BaseModel):
    message: str
    count: int = 0


# -- helpers ------------------------------------------------------------------------------

Auth = Annotated[str | None, Header(alias="Authorization", description="Bearer TOKEN")]


def _who(request: Request, authorization: str | None) -> ParticipantView | None:
    return request.app.state.auth.from_bearer(authorization)


def _need(request: Request, authorization: str | None) -> ParticipantView:
    who = _who(request, authorization)
    if who is None:
        raise NotAuthenticated("send your token as `Authorization: Bearer TOKEN`")
    return who


def _instructor(request: Request, authorization: str | None) -> ParticipantView:
    who = _need(request, authorization)
    if not who.is_instructor:
        raise PermissionDenied("instructors only")
    return who


def _rank_of(request: Request, slug: str, view: SubmissionView) -> int | None:
    if view.status != "complete":
        return None
    entry = request.app.state.boards.get(slug, False)
    row = entry.view.row_of(view.team)
    return row.rank if row else None


# -- routes -------------------------------------------------------------------------------

@router.get("/me", response_model=MeOut, responses=ERRORS)
def me(request: Request, authorization: Auth = None) -> MeOut:
    who = _need(request, authorization)
    return MeOut(name=who.name, display_name=who.display_name, role=who.role)


@router.get("/competitions", response_model=list[CompetitionOut])
def competitions(request: Request) -> list[CompetitionOut]:
    return [CompetitionOut.of(c) for c in service_of(request).competitions()]


@router.get("/competitions/{slug}", response_model=CompetitionOut, responses=ERRORS)
def competition(request: Request, slug: str) -> CompetitionOut:
    return CompetitionOut.of(request.app.state.boards.competition(slug))


@router.get("/competitions/{slug}/files", response_model=list[FileOut], responses=ERRORS)
def files(request: Request, slug: str) -> list[FileOut]:
    return [FileOut(name=f.name, size=f.stat().st_size if f.is_file() else None,
                    url=f"/api/v1/competitions/{slug}/files/{f.name}") for f in service_of(request).public_files(slug)]


@router.get("/competitions/{slug}/files/{name}", responses={**ERRORS, 200: {"content": {"text/csv": {}}}},
            response_class=FileResponse)
def file(request: Request, slug: str, name: str) -> FileResponse:
    for path in service_of(request).public_files(slug):
        if path.name == name and path.is_file():
            return FileResponse(path, media_type="text/csv", filename=path.name)
    raise NotFound("file", name)


def _leaderboard_json(request: Request, slug: str, private: bool, authorization: str | None, *,
                      block: bool) -> Response:
    boards = request.app.state.boards
    comp = boards.competition(slug, block=block)
    hidden = private and not comp.closed  # the private board before the deadline: instructors only
    if hidden:
        if not block:
            raise WouldBlock  # checking the token reads the database
        who = _who(request, authorization)
        if who is None or not who.is_instructor:
            raise CompetitionOpen(slug, comp.deadline.isoformat())
    entry = boards.get(slug, private, block=block)

    def make() -> Fragment:
        v = entry.view
        out = LeaderboardOut(competition=v.competition, board="private" if v.private else "public", metric=v.metric,
                             direction=v.direction, generated_at=v.generated_at, rows=[RowOut(
                                 rank=r.rank, team=r.team, members=r.members, score=r.score,
                                 ci_low=r.ci[0] if r.ci else None, ci_high=r.ci[1] if r.ci else None,
                                 cv_mean=r.cv_mean, cv_std=r.cv_std, entries=r.entries,
                                 last_submission=r.last_submission, tied_with_above=r.tied_with_above,
                                 tie_group=r.tie_group) for r in v.rows])
        return Fragment.of(out.model_dump_json().encode())

    body = entry.extra("json", make) if block else entry.peek("json")
    return cached_response(request, body.data, "application/json", body.etag,
                           {"Cache-Control": "private, no-cache" if hidden else "no-cache"})


@router.get("/competitions/{slug}/leaderboard", response_model=LeaderboardOut, responses=ERRORS)
async def leaderboard(request: Request, slug: str, private: bool = False, authorization: Auth = None) -> Response:
    """Served on the event loop from pre-serialised bytes while the board is unchanged
    (with an ETag: If-None-Match gets 304)."""
    return await without_blocking(_leaderboard_json, request, slug, private, authorization)


@router.get("/competitions/{slug}/shakeup", response_model=ShakeUpOut, responses=ERRORS)
def shakeup(request: Request, slug: str, authorization: Auth = None) -> ShakeUpOut:
    boards = request.app.state.boards
    comp = boards.competition(slug)
    if not comp.closed:
        who = _who(request, authorization)
        if who is None or not who.is_instructor:
            raise CompetitionOpen(slug, comp.deadline.isoformat())
    shake = boards.shakeup(slug)
    return ShakeUpOut(kendall_tau=shake.kendall_tau, mean_abs_change=shake.mean_abs_change,
                      rows=[ShakeRowOut(team=r.team, public_rank=r.public_rank, private_rank=r.private_rank,
                                        change=r.change) for r in shake.rows])


@router.get("/competitions/{slug}/quota", response_model=QuotaOut, responses=ERRORS)
def quota(request: Request, slug: str, authorization: Auth = None) -> QuotaOut:
    q = service_of(request).quota(slug, _need(request, authorization))
    return QuotaOut(used=q.used, limit=q.limit, remaining=q.remaining, resets_at=q.resets_at)


@router.post("/competitions/{slug}/submissions", status_code=201, response_model=SubmissionOut,
             responses={**ERRORS, 202: {"model": SubmissionOut, "description": "stored; scoring continues"},
                        413: {"model": ErrorOut}, 422: {"model": InvalidOut, "description": "invalid file"},
                        409: {"model": ErrorOut, "description": "competition closed"},
                        429: {"model": ErrorOut, "description": "daily limit or rate limit reached"}})
def submit(request: Request, slug: str, file: Annotated[UploadFile, File(description=".csv/.csv.gz/.zip or .ipynb")],
           message: Annotated[str, Form(max_length=2000)] = "",
           wait: Annotated[float, Query(ge=0, le=120, description="seconds to wait for the score")] = 0,
           authorization: Auth = None) -> Response:
    """Submit predictions or a notebook.  201 when scored within ``wait`` seconds, else 202
    (poll ``GET /api/v1/submissions/{id}``)."""
    who = _need(request, authorization)
    data = file.file.read()
    view, _ = store_submission(request, who, slug, file.filename, data, message, wait)
    request.app.state.boards.invalidate()
    out = SubmissionOut.of(view, _rank_of(request, slug, view))
    status = 202 if view.status in ("pending", "running") else 201
    return Response(out.model_dump_json(), status_code=status, media_type="application/json",
                    headers={"Location": f"/api/v1/submissions/{view.id}"})


@router.get("/competitions/{slug}/submissions", response_model=list[SubmissionOut], responses=ERRORS)
def my_submissions(request: Request, slug: str, authorization: Auth = None) -> list[SubmissionOut]:
    return [SubmissionOut.of(v) for v in service_of(request).submissions(slug, _need(request, authorization))]


@router.get("/submissions/{submission_id}", response_model=SubmissionOut, responses=ERRORS)
def submission(request: Request, submission_id: SubmissionId, authorization: Auth = None) -> SubmissionOut:
    view = service_of(request).submission(submission_id, _need(request, authorization))
    return SubmissionOut.of(view, _rank_of(request, view.competition, view))


@router.put("/competitions/{slug}/selection", response_model=SelectionOut,
            responses={**ERRORS, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}})
def select(request: Request, slug: str, body: SelectionIn, authorization: Auth = None) -> SelectionOut:
    chosen = service_of(request).select(slug, _need(request, authorization), body.ids)
    request.app.state.boards.invalidate()
    return SelectionOut(selected=chosen)


# -- instructors --------------------------------------------------------------------------

@router.post("/competitions/{slug}/close", response_model=ActionOut, responses=ERRORS)
def close(request: Request, slug: str, authorization: Auth = None) -> ActionOut:
    _instructor(request, authorization)
    view = service_of(request).close(slug, force=True)
    request.app.state.boards.invalidate()
    return ActionOut(message=f"closed {slug}", count=len(view.rows))


@router.post("/competitions/{slug}/rescore", response_model=ActionOut, responses=ERRORS)
def rescore(request: Request, slug: str, authorization: Auth = None) -> ActionOut:
    _instructor(request, authorization)
    svc = service_of(request)
    pending = svc.score_pending(slug)
    count = svc.rescore(slug)
    request.app.state.boards.invalidate()
    return ActionOut(message=f"scored {len(pending)} pending, rescored {count}", count=count)


@router.get("/competitions/{slug}/export", responses=ERRORS)
def export(request: Request, slug: str, authorization: Auth = None) -> list[dict[str, Any]]:
    """One row per participant: private rank and score (for grading)."""
    _instructor(request, authorization)
    return service_of(request).export(slug)


@router.get("/competitions/{slug}/activity", responses=ERRORS)
def activity(request: Request, slug: str, authorization: Auth = None) -> list[dict[str, Any]]:
    _instructor(request, authorization)
    service_of(request).competition(slug)
    return [r.__dict__ for r in queries.activity(service_of(request).db, slug)]


@router.post("/admin/clock", response_model=ClockOut, responses=ERRORS)
def set_clock(request: Request, body: ClockIn, authorization: Auth = None) -> ClockOut:
    """Test servers only (``coursebench serve --test-clock``): move the server's clock."""
    _instructor(request, authorization)
    clock = request.app.state.settings.test_clock
    if clock is None:
        raise NotFound("endpoint", "/api/v1/admin/clock (start the server with --test-clock)")
    if body.now.tzinfo is None:
        from ...errors import LeaderboardError

        raise LeaderboardError("give the time with a timezone, e.g. 2026-03-21T00:00:00Z")
    now = clock.set(body.now)
    request.app.state.boards.invalidate()
    return ClockOut(now=now)
