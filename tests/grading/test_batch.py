"""One batch of hostile and broken submissions through the real sandbox: partial credit on
timeout and out-of-memory, broken files that do not stop the batch, tampering restored
and reported, isolation from the gradebook, the solutions and other students; then
reruns (only what is missing; --force) and a Ctrl-C midway."""

from __future__ import annotations

import ast
import os
import shutil
from pathlib import Path

import factory
import nbformat
import pytest

from coursebench.execution import Limits
from coursebench.grading import autograde
from coursebench.grading.runs import NOT_RUN_ENAME

pytestmark = pytest.mark.slow

SQUARES = "def squares(n):\n    if n < 1:\n        raise ValueError('n must be >= 1')\n    return [i ** 2 for i in range(1, n + 1)]"
LIMITS = Limits(timeout=45, memory="400M")


def snoop_code(root: Path) -> str:
    targets = [
        root / "gradebook.db",
        root / "source" / "ps1" / "problem1.ipynb",
        root / "release" / "ps1" / "problem1.ipynb",
        root / "submitted" / "solved" / "ps1" / "problem1.ipynb",
        root / "autograded",
        Path("../../gradebook.db"),
        Path("data.csv"),
    ]
    return (
        "import os\n"
        f"for t in {[str(t) for t in targets]!r}:\n"
        "    try:\n"
        "        if os.path.isdir(t):\n"
        "            print('LEAK', t, os.listdir(t))\n"
        "        else:\n"
        "            print('LEAK', t, len(open(t, 'rb').read()))\n"
        "    except Exception as e:\n"
        "        print('DENIED', t, type(e).__name__)\n"
        "print('CWD', sorted(os.listdir('.')))\n"
        + SQUARES
    )


@pytest.fixture(scope="module")
def batch(course101_template: Path, tmp_path_factory: pytest.TempPathFactory, sandbox: str):
    root = tmp_path_factory.mktemp("batch") / "course101"
    shutil.copytree(course101_template, root)
    solved1 = factory.solved(root, "ps1", "problem1")
    solved2 = factory.solved(root, "ps1", "problem2")
    kinds = factory.ps1_kinds(root)
    factory.submit(root, "solved", "ps1", kinds["solved"])
    factory.submit(root, "timeout", "ps1", {"problem1": factory.with_changes(root, "ps1", "problem1", {
        "sum_of_squares": "def sum_of_squares(n):\n    return sum(squares(n))\nwhile True:\n    pass"}),
        "problem2": solved2})
    factory.submit(root, "oom", "ps1", {"problem1": factory.with_changes(root, "ps1", "problem1", {
        "sum_of_squares": "def sum_of_squares(n):\n    return sum(squares(n))\nhog = []\nwhile True:\n"
                          "    hog.append(bytearray(20_000_000))"}), "problem2": solved2})
    unreadable = factory.submit(root, "unreadable", "ps1", {"problem2": solved2})
    (unreadable / "problem1.ipynb").write_text('{"cells": [ {"cell_type": "code", "sou')
    empty = factory.submit(root, "empty", "ps1", {})
    (empty / "README.txt").write_text("I forgot to attach the notebooks")
    # tampering: a wrong answer, the tests rigged, a test deleted, metadata edited, file renamed
    tamper = factory.submit(root, "tamper", "ps1", {"problem1": solved1, "problem2": solved2})
    nb = nbformat.read(tamper / "problem1.ipynb", as_version=4)
    cells = []
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid == "squares":
            cell.source = "def squares(n):\n    return [i ** 2 for i in range(n)]"
        elif gid == "correct_squares":
            cell.source = "pass  # all good"
        elif gid == "squares_invalid_input":
            continue  # deleted
        elif gid == "correct_sum_of_squares":
            cell.metadata["nbgrader"].update(grade=False, points=100)
            cell.source = "pass"
        cells.append(cell)
    nb.cells = cells
    nbformat.write(nb, tamper / "problem1-Copy1.ipynb")
    (tamper / "problem1.ipynb").unlink()
    # isolation: reads the gradebook, the solutions, another student's work; plants a link
    snoop = factory.submit(root, "snoop", "ps1", {"problem1": factory.with_changes(root, "ps1", "problem1", {
        "squares": snoop_code(root)}), "problem2": solved2})
    os.symlink(root / "gradebook.db", snoop / "data.csv")

    report = autograde("ps1", course_dir=root, workers=2, backend=sandbox, limits=LIMITS)
    return root, {r.student: r for r in report.results}


def graded_cells(root: Path, student: str, notebook: str = "problem1") -> dict[str, nbformat.NotebookNode]:
    nb = nbformat.read(root / "autograded" / student / "ps1" / f"{notebook}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")}


def test_solved_submission_gets_full_auto_score(batch) -> None:
    _, results = batch
    assert results["solved"].status == "graded"
    assert results["solved"].score == 3.0


