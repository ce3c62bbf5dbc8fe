"""An nbgrader course directory, opened the way nbgrader opens it.

>>> from coursebench.grading.course import open_course_dir
>>> cd = open_course_dir("assignments")        # reads assignments/nbgrader_config.py
>>> with cd.gradebook() as gb:
...     [a.name for a in gb.assignments]

nbgrader imports are done inside functions: importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Course, load_course
from .errors import CourseDirError, UnknownAssignment

CONFIG_NAMES = ("nbgrader_config.py", "nbgrader_config.json")


@contextlib.contextmanager
def nbgrader_environment() -> Iterator[None]:
    """nbgrader runs the ``alembic`` executable from PATH when it creates or upgrades a
    gradebook: put this environment's bin directory first on PATH while nbgrader works."""
    bindir = str(Path(sys.executable).parent)
    old = os.environ.get("PATH", "")
    if old.split(os.pathsep)[:1] == [bindir]:
        yield
        return
    os.environ["PATH"] = bindir + (os.pathsep + old if old else "")
    try:
        yield
    finally:
        os.environ["PATH"] = old


@contextlib.contextmanager
def shared_gradebook_engines() -> Iterator[None]:
    """Let nbgrader's gradebooks share one SQLAlchemy engine per database URL.

    nbgrader opens a new ``Gradebook`` for every step of every notebook (about 16 per
    two-notebook submission): each one a new engine, whose statement cache starts empty
    so every query is compiled again, plus a table inspection and ``create_all``.  That
    host work competes with the sandboxes for the CPUs.  Inside this block the engines
    are shared (their pools and compiled-statement caches) and ``create_all`` runs once
    per engine; the SQL each gradebook sends, and so the gradebook's contents, are the
    same.  Everything is restored on exit and the shared engines are disposed of.
    """
    import nbgrader.api as api

    if getattr(api.create_engine, "_coursebench_shared", False):
        yield  # already inside such a block
        return
    real_create_engine = api.create_engine
    metadata = api.Base.metadata
    real_create_all = metadata.create_all
    engines: dict[tuple[str, str], Any] = {}
    ready: set[int] = set()
    lock = threading.Lock()

    def create_engine(url: Any, *args: Any, **kwargs: Any) -> Any:
        key = (str(url), repr((args, sorted(kwargs.items()))))
        with lock:
            if key not in engines:
                engines[key] = real_create_engine(url, *args, **kwargs)
            return engines[key]

    create_engine._coursebench_shared = True  # type: ignore[attr-defined]

    def create_all(bind: Any = None, **kwargs: Any) -> None:
        if id(bind) in ready:  # a shared engine (they live until the block ends: ids stay theirs)
            return
        real_create_all(bind=bind, **kwargs)
        if any(bind is e for e in engines.values()):
            ready.add(id(bind))

    api.create_engine = create_engine
    metadata.create_all = create_all  # type: ignore[method-assign]
    try:
        yield
    finally:
        api.create_engine = real_create_engine
        del metadata.create_all  # the class's method again
        for engine in engines.values():
            engine.dispose()


