"""Autograding with nbgrader, executed in the sandbox, in parallel — and course grades.

nbgrader's course format, gradebook and formgrader stay; only how submissions execute
changes (:mod:`.autograde`).  Heavy libraries (nbgrader, matplotlib) are imported inside
functions, so importing this package is cheap.

>>> from coursebench.grading import autograde
>>> report = autograde("ps1", course_dir="course101", workers=2)
>>> [(r.student, r.score, r.status) for r in report.results]
"""

from .autograde import AutogradeReport, SubmissionResult, autograde
from .course import CourseDir, open_course_dir
from .errors import CollectError, CourseDirError, GradingError, ReportError, UnknownAssignment

__all__ = [
    "AutogradeReport",
    "CollectError",
    "CourseDir",
    "CourseDirError",
    "GradingError",
    "ReportError",
    "SubmissionResult",
    "UnknownAssignment",
    "autograde",
    "open_course_dir",
]