@pytest.mark.parametrize("student", ["timeout", "oom"])
def test_partial_credit_for_tests_that_finished(batch, student: str) -> None:
    root, results = batch
    r = results[student]
    assert r.status == student
    # correct_squares (1) and squares_invalid_input (1) ran before the runaway cell; the rest score 0
    assert r.score == 2.0
    assert "correct_sum_of_squares" in r.message and "sum_of_squares_uses_squares" in r.message
    cells = graded_cells(root, student)
    assert not any(o.get("ename") == NOT_RUN_ENAME for o in cells["correct_squares"].outputs)
    unfinished = cells["correct_sum_of_squares"].outputs
    assert unfinished[-1]["ename"] == NOT_RUN_ENAME
    assert ("time limit" if student == "timeout" else "memory") in unfinished[-1]["evalue"]


def test_broken_files_do_not_stop_the_batch(batch) -> None:
    _, results = batch
    assert set(results) == {"solved", "timeout", "oom", "unreadable", "empty", "tamper", "snoop"}
    unreadable = results["unreadable"]
    assert unreadable.status == "invalid"
    assert unreadable.score == 0.0
    assert any("problem1.ipynb scores 0" in n and "not valid JSON" in n for n in unreadable.notes)
    empty = results["empty"]
    assert empty.status == "invalid"
    assert "no readable notebook" in empty.message


def test_tampering_is_restored_and_reported(batch) -> None:
    root, results = batch
    r = results["tamper"]
    assert r.status == "graded"
    # the honest grade of that code: only sum_of_squares_uses_squares (0.5) passes
    assert r.score == 0.5
    notes = " | ".join(r.notes)
    assert "graded problem1-Copy1.ipynb as problem1.ipynb" in notes
    assert "locked cell correct_squares was edited" in notes
    assert "test cell squares_invalid_input was deleted" in notes
    assert "correct_sum_of_squares" in notes
    cells = graded_cells(root, "tamper")
    assert cells["correct_squares"].source.startswith('"""Check that squares returns')
    assert cells["correct_sum_of_squares"].metadata["nbgrader"]["points"] == 0.5
    assert any(o.get("output_type") == "error" for o in cells["squares_invalid_input"].outputs)


def test_student_code_cannot_see_gradebook_solutions_or_others(batch) -> None:
    root, results = batch
    r = results["snoop"]
    assert r.status == "graded" and r.score == 3.0  # its own work still counts
    text = "".join(o.get("text", "") for o in graded_cells(root, "snoop")["squares"].outputs)
    assert "LEAK" not in text, text
    assert text.count("DENIED") == 7, text
    cwd = ast.literal_eval(text.split("CWD ", 1)[1].splitlines()[0])
    assert set(cwd) <= {"jupyter.png", "timestamp.txt"}, cwd
    assert any("ignored the link data.csv" in n for n in r.notes)


def test_rerun_grades_only_what_is_missing_and_force_regrades(batch, sandbox: str) -> None:
    root, first = batch
    again = autograde("ps1", course_dir=root, workers=2, backend=sandbox, limits=LIMITS)
    # everything graded is skipped; the submission without notebooks was never graded, so it
    # is tried (and reported) again
    assert {r.student: r.status for r in again.results if r.status != "skipped"} == {"empty": "invalid"}
    assert {r.student: r.score for r in again.results} == {s: r.score for s, r in first.items()}

    shutil.rmtree(root / "autograded" / "solved")
    missing = autograde("ps1", course_dir=root, workers=2, backend=sandbox, limits=LIMITS)
    statuses = {r.student: r.status for r in missing.results}
    assert statuses.pop("solved") == "graded"
    assert statuses.pop("empty") == "invalid"
    assert set(statuses.values()) == {"skipped"}

    forced = autograde("ps1", course_dir=root, student="snoop", force=True, workers=2, backend=sandbox,
                       limits=LIMITS)
    assert [(r.student, r.status, r.score) for r in forced.results] == [("snoop", "graded", 3.0)]


def test_ctrl_c_midway_loses_nothing(course101: Path, sandbox: str) -> None:
    kinds = factory.ps1_kinds(course101)
    for student in ("a", "b", "c"):
        factory.submit(course101, student, "ps1", kinds["solved"])

    def interrupt(done: int, total: int, result) -> None:
        if done >= 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        autograde("ps1", course_dir=course101, workers=1, backend=sandbox, limits=LIMITS, progress=interrupt)
    done = sorted(p.parent.name for p in (course101 / "autograded").glob("*/ps1"))
    assert 1 <= len(done) < 3
    for student in done:  # whatever is in autograded/ is complete
        assert sorted(p.name for p in (course101 / "autograded" / student / "ps1").glob("*.ipynb")) == [
            "problem1.ipynb", "problem2.ipynb"]
    leftovers = course101 / "autograded" / ".coursebench"
    assert not leftovers.exists() or not any(leftovers.rglob("*.ipynb"))

    rest = autograde("ps1", course_dir=course101, workers=2, backend=sandbox, limits=LIMITS)
    statuses = {r.student: r.status for r in rest.results}
    assert {s for s, v in statuses.items() if v == "skipped"} == set(done)
    assert {r.student: r.score for r in rest.results} == {"a": 3.0, "b": 3.0, "c": 3.0}
