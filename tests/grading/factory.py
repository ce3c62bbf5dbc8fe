"""Build real nbgrader courses and submissions for the grading tests and benchmark.

``course101`` is nbgrader's own example course, made with ``nbgrader quickstart`` and
released with ``nbgrader generate_assignment ps1`` (the real commands).  Submissions are
the released notebooks with the student's cells filled in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat

BIN = Path(sys.executable).parent


def nbgrader(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run([str(BIN / "nbgrader"), *args], cwd=cwd, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def make_course101(parent: Path) -> Path:
    """``nbgrader quickstart course101`` + ``nbgrader generate_assignment ps1``."""
    nbgrader("quickstart", "course101", cwd=parent)
    root = parent / "course101"
    nbgrader("generate_assignment", "ps1", cwd=root)
    return root


def solutions(root: Path, assignment: str, notebook: str) -> dict[str, str]:
    """grade_id → the source (instructor) version of every solution cell, markers removed."""
    nb = nbformat.read(root / "source" / assignment / f"{notebook}.ipynb", as_version=4)
    out = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            out[meta["grade_id"]] = "\n".join(
                line for line in cell.source.splitlines()
                if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line
            )
    return out


def released(root: Path, assignment: str, notebook: str) -> nbformat.NotebookNode:
    return nbformat.read(root / "release" / assignment / f"{notebook}.ipynb", as_version=4)


Edit = Callable[[str, str], "str | None"]
"""(grade_id, released source) → the student's source (None: keep the released one)."""


def submit(root: Path, student: str, assignment: str, edits: dict[str, Edit | None],
           timestamp: str | None = "2026-01-10 10:00:00.000000 UTC") -> Path:
    """Write ``submitted/<student>/<assignment>/``: each released notebook, edited by
    ``edits[notebook]`` (None: hand it in blank); the assignment's other files too."""
    dest = root / "submitted" / student / assignment
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for src in (root / "release" / assignment).iterdir():
        if src.suffix != ".ipynb":
            shutil.copy(src, dest / src.name)
    for notebook, edit in edits.items():
        nb = released(root, assignment, notebook)
        if edit is not None:
            for cell in nb.cells:
                gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                new = edit(gid, cell.source) if gid else None
                if new is not None:
                    cell.source = new
        nbformat.write(nb, dest / f"{notebook}.ipynb")
    if timestamp:
        (dest / "timestamp.txt").write_text(timestamp)
    return dest


def solved(root: Path, assignment: str, notebook: str) -> Edit:
    sol = solutions(root, assignment, notebook)
    return lambda gid, src: sol.get(gid)


def with_changes(root: Path, assignment: str, notebook: str, changes: dict[str, str]) -> Edit:
    """The solved notebook, with some cells replaced by ``changes[grade_id]``."""
    sol = {**solutions(root, assignment, notebook), **changes}
    return lambda gid, src: sol.get(gid)


# --- the four kinds of ps1 submission the equality test uses -------------------------

def ps1_kinds(root: Path) -> dict[str, dict[str, Edit | None]]:
    return {
        "solved": {"problem1": solved(root, "ps1", "problem1"), "problem2": solved(root, "ps1", "problem2")},
        "blank": {"problem1": None, "problem2": None},
        "partial": {
            "problem1": with_changes(root, "ps1", "problem1", {
                "sum_of_squares": "def sum_of_squares(n):\n    return sum(i * i for i in range(1, n + 1))",
                "squares": "def squares(n):\n    return [i ** 2 for i in range(1, n + 1)]",
            }),
            "problem2": solved(root, "ps1", "problem2"),
        },
        "broken": {
            "problem1": with_changes(root, "ps1", "problem1", {
                "squares": "def squares(n)\n    return [i ** 2 for i in range(1, n + 1)]",
                "sum_of_squares": "import sys\nprint('warning', file=sys.stderr)\ndef sum_of_squares(n):\n    raise RuntimeError('oops')",
            }),
            "problem2": None,
        },
    }
