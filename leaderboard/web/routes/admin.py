"""Instructors' pages: competitions (create, prepare, close, rescore, export grades),
the private leaderboard at any time (via /c/SLUG/leaderboard?board=private), per-student
activity, the roster (issue tokens), and — on a server started with ``--test-clock`` —
the clock."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ...errors import LeaderboardError, NotFound
from .. import queries
from .common import check_csrf, require_instructor, service_of

router = APIRouter(prefix="/admin", include_in_schema=False)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
METRICS_BY_TASK = {
    "binary": ["roc_auc", "accuracy", "balanced_accuracy", "f1_macro", "log_loss"],
    "multiclass": ["accuracy", "balanced_accuracy", "f1_macro", "log_loss", "quadratic_weighted_kappa"],
    "regression": ["rmse", "mae", "rmsle", "r2"],
}


def _page(request: Request, template: str, status: int = 200, **extra: object) -> Response:
    return request.app.state.renderer.page(request, template, status=status, **extra)


def _unregistered(request: Request) -> list[str]:
    svc = service_of(request)
    known = {c.slug for c in svc.competitions()}
    return sorted(p.parent.name for p in svc.competitions_dir.glob("*/competition.toml") if p.parent.name not in known)


@router.get("")
def dashboard(request: Request, done: str = "") -> Response:
    require_instructor(request)
    svc = service_of(request)
    rows = []
    for comp in svc.competitions():
        act = queries.activity(svc.db, comp.slug)
        rows.append((comp, sum(a.submissions for a in act), sum(a.pending for a in act),
                     sum(1 for a in act if a.submissions)))
    return _page(request, "admin/dashboard.html", rows=rows, unregistered=_unregistered(request), done=done,
                 error=None)


@router.post("/c/{slug}/{action}")
async def act(request: Request, slug: str, action: str) -> Response:
    require_instructor(request)
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    svc = service_of(request)
    try:
        if action == "close":
            await run_in_threadpool(svc.close, slug, force=True)
            done = f"Closed {slug}: the private leaderboard is now public."
        elif action == "rescore":
            pending = await run_in_threadpool(svc.score_pending, slug)
            count = await run_in_threadpool(svc.rescore, slug)
            done = f"Scored {len(pending)} pending and rescored {count} submissions of {slug}."
        elif action == "prepare":
            view = await run_in_threadpool(svc.prepare, slug)
            done = f"Prepared {slug} (dataset version {view.dataset_version[:12]})."
        else:
            raise NotFound("action", action)
    except LeaderboardError as exc:
        from ..render import status_of

        svc_rows = []
        for comp in svc.competitions():
            a = queries.activity(svc.db, comp.slug)
            svc_rows.append((comp, sum(x.submissions for x in a), sum(x.pending for x in a),
                             sum(1 for x in a if x.submissions)))
        return _page(request, "admin/dashboard.html", status=status_of(exc), rows=svc_rows,
                     unregistered=_unregistered(request), done="", error=str(exc))
    request.app.state.boards.invalidate()
    request.app.state.workers.wake()
    from urllib.parse import quote

    return RedirectResponse(f"/admin?done={quote(done)}", status_code=303)


@router.get("/c/{slug}/export.csv")
def export(request: Request, slug: str) -> Response:
    require_instructor(request)
    rows = service_of(request).export(slug)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["participant"])
    writer.writeheader()
    writer.writerows(rows)
    return Response(buf.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{slug}-grades.csv"'})


@router.get("/c/{slug}/activity")
def activity(request: Request, slug: str) -> Response:
    require_instructor(request)
    svc = service_of(request)
    comp = svc.competition(slug)
    rows = queries.activity(svc.db, slug)
    return _page(request, "admin/activity.html", comp=comp, rows=rows)


# -- creating a competition ---------------------------------------------------------------

def _new_form(request: Request, status: int = 200, error: str | None = None, values: dict | None = None) -> Response:
    return _page(request, "admin/new.html", status=status, error=error, values=values or {},
                 metrics=METRICS_BY_TASK)


@router.get("/new")
def new_form(request: Request) -> Response:
    require_instructor(request)
    return _new_form(request)


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "") + '"'


@router.post("/new")
def create(request: Request, slug: Annotated[str, Form()] = "", title: Annotated[str, Form()] = "",
           description: Annotated[str, Form()] = "", task: Annotated[str, Form()] = "binary",
           metric: Annotated[str, Form()] = "", id_column: Annotated[str, Form()] = "id",
           target_column: Annotated[str, Form()] = "target", deadline: Annotated[str, Form()] = "",
           daily_limit: Annotated[str, Form()] = "5", final_selections: Annotated[str, Form()] = "2",
           public_fraction: Annotated[str, Form()] = "0.3", folds: Annotated[str, Form()] = "5",
           train: Annotated[UploadFile | None, File()] = None, test: Annotated[UploadFile | None, File()] = None,
           csrf_token: Annotated[str, Form()] = "") -> Response:
    """Write competitions/<slug>/{competition.toml, train.csv, test.csv} and prepare it;
    on any error nothing is left behind and the form comes back filled in."""
    require_instructor(request)
    check_csrf(request, csrf_token)
    values = {"slug": slug, "title": title, "description": description, "task": task, "metric": metric,
              "id_column": id_column, "target_column": target_column, "deadline": deadline,
              "daily_limit": daily_limit, "final_selections": final_selections,
              "public_fraction": public_fraction, "folds": folds}
    svc = service_of(request)
    slug = slug.strip()
    if not SLUG.match(slug):
        return _new_form(request, 422, "slug: 2-63 lowercase letters, digits and dashes, e.g. 'midterm-tabular'",
                         values)
    folder = svc.competitions_dir / slug
    if folder.exists():
        return _new_form(request, 409, f"a competition folder {slug!r} exists already", values)
    if train is None or not train.filename or test is None or not test.filename:
        return _new_form(request, 422, "upload both train.csv and test.csv (each with the target column)", values)
    try:
        when = dt.datetime.fromisoformat(deadline.strip())
    except ValueError:
        return _new_form(request, 422, "deadline: give a date and time like 2026-12-20T23:59", values)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    numbers = {}
    for name, raw, kind in (("daily_limit", daily_limit, int), ("final_selections", final_selections, int),
                            ("public_fraction", public_fraction, float), ("folds", folds, int)):
        try:
            numbers[name] = kind(raw)
        except ValueError:
            return _new_form(request, 422, f"{name}: {raw!r} is not a number", values)
    toml = "\n".join([
        f"slug = {_toml_str(slug)}", f"title = {_toml_str(title or slug)}",
        f"description = {_toml_str(description)}", f"task = {_toml_str(task)}", f"metric = {_toml_str(metric)}",
        f"id_column = {_toml_str(id_column)}", f"target_column = {_toml_str(target_column)}",
        f"deadline = {when.isoformat()}", *(f"{k} = {v}" for k, v in numbers.items()),
        'submission_types = ["file", "notebook"]', "", "[data]", 'train = "train.csv"', 'test = "test.csv"', ""])
    try:
        folder.mkdir(parents=True)
        (folder / "competition.toml").write_text(toml, encoding="utf-8")
        (folder / "train.csv").write_bytes(train.file.read())
        (folder / "test.csv").write_bytes(test.file.read())
        svc.prepare(slug)
    except LeaderboardError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return _new_form(request, 422, str(exc), values)
    except Exception as exc:  # a bad CSV may fail inside pandas
        shutil.rmtree(folder, ignore_errors=True)
        return _new_form(request, 422, f"could not prepare the data: {exc}", values)
    return RedirectResponse(f"/c/{slug}", status_code=303)


# -- roster -------------------------------------------------------------------------------

@router.get("/roster")
def roster(request: Request) -> Response:
    require_instructor(request)
    return _page(request, "admin/roster.html", people=queries.participants(service_of(request).db), issued=None,
                 error=None)


@router.post("/roster")
def issue(request: Request, name: Annotated[str, Form()] = "", display_name: Annotated[str, Form()] = "",
          role: Annotated[str, Form()] = "student", csrf_token: Annotated[str, Form()] = "") -> Response:
    """Issue (or replace) a participant's token; it is shown once and only its hash kept."""
    require_instructor(request)
    check_csrf(request, csrf_token)
    svc = service_of(request)
    name = name.strip()
    error, issued = None, None
    if not re.match(r"^[A-Za-z0-9._@-]{1,100}$", name):
        error = "name: the roster id (letters, digits, . _ @ -), e.g. s2026001"
    else:
        try:
            token = svc.add_participant(name, display_name=display_name.strip(), role=role)
            issued = (name, token)
        except LeaderboardError as exc:
            error = str(exc)
    return _page(request, "admin/roster.html", status=422 if error else 200,
                 people=queries.participants(svc.db), issued=issued, error=error)


# -- the test clock ----------------------------------------------------------------------

@router.get("/clock")
def clock_page(request: Request) -> Response:
    require_instructor(request)
    if request.app.state.settings.test_clock is None:
        raise NotFound("page", "/admin/clock (start the server with --test-clock)")
    return _page(request, "admin/clock.html", error=None)


@router.post("/clock")
def clock_set(request: Request, when: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "") -> Response:
    require_instructor(request)
    check_csrf(request, csrf_token)
    clock = request.app.state.settings.test_clock
    if clock is None:
        raise NotFound("page", "/admin/clock (start the server with --test-clock)")
    try:
        moment = dt.datetime.fromisoformat(when.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return _page(request, "admin/clock.html", status=422, error="give a time like 2026-12-21T00:00:00+00:00")
    clock.set(moment)
    request.app.state.boards.invalidate()
    return RedirectResponse("/admin/clock", status_code=303)
