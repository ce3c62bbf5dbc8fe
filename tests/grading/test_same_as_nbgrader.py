"""`coursebench grade autograde` gives exactly the grades `nbgrader autograde` gives, on
nbgrader's own example course with solved, blank, partially solved and broken work."""

from __future__ import annotations

import shutil
from pathlib import Path

import factory
import pytest

from coursebench.execution import Limits
from coursebench.grading import autograde

pytestmark = pytest.mark.slow


def gradebook_grades(root: Path, assignment: str) -> dict:
    from nbgrader.api import Gradebook

    out: dict = {}
    with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
        for sub in gb.assignment_submissions(assignment):
            sid = sub.student.id
            for nb in sub.notebooks:
                for g in nb.grades:
                    out[(sid, nb.name, g.name)] = (g.auto_score, g.manual_score, g.needs_manual_grade)
                for c in nb.comments:
                    out[(sid, nb.name, "comment", c.name)] = c.auto_comment
                out[(sid, nb.name, "late_penalty")] = nb.late_submission_penalty
            out[(sid, "total")] = (sub.score, sub.max_score)
    return out


def test_same_scores_as_nbgrader_autograde(course101: Path, tmp_path: Path, sandbox: str) -> None:
    for kind, edits in factory.ps1_kinds(course101).items():
        factory.submit(course101, kind, "ps1", edits)
    theirs = tmp_path / "theirs"
    shutil.copytree(course101, theirs)

    factory.nbgrader("autograde", "ps1", cwd=theirs)
    report = autograde("ps1", course_dir=course101, workers=2, backend=sandbox, limits=Limits(timeout=300))

    expected = gradebook_grades(theirs, "ps1")
    got = gradebook_grades(course101, "ps1")
    assert got == expected
    # and the comparison is not vacuous: the four kinds really differ
    totals = {r.student: r.score for r in report.results}
    assert totals["solved"] == 3.0
    assert 0 < totals["partial"] < totals["solved"]
    assert totals["blank"] == totals["broken"] == 0.0
    assert {r.status for r in report.results} == {"graded"}
    # nbgrader's own layout: autograded/<student>/ps1/<notebook>.ipynb for formgrader/export
    for student in ("solved", "blank", "partial", "broken"):
        assert sorted(p.name for p in (course101 / "autograded" / student / "ps1").glob("*.ipynb")) == [
            "problem1.ipynb", "problem2.ipynb"]
    assert not (course101 / "autograded" / ".coursebench" / "staging").exists() or not any(
        (course101 / "autograded" / ".coursebench" / "staging").rglob("*.ipynb"))
    # `nbgrader export` works on the result unchanged
    factory.nbgrader("export", cwd=course101)
    grades_csv = (course101 / "grades.csv").read_text()
    assert "solved" in grades_csv and "partial" in grades_csv
