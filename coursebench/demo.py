"""`coursebench demo`: the whole course on the embedded defaults (SQLite, local sandbox).

1. copies the course (``course.toml`` + the nbgrader course in ``assignments/``) into
   ``build/demo/course`` so nothing in the repository changes;
2. releases the demo labs (student versions + a zip for the LMS);
3. hands in submissions from a simulated class of twelve (solved, partial, blank, broken,
   late, and hostile: an infinite loop, a memory bomb, a peek at the solutions);
4. autogrades them in the sandbox, in parallel, into nbgrader's gradebook;
5. runs the midterm competition: every student submits prediction files, one of them a
   notebook that is scored by k-fold cross-validation of its code; then the deadline
   passes and the private leaderboard and the shake-up appear;
6. writes the course report (CSV + plots) and prints the gradebook and the leaderboard;
7. serves the leaderboard web app at http://127.0.0.1:8000 until Ctrl-C (``--no-serve``
   skips it; `make test` runs the demo that way).

This module is the library part (:func:`run_demo` returns what happened);
:mod:`coursebench.demo_show` is the command, which prints it.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CoursebenchError

REPO = Path(__file__).resolve().parents[1]
DEFAULT_LABS = ("lab01", "lab03", "lab04")
DEMO_TIMEOUT = 120.0
DEMO_CELL_TIMEOUT = 30.0
MIDTERMS = ("midterm-tabular", "wine-demo")
UTC = dt.timezone.utc


class UnknownLab(CoursebenchError, ValueError):
    """A lab asked for that the course does not have."""

    code = "unknown_lab"

    def __init__(self, lab: str, known: list[str]) -> None:
        self.lab, self.known = lab, known
        super().__init__(f"no assignment {lab!r}; known: {', '.join(known)}")


@dataclass
class DemoResult:
    build: Path
    course_dir: Path
    grading: dict[str, Any] = field(default_factory=dict)
    midterm: str = ""
    submissions: list[Any] = field(default_factory=list)
    leaderboard: Any = None
    private: Any = None
    shakeup: Any = None
    report: Any = None
    report_files: list[Path] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    db_url: str = ""


def copy_course(build: Path, labs: tuple[str, ...]) -> Path:
    """A private copy of the course: course.toml, nbgrader config and the demo labs' sources."""
    course = build / "course"
    if course.exists():
        shutil.rmtree(course)
    (course / "assignments" / "source").mkdir(parents=True)
    shutil.copy(REPO / "course.toml", course / "course.toml")
    shutil.copy(REPO / "assignments" / "nbgrader_config.py", course / "assignments" / "nbgrader_config.py")
    for lab in labs:
        src = REPO / "assignments" / "source" / lab
        if not src.is_dir():
            known = sorted(p.name for p in (REPO / "assignments" / "source").iterdir() if p.is_dir())
            raise UnknownLab(lab, known)
        shutil.copytree(src, course / "assignments" / "source" / lab)
    shutil.copytree(REPO / "competitions", course / "competitions",
                    ignore=shutil.ignore_patterns("data", "__pycache__"))
    return course


def grade_labs(course: Path, labs: tuple[str, ...], *, backend: str, workers: int | None, progress) -> dict:
    from .config import load_course
    from .demo_class import hand_in
    from .grading.autograde import autograde
    from .grading.course import open_course_dir
    from .grading.release import release

    cfg = load_course(course / "course.toml")
    cd = open_course_dir(course / "assignments", course=cfg)
    # The demo's labs finish in seconds; tight limits stop the hostile students quickly
    # (a real course keeps course.toml's limits).
    limits = cfg.execution.limits(timeout=DEMO_TIMEOUT, cell_timeout=DEMO_CELL_TIMEOUT, memory="1G")
    reports = {}
    for lab in labs:
        release(lab, course_dir=cd, zip_path=course.parent / "lms" / f"{lab}.zip")
        hand_in(course / "assignments", lab, cfg.assignment(lab).due)
        reports[lab] = autograde(lab, course_dir=cd, backend=backend, workers=workers, limits=limits,
                                 progress=progress(lab) if progress else None)
    return reports


def prediction_file(ds_dir: Path, spec, skill: float, seed: int) -> bytes:
    """What a participant of ``skill`` (0–1) would predict: fewer features and a simpler
    model for the less skilled."""
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    train = pd.read_csv(ds_dir / "train.csv")
    test = pd.read_csv(ds_dir / "test.csv")
    sample = pd.read_csv(ds_dir / "sample_submission.csv")
    features = [c for c in train.columns if c not in (spec.id_column, spec.target_column)]
    rng = np.random.default_rng(seed)
    keep = max(1, round(len(features) * (0.25 + 0.75 * skill)))
    chosen = sorted(rng.choice(features, size=keep, replace=False).tolist())
    X, Xt = train[chosen].copy(), test[chosen].copy()
    for col in chosen:
        if X[col].dtype == object or str(X[col].dtype).startswith("str"):
            cats = pd.Categorical(X[col]).categories
            X[col] = pd.Categorical(X[col], categories=cats).codes
            Xt[col] = pd.Categorical(Xt[col], categories=cats).codes
    params = {"max_iter": int(10 + 190 * skill), "learning_rate": 0.05 + 0.1 * skill, "random_state": seed}
    y = train[spec.target_column]
    out = sample.copy()
    if spec.task == "regression":
        out[spec.target_column] = HistGradientBoostingRegressor(**params).fit(X, y).predict(Xt)
    else:
        model = HistGradientBoostingClassifier(**params).fit(X, y)
        if spec.task == "binary" and spec.metric in ("roc_auc", "log_loss"):
            out[spec.target_column] = model.predict_proba(Xt)[:, 1]
        else:
            out[spec.target_column] = model.predict(Xt)
    out = out.set_index(spec.id_column).loc[sample[spec.id_column]].reset_index()
    return out.to_csv(index=False).encode()


