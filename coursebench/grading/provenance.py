"""Where each grade came from: the sandbox a submission was graded in.

``autograde`` writes one small record per graded submission, next to its private work
folders: ``autograded/.coursebench/runs/<assignment>/<student>.json`` with the backend
and whether it isolated the notebooks.  The gradebook has no place for it, and the
``autograded/<student>/`` folder is copied into students' feedback, so it lives apart.
``grade report`` reads the records to mark every grade that came from a run without a
sandbox ("not sandboxed": the ``subprocess`` backend, for trusted notebooks only);
regrading a submission in a sandbox replaces its record.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .course import CourseDir

PRIVATE = ".coursebench"


@dataclass(frozen=True)
class RunRecord:
    student: str
    assignment: str
    backend: str
    sandboxed: bool


def _folder(cd: CourseDir, assignment: str) -> Path:
    return cd.step_dir("autograded") / PRIVATE / "runs" / assignment


def record(cd: CourseDir, run: RunRecord) -> Path:
    """Write (atomically) how ``run.student``'s ``run.assignment`` was graded."""
    folder = _folder(cd, run.assignment)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{run.student}.json"
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps({"backend": run.backend, "sandboxed": run.sandboxed}))
    os.replace(tmp, path)
    return path


def records(cd: CourseDir, assignment: str) -> dict[str, RunRecord]:
    """student → how their ``assignment`` was last graded (those with a record)."""
    out: dict[str, RunRecord] = {}
    for path in sorted(_folder(cd, assignment).glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        out[path.stem] = RunRecord(path.stem, assignment, str(data.get("backend", "")),
                                   bool(data.get("sandboxed", True)))
    return out


def not_sandboxed(cd: CourseDir, assignment: str) -> set[str]:
    """The students whose grade for ``assignment`` comes from a run without a sandbox."""
    return {s for s, r in records(cd, assignment).items() if not r.sandboxed}
