"""``coursebench grade report``: course grades from assignments, competitions and attendance.

- assignments (course.toml ``[[assignments]]``, kinds lab/exam): the gradebook's score
  (manual grades included) minus nbgrader's late penalty, as a percentage of the
  assignment's points; no submission = 0;
- competitions (``[[competitions]]``): a student's private-leaderboard score mapped to
  points by the competition's ``mapping`` — read with :func:`read_competition_scores`
  from a CSV export (or a mapping student → score);
- attendance: a CSV (``student,attended,total`` or one column per session with 1/0);
- each category is the mean of its items; the total is the weighted sum (weights from
  ``[grades]``), with letter grades by the course's cutoffs.

Writes ``grades.csv`` (one row per student; ``--format canvas`` for Canvas's gradebook
import) and one PNG per assignment with the score distribution.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import CompetitionRef, Course
from . import provenance, verdicts
from .course import CourseDir, nbgrader_environment, open_course_dir
from .errors import ReportError

STUDENT_COLUMNS = ("student", "student_id", "id", "user", "username", "participant", "team", "login")
#: The report's column naming, per student, the grades that came from a run without a
#: sandbox (only present when there are such grades; see :mod:`.provenance`).
NOT_SANDBOXED = "not_sandboxed"
#: The column naming, per student, the assignments autograding flagged "needs review"
#: (tampering with the kernel; only present when there are such; see :mod:`.verdicts`).
NEEDS_REVIEW = "needs_review"
SCORE_COLUMNS = ("private_score", "private", "score", "final_score", "privatescore")


@dataclass
class CompetitionScore:
    score: float | None
    rank: int | None = None


@dataclass
class CourseReport:
    rows: list[dict[str, Any]]
    columns: list[str]
    items: dict[str, list[str]]
    """category → the columns (assignments, competitions) averaged into it."""
    weights: dict[str, float]
    warnings: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def _pick(header: list[str], options: tuple[str, ...], what: str, path: str) -> str:
    lower = {h.strip().lower(): h for h in header}
    for option in options:
        if option in lower:
            return lower[option]
    raise ReportError(f"no {what} column (looked for {', '.join(options)}; found {', '.join(header)})",
                      path=path, hint="rename the column in the CSV header")


def read_competition_scores(
    source: str | os.PathLike | Mapping[str, float | None],
    *,
    course: Course | None = None,
) -> dict[str, CompetitionScore]:
    """Final (private-leaderboard) scores per student id, from a CSV export of the
    leaderboard (columns like ``student,private_score[,rank]``) or a mapping.

    This is the one place the grading side reads competition results, so that the
    leaderboard package only has to export a CSV (or hand over a dict)."""
    raw: dict[str, tuple[float | None, int | None]] = {}
    where = "<mapping>"
    if isinstance(source, Mapping):
        raw = {str(k): (None if v is None else float(v), None) for k, v in source.items()}
    else:
        where = str(source)
        path = Path(source)
        if not path.is_file():
            raise ReportError("no such competition scores file", path=where,
                              hint="export the private leaderboard as CSV (student, private_score)")
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = list(reader.fieldnames or [])
            who = _pick(header, STUDENT_COLUMNS, "student", where)
            what = _pick(header, SCORE_COLUMNS, "private score", where)
            rank_col = next((h for h in header if h.strip().lower() == "rank"), None)
            for line, row in enumerate(reader, start=2):
                value = (row.get(what) or "").strip()
                try:
                    score = float(value) if value else None
                except ValueError:
                    raise ReportError(f"line {line}: score {value!r} is not a number", path=where) from None
                rank = None
                if rank_col and (row.get(rank_col) or "").strip():
                    try:
                        rank = int(float(row[rank_col]))
                    except ValueError:
                        raise ReportError(f"line {line}: rank {row[rank_col]!r} is not a number", path=where) from None
                raw[(row.get(who) or "").strip()] = (score, rank)
    out: dict[str, CompetitionScore] = {}
    for name, (score, rank) in raw.items():
        if not name:
            continue
        student = course.student(name) if course is not None else None
        out[student.id if student else name] = CompetitionScore(score, rank)
    return out


def competition_points(ref: CompetitionRef, scores: Mapping[str, CompetitionScore]) -> dict[str, float]:
    """Percent (0–100) of the competition's points per student, by its score mapping."""
    mapping = ref.mapping
    if mapping is None:
        raise ReportError("no score mapping", path=f"course.toml [[competitions]] {ref.slug}",
                          hint="add mapping = { points = 100, zero_at = 0.5, full_at = 0.9 }")
    ranked = {k: v for k, v in scores.items() if v.score is not None}
    if mapping.by_rank and any(v.rank is None for v in ranked.values()):
        higher_better = mapping.full_at is None or mapping.zero_at is None or mapping.full_at > mapping.zero_at
        order = sorted(ranked, key=lambda k: ranked[k].score, reverse=higher_better)  # type: ignore[arg-type,return-value]
        for i, k in enumerate(order, start=1):
            ranked[k] = CompetitionScore(ranked[k].score, ranked[k].rank or i)
    return {k: 100.0 * mapping.points_for(v.score, v.rank) / mapping.points for k, v in ranked.items()}


