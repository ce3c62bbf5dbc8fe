"""Fixtures for the assignment tests: a temporary nbgrader course directory holding this
course's labs and exam, each released with the real ``coursebench grade release`` code
(nbgrader's generate_assignment), and three submissions per assignment built from it:

- ``solved``: the released notebook with every solution cell and written answer taken from
  the source (the instructor's solution, markers removed);
- ``blank``: the released notebook handed in untouched;
- ``half``: the released notebook with the solution cells listed in ``students.toml``'s
  ``[NAME.half]`` filled in — from the source, or with the plausible mistake of
  ``[NAME.mistakes]`` for those it lists as wrong.

The assignments themselves are the nbgrader notebooks ``assignments/source/NAME/NAME.ipynb``
(built from ``assignments/_src/NAME.py`` by ``coursebench notebooks build``); points and
cell kinds are read from their nbgrader metadata.  ``students.toml`` adds only what a
notebook does not say: which solution cells each test cell needs and checks, and what the
half-right student writes.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = ROOT / "assignments"
STUDENTS_TOML = Path(__file__).with_name("students.toml")
STUDENTS = ("solved", "blank", "half")
NAMES: list[str] = [*sorted(p.stem for p in (ASSIGNMENTS / "_src").glob("lab*.py")), "final_exam"]
KERAS = {"lab09", "lab10", "lab11", "final_exam"}


@dataclass
class Cell:
    kind: str
    """``md`` / ``code`` (locked), ``solution``, ``test`` (autograded), ``prose`` (graded by hand)."""
    gid: str
    source: str
    points: float = 0.0
    needs: tuple[str, ...] = ()
    """Test cells: the solution cells that must be filled in for the test to run at all."""
    checks: tuple[str, ...] = ()
    """Test cells: those of ``needs`` whose correctness the test checks."""
    wrong: str | None = None
    """Solution cells: a plausible mistake (the whole cell as a student would write it)."""


@dataclass
class Spec:
    name: str
    cells: list[Cell]
    half_fill: list[str]
    half_wrong: list[str] = field(default_factory=list)

    @property
    def solutions(self) -> dict[str, Cell]:
        return {c.gid: c for c in self.cells if c.kind == "solution"}

    @property
    def tests(self) -> list[Cell]:
        return [c for c in self.cells if c.kind == "test"]

    @property
    def auto_points(self) -> float:
        return sum(c.points for c in self.tests)

    @property
    def manual_points(self) -> float:
        return sum(c.points for c in self.cells if c.kind == "prose")

    @property
    def total_points(self) -> float:
        return self.auto_points + self.manual_points

    def expected(self, filled: set[str] | list[str], wrong: set[str] | list[str] = ()) -> float:
        """Autograded points of a submission that fills in ``filled`` (the ones in ``wrong``
        with their plausible mistake): a test passes exactly when every solution cell it
        needs is filled in and none of those it checks is wrong."""
        return sum(t.points for t in self.tests if set(t.needs) <= set(filled) and not set(t.checks) & set(wrong))

    def half_expected(self) -> float:
        return self.expected(self.half_fill, self.half_wrong)


def target(name: str) -> Path:
    return ASSIGNMENTS / "source" / name / f"{name}.ipynb"


def _kind(cell: nbformat.NotebookNode) -> str:
    meta = cell.metadata["nbgrader"]
    if cell.cell_type == "markdown":
        return "prose" if meta["grade"] and meta["solution"] else "md"
    if meta["grade"]:
        return "test"
    return "solution" if meta["solution"] else "code"


def load_spec(name: str) -> Spec:
    """The assignment ``name`` as the tests see it: its notebook plus ``students.toml``."""
    data = tomllib.loads(STUDENTS_TOML.read_text(encoding="utf-8")).get(name)
    if data is None:
        raise ValueError(f"{STUDENTS_TOML.name} has no [{name}.tests] / [{name}.half]")
    tests, mistakes = data.get("tests", {}), data.get("mistakes", {})
    cells = []
    for cell in nbformat.read(target(name), as_version=4).cells:
        meta = cell.metadata["nbgrader"]
        c = Cell(_kind(cell), meta["grade_id"], cell.source, float(meta.get("points", 0)))
        if c.kind == "test":
            entry = tests.get(c.gid)
            if entry is None:
                raise ValueError(f"{name}/{c.gid}: say in {STUDENTS_TOML.name} [{name}.tests] which "
                                 "solution cells this test needs")
            needs, checks = (entry, entry) if isinstance(entry, list) else (entry["needs"], entry.get("checks", entry["needs"]))
            c.needs, c.checks = tuple(needs), tuple(checks)
        if c.kind == "solution":
            c.wrong = mistakes.get(c.gid)
        cells.append(c)
    spec = Spec(name, cells, list(data["half"]["fill"]), list(data["half"].get("wrong", [])))
    validate(spec, stale=(set(tests) - {t.gid for t in spec.tests}) | (set(mistakes) - set(spec.solutions)))
    return spec


def validate(spec: Spec, stale: set[str] = frozenset()) -> None:
    """Mistakes in ``students.toml`` that would make the grading tests prove nothing."""
    sols = spec.solutions
    if stale:
        raise ValueError(f"{spec.name}: {STUDENTS_TOML.name} names cells the notebook does not have: {sorted(stale)}")
    for c in spec.tests:
        where = f"{spec.name}/{c.gid}"
        if not c.needs:
            raise ValueError(f"{where}: a test that needs no solution would pass on a blank notebook")
        if unknown := set(c.needs) - set(sols):
            raise ValueError(f"{where}: needs unknown solution cells {sorted(unknown)}")
        if not set(c.checks) <= set(c.needs) or not c.checks:
            raise ValueError(f"{where}: checks must be a non-empty part of needs")
    for gid in [*spec.half_fill, *spec.half_wrong]:
        if gid not in sols:
            raise ValueError(f"{spec.name}: [half] names unknown solution cell {gid}")
    for gid in spec.half_wrong:
        if sols[gid].wrong is None:
            raise ValueError(f"{spec.name}/{gid}: [half] wants it wrong but [mistakes] has no {gid}")
    half = spec.half_expected()
    if not 0 < half < spec.auto_points:
        raise ValueError(f"{spec.name}: the half-right submission would score {half} of {spec.auto_points}")


def strip_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines()
                     if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)


def submission(spec: Spec, released: nbformat.NotebookNode, kind: str) -> nbformat.NotebookNode:
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
def specs() -> dict[str, Spec]:
    return {name: load_spec(name) for name in NAMES}


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
