"""The REST API under /api/v1 (OpenAPI: /api/v1/openapi.json).

Authenticate with ``Authorization: Bearer TOKEN``.  Anonymous callers may read the
competitions, the public data listing and the public leaderboard.  Errors are JSON:
``{"error": CODE, "message": TEXT, ...}`` — a rejected file adds ``problems`` (each with
``row``, ``column``, ``message``, ``fix``)."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from ...errors import CompetitionOpen, LeaderboardError, NotFound
from ...services import Service
from ...views import CompetitionView, ParticipantView, SubmissionView
from .. import queries
from ..auth import Authenticator
from ..cache import BoardEntry, Fragment, WebCache, nonblocking, respond
from ..deps import (
    ApiInstructorDep,
    ApiParticipantDep,
    AuthDep,
    CacheDep,
    ServiceDep,
    SessionDep,
    SettingsDep,
    Token,
)
from ..schemas import (
    ERRORS,
    MAX_ID,
    ActionOut,
    ActivityOut,
    ClockIn,
    ClockOut,
    CompetitionOut,
    ErrorOut,
    FileOut,
    InvalidOut,
    InviteIn,
    JoinIn,
    LeaderboardOut,
    MeOut,
    QuotaOut,
    SelectionIn,
    SelectionOut,
    ShakeUpOut,
    SubmissionOut,
    TeamIn,
    TeamOut,
)
from .common import SubmitterDep

router = APIRouter(prefix="/api/v1", tags=["leaderboard"])
SubmissionId = Annotated[int, Path(ge=1, le=MAX_ID, description="a submission id")]


@dataclass(frozen=True)
class Board:
    competition: CompetitionView
    entry: BoardEntry
    hidden: bool  # the private board before the deadline (instructors only)


async def visible_board(request: Request, slug: str, token: Token,
                        private: Annotated[bool, Query(description="the private board (after the deadline; "
                                                                   "instructors: always)")] = False) -> Board:
    """The board asked for, once the caller may see it: the private one before the
    deadline only with an instructor's token (checked only then).  The hottest route's
    one dependency: it takes the cache and the authenticator from the app itself rather
    than through two more dependencies (each costs tens of microseconds per request)."""
    cache: WebCache = request.app.state.cache
    comp = await nonblocking(cache.competition, slug)
    hidden = private and not comp.closed
    if hidden:
        auth: Authenticator = request.app.state.auth
        who = await run_in_threadpool(auth.from_token, token) if token else None
        if who is None or not who.is_instructor:
            raise CompetitionOpen(slug, comp.deadline.isoformat())
    return Board(comp, await nonblocking(cache.board, slug, private), hidden)


BoardDep = Annotated[Board, Depends(visible_board)]


def _rank_of(cache: WebCache, slug: str, view: SubmissionView) -> int | None:
    if view.status != "complete":
        return None
    row = cache.board(slug, False).view.row_of(view.team)
    return row.rank if row else None


def _submission_out(cache: WebCache, view: SubmissionView, *, ranked: bool = False) -> SubmissionOut:
    out = SubmissionOut.model_validate(view)
    if ranked:
        out.rank = _rank_of(cache, view.competition, view)
    return out


# -- routes -------------------------------------------------------------------------------

@router.get("/me", responses=ERRORS)
async def me(who: ApiParticipantDep) -> MeOut:
    return MeOut.model_validate(who)


@router.get("/competitions")
def competitions(svc: ServiceDep) -> list[CompetitionOut]:
    return [CompetitionOut.model_validate(c) for c in svc.competitions()]


@router.get("/competitions/{slug}", responses=ERRORS)
def competition(slug: str, cache: CacheDep) -> CompetitionOut:
    return CompetitionOut.model_validate(cache.competition(slug))


_digests: dict[tuple[str, int, int], str] = {}
_digests_lock = threading.Lock()


def _sha256(path: FilePath) -> str:
    """The file's SHA-256, computed once per (path, size, mtime) and remembered."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _digests_lock:
        known = _digests.get(key)
    if known is None:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        known = digest.hexdigest()
        with _digests_lock:
            _digests[key] = known
    return known