def run_midterm(build: Path, course: Path, *, backend: str, workers: int | None, on_step=None) -> DemoResult:
    from leaderboard.clock import FrozenClock
    from leaderboard.errors import LeaderboardError
    from leaderboard.services import Service

    from .config import load_course
    from .demo_class import CLASS

    cfg = load_course(course / "course.toml")
    slug = next(s for s in MIDTERMS if (course / "competitions" / s / "competition.toml").exists())
    db_path = build / "leaderboard.db"
    if db_path.exists():
        db_path.unlink()
    url = f"sqlite:///{db_path}"
    svc = Service(url, course / "competitions", backend=backend, workers=workers)
    spec = svc.spec_of(slug)
    clock = FrozenClock(spec.deadline - dt.timedelta(days=3))
    svc.clock = clock
    svc.prepare(slug)
    result = DemoResult(build=build, course_dir=course, midterm=slug, db_url=url)
    result.tokens["instructor"] = svc.add_participant("instructor", display_name="Instructor", role="instructor")
    who = {}
    for student in cfg.students:
        result.tokens[student.id] = svc.add_participant(student.id, display_name=student.name)
        who[student.id] = svc.authenticate(result.tokens[student.id])
    public = course / "competitions" / slug / "data" / "public"
    skills = {sid: (0.9 if kind in ("solved", "late") else 0.5 if kind == "partial" else 0.2)
              for sid, kind in CLASS.items()}
    for day in range(2):
        for i, (sid, view) in enumerate(sorted(who.items())):
            skill = min(1.0, skills.get(sid, 0.5) + 0.05 * day)
            try:
                sub = svc.submit_file(slug, view, prediction_file(public, spec, skill, seed=i + 31 * day),
                                      message=f"day {day + 1}: skill {skill:.2f}", filename="predictions.csv")
                result.submissions.append(sub)
            except LeaderboardError as exc:
                result.submissions.append(exc)
            if on_step:
                on_step(f"{sid} submitted predictions (day {day + 1})")
        clock.advance(days=1)
    baseline = course / "competitions" / slug / "baseline.ipynb"
    if baseline.exists():
        for sid in ("s01",):
            if on_step:
                on_step(f"{sid} submitted a notebook: {spec.folds} fold runs + 1 full run in the sandbox")
            result.submissions.append(svc.submit_notebook(slug, who[sid], baseline, message="baseline notebook"))
    result.leaderboard = svc.leaderboard(slug)
    clock.set(spec.deadline + dt.timedelta(minutes=1))
    result.private = svc.close(slug)
    result.shakeup = svc.shakeup(slug)
    export = svc.export(slug)
    scores = build / "midterm_private.csv"
    scores.write_text("student,private_score,rank\n" + "".join(
        f"{r['participant']},{'' if r['private_score'] is None else r['private_score']},"
        f"{'' if r['private_rank'] is None else r['private_rank']}\n" for r in export if r["participant"] != "instructor"))
    result.grading["midterm_scores"] = scores
    return result


def write_course_report(result: DemoResult) -> None:
    from .config import load_course
    from .grading.report import course_grades, write_report

    course = result.course_dir
    cfg = load_course(course / "course.toml")
    attendance = course / "attendance.csv"
    lines = ["student,attended,total"]
    for i, s in enumerate(cfg.students):
        lines.append(f"{s.id},{15 - (i * 7) % 6},15")
    attendance.write_text("\n".join(lines) + "\n")
    refs = {c.slug for c in cfg.competitions}
    scores = {slug: result.grading["midterm_scores"] for slug in refs} if refs else {}
    report = course_grades(course_dir=course / "assignments", course=cfg, attendance=attendance,
                           competition_scores=scores)
    result.report = report
    result.report_files = write_report(report, result.build / "report", course=cfg)


def run_demo(build: Path, *, labs: tuple[str, ...] = DEFAULT_LABS, backend: str = "auto",
             workers: int | None = None, progress=None, on_step=None) -> DemoResult:
    """Everything but serving; returns what happened (the CLI prints it)."""
    build.mkdir(parents=True, exist_ok=True)
    course = copy_course(build, labs)
    reports = grade_labs(course, labs, backend=backend, workers=workers, progress=progress)
    result = run_midterm(build, course, backend=backend, workers=workers, on_step=on_step)
    result.grading.update(reports)
    write_course_report(result)
    return result
