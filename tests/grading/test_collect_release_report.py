"""release (real nbgrader generate_assignment, zip for an LMS), collect from an LMS
download (roster mapping, clear errors, late flags), and the course report."""

from __future__ import annotations

import csv
import datetime as dt
import os
import zipfile
from pathlib import Path

import factory
import nbformat
import pytest

from coursebench.config import Course
from coursebench.grading import open_course_dir
from coursebench.grading.collect import collect
from coursebench.grading.errors import ReportError
from coursebench.grading.release import release
from coursebench.grading.report import course_grades, read_competition_scores, write_report

DUE = dt.datetime(2026, 3, 10, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=9)))


def course_for(root: Path) -> Course:
    """A course.toml-like course whose assignments/ is ``root`` (course101)."""
    return Course.model_validate({
        "course": {"timezone": "Asia/Seoul"},
        "students": [
            {"id": "s01", "name": "Minjun Kim", "aliases": ["kimminjun"]},
            {"id": "s02", "name": "Seoyeon Lee", "aliases": ["leeseoyeon"]},
            {"id": "s03", "name": "Jiho Park"},
            {"id": "s04", "name": "Hayoon Choi"},
        ],
        "assignments": [{"name": "ps1", "kind": "lab", "category": "labs", "due": DUE.isoformat()}],
        "competitions": [{"slug": "midterm-tabular", "category": "midterm",
                          "mapping": {"points": 100, "zero_at": 0.7, "full_at": 0.9}}],
        "grades": {"weights": {"labs": 0.5, "midterm": 0.3, "attendance": 0.2}},
        "paths": {"assignments": root.name, "competitions": "c", "lectures": "l", "build": "b"},
    }).model_copy(update={"root": root.parent})


def test_release_zip_has_no_solutions(course101: Path) -> None:
    out = release("ps1", course_dir=course101, zip_path=course101.parent / "lms", force=True)
    assert out.zip_path == course101.parent / "lms" / "ps1.zip"
    with zipfile.ZipFile(out.zip_path) as zf:
        names = sorted(zf.namelist())
        assert names == ["ps1/jupyter.png", "ps1/problem1.ipynb", "ps1/problem2.ipynb"]
        text = zf.read("ps1/problem1.ipynb").decode()
    assert "BEGIN SOLUTION" not in text and "return [i ** 2" not in text
    assert "YOUR CODE HERE" in text


