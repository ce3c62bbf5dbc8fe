"""Feedback never shows hidden tests (nbgrader #917): neither their code, nor what they
printed, nor tracebacks quoting them — only that one failed (and its message if allowed)."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import factory
import nbformat
import pytest

from coursebench.execution import Limits
from coursebench.grading import autograde
from coursebench.grading.feedback import feedback
from coursebench.grading.release import release

pytestmark = pytest.mark.slow

HIDDEN = (
    "\n### BEGIN HIDDEN TESTS\n"
    "print('secret input 12')\n"
    "assert squares(12)[-1] == 144, 'squares is wrong for a larger n'\n"
    "### END HIDDEN TESTS\n"
)


def page_text(path: Path) -> str:
    """The feedback page as a reader sees it (syntax highlighting splits code into spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


def test_feedback_hides_hidden_tests(course101: Path, sandbox: str) -> None:
    src = course101 / "source" / "ps1h"
    shutil.copytree(course101 / "source" / "ps1", src)
    nb = nbformat.read(src / "problem1.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "correct_squares":
            cell.source += HIDDEN
    nbformat.write(nb, src / "problem1.ipynb")
    out = release("ps1h", course_dir=course101, publish=False)
    released_text = (out.release_dir / "problem1.ipynb").read_text()
    assert "secret input 12" not in released_text

    solved = factory.solutions(course101, "ps1h", "problem1")
    solved["squares"] = ("def squares(n):\n    if n < 1:\n        raise ValueError()\n"
                         "    return [0] if n == 12 else [i ** 2 for i in range(1, n + 1)]")
    factory.submit(course101, "alice", "ps1h", {"problem1": lambda gid, s: solved.get(gid), "problem2": None})
    report = autograde("ps1h", course_dir=course101, workers=2, backend=sandbox, limits=Limits(timeout=120))
    [r] = report.results
    assert r.status == "graded" and r.score == 2.0  # the hidden test caught it: correct_squares 0

    graded = (course101 / "autograded" / "alice" / "ps1h" / "problem1.ipynb").read_text()
    assert "secret input 12" in graded  # the grader's copy has them (formgrader needs them)

    files = feedback("ps1h", course_dir=course101)
    page = page_text(course101 / "feedback" / "alice" / "ps1h" / "problem1.html")
    assert files.files and "problem1.html" in {f.name for f in files.files}
    for secret in ("secret input 12", "squares(12)", "BEGIN HIDDEN TESTS", "larger n"):
        assert secret not in page, secret
    assert "A hidden test in this cell failed" in page
    assert "assert squares(10)" in page  # the visible tests are still shown

    feedback("ps1h", course_dir=course101, force=True, show_hidden_messages=True)
    page = page_text(course101 / "feedback" / "alice" / "ps1h" / "problem1.html")
    assert "squares is wrong for a larger n" in page
    assert "squares(12)" not in page and "secret input 12" not in page
