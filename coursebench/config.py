"""``course.toml`` → typed settings.  The one place for defaults.

>>> from coursebench.config import load_course
>>> course = load_course()             # ./course.toml, or the packaged defaults
>>> course.execution.limits().timeout
600.0
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any, Literal

import tomllib
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import CoursebenchError
from .execution.limits import Limits, parse_size
from .settings import COURSE_FILE, find_course_file, get_settings  # noqa: F401  (re-exported)


class ConfigError(CoursebenchError):
    """course.toml (or another config file) is missing or wrong; says where."""

    def __init__(self, message: str, *, path: str | os.PathLike | None = None, field: str | None = None):
        self.path, self.field = path, field
        where = f"{path}" + (f" [{field}]" if field else "") if path else ""
        super().__init__(f"{where}: {message}" if where else message)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CourseInfo(_Model):
    name: str = "Deep learning / cloud"
    code: str = "DLC"
    term: str = ""
    instructor: str = ""
    timezone: str = "Asia/Seoul"


class ExecutionSettings(_Model):
    """Defaults for every notebook run (overridable per assignment/competition/CLI)."""

    backend: str = "auto"
    trusted_notebooks: bool = Field(False, description="allow backend = subprocess (no isolation): "
                                    "only for notebooks you wrote, never for students' work")
    workers: int = Field(0, ge=0, description="0: one per CPU core")
    timeout: float = Field(600.0, gt=0)
    cell_timeout: float | None = Field(None, gt=0)
    memory: str | int | None = "2G"
    cpus: float | None = Field(1.0, gt=0)
    gpus: int = Field(0, ge=0)
    pids: int | None = Field(256, ge=16)
    output: str | int | None = "10M"
    image: str = "coursebench-runtime:latest"
    gpu_image: str = "coursebench-gpu:latest"
    warm: bool = Field(True, description="fork each notebook's kernel from a pre-imported template "
                       "in its sandbox (docs/warm.md)")
    preimport: list[str] = Field(default_factory=lambda: ["numpy", "pandas", "sklearn", "matplotlib",
                                                          "matplotlib.pyplot"],
                                 description="what the warm template imports once per sandbox")

    @field_validator("memory", "output")
    @classmethod
    def _size(cls, value: Any) -> Any:
        parse_size(value)
        return value

    def limits(self, **overrides: Any) -> Limits:
        values = {
            "timeout": self.timeout,
            "cell_timeout": self.cell_timeout,
            "memory": self.memory,
            "cpus": self.cpus,
            "gpus": self.gpus,
            "pids": self.pids,
            "output": self.output,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return Limits(**values)


class Student(_Model):
    id: str
    name: str = ""
    email: str = ""
    aliases: list[str] = Field(default_factory=list, description="other names an LMS may use")
    gpu: bool = Field(False, description="the course hub gives this student's server a GPU (docs/hub.md)")

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not value or any(c in value for c in "/\\ \t\n") or value.startswith("."):
            raise ValueError(f"student id {value!r} must be a plain name (no spaces or slashes)")
        return value


class LatePolicy(_Model):
    grace_minutes: float = Field(0, ge=0)
    penalty_per_day: float = Field(0.1, ge=0, le=1, description="fraction of the points per late day")
    max_late_days: float = Field(7, ge=0, description="after this, the submission scores 0")


class Assignment(_Model):
    name: str
    kind: Literal["lab", "exam", "competition"] = "lab"
    category: str = "labs"
    points: float | None = Field(None, gt=0, description="None: the points nbgrader's source defines")
    due: dt.datetime | None = None
    late_policy: LatePolicy | None = None
    timeout: float | None = Field(None, gt=0)
    memory: str | int | None = None
    gpus: int | None = Field(None, ge=0)

    @field_validator("due")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give due dates with a timezone, e.g. 2026-03-10T23:59:00+09:00")
        return value


class ScoreMapping(_Model):
    """Private-leaderboard score → points: linear between ``zero_at`` and ``full_at``
    (either direction), clipped to [0, points]; or by rank with ``by_rank``."""

    points: float = Field(100, gt=0)
    zero_at: float | None = None
    full_at: float | None = None
    by_rank: list[float] = Field(default_factory=list, description="points for rank 1, 2, ...")
    floor: float = Field(0, ge=0, description="points for any valid final submission")

    @model_validator(mode="after")
    def _one_way(self) -> ScoreMapping:
        if not self.by_rank and (self.zero_at is None or self.full_at is None):
            raise ValueError("set zero_at and full_at (score range) or by_rank")
        if self.zero_at is not None and self.zero_at == self.full_at:
            raise ValueError("zero_at and full_at must differ")
        return self

    def points_for(self, score: float | None, rank: int | None = None) -> float:
        if score is None:
            return 0.0
        if self.by_rank and rank is not None:
            value = self.by_rank[rank - 1] if rank <= len(self.by_rank) else self.by_rank[-1]
        else:
            assert self.zero_at is not None and self.full_at is not None
            frac = (score - self.zero_at) / (self.full_at - self.zero_at)
            value = self.points * min(1.0, max(0.0, frac))
        return max(self.floor, min(self.points, value))


class CompetitionRef(_Model):
    slug: str
    category: str = "midterm"
    mapping: ScoreMapping | None = None


class Grades(_Model):
    """Category weights (fractions summing to 1) and how categories are filled."""

    weights: dict[str, float] = Field(
        default_factory=lambda: {"labs": 0.20, "midterm": 0.35, "final": 0.35, "attendance": 0.10}
    )
    attendance_csv: str = "attendance.csv"
    letter_cutoffs: dict[str, float] = Field(
        default_factory=lambda: {"A+": 95, "A": 90, "B+": 85, "B": 80, "C+": 75, "C": 70, "D+": 65, "D": 60, "F": 0}
    )

    @field_validator("weights")
    @classmethod
    def _sum(cls, value: dict[str, float]) -> dict[str, float]:
        total = sum(value.values())
        if value and abs(total - 1.0) > 1e-6:
            raise ValueError(f"grade weights must add up to 1 (they add up to {total:g})")
        if any(w < 0 for w in value.values()):
            raise ValueError("grade weights cannot be negative")
        return value


class Course(_Model):
    course: CourseInfo = Field(default_factory=CourseInfo)
    execution: ExecutionSettings = Field(default_factory=ExecutionSettings)
    late_policy: LatePolicy = Field(default_factory=LatePolicy)
    grades: Grades = Field(default_factory=Grades)
    students: list[Student] = Field(default_factory=list)
    assignments: list[Assignment] = Field(default_factory=list)
    competitions: list[CompetitionRef] = Field(default_factory=list)
    hub: dict[str, Any] = Field(default_factory=dict, description="[hub]: read by coursebench.hub.course")
    paths: dict[str, str] = Field(
        default_factory=lambda: {
            "assignments": "assignments",
            "competitions": "competitions",
            "lectures": "lectures",
            "build": "build",
        }
    )
    root: Path = Field(default=Path("."), exclude=True)

    @model_validator(mode="after")
    def _unique(self) -> Course:
        for label, items in (("student id", [s.id for s in self.students]),
                             ("assignment", [a.name for a in self.assignments]),
                             ("competition", [c.slug for c in self.competitions])):
            seen: set[str] = set()
            for item in items:
                if item in seen:
                    raise ValueError(f"{label} {item!r} appears twice")
                seen.add(item)
        return self

    def path(self, key: str) -> Path:
        return (self.root / self.paths[key]).resolve()

    def student(self, key: str) -> Student | None:
        """Find a student by id or alias (case-insensitive)."""
        wanted = key.strip().lower()
        for s in self.students:
            if s.id.lower() == wanted or wanted in (a.lower() for a in s.aliases):
                return s
        return None

    def assignment(self, name: str) -> Assignment:
        for a in self.assignments:
            if a.name == name:
                return a
        known = ", ".join(a.name for a in self.assignments) or "(none)"
        raise ConfigError(f"no assignment {name!r} in course.toml; known: {known}")


def load_course(path: str | os.PathLike | None = None) -> Course:
    """Read ``course.toml``; with no file anywhere, the built-in defaults."""
    file = Path(path) if path else find_course_file()
    if file is None:
        return Course(root=Path.cwd())
    if not file.is_file():
        raise ConfigError("no such file", path=file)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=file) from None
    try:
        course = Course.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(first["msg"], path=file, field=field) from None
    course.root = file.parent.resolve()
    return course