@router.get("/competitions/{slug}/files", responses=ERRORS)
def files(slug: str, svc: ServiceDep) -> list[FileOut]:
    """The public data files, with their size and SHA-256 (download each from ``url``)."""
    return [FileOut(name=f.name, size=f.stat().st_size if f.is_file() else None,
                    sha256=_sha256(f) if f.is_file() else None,
                    url=f"/api/v1/competitions/{slug}/files/{f.name}") for f in svc.public_files(slug)]


@router.get("/competitions/{slug}/files/{name}", responses={**ERRORS, 200: {"content": {"text/csv": {}}}},
            response_class=FileResponse)
def file(slug: str, name: str, svc: ServiceDep) -> FileResponse:
    for path in svc.public_files(slug):
        if path.name == name and path.is_file():
            return FileResponse(path, media_type="text/csv", filename=path.name,
                                headers={"X-Content-SHA256": _sha256(path)})
    raise NotFound("file", name)


def _board_json(entry: BoardEntry) -> Fragment:
    return Fragment.of(LeaderboardOut.model_validate(entry.view).model_dump_json().encode())


@router.get("/competitions/{slug}/leaderboard", response_model=LeaderboardOut, responses=ERRORS)
async def leaderboard(request: Request, board: BoardDep) -> Response:
    """Served on the event loop from pre-serialised bytes while the board is unchanged
    (with an ETag: If-None-Match gets 304)."""
    body = await nonblocking(board.entry.rendering, "json", lambda: _board_json(board.entry))
    return respond(request, body, "application/json",
                   {"Cache-Control": "private, no-cache" if board.hidden else "no-cache"})


@router.get("/competitions/{slug}/shakeup", responses=ERRORS)
def shakeup(slug: str, cache: CacheDep, token: Token, auth: AuthDep) -> ShakeUpOut:
    comp = cache.competition(slug)
    if not comp.closed:
        who = auth.from_token(token) if token else None
        if who is None or not who.is_instructor:
            raise CompetitionOpen(slug, comp.deadline.isoformat())
    return ShakeUpOut.model_validate(cache.shakeup(slug))


@router.get("/competitions/{slug}/quota", responses=ERRORS)
def quota(slug: str, who: ApiParticipantDep, svc: ServiceDep) -> QuotaOut:
    return QuotaOut.model_validate(svc.quota(slug, who))


@router.post("/competitions/{slug}/submissions", status_code=201, response_model=SubmissionOut,
             responses={**ERRORS, 202: {"model": SubmissionOut, "description": "stored; scoring continues"},
                        413: {"model": ErrorOut}, 422: {"model": InvalidOut, "description": "invalid file"},
                        409: {"model": ErrorOut, "description": "competition closed"},
                        429: {"model": ErrorOut, "description": "daily limit or rate limit reached"}})
def submit(slug: str, who: ApiParticipantDep, submitter: SubmitterDep, cache: CacheDep,
           file: Annotated[UploadFile, File(description=".csv/.csv.gz/.zip or .ipynb")],
           message: Annotated[str, Form(max_length=2000)] = "",
           wait: Annotated[float, Query(ge=0, le=120, description="seconds to wait for the score")] = 0) -> Response:
    """Submit predictions or a notebook.  201 when scored within ``wait`` seconds, else 202
    (poll ``GET /api/v1/submissions/{id}``)."""
    view, _ = submitter.store(who, slug, file.filename, file.file.read(), message, wait)
    out = _submission_out(cache, view, ranked=True)
    status = 202 if view.status in ("pending", "running") else 201
    return Response(out.model_dump_json(), status_code=status, media_type="application/json",
                    headers={"Location": f"/api/v1/submissions/{view.id}"})


@router.get("/competitions/{slug}/submissions", responses=ERRORS)
def my_submissions(slug: str, who: ApiParticipantDep, svc: ServiceDep) -> list[SubmissionOut]:
    return [SubmissionOut.model_validate(v) for v in svc.submissions(slug, who)]


@router.get("/submissions/{submission_id}", responses=ERRORS)
def submission(submission_id: SubmissionId, who: ApiParticipantDep, svc: ServiceDep,
               cache: CacheDep) -> SubmissionOut:
    return _submission_out(cache, svc.submission(submission_id, who), ranked=True)


@router.put("/competitions/{slug}/selection", responses={**ERRORS, 409: {"model": ErrorOut},
                                                          422: {"model": ErrorOut}})
def select(slug: str, body: SelectionIn, who: ApiParticipantDep, svc: ServiceDep, cache: CacheDep) -> SelectionOut:
    chosen = svc.select(slug, who, body.ids)
    cache.invalidate()
    return SelectionOut(selected=chosen)


