"""The ``[hub]`` table of course.toml, typed, and the roster as the hub's users.

>>> from coursebench.config import load_course
>>> from coursebench.hub.course import hub_settings
>>> hub = hub_settings(load_course())
>>> hub.port, hub.memory
(8000, '2G')
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..config import ConfigError, Course
from ..errors import CoursebenchError
from ..execution.limits import parse_size


class HubError(CoursebenchError):
    """The hub cannot do what was asked; the message says what to change."""


class HubSettings(BaseModel):
    """What course.toml's ``[hub]`` may say (every field has a default)."""

    model_config = ConfigDict(extra="forbid")

    image: str = Field("coursebench-lab:latest", description="the students' and instructors' image")
    gpu_image: str = Field("coursebench-gpu:latest", description="the image of a student granted a GPU")
    memory: str | int = Field("2G", description="memory limit of each student's container")
    cpus: float = Field(1.0, gt=0, description="CPUs of each student's container")
    pids: int = Field(512, ge=32, description="processes and threads in each student's container")
    idle_timeout: int = Field(3600, ge=60, description="seconds idle before the culler stops a server")
    host: str = Field("127.0.0.1", description="where the hub's proxy listens (loopback here)")
    port: int = Field(8000, ge=1, le=65535, description="the hub's public port")
    leaderboard_port: int = Field(8010, ge=1, le=65535, description="the leaderboard service's port")
    leaderboard_db: str | None = Field(None, description="the leaderboard's database URL (default: the course's)")
    state_dir: str = Field("build/hub", description="the hub's database, cookie secret, homes and logs")
    instructors: list[str] = Field(default_factory=lambda: ["instructor"],
                                   description="hub users who get the instructor server (formgrader)")
    single_user_ports: tuple[int, int] = Field((20000, 29999), description="loopback ports for servers")

    def mem_bytes(self) -> int:
        size = parse_size(self.memory)
        if size is None:
            raise HubError("[hub] memory must be a size such as 2G")
        return size


def hub_settings(course: Course) -> HubSettings:
    """course.toml's ``[hub]`` (or the defaults), validated; ConfigError names the field."""
    try:
        return HubSettings.model_validate(course.hub)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = "hub." + ".".join(str(p) for p in first["loc"])
        raise ConfigError(first["msg"], path=course.root / "course.toml", field=field) from None


def state_dir(course: Course, hub: HubSettings) -> Path:
    path = Path(hub.state_dir)
    return path if path.is_absolute() else course.root / path


def students(course: Course) -> list[str]:
    return [s.id for s in course.students]


def gpu_students(course: Course) -> list[str]:
    """The roster ids the instructor granted a GPU (``gpu = true`` in their [[students]] entry)."""
    return [s.id for s in course.students if s.gpu]


def allowed_users(course: Course, hub: HubSettings) -> list[str]:
    """Everyone who may log in: the roster and the instructors."""
    names = students(course) + [i for i in hub.instructors if i not in students(course)]
    for name in names:
        if name.lower() != name:
            raise HubError(f"hub user {name!r} must be lower case: JupyterHub normalises user names to it")
    return names
