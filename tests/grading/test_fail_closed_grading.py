"""Grading never runs without isolation: with Docker and bubblewrap unusable,
``coursebench grade autograde`` refuses, names the fix and grades nothing; the subprocess
backend needs --trusted-notebooks, and every grade it gives says "not sandboxed" — in the
summary, the notes and ``grade report``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import factory
import pytest

from coursebench.config import Course
from coursebench.execution import Limits, NoSandbox, TrustRequired
from coursebench.grading import autograde, open_course_dir
from coursebench.grading.report import NOT_SANDBOXED, course_grades
from tests.sandboxless import sandboxes_unusable

pytestmark = pytest.mark.slow

CLI = [str(Path(sys.executable).with_name("coursebench"))]
LIMITS = Limits(timeout=60)


@pytest.fixture
def no_sandbox(tmp_path, monkeypatch):
    yield from sandboxes_unusable(tmp_path, monkeypatch)


def roster(root: Path) -> Course:
    return Course.model_validate({
        "students": [{"id": "s01"}, {"id": "s02"}],
        "assignments": [{"name": "ps1", "kind": "lab", "category": "labs"}],
        "grades": {"weights": {"labs": 1.0}},
        "paths": {"assignments": root.name, "competitions": "c", "lectures": "l", "build": "b"},
    }).model_copy(update={"root": root.parent})


def graded_students(root: Path) -> list[str]:
    return sorted(p.parent.name for p in (root / "autograded").glob("*/ps1"))


def test_grade_autograde_refuses_without_a_sandbox_and_names_the_fix(course101: Path, no_sandbox) -> None:
    factory.submit(course101, "s01", "ps1", factory.ps1_kinds(course101)["solved"])
    done = subprocess.run([*CLI, "grade", "autograde", "ps1", "--course-dir", str(course101)],
                          capture_output=True, text=True, env=no_sandbox, timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 2, out
    assert "no sandbox can be used on this machine" in out and "will not run" in out
    assert "install bubblewrap" in out and "Docker" in out, out
    assert graded_students(course101) == [], "nothing may be graded without a sandbox"
    with pytest.raises(NoSandbox, match="no sandbox can be used"):
        autograde("ps1", course_dir=course101, limits=LIMITS)
    assert graded_students(course101) == []


def test_subprocess_grading_needs_trust_and_every_row_says_not_sandboxed(course101: Path, sandbox: str,
                                                                       tmp_path: Path) -> None:
    kinds = factory.ps1_kinds(course101)
    factory.submit(course101, "s01", "ps1", kinds["solved"])
    with pytest.raises(TrustRequired, match="--trusted-notebooks"):
        autograde("ps1", course_dir=course101, backend="subprocess", limits=LIMITS)
    assert graded_students(course101) == []
    done = subprocess.run([*CLI, "grade", "autograde", "ps1", "--course-dir", str(course101), "--backend",
                           "subprocess"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "--trusted-notebooks" in done.stdout + done.stderr

    report = autograde("ps1", course_dir=course101, backend="subprocess", trusted=True, limits=LIMITS)
    [s01] = report.results
    assert s01.status == "graded" and s01.score == 3.0 and s01.sandboxed is False
    assert any(n.startswith("not sandboxed: graded on the subprocess backend") for n in s01.notes), s01.notes
    # a second student graded in the sandbox: only the first row is marked
    factory.submit(course101, "s02", "ps1", kinds["solved"])
    again = autograde("ps1", course_dir=course101, backend=sandbox, limits=LIMITS)
    rows = {r.student: r for r in again.results}
    assert rows["s02"].status == "graded" and rows["s02"].sandboxed
    assert rows["s01"].status == "skipped" and rows["s01"].sandboxed is False, "the kept grade is still unsandboxed"
    from rich.console import Console

    from coursebench.grading.cli import summary_table

    console = Console(record=True, width=200)
    console.print(summary_table(again))
    text = console.export_text()
    lines = {who: [line for line in text.splitlines() if f" {who} " in line] for who in ("s01", "s02")}
    assert "not sandboxed" in lines["s01"][0] and "not sandboxed" not in lines["s02"][0]

    course = roster(course101)
    grades = course_grades(course_dir=open_course_dir(course101, course=course), course=course)
    by_id = {r["student_id"]: r for r in grades.rows}
    assert NOT_SANDBOXED in grades.columns
    assert by_id["s01"][NOT_SANDBOXED] == "ps1" and by_id["s02"][NOT_SANDBOXED] == ""
    assert any("not sandboxed" in w for w in grades.warnings)

    # regraded in the sandbox, the mark goes away
    regraded = autograde("ps1", course_dir=course101, student="s01", force=True, backend=sandbox, limits=LIMITS)
    assert [r.sandboxed for r in regraded.results] == [True]
    grades = course_grades(course_dir=open_course_dir(course101, course=course), course=course)
    assert NOT_SANDBOXED not in grades.columns and not any("not sandboxed" in w for w in grades.warnings)
