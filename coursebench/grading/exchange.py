"""The nbgrader exchange for the course hub: one exchange volume, a private view per student.

nbgrader's default exchange is a directory every student can write to (root ``0o777``,
``inbound`` ``0o733``, released feedback in one folder under hashed names).  That is safe
only while every student is a different Unix user on one machine.  In the hub every
student's container runs as the same uid (1000), so ownership protects nothing there, and
a student who passes ``--student=someone_else`` submits in another student's name.

Here the exchange keeps nbgrader's layout on the instructor's side and gives each student
a **view** of it, made of mounts into that student's container only
(:func:`mounts_for`)::

    <root>/<course>/outbound/<assignment>/   nbgrader release_assignment writes it
    <root>/<course>/inbound/                 nbgrader collect reads it (the instructor's only)
    <root>/<course>/feedback/                nbgrader release_feedback writes it
    <root>/students/  (0o700)                per student, never shared:
        <student>/inbound/   (0o733)         mounted read-write at <view>/<course>/inbound
        <student>/feedback/  (0o755)         mounted read-only  at <view>/<course>/feedback
    <root>/student_nbgrader_config.py        mounted read-only at /etc/jupyter/nbgrader_config.py

and inside the student's container ``<view>`` (``/srv/nbgrader/exchange``) is a small
tmpfs (``0o1777``, as nbgrader wants its root) holding only those mounts and the shared
``outbound`` (read-only).  A student sees the released labs, their own submissions and
their own feedback: nothing of anyone else's.  The instructor's side moves submissions
from the per-student inboxes into nbgrader's inbound (:mod:`.exchange_gather`: the name
is the inbox's owner, whatever the submission claims; no links; bounded sizes; a
backdated timestamp is replaced by the time the files were written) and copies each
student's released feedback into that student's folder.

The volume can be any directory the Docker engine can bind: a local directory for one
host, an NFS (or other shared filesystem) mount at the same path on every Docker host for
several (docs/exchange.md).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import GradingError

if TYPE_CHECKING:
    from .course import CourseDir

#: Where the exchange appears inside a student's container (nbgrader's Exchange.root there).
CONTAINER_ROOT = "/srv/nbgrader/exchange"
#: Where the students' nbgrader configuration is mounted (on jupyter's config path).
CONFIG_TARGET = "/etc/jupyter/nbgrader_config.py"
#: nbgrader's default exchange root (used when the course's config sets none).
NBGRADER_DEFAULT_ROOT = "/usr/local/share/nbgrader/exchange"
STUDENTS = "students"
CONFIG_NAME = "student_nbgrader_config.py"
_STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")

ROOT_MODE = 0o1777  # nbgrader's own root mode (release_assignment sets 0o777), + sticky
STUDENTS_MODE = 0o700  # the instructor's only: no student, no other host user reads the inboxes
INBOX_MODE = 0o2733  # nbgrader's inbound: write + search, no listing; setgid as nbgrader
FEEDBACK_MODE = 0o755  # one student's own feedback, mounted read-only into that container


class ExchangeError(GradingError):
    """The exchange is missing, misconfigured, or a student's inbox holds something unsafe."""


@dataclass(frozen=True)
class MountSpec:
    """One mount of a student's view, independent of the container engine."""

    target: str
    source: Path | None = None
    """Host path for a bind mount; None for the tmpfs the view is made on."""
    read_only: bool = False
    mode: int | None = None
    """tmpfs mode."""
    size: int | None = None
    """tmpfs size in bytes."""

    @property
    def kind(self) -> str:
        return "tmpfs" if self.source is None else "bind"

    def docker(self) -> Any:
        """A ``docker.types.Mount`` (DockerSpawner's ``extra_host_config={"mounts": [...]}``)."""
        from docker.types import Mount

        if self.source is None:
            return Mount(self.target, None, type="tmpfs", tmpfs_size=self.size, tmpfs_mode=self.mode)
        return Mount(self.target, str(self.source), type="bind", read_only=self.read_only)


def check_student_id(student: str) -> str:
    """A student id usable as a folder name and an nbgrader submission prefix."""
    if not _STUDENT_ID.fullmatch(student) or "+" in student or ".." in student:
        raise ExchangeError(f"{student!r} cannot be a student id in the exchange (letters, digits, . _ @ -)",
                            student=student)
    return student


