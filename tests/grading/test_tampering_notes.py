"""Tampering notes mean something: the course's own labs (the demo's lab01, lab03, lab04)
released, handed in blank and solved — no note; a locked cell or a test cell with hidden
tests really edited — a note naming it, and the cell restored (hidden tests and all).

``nbgrader autograde`` itself warns "Attribute 'checksum' … has changed!" for every test
cell with hidden tests on an untouched submission (it compares with the source that
still has them); see docs/grading.md, "Tampering notes".
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from coursebench.execution import Limits
from coursebench.grading import autograde
from coursebench.grading.tampering import describe, released_source

pytestmark = pytest.mark.slow

LABS = ("lab01", "lab03", "lab04")
LIMITS = Limits(timeout=120, cell_timeout=60, memory="1G")


def edit_cells(path: Path, edits: dict[str, object]) -> None:
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in edits:
            cell.source = edits[gid](cell.source)  # type: ignore[operator]
    nbformat.write(nb, str(path))


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, sandbox: str):
    from coursebench.config import load_course
    from coursebench.demo import copy_course
    from coursebench.demo_class import hand_in
    from coursebench.grading.course import open_course_dir
    from coursebench.grading.release import release

    build = tmp_path_factory.mktemp("tampering")
    course = copy_course(build, LABS)
    cfg = load_course(course / "course.toml")
    cd = open_course_dir(course / "assignments", course=cfg)
    reports = {}
    for lab in LABS:
        release(lab, course_dir=cd, zip_path=build / "lms" / f"{lab}.zip")
        students = {"s01": "solved", "s06": "blank"}
        if lab == "lab01":
            students |= {"s02": "solved", "s04": "solved"}
        hand_in(course / "assignments", lab, cfg.assignment(lab).due, students=students)
        if lab == "lab01":
            submitted = course / "assignments" / "submitted"
            # s02 edits a locked code cell; s04 the visible part of a test cell with hidden tests
            edit_cells(submitted / "s02" / lab / "lab01.ipynb",
                       {"setup": lambda s: s + "\nmean_and_std = lambda v: (5.0, 2.0)"})
            edit_cells(submitted / "s04" / lab / "lab01.ipynb",
                       {"test_mean_std": lambda s: "\n".join(line for line in s.splitlines()
                                                             if not line.startswith("assert"))})
        reports[lab] = {r.student: r for r in autograde(lab, course_dir=cd, backend=sandbox, workers=2,
                                                          limits=LIMITS).results}
    return course, reports


@pytest.mark.parametrize("lab", LABS)
def test_blank_and_solved_submissions_get_no_tampering_note(graded, lab: str) -> None:
    _, reports = graded
    for student in ("s01", "s06"):
        r = reports[lab][student]
        assert r.status == "graded", (student, r.message)
        assert not [n for n in r.notes if "tamper" in n], (lab, student, r.notes)
    assert reports[lab]["s01"].score == reports[lab]["s01"].max_score - manual_points(graded[0], lab)
    assert reports[lab]["s06"].score == 0


def manual_points(course: Path, lab: str) -> float:
    """Points of the hand-graded answers (autograde leaves them at 0)."""
    nb = nbformat.read(str(course / "assignments" / "source" / lab / f"{lab}.ipynb"), as_version=4)
    return sum(float(c.metadata["nbgrader"].get("points", 0)) for c in nb.cells
               if c.metadata.get("nbgrader", {}).get("solution") and c.metadata["nbgrader"].get("grade"))


def test_a_really_edited_locked_cell_is_reported_and_restored(graded) -> None:
    _, reports = graded
    r = reports["lab01"]["s02"]
    assert [n for n in r.notes if "tamper" in n] == [
        "tampering: locked cell setup was edited (1 line added); restored from the gradebook"], r.notes
    assert r.score == reports["lab01"]["s01"].score, "the planted lambda was taken out again"


def test_an_edited_test_cell_with_hidden_tests_is_reported_and_restored(graded) -> None:
    course, reports = graded
    r = reports["lab01"]["s04"]
    notes = [n for n in r.notes if "tamper" in n]
    assert notes == ["tampering: locked cell test_mean_std was edited (2 lines removed); restored from the gradebook"], \
        r.notes
    nb = nbformat.read(str(course / "assignments" / "autograded" / "s04" / "lab01" / "lab01.ipynb"), as_version=4)
    [cell] = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_mean_std"]
    assert "BEGIN HIDDEN TESTS" in cell.source and "statistics.pstdev" in cell.source
    assert r.score == reports["lab01"]["s01"].score


def test_released_source_is_what_generate_assignment_released(graded) -> None:
    course, _ = graded
    source = nbformat.read(str(course / "assignments" / "source" / "lab01" / "lab01.ipynb"), as_version=4)
    release = nbformat.read(str(course / "assignments" / "release" / "lab01" / "lab01.ipynb"), as_version=4)
    given = {c.metadata["nbgrader"]["grade_id"]: c.source for c in release.cells if c.metadata.get("nbgrader")}
    hidden = [c for c in source.cells if "BEGIN HIDDEN TESTS" in c.source]
    assert hidden, "lab01 has test cells with hidden tests"
    for cell in hidden:
        gid = cell.metadata["nbgrader"]["grade_id"]
        assert released_source(cell.source, cell.cell_type) == given[gid]
        assert released_source(cell.source, cell.cell_type) != cell.source


def test_describe_counts_lines() -> None:
    assert describe("a\nb\nc", "a\nB\nc\nd") == "1 line changed, 1 line added"
    assert describe("a\nb", "a") == "1 line removed"
    assert describe("a", "a ") == "1 line changed"
