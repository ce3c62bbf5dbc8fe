"""The labs and the final exam, graded for real.

For every assignment: the source solution scores full autograded marks, the released blank
version scores 0 without breaking the grader, and a typical half-right submission scores
exactly what its spec predicts (some tasks right, one or two with a plausible mistake that
the hidden tests catch, the rest left blank) — through ``coursebench grade autograde`` on
the bubblewrap sandbox, all three submissions of an assignment in one batch with two workers.
Each test cell is checked on its own, not only the totals.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from coursebench.notebooks import discover

from .conftest import ASSIGNMENTS, KERAS, NAMES, STUDENTS, load_spec, target


def test_every_assignment_has_a_source_and_a_notebook() -> None:
    built = {s.stem: s.target for s in discover(ASSIGNMENTS.parent) if s.path.parent == ASSIGNMENTS / "_src"}
    assert sorted(built) == sorted(NAMES)
    assert {f"lab{i:02d}" for i in range(1, 12)} | {"final_exam"} <= set(NAMES)
    assert all(built[name] == target(name) and target(name).is_file() for name in NAMES)
    # nbgrader releases every file of an assignment's folder (data files belong there): the
    # sources, solutions and hidden tests in plain text, must never be there
    assert not [p for p in (ASSIGNMENTS / "source").rglob("*.py")]
    assert {p.parent.name for p in (ASSIGNMENTS / "source").glob("*/*.ipynb")} == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_students_toml_says_what_every_test_checks(name: str) -> None:
    spec = load_spec(name)  # raises on a test cell without an entry, a stale entry, a bad [half]
    assert spec.tests and all(t.needs and t.checks for t in spec.tests)


@pytest.mark.parametrize("name", NAMES)
def test_source_notebook_is_a_proper_nbgrader_assignment(name: str, specs: dict) -> None:
    spec = specs[name]
    nb = nbformat.read(target(name), as_version=4)
    nbformat.validate(nb)
    metas = [c.metadata.get("nbgrader") for c in nb.cells]
    assert all(m is not None and m.get("grade_id") for m in metas), "every cell carries nbgrader metadata"
    tests = [c for c in nb.cells if c.metadata["nbgrader"]["grade"] and c.cell_type == "code"]
    prose = [c for c in nb.cells if c.metadata["nbgrader"]["grade"] and c.cell_type == "markdown"]
    assert tests and prose, "autograded tests and at least one written answer"
    assert all(c.metadata["nbgrader"]["locked"] for c in tests), "test cells are locked"
    assert all("### BEGIN HIDDEN TESTS" in c.source for c in tests), "every test cell has hidden tests"
    assert all(not c.outputs and c.execution_count is None for c in nb.cells if c.cell_type == "code")
    points = sum(c.metadata["nbgrader"]["points"] for c in tests)
    assert points == spec.auto_points
    assert sum(c.metadata["nbgrader"]["points"] for c in prose) == spec.manual_points
    assert spec.total_points == (50 if name == "final_exam" else 10)
    assert re.search(r"\([\uac00-\ud7a3 ]+\)", nb.cells[0].source), "key terms carry their Korean name"


def test_the_grading_rules_read_the_same_in_every_assignment() -> None:
    # Each source carries its own copy of the "How it works" rules (how grading treats every
    # submission); an edit to them must reach all of them.
    notebooks = {name: nbformat.read(target(name), as_version=4) for name in NAMES}
    rules = {name: nb.cells[0].source.split("**How it works**", 1)[-1] for name, nb in notebooks.items()}
    assert all("**How it works**" in nb.cells[0].source for nb in notebooks.values())
    assert len(set(rules.values())) == 1, "the 'How it works' section differs between assignments"


def test_release_removes_solutions_and_hidden_tests(course: Path) -> None:
    for name in NAMES:
        text = (course / "release" / name / f"{name}.ipynb").read_text()
        for secret in ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "HIDDEN TESTS"):
            assert secret not in text, f"{name}: the student version contains {secret!r}"
        nb = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
        answers = [c for c in nb.cells if c.cell_type == "markdown" and c.metadata["nbgrader"].get("solution")]
        assert answers and all(c.source.strip() == "YOUR ANSWER HERE" for c in answers)


def _params() -> list:
    return [pytest.param(n, marks=pytest.mark.slow) if n in KERAS else n for n in NAMES]


@pytest.mark.parametrize("name", _params())
def test_autograde_solved_blank_half(name: str, course: Path, specs: dict, bwrap_backend: str) -> None:
    from nbgrader.api import Gradebook, MissingEntry
    from typer.testing import CliRunner

    from coursebench import cli
    from coursebench.grading.course import nbgrader_environment

    if not any(group.name == "grade" for group in cli.app.registered_groups):
        cli._register_subcommands()

    spec = specs[name]
    result = CliRunner().invoke(cli.app, ["grade", "autograde", name, "--course-dir", str(course),
                                      "--workers", "2", "--backend", bwrap_backend])
    assert result.exit_code == 0, result.output
    for status in ("timeout", "oom", "killed", "invalid", "error"):
        assert f" {status} " not in result.output.replace("│", " "), result.output

    right = set(spec.half_fill) - set(spec.half_wrong)
    expected_pass = {
        "solved": {t.gid for t in spec.tests},
        "blank": set(),
        "half": {t.gid for t in spec.tests if set(t.needs) <= set(spec.half_fill)
                 and not set(t.checks) & set(spec.half_wrong)},
    }
    expected_score = {"solved": spec.auto_points, "blank": 0.0, "half": spec.half_expected()}
    assert 0 < expected_score["half"] < spec.auto_points and right

    db = f"sqlite:///{course / 'gradebook.db'}"
    with nbgrader_environment(), Gradebook(db) as gb:
        for student in STUDENTS:
            try:
                sub = gb.find_submission(name, student)
            except MissingEntry:
                pytest.fail(f"{student}/{name} was not graded:\n{result.output}")
            assert sub.max_score == spec.total_points
            assert sub.max_code_score == spec.auto_points
            passed = set()
            for t in spec.tests:
                grade = gb.find_grade(t.gid, name, name, student)
                assert grade.auto_score in (0, t.points), (student, t.gid, grade.auto_score)
                if grade.auto_score == t.points:
                    passed.add(t.gid)
            assert passed == expected_pass[student], (
                f"{student}/{name}: passed {sorted(passed)}, expected {sorted(expected_pass[student])}")
            assert sub.code_score == expected_score[student]
            assert sub.score == expected_score[student], "written answers wait for a person"
            prose = [c for c in spec.cells if c.kind == "prose"]
            for c in prose:
                grade = gb.find_grade(c.gid, name, name, student)
                if student == "solved":
                    assert grade.needs_manual_grade, "an answered question goes to manual grading"
                if student == "blank":
                    assert grade.auto_score == 0 and not grade.needs_manual_grade, "an unanswered one scores 0"
            assert (course / "autograded" / student / name / f"{name}.ipynb").is_file()
