"""Exceptions of coursebench.grading.  All derive from :class:`GradingError`.

Each carries structured fields (which course directory, assignment, student,
notebook, file) so the CLI can say what is wrong, where, and how to fix it.
"""

from __future__ import annotations

from ..errors import CoursebenchError


class GradingError(CoursebenchError):
    """Root of every error coursebench.grading raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        assignment: str | None = None,
        student: str | None = None,
        notebook: str | None = None,
        path: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.assignment, self.student, self.notebook = assignment, student, notebook
        self.path, self.hint, self.reason = path, hint, message
        where = ", ".join(
            part
            for part in (
                f"assignment {assignment!r}" if assignment else "",
                f"student {student!r}" if student else "",
                f"notebook {notebook!r}" if notebook else "",
                str(path) if path else "",
            )
            if part
        )
        text = f"{where}: {message}" if where else message
        super().__init__(text + (f" — {hint}" if hint else ""))


class CourseDirError(GradingError):
    """The nbgrader course directory is missing, incomplete or misconfigured."""


class UnknownAssignment(GradingError):
    """The assignment is not in the course's source/ directory or gradebook."""


class CollectError(GradingError):
    """A submission that cannot be collected (unknown student, duplicate, unreadable...)."""


class ReportError(GradingError):
    """Course grades cannot be computed from the inputs given (bad CSV, unknown column...)."""