@dataclass
class CourseDir:
    """An nbgrader course directory with its config, and course.toml where there is one."""

    root: Path
    config: Any
    """A ``traitlets.config.Config`` read from the directory's ``nbgrader_config.py``."""
    course: Course | None = None
    """course.toml when this directory is the course's own ``assignments/``."""
    extra: dict[str, Any] = field(default_factory=dict)

    def coursedir(self, assignment: str = "", student: str = "*", notebook: str = "*") -> Any:
        from nbgrader.coursedir import CourseDirectory

        cd = CourseDirectory(config=self.config, root=str(self.root))
        cd.assignment_id = assignment
        cd.student_id = student
        cd.notebook_id = notebook
        return cd

    @property
    def db_url(self) -> str:
        return str(self.coursedir().db_url)

    @property
    def course_id(self) -> str:
        return str(self.coursedir().course_id)

    @contextlib.contextmanager
    def gradebook(self) -> Iterator[Any]:
        """nbgrader's Gradebook (created, with alembic on PATH, on first use)."""
        from nbgrader.api import Gradebook

        with nbgrader_environment(), Gradebook(self.db_url, self.course_id) as gb:
            yield gb

    def step_dir(self, step: str, student: str = ".", assignment: str = ".") -> Path:
        """``submitted``/``autograded``/... directory of one student's assignment."""
        cd = self.coursedir()
        name = {
            "source": cd.source_directory,
            "release": cd.release_directory,
            "submitted": cd.submitted_directory,
            "autograded": cd.autograded_directory,
            "feedback": cd.feedback_directory,
        }[step]
        return Path(cd.format_path(name, student, assignment))

    def source_notebooks(self, assignment: str) -> list[str]:
        """Notebook names (without .ipynb) of the source version of ``assignment``."""
        src = self.step_dir("source", ".", assignment)
        return sorted(p.stem for p in src.glob("*.ipynb"))

    def assignment_notebooks(self, assignment: str) -> list[str]:
        """The notebooks nbgrader grades for ``assignment`` (from the gradebook)."""
        from nbgrader.api import MissingEntry

        with self.gradebook() as gb:
            try:
                return sorted(nb.name for nb in gb.find_assignment(assignment).notebooks)
            except MissingEntry:
                raise UnknownAssignment(
                    "not in the gradebook",
                    assignment=assignment,
                    path=self.db_url,
                    hint=f"release it first: coursebench grade release {assignment}",
                ) from None

    def check_assignment(self, assignment: str) -> None:
        if not self.step_dir("source", ".", assignment).is_dir():
            known = sorted(p.name for p in self.step_dir("source").glob("*") if p.is_dir())
            raise UnknownAssignment(
                "no such assignment in the course's source directory",
                assignment=assignment,
                path=str(self.step_dir("source")),
                hint=f"known assignments: {', '.join(known) or '(none)'}",
            )

    # --- course.toml → gradebook -------------------------------------------------

    def due_date(self, assignment: str) -> dt.datetime | None:
        if self.course is None:
            return None
        for a in self.course.assignments:
            if a.name == assignment:
                return a.due
        return None

    def sync_gradebook(self, assignment: str | None = None) -> None:
        """Students (ids, names, emails) and due dates from course.toml into the gradebook,
        so formgrader shows names and nbgrader computes lateness against the syllabus."""
        if self.course is None:
            return
        with self.gradebook() as gb:
            for s in self.course.students:
                first, _, last = s.name.partition(" ")
                gb.update_or_create_student(s.id, first_name=first or None, last_name=last or None,
                                            email=s.email or None)
            for a in self.course.assignments:
                if assignment is not None and a.name != assignment:
                    continue
                if a.kind == "competition":
                    continue
                if a.due is not None and (assignment is not None or _exists(gb, a.name)):
                    due = a.due.astimezone(dt.timezone.utc).replace(tzinfo=None)
                    gb.update_or_create_assignment(a.name, duedate=due)


def _exists(gb: Any, name: str) -> bool:
    from nbgrader.api import MissingEntry

    try:
        gb.find_assignment(name)
        return True
    except MissingEntry:
        return False


def load_nbgrader_config(root: Path) -> Any:
    """The directory's ``nbgrader_config.py`` (or ``.json``) as a traitlets Config."""
    from traitlets.config import Config
    from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

    config = Config()
    for name in CONFIG_NAMES:
        if not (root / name).is_file():
            continue
        loader_cls = PyFileConfigLoader if name.endswith(".py") else JSONFileConfigLoader
        try:
            config.merge(loader_cls(name, path=str(root)).load_config())
        except Exception as exc:
            raise CourseDirError(
                f"cannot read the nbgrader config: {type(exc).__name__}: {exc}",
                path=str(root / name),
                hint="fix the file (it is Python run by traitlets), or remove it to use defaults",
            ) from None
    return config


def open_course_dir(course_dir: str | os.PathLike | None = None, *, course: Course | None = None) -> CourseDir:
    """Open an nbgrader course directory; by default the course's ``assignments/``.

    course.toml (found from the current directory upwards) supplies the roster, due
    dates and late policy when the directory is that course's own ``assignments/``.
    """
    if course is None:
        try:
            course = load_course()
        except Exception:
            course = None
    if course_dir is None:
        if course is None:
            raise CourseDirError("no course directory given and no course.toml found",
                                 hint="pass --course-dir DIR (an nbgrader course directory)")
        root = course.path("assignments")
    else:
        root = Path(course_dir).resolve()
    if not root.is_dir():
        raise CourseDirError("no such directory", path=str(root),
                             hint="pass --course-dir with an nbgrader course directory")
    has_config = any((root / n).is_file() for n in CONFIG_NAMES)
    if not has_config and not (root / "source").is_dir():
        raise CourseDirError(
            "not an nbgrader course directory (no nbgrader_config.py and no source/)",
            path=str(root),
            hint="create one with `nbgrader quickstart NAME` or point --course-dir at one",
        )
    own = course is not None and root == course.path("assignments")
    return CourseDir(root=root, config=load_nbgrader_config(root), course=course if own else None)