def read_attendance(path: str | os.PathLike, course: Course | None = None) -> dict[str, float]:
    """Attendance percent per student from ``student,attended,total`` or one 1/0 column
    per session (``present``/``absent``/``late`` read as 1/0/0.5)."""
    file = Path(path)
    if not file.is_file():
        raise ReportError("no such attendance file", path=str(file),
                          hint="columns: student,attended,total — or student then one column per session")
    values = {"1": 1.0, "0": 0.0, "present": 1.0, "p": 1.0, "absent": 0.0, "a": 0.0, "late": 0.5, "l": 0.5,
              "excused": None, "e": None, "": None, "y": 1.0, "n": 0.0, "yes": 1.0, "no": 0.0, "o": 1.0, "x": 0.0}
    out: dict[str, float] = {}
    with file.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        who = _pick(header, STUDENT_COLUMNS, "student", str(file))
        lower = {h.lower(): h for h in header}
        for line, row in enumerate(reader, start=2):
            name = (row.get(who) or "").strip()
            if not name:
                continue
            if "attended" in lower and "total" in lower:
                try:
                    pct = 100.0 * float(row[lower["attended"]]) / float(row[lower["total"]])
                except (ValueError, ZeroDivisionError):
                    raise ReportError(f"line {line}: attended/total must be numbers, total > 0", path=str(file)) from None
            else:
                marks = []
                for h in header:
                    if h == who:
                        continue
                    cell = (row.get(h) or "").strip().lower()
                    if cell not in values:
                        raise ReportError(f"line {line}, column {h!r}: {cell!r} is not an attendance mark "
                                          "(1/0, present/absent/late/excused)", path=str(file))
                    if values[cell] is not None:
                        marks.append(values[cell])
                pct = 100.0 * sum(marks) / len(marks) if marks else 100.0
            student = course.student(name) if course is not None else None
            out[student.id if student else name] = pct
    return out


def letter(total: float, cutoffs: Mapping[str, float]) -> str:
    for name, cutoff in sorted(cutoffs.items(), key=lambda kv: -kv[1]):
        if total >= cutoff - 1e-9:
            return name
    return ""


def course_grades(
    *,
    course_dir: str | os.PathLike | CourseDir | None = None,
    course: Course | None = None,
    attendance: str | os.PathLike | None = None,
    competition_scores: Mapping[str, str | os.PathLike | Mapping[str, float | None]] | None = None,
) -> CourseReport:
    """Compute course grades (percent per item and category, weighted total, letter)."""
    cd = course_dir if isinstance(course_dir, CourseDir) else open_course_dir(course_dir, course=course)
    course = course or cd.course
    if course is None:
        from ..config import load_course

        course = load_course()
    warnings: list[str] = []
    students = [s.id for s in course.students]
    names = {s.id: s.name for s in course.students}
    percents: dict[str, dict[str, float]] = {}
    items: dict[str, list[str]] = {}
    unsandboxed: dict[str, list[str]] = {}
    review: dict[str, list[str]] = {}
    manual = 0
    with nbgrader_environment(), cd.gradebook() as gb:
        from nbgrader.api import MissingEntry

        if not students:
            students = sorted(s.id for s in gb.students)
        for a in course.assignments:
            if a.kind == "competition":
                continue
            try:
                ga = gb.find_assignment(a.name)
            except MissingEntry:
                warnings.append(f"{a.name}: not released yet (not in the gradebook); left out")
                continue
            max_score = float(ga.max_score or 0)
            if max_score <= 0:
                warnings.append(f"{a.name}: no points in the gradebook; left out")
                continue
            col: dict[str, float] = {}
            for sub in gb.assignment_submissions(a.name):
                score = max(0.0, float(sub.score) - float(sub.late_submission_penalty or 0))
                col[sub.student.id] = 100.0 * score / max_score
                manual += int(bool(sub.needs_manual_grade))
            percents[a.name] = {s: col.get(s, 0.0) for s in students}
            items.setdefault(a.category, []).append(a.name)
            for student in provenance.not_sandboxed(cd, a.name):
                unsandboxed.setdefault(student, []).append(a.name)
            for student, notes in verdicts.review_notes(gb, a.name).items():
                review.setdefault(student, []).append(a.name)
                warnings += [f"{student} {a.name}/{note}" for note in notes]
    if unsandboxed:
        warnings.append(f"not sandboxed: {sum(map(len, unsandboxed.values()))} grade(s) come from runs without "
                        "isolation (the subprocess backend, trusted notebooks only) — see the not_sandboxed "
                        "column; regrade them in a sandbox for students' work")
    if manual:
        warnings.append(f"{manual} submission(s) still need manual grading (nbgrader formgrader); "
                        "their ungraded answers count 0")
    sources = dict(competition_scores or {})
    for ref in course.competitions:
        src = sources.get(ref.slug)
        if src is None:
            warnings.append(f"{ref.slug}: no final scores given (--competition-scores {ref.slug}=FILE.csv); left out")
            continue
        points = competition_points(ref, read_competition_scores(src, course=course))
        percents[ref.slug] = {s: points.get(s, 0.0) for s in students}
        items.setdefault(ref.category, []).append(ref.slug)
    weights = dict(course.grades.weights)
    if "attendance" in weights:
        path = attendance or (course.root / course.grades.attendance_csv)
        if Path(path).is_file():
            att = read_attendance(path, course)
            percents["attendance"] = {s: att.get(s, 0.0) for s in students}
            items["attendance"] = ["attendance"]
        else:
            warnings.append(f"attendance: no file {path}; left out")
    used = {k: w for k, w in weights.items() if items.get(k)}
    missing = sorted(set(weights) - set(used))
    if missing and used:
        warnings.append(f"categories without any grades yet: {', '.join(missing)}; "
                        "the total is over the other categories, weights rescaled")
    scale = sum(used.values())
    rows = []
    for s in students:
        row: dict[str, Any] = {"student_id": s, "name": names.get(s, "")}
        total = 0.0
        for column in (c for cat in items.values() for c in cat):
            row[column] = round(percents[column][s], 2)
        for category, weight in weights.items():
            cols = items.get(category, [])
            value = sum(percents[c][s] for c in cols) / len(cols) if cols else math.nan
            row[category] = round(value, 2) if cols else None
            if cols and scale:
                total += value * weight / scale
        row["total"] = round(total, 2)
        row["letter"] = letter(total, course.grades.letter_cutoffs)
        if unsandboxed:
            row[NOT_SANDBOXED] = ", ".join(sorted(unsandboxed.get(s, [])))
        if review:
            row[NEEDS_REVIEW] = ", ".join(review.get(s, []))
        rows.append(row)
    columns = ["student_id", "name", *[c for cat in items.values() for c in cat], *weights, "total", "letter"]
    columns += [NOT_SANDBOXED] if unsandboxed else []
    columns += [NEEDS_REVIEW] if review else []
    return CourseReport(rows, columns, items, weights, warnings)