# -- teams --------------------------------------------------------------------------------

def _team_out(svc: Service, slug: str, who: ParticipantView) -> TeamOut | None:
    view = svc.team(slug, who)
    return None if view is None else TeamOut.model_validate(view)


@router.get("/competitions/{slug}/team", responses=ERRORS)
def my_team(slug: str, who: ApiParticipantDep, svc: ServiceDep) -> TeamOut | None:
    """Your team (null before your first submission or team action: everyone starts solo)."""
    return _team_out(svc, slug, who)


@router.put("/competitions/{slug}/team", responses={**ERRORS, 409: {"model": ErrorOut}})
def name_team(slug: str, body: TeamIn, who: ApiParticipantDep, svc: ServiceDep, cache: CacheDep) -> TeamOut | None:
    """Create (name) your team; its leader may rename it."""
    svc.create_team(slug, who, body.name)
    cache.invalidate()
    return _team_out(svc, slug, who)


@router.post("/competitions/{slug}/team/invites", responses={**ERRORS, 409: {"model": ErrorOut}})
def invite(slug: str, body: InviteIn, who: ApiParticipantDep, svc: ServiceDep) -> TeamOut | None:
    """Invite a participant (by roster id) to join your team (leader only, before the merger deadline)."""
    svc.invite(slug, who, body.participant)
    return _team_out(svc, slug, who)


@router.post("/competitions/{slug}/team/join", responses={**ERRORS, 409: {"model": ErrorOut}})
def join(slug: str, body: JoinIn, who: ApiParticipantDep, svc: ServiceDep, cache: CacheDep) -> TeamOut | None:
    """Join (merge into) a team that invited you; your submissions come along."""
    svc.accept(slug, who, body.team)
    cache.invalidate()
    return _team_out(svc, slug, who)


@router.post("/competitions/{slug}/team/leave", responses={**ERRORS, 409: {"model": ErrorOut}})
def leave(slug: str, who: ApiParticipantDep, svc: ServiceDep, cache: CacheDep) -> TeamOut | None:
    """Leave your team for a new solo one (the team keeps its submissions)."""
    svc.leave(slug, who)
    cache.invalidate()
    return _team_out(svc, slug, who)


# -- instructors --------------------------------------------------------------------------

@router.post("/competitions/{slug}/close", responses=ERRORS)
def close(slug: str, _: ApiInstructorDep, svc: ServiceDep, cache: CacheDep) -> ActionOut:
    view = svc.close(slug, force=True)
    cache.invalidate()
    return ActionOut(message=f"closed {slug}", count=len(view.rows))


@router.post("/competitions/{slug}/rescore", responses=ERRORS)
def rescore(slug: str, _: ApiInstructorDep, svc: ServiceDep, cache: CacheDep) -> ActionOut:
    pending = svc.score_pending(slug)
    count = svc.rescore(slug)
    cache.invalidate()
    return ActionOut(message=f"scored {len(pending)} pending, rescored {count}", count=count)


@router.get("/competitions/{slug}/export", responses=ERRORS)
def export(slug: str, _: ApiInstructorDep, svc: ServiceDep) -> list[dict[str, Any]]:
    """One row per participant: private rank and score (for grading)."""
    return svc.export(slug)


@router.get("/competitions/{slug}/activity", responses=ERRORS)
def activity(slug: str, _: ApiInstructorDep, svc: ServiceDep, db: SessionDep) -> list[ActivityOut]:
    svc.competition(slug)  # NotFound for an unknown competition
    return [ActivityOut.model_validate(r) for r in queries.activity(db, slug)]


@router.post("/admin/clock", responses=ERRORS)
def set_clock(body: ClockIn, _: ApiInstructorDep, settings: SettingsDep, cache: CacheDep) -> ClockOut:
    """Test servers only (``coursebench serve --test-clock``): move the server's clock."""
    clock = settings.test_clock
    if clock is None:
        raise NotFound("endpoint", "/api/v1/admin/clock (start the server with --test-clock)")
    if body.now.tzinfo is None:
        raise LeaderboardError("give the time with a timezone, e.g. 2026-03-21T00:00:00Z")
    now = clock.set(body.now)
    cache.invalidate()
    return ClockOut(now=now)