def write_nb(path: Path, source: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(source.read_bytes())
    return path


def test_collect_lms_download(course101: Path, tmp_path: Path) -> None:
    course = course_for(course101)
    cd = open_course_dir(course101, course=course)
    rel = course101 / "release" / "ps1"
    lms = tmp_path / "download"
    on_time = DUE.timestamp() - 3600
    # Canvas: lastfirst_userid_submissionid_file (a resubmission gets "-1")
    a = write_nb(lms / "kimminjun_1001_5001_problem1-1.ipynb", rel / "problem1.ipynb")
    os.utime(a, (on_time, on_time))
    # Moodle folder, late by 2 h 30 min
    for name in ("problem1.ipynb", "problem2.ipynb"):
        late = write_nb(lms / "Seoyeon Lee_1002_assignsubmission_file_" / name, rel / name)
        os.utime(late, (DUE.timestamp() + 9000, DUE.timestamp() + 9000))
    # someone not on the roster, and two entries for one student, and an unreadable notebook
    write_nb(lms / "stranger_9999_1_problem1.ipynb", rel / "problem1.ipynb")
    write_nb(lms / "s03" / "problem1.ipynb", rel / "problem1.ipynb")
    write_nb(lms / "parkjiho_1003_5003_problem1.ipynb", rel / "problem1.ipynb")
    broken = lms / "s04" / "problem1.ipynb"
    broken.parent.mkdir()
    broken.write_text("{not json")
    zipped = tmp_path / "submissions.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        for f in sorted(lms.rglob("*")):
            if f.is_file():
                info = zipfile.ZipInfo(str(f.relative_to(lms)), date_time=dt.datetime.fromtimestamp(
                    f.stat().st_mtime, tz=dt.timezone(dt.timedelta(hours=9))).timetuple()[:6])
                zf.writestr(info, f.read_bytes())

    report = collect("ps1", zipped, course_dir=cd)
    by_source = {e.source: e for e in report.entries}
    s01 = by_source["kimminjun_1001_5001_problem1-1.ipynb"]
    assert (s01.student, s01.status, s01.late_by) == ("s01", "collected", None)
    assert any("problem2.ipynb is missing" in n for n in s01.notes)
    assert sorted(p.name for p in (course101 / "submitted" / "s01" / "ps1").iterdir()) == [
        "problem1.ipynb", "timestamp.txt"]
    s02 = by_source["Seoyeon Lee_1002_assignsubmission_file_"]
    assert s02.student == "s02" and s02.status == "collected"
    assert s02.late_by == dt.timedelta(hours=2, minutes=30)
    assert "late by 2 h 30 min" in s02.notes
    stranger = by_source["stranger_9999_1_problem1.ipynb"]
    assert stranger.status == "error" and "no student on the roster" in stranger.message
    dupes = [e for e in report.entries if e.student == "s03"]
    assert len(dupes) == 2 and all(e.status == "error" and "2 entries belong to s03" in e.message for e in dupes)
    assert not (course101 / "submitted" / "s03").exists()
    s04 = by_source["s04"]
    assert s04.status == "collected" and any("unreadable" in n for n in s04.notes)
    # collecting again changes nothing already collected
    again = collect("ps1", zipped, course_dir=cd)
    assert {e.source: e.status for e in again.entries}["kimminjun_1001_5001_problem1-1.ipynb"] == "skipped"


def test_course_report(course101: Path, tmp_path: Path) -> None:
    course = course_for(course101)
    cd = open_course_dir(course101, course=course)
    from nbgrader.api import Gradebook

    # grades as the autograder/formgrader would leave them: s01 full, s02 half, s03 none
    with Gradebook(cd.db_url) as gb:
        for sid, fraction in (("s01", 1.0), ("s02", 0.5)):
            gb.update_or_create_student(sid)
            sub = gb.update_or_create_submission("ps1", sid)
            for nb in sub.notebooks:
                for grade in nb.grades:
                    grade.manual_score = grade.max_score * fraction
            gb.db.commit()
    scores = tmp_path / "private.csv"
    scores.write_text("student,private_score\nkimminjun,0.9\ns02,0.8\ns03,0.6\n")
    attendance = tmp_path / "attendance.csv"
    attendance.write_text("student,w1,w2,w3,w4\ns01,1,1,1,1\ns02,1,0,late,excused\ns03,0,0,0,0\ns04,1,1,1,1\n")

    report = course_grades(course_dir=cd, attendance=attendance,
                           competition_scores={"midterm-tabular": scores})
    rows = {r["student_id"]: r for r in report.rows}
    assert rows["s01"]["ps1"] == 100.0 and rows["s02"]["ps1"] == 50.0 and rows["s03"]["ps1"] == 0.0
    assert rows["s01"]["midterm"] == 100.0 and rows["s02"]["midterm"] == 50.0 and rows["s03"]["midterm"] == 0.0
    assert rows["s02"]["attendance"] == pytest.approx(50.0)
    assert rows["s01"]["total"] == 100.0 and rows["s01"]["letter"] == "A+"
    assert rows["s02"]["total"] == pytest.approx(0.5 * 50 + 0.3 * 50 + 0.2 * 50)
    files = write_report(report, tmp_path / "out", course=course)
    with files[0].open() as fh:
        table = list(csv.DictReader(fh))
    assert [r["student_id"] for r in table] == ["s01", "s02", "s03", "s04"]
    pngs = [f for f in files if f.suffix == ".png"]
    assert {p.stem for p in pngs} >= {"ps1", "midterm-tabular", "total"}
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    canvas = write_report(report, tmp_path / "canvas", fmt="canvas", course=course, plots=False)[0]
    assert canvas.read_text().splitlines()[0].startswith("Student,ID,SIS User ID,SIS Login ID,Section,")


def test_competition_scores_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "scores.csv"
    bad.write_text("name,auc\na,0.5\n")
    with pytest.raises(ReportError, match="no student column"):
        read_competition_scores(bad)
    bad.write_text("student,private_score\na,high\n")
    with pytest.raises(ReportError, match="line 2"):
        read_competition_scores(bad)
    assert read_competition_scores({"a": 0.8})["a"].score == 0.8


def test_unreadable_notebook_is_reported_by_collect_not_lost(course101: Path, tmp_path: Path) -> None:
    src = tmp_path / "dl" / "s01"
    src.mkdir(parents=True)
    (src / "problem1.ipynb").write_text("garbage")
    nbformat.write(factory.released(course101, "ps1", "problem2"), src / "problem2.ipynb")
    cd = open_course_dir(course101, course=course_for(course101))
    report = collect("ps1", tmp_path / "dl", course_dir=cd)
    [entry] = report.entries
    assert entry.status == "collected"
    assert (course101 / "submitted" / "s01" / "ps1" / "problem1.ipynb").read_text() == "garbage"


def test_late_policy_penalty() -> None:
    from coursebench.config import LatePolicy
    from coursebench.grading.late import penalty

    policy = LatePolicy(grace_minutes=15, penalty_per_day=0.1, max_late_days=3)
    assert penalty(policy, 10.0, 10 * 60) == 0.0  # within the grace period
    assert penalty(policy, 10.0, 20 * 60) == pytest.approx(1.0)  # first started day
    assert penalty(policy, 10.0, 2 * 86400) == pytest.approx(2.0)  # 1 d 23 h 45 min after grace: 2 started days
    assert penalty(policy, 10.0, 2 * 86400 + 15 * 60 + 1) == pytest.approx(3.0)
    assert penalty(policy, 10.0, 4 * 86400) == 10.0  # past max_late_days: nothing left
    assert penalty(policy, 0.0, 86400) == 0.0
