"""Autograding: `coursebench grade autograde --workers 2` vs plain `nbgrader autograde`.

The same submissions of nbgrader's example course (course101, ps1: two notebooks each) are
graded both ways in this run, each in its own copy of the course.  nbgrader runs them one
after the other, unsandboxed; coursebench runs them in the bubblewrap sandbox, two at a
time.  Target: ours ≤ 0.5× nbgrader's wall time.  Also reported: the overhead per
submission that coursebench adds around the notebook runs themselves (intake, nbgrader's
sanitize and SaveAutoGrades steps, the gradebook, the move into autograded/), and what
the forging defence costs: the same autograde with the test guard (the default) against
``forging_defence=False`` (test cells scored by the kernel's outputs alone, as nbgrader
does), in a third copy.  Target ≤ 1.1×.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "grading"))

from common import Row  # noqa: E402


def run(quick: bool) -> list[Row]:
    import factory

    from coursebench.execution import Limits, availability
    from coursebench.grading import autograde

    backend = "bwrap" if availability("bwrap")[0] else "subprocess"
    count = 40
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        base = factory.make_course101(Path(tmp))
        kinds = list(factory.ps1_kinds(base).values())
        for i in range(count):
            factory.submit(base, f"student{i:02d}", "ps1", kinds[i % len(kinds)])
        theirs, ours, plain = Path(tmp) / "theirs", Path(tmp) / "ours", Path(tmp) / "plain"
        shutil.copytree(base, theirs)
        shutil.copytree(base, ours)
        shutil.copytree(base, plain)

        started = time.perf_counter()
        factory.nbgrader("autograde", "ps1", cwd=theirs)
        baseline = time.perf_counter() - started

        started = time.perf_counter()
        report = autograde("ps1", course_dir=ours, workers=2, backend=backend, limits=Limits(timeout=300))
        mine = time.perf_counter() - started

        started = time.perf_counter()
        unguarded = autograde("ps1", course_dir=plain, workers=2, backend=backend, limits=Limits(timeout=300),
                              forging_defence=False)
        without = time.perf_counter() - started

    sandbox_seconds = sum(r.wall_time for r in report.results)
    host = max(0.0, mine - sandbox_seconds / 2)  # two slots run the notebooks; the rest is host work
    bad = [r.student for r in report.results if r.status != "graded"]
    note = f"{count} submissions × 2 notebooks, {backend} sandbox, 2 workers"
    if bad:
        note += f"; NOT graded: {', '.join(bad)}"
    same = [r.score for r in report.results] == [r.score for r in unguarded.results]
    return [
        Row("autograde 40 course101 submissions (wall)", mine, baseline, target=0.5, note=note),
        Row("forging defence: the same autograde with the test guard vs without", mine, without, target=1.1,
            note=f"baseline = forging_defence=False; {'same' if same else 'DIFFERENT'} scores"),
        Row("per-submission overhead besides the notebook runs", host / count, baseline / count,
            note="host-side: intake, nbgrader sanitize + SaveAutoGrades, gradebook, publish; "
                 "baseline = nbgrader's whole time per submission"),
    ]
