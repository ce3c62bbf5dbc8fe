"""Late penalties from course.toml's ``[late_policy]`` as an nbgrader plugin.

nbgrader's ``AssignLatePenalties`` asks a ``LateSubmissionPlugin`` for the penalty; this
one applies the course's policy (grace minutes, a fraction of the score per started late
day, nothing after ``max_late_days``), per assignment when course.toml overrides it.
Enable it in ``nbgrader_config.py``::

    c.AssignLatePenalties.plugin_class = "coursebench.grading.late.CourseLatePolicy"

so that ``nbgrader autograde`` and ``coursebench grade autograde`` agree.
"""

from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin

from ..config import LatePolicy, load_course


def penalty(policy: LatePolicy, score: float, seconds_late: float) -> float:
    """Points taken off ``score`` for a submission ``seconds_late`` after the deadline."""
    minutes = seconds_late / 60 - policy.grace_minutes
    if minutes <= 0 or score <= 0:
        return 0.0
    days = math.ceil(minutes / (24 * 60))
    if days > policy.max_late_days:
        return float(score)
    return float(min(score, score * policy.penalty_per_day * days))


class CourseLatePolicy(LateSubmissionPlugin):
    """course.toml's late policy (the assignment's own one where it has one)."""

    def late_submission_penalty(self, student_id: str, score: float, total_seconds: float) -> float:
        course = load_course()
        policy = course.late_policy
        assignment = getattr(self.parent, "assignment_id", None)
        for a in course.assignments:
            if a.name == assignment and a.late_policy is not None:
                policy = a.late_policy
        value = penalty(policy, float(score or 0.0), float(total_seconds or 0.0))
        self.log.warning("late policy: %s is %.0f s late, penalty %.2f", student_id, total_seconds, value)
        return value
