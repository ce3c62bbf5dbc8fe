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
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import RedirectResponse, Response

from ...errors import LeaderboardError, NotFound
from .. import queries
from ..deps import (
    CacheDep,
    PageDep,
    ServiceDep,
    SessionDep,
    SettingsDep,
    WorkersDep,
    csrf_checked,
    require_instructor,
)
from ..errors import status_of
from ..render import Page

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(require_instructor)])
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
METRICS_BY_TASK = {
    "binary": ["roc_auc", "accuracy", "balanced_accuracy", "f1_macro", "log_loss"],
    "multiclass": ["accuracy", "balanced_accuracy", "f1_macro", "log_loss", "quadratic_weighted_kappa"],
    "regression": ["rmse", "mae", "rmsle", "r2"],
}


def _unregistered(svc: Any) -> list[str]:
    known = {c.slug for c in svc.competitions()}
    return sorted(p.parent.name for p in svc.competitions_dir.glob("*/competition.toml") if p.parent.name not in known)


def _dashboard(page: Page, svc: Any, db: Any, *, status: int = 200, done: str = "", error: str | None = None) -> Response:
    rows = []
    for comp in svc.competitions():
        act = queries.activity(db, comp.slug)
        rows.append((comp, sum(a.submissions for a in act), sum(a.pending for a in act),
                     sum(1 for a in act if a.submissions)))
    return page.render("admin/dashboard.html", status=status, rows=rows, unregistered=_unregistered(svc), done=done,
                       error=error)


@router.get("")
def dashboard(page: PageDep, svc: ServiceDep, db: SessionDep, done: str = "") -> Response:
    return _dashboard(page, svc, db, done=done)


@router.post("/c/{slug}/{action}", dependencies=[csrf_checked])
def act(slug: str, action: str, page: PageDep, svc: ServiceDep, db: SessionDep, cache: CacheDep,
        workers: WorkersDep) -> Response:
    try:
        if action == "close":
            svc.close(slug, force=True)
            done = f"Closed {slug}: the private leaderboard is now public."
        elif action == "rescore":
            pending = svc.score_pending(slug)
            count = svc.rescore(slug)
            done = f"Scored {len(pending)} pending and rescored {count} submissions of {slug}."
        elif action == "prepare":
            view = svc.prepare(slug)
            done = f"Prepared {slug} (dataset version {view.dataset_version[:12]})."
        else:
            raise NotFound("action", action)
    except LeaderboardError as exc:
        return _dashboard(page, svc, db, status=status_of(exc), error=str(exc))
    cache.invalidate()
    workers.wake()
    return RedirectResponse(f"/admin?done={quote(done)}", status_code=303)


@router.get("/c/{slug}/export.csv")
def export(slug: str, svc: ServiceDep) -> Response:
    rows = svc.export(slug)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["participant"])
    writer.writeheader()
    writer.writerows(rows)
    return Response(buf.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{slug}-grades.csv"'})


@router.get("/c/{slug}/activity")
def activity(slug: str, page: PageDep, svc: ServiceDep, db: SessionDep) -> Response:
    comp = svc.competition(slug)
    return page.render("admin/activity.html", comp=comp, rows=queries.activity(db, slug))


# -- creating a competition ---------------------------------------------------------------

def _new_form(page: Page, status: int = 200, error: str | None = None, values: dict | None = None) -> Response:
    return page.render("admin/new.html", status=status, error=error, values=values or {}, metrics=METRICS_BY_TASK)


@router.get("/new")
def new_form(page: PageDep) -> Response:
    return _new_form(page)


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "") + '"'


@router.post("/new", dependencies=[csrf_checked])
def create(page: PageDep, svc: ServiceDep, slug: Annotated[str, Form()] = "", title: Annotated[str, Form()] = "",
           description: Annotated[str, Form()] = "", task: Annotated[str, Form()] = "binary",
           metric: Annotated[str, Form()] = "", id_column: Annotated[str, Form()] = "id",
           target_column: Annotated[str, Form()] = "target", deadline: Annotated[str, Form()] = "",
           daily_limit: Annotated[str, Form()] = "5", final_selections: Annotated[str, Form()] = "2",
           public_fraction: Annotated[str, Form()] = "0.3", folds: Annotated[str, Form()] = "5",
           train: Annotated[UploadFile | None, File()] = None,
           test: Annotated[UploadFile | None, File()] = None) -> Response:
    """Write competitions/<slug>/{competition.toml, train.csv, test.csv} and prepare it;
    on any error nothing is left behind and the form comes back filled in."""
    values = {"slug": slug, "title": title, "description": description, "task": task, "metric": metric,
              "id_column": id_column, "target_column": target_column, "deadline": deadline,
              "daily_limit": daily_limit, "final_selections": final_selections,
              "public_fraction": public_fraction, "folds": folds}
    slug = slug.strip()
    if not SLUG.match(slug):
        return _new_form(page, 422, "slug: 2-63 lowercase letters, digits and dashes, e.g. 'midterm-tabular'", values)
    folder = svc.competitions_dir / slug
    if folder.exists():
        return _new_form(page, 409, f"a competition folder {slug!r} exists already", values)
    if train is None or not train.filename or test is None or not test.filename:
        return _new_form(page, 422, "upload both train.csv and test.csv (each with the target column)", values)
    try:
        when = dt.datetime.fromisoformat(deadline.strip())
    except ValueError:
        return _new_form(page, 422, "deadline: give a date and time like 2026-12-20T23:59", values)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    numbers = {}
    for name, raw, kind in (("daily_limit", daily_limit, int), ("final_selections", final_selections, int),
                            ("public_fraction", public_fraction, float), ("folds", folds, int)):
        try:
            numbers[name] = kind(raw)
        except ValueError:
            return _new_form(page, 422, f"{name}: {raw!r} is not a number", values)
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
        return _new_form(page, 422, str(exc), values)
    except Exception as exc:  # a bad CSV may fail inside pandas
        shutil.rmtree(folder, ignore_errors=True)
        return _new_form(page, 422, f"could not prepare the data: {exc}", values)
    return RedirectResponse(f"/c/{slug}", status_code=303)


# -- roster -------------------------------------------------------------------------------

@router.get("/roster")
def roster(page: PageDep, db: SessionDep) -> Response:
    return page.render("admin/roster.html", people=queries.participants(db), issued=None, error=None)


@router.post("/roster", dependencies=[csrf_checked])
def issue(page: PageDep, svc: ServiceDep, db: SessionDep, name: Annotated[str, Form()] = "",
          display_name: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "student") -> Response:
    """Issue (or replace) a participant's token; it is shown once and only its hash kept."""
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
    return page.render("admin/roster.html", status=422 if error else 200, people=queries.participants(db),
                       issued=issued, error=error)


# -- the test clock ----------------------------------------------------------------------

@router.get("/clock")
def clock_page(page: PageDep, settings: SettingsDep) -> Response:
    if settings.test_clock is None:
        raise NotFound("page", "/admin/clock (start the server with --test-clock)")
    return page.render("admin/clock.html", error=None)


@router.post("/clock", dependencies=[csrf_checked])
def clock_set(page: PageDep, settings: SettingsDep, cache: CacheDep, when: Annotated[str, Form()] = "") -> Response:
    clock = settings.test_clock
    if clock is None:
        raise NotFound("page", "/admin/clock (start the server with --test-clock)")
    try:
        moment = dt.datetime.fromisoformat(when.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return page.render("admin/clock.html", status=422, error="give a time like 2026-12-21T00:00:00+00:00")
    clock.set(moment)
    cache.invalidate()
    return RedirectResponse("/admin/clock", status_code=303)
