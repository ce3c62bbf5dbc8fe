"""``coursebench grade release``: nbgrader's generate_assignment, then the exchange or a zip.

The student version is made by nbgrader itself (solutions and hidden tests removed,
checksums recorded in the gradebook).  It is then either published to the nbgrader
exchange (``nbgrader release_assignment``) or packed as a zip to upload to an LMS.
"""

from __future__ import annotations

import os
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .course import CourseDir, nbgrader_environment, open_course_dir
from .errors import GradingError


@dataclass
class ReleaseReport:
    assignment: str
    release_dir: Path
    notebooks: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    exchange: Path | None = None
    zip_path: Path | None = None
    log: str = ""


def _api(cd: CourseDir, assignment: str, exchange: str | os.PathLike | None) -> Any:
    from nbgrader.apps.api import NbGraderAPI

    config = cd.config.copy()
    if exchange is not None:
        config.Exchange.root = str(Path(exchange).resolve())
    coursedir = cd.coursedir(assignment)
    return NbGraderAPI(coursedir=coursedir, config=config)


def _check(result: dict, what: str, assignment: str) -> str:
    log = str(result.get("log", ""))
    if not result.get("success"):
        error = str(result.get("error", "")).strip().splitlines()
        tail = "\n".join(error[-6:] or log.strip().splitlines()[-6:])
        raise GradingError(f"nbgrader {what} failed:\n{tail}", assignment=assignment)
    return log


def release(
    assignment: str,
    *,
    course_dir: str | os.PathLike | CourseDir | None = None,
    zip_path: str | os.PathLike | None = None,
    exchange: str | os.PathLike | None = None,
    publish: bool = True,
    force: bool = False,
) -> ReleaseReport:
    """Generate the student version of ``assignment``; publish it (exchange) or zip it."""
    cd = course_dir if isinstance(course_dir, CourseDir) else open_course_dir(course_dir)
    cd.check_assignment(assignment)
    with nbgrader_environment(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="nbgrader")
        api = _api(cd, assignment, exchange)
        cwd = os.getcwd()
        os.chdir(cd.root)  # nbgrader resolves config paths (the header notebook) from here
        try:
            log = _check(api.generate_assignment(assignment, force=force, create=True), "generate_assignment",
                         assignment)
        finally:
            os.chdir(cwd)
        cd.sync_gradebook(assignment)
        release_dir = cd.step_dir("release", ".", assignment)
        report = ReleaseReport(assignment, release_dir, log=log)
        report.notebooks = sorted(p.name for p in release_dir.glob("*.ipynb"))
        report.files = sorted(str(p.relative_to(release_dir)) for p in release_dir.rglob("*") if p.is_file())
        if zip_path is not None:
            report.zip_path = make_zip(release_dir, Path(zip_path), assignment)
        elif publish:
            if not cd.course_id:
                raise GradingError(
                    "the nbgrader exchange needs a course id",
                    assignment=assignment,
                    hint="set c.CourseDirectory.course_id in nbgrader_config.py, or use --zip for an LMS",
                )
            from .exchange import Exchange

            # nbgrader's layout + a private inbox and feedback folder per student (exchange.py)
            roster = [s.id for s in cd.course.students] if cd.course is not None else []
            Exchange.for_course(cd, exchange).setup(roster)
            report.log += _check(api.release_assignment(assignment), "release_assignment", assignment)
            root = getattr(api, "exchange_root", None)
            report.exchange = Path(str(root)) if root else None
    return report


def make_zip(release_dir: Path, target: Path, assignment: str) -> Path:
    """``<assignment>/...`` in a zip, as students should unpack it."""
    if target.suffix != ".zip":
        target = target / f"{assignment}.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(release_dir.rglob("*")):
            if path.is_file() and ".ipynb_checkpoints" not in path.parts:
                zf.write(path, Path(assignment) / path.relative_to(release_dir))
    os.replace(tmp, target)
    return target