class Exchange:
    """The course's exchange volume: nbgrader's layout + a private inbox and feedback
    folder per student."""

    def __init__(self, root: str | os.PathLike, course_id: str) -> None:
        if not course_id:
            raise ExchangeError("the nbgrader exchange needs a course id",
                                hint="set c.CourseDirectory.course_id in nbgrader_config.py")
        self.root = Path(root).resolve()
        self.course_id = course_id

    @classmethod
    def for_course(cls, cd: CourseDir | None = None, root: str | os.PathLike | None = None) -> Exchange:
        """The exchange of a course directory: ``root``, else its ``c.Exchange.root``, else
        nbgrader's default."""
        from .course import open_course_dir

        cd = cd if cd is not None else open_course_dir()
        if root is None:
            configured = cd.config.Exchange.get("root") if "Exchange" in cd.config else None
            root = str(configured) if configured else NBGRADER_DEFAULT_ROOT
        return cls(root, cd.course_id)

    # ------------------------------------------------------------------ layout
    @property
    def course_path(self) -> Path:
        return self.root / self.course_id

    @property
    def outbound(self) -> Path:
        return self.course_path / "outbound"

    @property
    def inbound(self) -> Path:
        return self.course_path / "inbound"

    @property
    def feedback(self) -> Path:
        return self.course_path / "feedback"

    @property
    def students_path(self) -> Path:
        return self.root / STUDENTS

    def inbox(self, student: str) -> Path:
        return self.students_path / check_student_id(student) / "inbound"

    def feedback_box(self, student: str) -> Path:
        return self.students_path / check_student_id(student) / "feedback"

    def students(self) -> list[str]:
        """Students with a view (an inbox) in this exchange."""
        if not self.students_path.is_dir():
            return []
        return sorted(p.name for p in self.students_path.iterdir()
                      if p.is_dir() and not p.is_symlink() and _STUDENT_ID.fullmatch(p.name))

    # ------------------------------------------------------------------- setup
    def setup(self, students: list[str] | tuple[str, ...] = ()) -> None:
        """Create the layout with nbgrader's permissions (idempotent; the instructor runs it
        as the user who owns the exchange)."""
        _mkdir(self.root, ROOT_MODE)
        _mkdir(self.course_path, 0o755)
        _mkdir(self.outbound, 0o755)
        _mkdir(self.inbound, INBOX_MODE)
        _mkdir(self.feedback, 0o711)
        _mkdir(self.students_path, STUDENTS_MODE)
        for student in students:
            _mkdir(self.students_path / check_student_id(student), 0o700)
            _mkdir(self.inbox(student), INBOX_MODE)
            _mkdir(self.feedback_box(student), FEEDBACK_MODE)
        config = self.root / CONFIG_NAME
        text = student_config(self.course_id)
        if not config.is_file() or config.read_text() != text:
            tmp = config.with_name(config.name + ".tmp")
            tmp.write_text(text)
            tmp.chmod(0o644)
            os.replace(tmp, config)

    # ------------------------------------------------------------------ mounts
    def mounts(self, student: str, *, target: str = CONTAINER_ROOT,
               config_target: str | None = CONFIG_TARGET) -> list[MountSpec]:
        """The mounts that make ``student``'s view, parents first.  ``setup`` must have
        run for that student (the hub calls :func:`mounts_for`, which does it)."""
        inbox, box = self.inbox(student), self.feedback_box(student)
        for path in (inbox, box, self.outbound):
            if not path.is_dir():
                raise ExchangeError(f"{path} does not exist", student=student,
                                    hint="run Exchange.setup([...students]) (coursebench grade release does)")
        course = f"{target.rstrip('/')}/{self.course_id}"
        specs = [
            MountSpec(target, None, mode=ROOT_MODE, size=1024 * 1024),
            MountSpec(f"{course}/outbound", self.outbound, read_only=True),
            MountSpec(f"{course}/inbound", inbox, read_only=False),
            MountSpec(f"{course}/feedback", box, read_only=True),
        ]
        if config_target:
            specs.append(MountSpec(config_target, self.root / CONFIG_NAME, read_only=True))
        return specs


def student_config(course_id: str, root: str = CONTAINER_ROOT) -> str:
    """The nbgrader configuration of every student's server (mounted at :data:`CONFIG_TARGET`).

    The student id comes from ``JUPYTERHUB_USER`` (the hub sets it); it only names the
    submission — the instructor's side files every submission under the student whose
    inbox it is in, whatever it says."""
    return (
        "# nbgrader configuration of a student's server (written by coursebench.grading.exchange)\n"
        "import os\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {course_id!r}\n"
        f"c.Exchange.root = {root!r}\n"
        "c.Exchange.path_includes_course = False\n"
        "if os.environ.get('JUPYTERHUB_USER'):\n"
        "    c.CourseDirectory.student_id = os.environ['JUPYTERHUB_USER']\n"
    )


def mounts_for(student: str, *, course_dir: CourseDir | str | os.PathLike | None = None,
               exchange: str | os.PathLike | None = None) -> list[Any]:
    """``docker.types.Mount`` objects giving ``student``'s container their exchange view
    (created on first use) and the nbgrader config that points at it.

    For DockerSpawner: ``spawner.extra_host_config["mounts"] = mounts_for(user.name)``
    (with ``JUPYTERHUB_USER`` in the environment, as JupyterHub sets it)."""
    from .course import CourseDir, open_course_dir

    cd = course_dir if isinstance(course_dir, CourseDir) else open_course_dir(course_dir)
    ex = Exchange.for_course(cd, exchange)
    ex.setup([student])
    return [spec.docker() for spec in ex.mounts(student)]


def _mkdir(path: Path, mode: int) -> None:
    """Create ``path`` (a real directory, not a link) with exactly ``mode``."""
    if path.is_symlink():
        raise ExchangeError("the exchange must not contain symbolic links", path=str(path))
    if not path.is_dir():
        try:
            path.mkdir(parents=True)
        except PermissionError:
            raise ExchangeError("cannot create it: permission denied", path=str(path),
                                hint="create the exchange as the user who owns it (see docs/exchange.md)") from None
    if stat.S_IMODE(path.stat().st_mode) != mode:
        try:
            os.chmod(path, mode)  # mkdir's mode goes through the umask; setgid/sticky need chmod
        except PermissionError:
            raise ExchangeError(f"cannot set its mode to {oct(mode)}", path=str(path)) from None
