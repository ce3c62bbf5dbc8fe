"""`coursebench demo --no-serve`: the whole course, end to end, on the real sandbox."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from coursebench.execution import availability


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_demo_runs_the_course_end_to_end(tmp_path):
    if not availability("bwrap")[0]:
        pytest.skip("the demo's hostile students need a real sandbox: " + availability("bwrap")[1])
    build = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "coursebench.cli", "demo", "--no-serve", "--build", str(build),
         "--labs", "lab01", "--backend", "bwrap"],
        capture_output=True, text=True, timeout=1500,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout

    # the gradebook: every simulated student graded, each kind getting what it deserves
    from coursebench.config import load_course
    from coursebench.grading.course import open_course_dir

    course = build / "course"
    cfg = load_course(course / "course.toml")
    cd = open_course_dir(course / "assignments", course=cfg)
    with cd.gradebook() as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions("lab01")}
        max_score = gb.find_assignment("lab01").max_score
    assert len(scores) == 12
    solved = scores["s01"]
    assert solved == scores["s02"] == scores["s11"] and solved > 0.6 * max_score
    assert scores["s06"] == 0, "a blank notebook scores nothing"
    assert 0 < scores["s04"] < solved or 0 < scores["s05"] < solved, "partial work scores in between"
    for hostile in ("s08", "s09", "s10"):  # infinite loop, memory bomb, snooping
        assert scores[hostile] < solved
    assert "timeout" in out and "oom" in out

    # the midterm: a leaderboard for the whole class, public then private, with a shake-up
    assert "public leaderboard" in out and "private leaderboard" in out and "Kendall" in out
    # the course report: one row per student, with the syllabus' weights, and plots
    with (build / "report" / "grades.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["student_id"] for r in rows] == [f"s{i:02d}" for i in range(1, 13)]
    assert all(r["letter"] for r in rows)
    weights = {"labs": 0.20, "midterm": 0.35, "final": 0.35, "attendance": 0.10}
    for r in rows:  # the total is the syllabus' weighted sum over the categories that have grades
        used = {c: w for c, w in weights.items() if r.get(c) not in (None, "")}
        assert used, r
        expected = sum(float(r[c]) * w for c, w in used.items()) / sum(used.values())
        assert float(r["total"]) == pytest.approx(expected, abs=0.02), r
    assert any(Path(build / "report" / "plots").glob("*.png"))
    assert (build / "lms" / "lab01.zip").is_file()
    # nothing of the hostile students escaped: the repository's files are untouched
    assert not (course / "assignments" / "source" / "lab01" / "pwned").exists()
