"""Forged submissions through ``coursebench grade autograde`` in the real bubblewrap
sandbox: wrong answers plus one trick on the kernel each (``tests/notebooks/forgeries/``).

None may score more than the blank submission of its assignment; each trick is flagged
with a "needs review" note that names it (in the autograde report, the gradebook — the
affected grades need manual grading, the note is in the answer cell's comment — and
``grade report``).  Honest submissions score exactly what they scored without the
defence, and get no note.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import factory
import forgeries
import pytest

from coursebench.config import Course
from coursebench.execution import Limits
from coursebench.grading import autograde
from coursebench.grading.course import open_course_dir
from coursebench.grading.report import NEEDS_REVIEW, course_grades

pytestmark = pytest.mark.slow

CORPUS = forgeries.load_corpus()
LIMITS = Limits(timeout=120, cell_timeout=20)  # "hang" waits for its cell's limit
#: graded without the defence too: the tricks are real (they earn points there)
WORK_WITHOUT_DEFENCE = ("showtraceback", "post_run_clear", "iopub_fake_result", "builtin_abs")


def honest(root: Path) -> dict[str, tuple[str, dict]]:
    out = {f"ps1-{kind}": ("ps1", edits) for kind, edits in factory.ps1_kinds(root).items()}
    out.update({kind: ("ps2", edits) for kind, edits in forgeries.ps2_kinds(root).items()})
    return out


@pytest.fixture(scope="module")
def graded(course101_template: Path, tmp_path_factory: pytest.TempPathFactory, sandbox: str):
    """Every forgery and every honest kind, autograded once with the defence; the honest
    ones also without it (what they score today)."""
    root = tmp_path_factory.mktemp("forgeries") / "course101"
    shutil.copytree(course101_template, root)
    forgeries.make_ps2(root)
    plain = root.parent / "plain"
    kinds = honest(root)
    for student, (assignment, edits) in kinds.items():
        factory.submit(root, student, assignment, edits)
    shutil.copytree(root, plain)
    for forgery in CORPUS:
        if forgery.name in WORK_WITHOUT_DEFENCE:
            factory.submit(plain, forgery.name, forgery.assignment, forgery.edits(plain))
        factory.submit(root, forgery.name, forgery.assignment, forgery.edits(root))
    reports = {a: autograde(a, course_dir=root, workers=2, backend=sandbox, limits=LIMITS) for a in ("ps1", "ps2")}
    baseline = {a: autograde(a, course_dir=plain, workers=2, backend=sandbox, limits=LIMITS, forging_defence=False)
                for a in ("ps1", "ps2")}
    results = {r.student: r for rep in reports.values() for r in rep.results}
    before = {r.student: r for rep in baseline.values() for r in rep.results}
    return root, results, before


def test_the_corpus_covers_the_attack_surface() -> None:
    flagged = [f for f in CORPUS if f.flagged]
    assert len(flagged) >= 12 and len({f.trick for f in flagged}) == len(flagged)
    assert all(f.trick and f.cells for f in CORPUS)


@pytest.mark.parametrize("forgery", CORPUS, ids=[f.name for f in CORPUS])
def test_no_forgery_scores_more_than_blank_and_each_is_flagged(graded, forgery) -> None:
    _root, results, _before = graded
    result = results[forgery.name]
    blank = results["ps1-blank" if forgery.assignment == "ps1" else "ps2-blank"]
    assert result.score is not None and result.score <= blank.score, (forgery.trick, result.score, result.message)
    if forgery.flagged:
        notes = " / ".join(result.review)
        assert result.review and all(n.split(": ", 1)[1].startswith("needs review: ") for n in result.review)
        assert all(word.lower() in notes.lower() for word in forgery.expect), (forgery.expect, notes)


def test_honest_submissions_score_as_before_and_are_not_flagged(graded) -> None:
    root, results, before = graded
    for student in honest(root):
        assert results[student].score == before[student].score, student
        assert results[student].review == [] and before[student].review == [], student
    scores = {s: results[s].score for s in honest(root)}
    assert scores["ps1-solved"] == 3.0 and scores["ps1-blank"] == 0.0 and 0 < scores["ps1-partial"] < 3.0
    assert scores["ps2-solved"] == 10.0 and scores["ps2-blank"] == 0.0 and 0 < scores["ps2-half"] < 10.0
    # and the defence is what stops them: without it, the same forgeries earn points
    for name in WORK_WITHOUT_DEFENCE:
        blank = before["ps2-blank" if name in ("iopub_fake_result", "builtin_abs") else "ps1-blank"]
        assert before[name].score > blank.score, name
        assert results[name].score <= blank.score, name


def test_notes_reach_the_gradebook_and_the_course_report(graded) -> None:
    from nbgrader.api import Gradebook

    root, results, _before = graded
    with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
        nb = gb.find_submission_notebook("problem1", "ps1", "showtraceback")
        flagged = {g.name for g in nb.grades if g.needs_manual_grade}
        assert {"correct_squares", "squares_invalid_input"} <= flagged
        comment = gb.find_comment("squares", "problem1", "ps1", "showtraceback").auto_comment
        assert "needs review: replaced IPython's showtraceback" in comment
        honest_nb = gb.find_submission_notebook("problem1", "ps1", "ps1-solved")
        assert not any(g.needs_manual_grade for g in honest_nb.grades if g.name.startswith("correct"))
        assert not any("needs review" in (c.auto_comment or "") for c in honest_nb.comments)
    students = sorted(results)
    course = Course.model_validate({
        "students": [{"id": s, "name": s} for s in students],
        "assignments": [{"name": "ps1", "kind": "lab", "category": "labs"},
                        {"name": "ps2", "kind": "lab", "category": "labs"}],
        "grades": {"weights": {"labs": 1.0}},
        "paths": {"assignments": root.name, "competitions": "c", "lectures": "l", "build": "b"},
    }).model_copy(update={"root": root.parent})
    report = course_grades(course_dir=open_course_dir(root, course=course))
    rows = {r["student_id"]: r for r in report.rows}
    assert rows["showtraceback"][NEEDS_REVIEW] == "ps1" and rows["builtin_abs"][NEEDS_REVIEW] == "ps2"
    assert rows["ps1-solved"][NEEDS_REVIEW] == "" and rows["ps2-half"][NEEDS_REVIEW] == ""
    assert any(w.startswith("showtraceback ps1/problem1: needs review: replaced IPython's showtraceback")
               for w in report.warnings), report.warnings
