"""The course as the syllabus defines it (seed 003): what course.toml must say."""

from __future__ import annotations

from pathlib import Path

import pytest

from coursebench.config import load_course

ROOT = Path(__file__).resolve().parents[1]


def test_syllabus_weights() -> None:
    """Weekly labs 20 %, midterm (the ML competition) 35 %, final 35 %, attendance 10 %."""
    course = load_course(ROOT / "course.toml")
    assert course.grades.weights == pytest.approx(
        {"labs": 0.20, "midterm": 0.35, "final": 0.35, "attendance": 0.10})
    kinds = {a.category for a in course.assignments}
    assert {"labs", "final"} <= kinds, "labs and the final exam are assignments"
    assert any(c.category == "midterm" for c in course.competitions), "the midterm is a competition"