def write_report(report: CourseReport, out_dir: str | os.PathLike, *, fmt: str = "generic",
                 course: Course | None = None, plots: bool = True) -> list[Path]:
    """``grades.csv`` (generic or Canvas import format) and one PNG per item."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = [write_csv(report, out / ("grades_canvas.csv" if fmt == "canvas" else "grades.csv"), fmt=fmt,
                       course=course)]
    if plots:
        files += plot_distributions(report, out / "plots")
    report.files = files
    return files


def write_csv(report: CourseReport, path: Path, *, fmt: str = "generic", course: Course | None = None) -> Path:
    if fmt not in ("generic", "canvas"):
        raise ReportError(f"unknown format {fmt!r}; known: generic, canvas")
    emails = {s.id: s.email for s in course.students} if course is not None else {}
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        graded = [c for c in report.columns if c not in ("student_id", "name", NOT_SANDBOXED, NEEDS_REVIEW)]
        if fmt == "canvas":
            # Canvas gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, then
            # one column per graded item ("Points Possible" row gives their maximum).
            writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *graded])
            writer.writerow(["    Points Possible", "", "", "", "", *["100" if c != "letter" else "" for c in graded]])
            for r in report.rows:
                login = (emails.get(r["student_id"]) or "").split("@")[0]
                writer.writerow([r["name"] or r["student_id"], "", r["student_id"], login, "",
                                 *["" if r[c] is None else r[c] for c in graded]])
        else:
            writer.writerow(report.columns)
            for r in report.rows:
                writer.writerow(["" if r[c] is None else r[c] for c in report.columns])
    os.replace(tmp, path)
    return path


def plot_distributions(report: CourseReport, out: Path) -> list[Path]:
    """One histogram (matplotlib, Agg) per assignment/competition, plus the total."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    files = []
    columns = [c for cat in report.items.values() for c in cat] + ["total"]
    for column in columns:
        values = [r[column] for r in report.rows if r.get(column) is not None]
        if not values:
            continue
        fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
        ax.hist(values, bins=list(range(0, 105, 5)), color="#4C72B0", edgecolor="white")
        mean = sum(values) / len(values)
        ax.axvline(mean, color="#C44E52", linestyle="--", label=f"mean {mean:.1f}")
        ax.set_xlim(0, 100)
        ax.set_xlabel("score (% of points)")
        ax.set_ylabel("students")
        ax.set_title(f"{column}: score distribution (n={len(values)})")
        ax.legend(loc="upper left")
        fig.tight_layout()
        path = out / f"{column}.png"
        fig.savefig(path)
        plt.close(fig)
        files.append(path)
    return files
