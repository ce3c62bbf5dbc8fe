"""Fixtures for the assignment tests: a temporary nbgrader course directory holding this
course's labs and exam, each released with the real ``coursebench grade release`` code
(nbgrader's generate_assignment), and three submissions per assignment built from it:

- ``solved``: the released notebook with every solution cell and written answer taken from
  the source (the instructor's solution, markers removed);
- ``blank``: the released notebook handed in untouched;
- ``half``: the released notebook with the solution cells the spec's ``HALF`` lists filled in
  — from the source, or with the spec's plausible mistake for those it lists as wrong.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = ROOT / "assignments"
STUDENTS = ("solved", "blank", "half")


def load_build() -> ModuleType:
    """``assignments/_build.py`` (the specs: points, which test needs which solution)."""
    name = "_coursebench_assignments_build"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ASSIGNMENTS / "_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


build = load_build()
NAMES: list[str] = list(build.NAMES)
KERAS = {"lab09", "lab10", "lab11", "final_exam"}


def strip_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines()
                     if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)


def submission(spec, released: nbformat.NotebookNode, kind: str) -> nbformat.NotebookNode:
    """One of the three submissions of ``spec``'s assignment (see the module docstring)."""
    nb = nbformat.from_dict(released)
    cells = {c.gid: c for c in spec.cells}
    right = set(spec.half_fill) - set(spec.half_wrong)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        c = cells.get(gid)
        if c is None or c.kind not in ("solution", "prose") or kind == "blank":
            continue
        if kind == "solved":
            cell.source = strip_markers(c.source)
        elif c.kind == "solution" and gid in right:
            cell.source = strip_markers(c.source)
        elif c.kind == "solution" and gid in spec.half_wrong:
            cell.source = c.wrong
    return nb


@pytest.fixture(scope="session")
def specs() -> dict:
    return {name: build.load_spec(name) for name in NAMES}


@pytest.fixture(scope="session")
def course(tmp_path_factory: pytest.TempPathFactory, specs: dict) -> Path:
    """A course directory with every assignment released and three submissions each."""
    pytest.importorskip("nbgrader")
    from coursebench.grading.release import release

    root = tmp_path_factory.mktemp("assignments-course") / "course"
    root.mkdir()
    shutil.copy(ASSIGNMENTS / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(ASSIGNMENTS / "source", root / "source")
    for name in NAMES:
        release(name, course_dir=root, publish=False)
        released = nbformat.read(root / "release" / name / f"{name}.ipynb", as_version=4)
        for kind in STUDENTS:
            dest = root / "submitted" / kind / name
            dest.mkdir(parents=True)
            for extra in (root / "release" / name).iterdir():
                if extra.suffix != ".ipynb":
                    shutil.copy(extra, dest / extra.name)
            nbformat.write(submission(specs[name], released, kind), dest / f"{name}.ipynb")
    return root
