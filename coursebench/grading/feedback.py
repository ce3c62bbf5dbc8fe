"""``coursebench grade feedback``: nbgrader's feedback HTML, with hidden tests never shown.

nbgrader renders feedback from the autograded notebooks, which hold the hidden tests
restored for grading — so students see them (nbgrader issue #917).  Here nbgrader's own
``GenerateFeedback`` runs with one more preprocessor first, :class:`HideHiddenTests`:

- the hidden region of every test cell is cut out of the source (nbgrader's
  ``ClearHiddenTests`` rule, with its configured delimiters);
- that cell's outputs (which a hidden test may have printed, and whose tracebacks
  quote the hidden code) are replaced by one line: the hidden tests passed, or a hidden
  test failed — with the error's message only when the instructor allows it
  (``--show-hidden-messages``, or ``c.HideHiddenTests.show_messages = True``);
- any traceback line elsewhere that quotes hidden code is replaced too.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .course import CourseDir, nbgrader_environment, open_course_dir
from .errors import GradingError

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
HIDDEN_LINE = "[hidden test code]"


@dataclass
class FeedbackReport:
    assignment: str
    files: list[Path] = field(default_factory=list)
    hidden_cells: int = 0
    released: dict[str, list[Path]] = field(default_factory=dict)
    """With ``release=True``: student → the feedback files in their own exchange folder."""


def _make_preprocessor() -> Any:
    from nbformat import v4
    from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
    from traitlets import Bool

    class HideHiddenTests(NbGraderPreprocessor):
        show_messages = Bool(
            False, help="Show the error message (not the code) of a failed hidden test."
        ).tag(config=True)

        def preprocess(self, nb: Any, resources: Any) -> tuple[Any, Any]:
            clearer = ClearHiddenTests(parent=self)
            hidden_lines: set[str] = set()
            count = 0
            for cell in nb.cells:
                original = cell.source
                if clearer.begin_test_delimeter not in original:
                    continue
                removed = clearer._remove_hidden_test_region(cell)
                if not removed:
                    continue
                count += 1
                kept = set(cell.source.splitlines())
                hidden_lines |= {ln.strip() for ln in original.splitlines()
                                 if ln not in kept and len(ln.strip()) > 3}
                if cell.cell_type == "code":
                    cell.outputs = [self._summary(cell)]
            for cell in nb.cells:
                for out in cell.get("outputs", []):
                    if out.get("output_type") == "error" and hidden_lines:
                        out["traceback"] = [self._scrub(line, hidden_lines) for line in out.get("traceback", [])]
            resources.setdefault("coursebench", {})["hidden_cells"] = count
            return nb, resources

        def _summary(self, cell: Any) -> Any:
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            stderr = [o for o in cell.get("outputs", []) if o.get("output_type") == "stream" and o.get("name") == "stderr"]
            if not errors and not stderr:
                return v4.new_output("stream", name="stdout", text="The hidden tests in this cell passed.\n")
            detail = ""
            if self.show_messages and errors:
                e = errors[0]
                detail = f"{e.get('ename')}: {e.get('evalue')}" if e.get("evalue") else str(e.get("ename"))
            elif self.show_messages and stderr:
                detail = str(stderr[0].get("text", "")).strip()[:500]
            text = "A hidden test in this cell failed" + (f": {detail}" if detail else ".")
            return v4.new_output("error", ename="HiddenTestFailed", evalue=detail or "a hidden test failed",
                                 traceback=[text])

        @staticmethod
        def _scrub(line: str, hidden: set[str]) -> str:
            plain = _ANSI.sub("", line)
            if any(h in plain for h in hidden):
                return "\n".join(HIDDEN_LINE if any(h in _ANSI.sub("", part) for h in hidden) else part
                                 for part in line.split("\n"))
            return line

    return HideHiddenTests


def feedback(
    assignment: str,
    *,
    course_dir: str | os.PathLike | CourseDir | None = None,
    student: str = "*",
    force: bool = False,
    show_hidden_messages: bool | None = None,
    release: bool = False,
    exchange: str | os.PathLike | None = None,
) -> FeedbackReport:
    """Write ``feedback/<student>/<assignment>/<notebook>.html`` for graded submissions;
    with ``release``, publish it through the exchange (nbgrader release_feedback, then
    each student's files into their own feedback folder) for students' ``fetch_feedback``."""
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.converters import GenerateFeedback
    from nbgrader.converters.base import NbGraderException
    from nbgrader.preprocessors import GetGrades
    from traitlets import List

    cd = course_dir if isinstance(course_dir, CourseDir) else open_course_dir(course_dir)
    cd.check_assignment(assignment)
    hide = _make_preprocessor()
    default = [GetGrades, CSSHTMLHeaderPreprocessor]  # GenerateFeedback's own list

    class SafeFeedback(GenerateFeedback):
        preprocessors = List([hide, *default]).tag(config=True)

    config = cd.config.copy()
    if show_hidden_messages is not None:
        config.HideHiddenTests.show_messages = show_hidden_messages
    coursedir = cd.coursedir(assignment, student)
    graded = sorted(cd.step_dir("autograded").glob(f"{student}/{assignment}"))
    if not graded:
        raise GradingError("nothing autograded yet", assignment=assignment,
                           hint=f"run: coursebench grade autograde {assignment}")
    with nbgrader_environment(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="nbgrader")
        converter = SafeFeedback(coursedir=coursedir, config=config)
        converter.force = force
        if hide not in converter.preprocessors:  # a config that replaced the list keeps it
            converter.preprocessors = [hide, *converter.preprocessors]
        import logging

        converter.log = logging.getLogger("coursebench.grading.nbgrader")
        try:
            converter.start()
        except NbGraderException as exc:
            raise GradingError(f"nbgrader generate_feedback failed: {exc}", assignment=assignment) from None
    files = sorted(cd.step_dir("feedback").glob(f"{student}/{assignment}/*.html"))
    report = FeedbackReport(assignment, files)
    if release:
        report.released = release_feedback(cd, assignment, student=student, exchange=exchange)
    return report


def release_feedback(cd: CourseDir, assignment: str, *, student: str = "*",
                     exchange: str | os.PathLike | None = None) -> dict[str, list[Path]]:
    """nbgrader release_feedback into the exchange, then each student's own copy
    (:func:`coursebench.grading.exchange_gather.distribute_feedback`)."""
    from .exchange import Exchange
    from .exchange_gather import distribute_feedback
    from .release import _api, _check

    with nbgrader_environment(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="nbgrader")
        api = _api(cd, assignment, exchange)
        _check(api.release_feedback(assignment, student_id=None if student == "*" else student),
               "release_feedback", assignment)
    return distribute_feedback(Exchange.for_course(cd, exchange), cd, assignment, student)
