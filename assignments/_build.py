"""Generate the nbgrader source notebooks of the labs and the final exam.

    .venv/bin/python assignments/_build.py            # write assignments/source/<name>/<name>.ipynb
    .venv/bin/python assignments/_build.py --check    # exit 1 if a committed notebook is stale

Each assignment is a spec in ``assignments/_specs/<name>.py``: a list of cells made with the
helpers below, plus ``HALF`` — the "typical half-right submission" the tests grade (which
solution cells it fills correctly, which ones it gets plausibly wrong).  The committed
``.ipynb`` files are the product; this script only keeps them consistent (cell metadata,
ids, points) and lets the tests know which test cell depends on which solution cell.

Cell kinds (nbgrader metadata, schema version 3):

- ``md`` / ``code``: locked instruction or setup cells (students cannot change them);
- ``solution``: a code cell with ``### BEGIN SOLUTION`` / ``### END SOLUTION``;
  nbgrader replaces the region with ``raise NotImplementedError()`` in the student version;
- ``test``: an autograded, locked test cell with points; ``needs`` lists every solution
  cell whose correctness the test checks (transitively) — a test passes exactly when all of
  them are right, which is what the tests of this repository verify;
- ``prose``: a manually graded markdown answer (``grade`` + ``solution``); its source here
  is the model answer, which nbgrader replaces with "YOUR ANSWER HERE".
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import nbformat

HERE = Path(__file__).resolve().parent
SPECS = HERE / "_specs"
SOURCE = HERE / "source"
NAMES = [f"lab{i:02d}" for i in range(1, 12)] + ["final_exam"]

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


@dataclass
class Cell:
    kind: str
    gid: str
    source: str
    points: float = 0.0
    needs: tuple[str, ...] = ()
    """Test cells: the solution cells that must be filled in for the test to run at all."""
    checks: tuple[str, ...] = ()
    """Test cells: those of ``needs`` whose correctness the test checks (default: all of them)."""
    wrong: str | None = None
    """For solution cells: a plausible mistake (the whole cell as a student would write it)."""


def _text(s: str) -> str:
    return textwrap.dedent(s).strip("\n")


def md(gid: str, text: str) -> Cell:
    return Cell("md", gid, _text(text))


def code(gid: str, text: str) -> Cell:
    return Cell("code", gid, _text(text))


def solution(gid: str, text: str, wrong: str | None = None) -> Cell:
    return Cell("solution", gid, _text(text), wrong=_text(wrong) if wrong else None)


def test(gid: str, points: float, text: str, needs: tuple[str, ...] | list[str],
         checks: tuple[str, ...] | list[str] | None = None) -> Cell:
    return Cell("test", gid, _text(text), points=float(points), needs=tuple(needs),
                checks=tuple(needs if checks is None else checks))


def prose(gid: str, points: float, answer: str) -> Cell:
    return Cell("prose", gid, _text(answer), points=float(points))


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


_META = {
    "md": {"grade": False, "locked": True, "solution": False},
    "code": {"grade": False, "locked": True, "solution": False},
    "solution": {"grade": False, "locked": False, "solution": True},
    "test": {"grade": True, "locked": True, "solution": False},
    "prose": {"grade": True, "locked": False, "solution": True},
}


def load_spec(name: str) -> Spec:
    path = SPECS / f"{name}.py"
    module_name = f"_coursebench_assignment_spec_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    for folder in (str(SPECS), str(HERE)):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    spec.loader.exec_module(module)
    result = Spec(name, list(module.CELLS), list(module.HALF["fill"]), list(module.HALF.get("wrong", [])))
    validate(result)
    return result


def validate(spec: Spec) -> None:
    """Mistakes a spec can make that nbgrader would only notice late, or never."""
    seen: set[str] = set()
    sols = spec.solutions
    for c in spec.cells:
        where = f"{spec.name}/{c.gid}"
        if c.gid in seen:
            raise ValueError(f"{where}: duplicate grade_id")
        seen.add(c.gid)
        if c.kind == "solution" and not c.source.count(BEGIN) == c.source.count(END) >= 1:
            raise ValueError(f"{where}: a solution cell needs {BEGIN} / {END} pairs")
        if c.kind == "test":
            if not c.needs:
                raise ValueError(f"{where}: a test that needs no solution would pass on a blank notebook")
            if unknown := set(c.needs) - set(sols):
                raise ValueError(f"{where}: needs unknown solution cells {sorted(unknown)}")
            if c.source.count(HIDDEN_BEGIN) != c.source.count(HIDDEN_END):
                raise ValueError(f"{where}: unbalanced hidden-test markers")
            if not set(c.checks) <= set(c.needs) or not c.checks:
                raise ValueError(f"{where}: checks must be a non-empty part of needs")
            if c.points <= 0:
                raise ValueError(f"{where}: a test cell needs points")
    for gid in [*spec.half_fill, *spec.half_wrong]:
        if gid not in sols:
            raise ValueError(f"{spec.name}: HALF names unknown solution cell {gid}")
    for gid in spec.half_wrong:
        if sols[gid].wrong is None:
            raise ValueError(f"{spec.name}/{gid}: HALF wants it wrong but it has no `wrong` variant")
    half = spec.half_expected()
    if not 0 < half < spec.auto_points:
        raise ValueError(f"{spec.name}: the half-right submission would score {half} of {spec.auto_points}")


def notebook(spec: Spec) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for c in spec.cells:
        is_md = c.kind in ("md", "prose")
        cell = nbformat.v4.new_markdown_cell(c.source) if is_md else nbformat.v4.new_code_cell(c.source)
        cell.id = c.gid.replace("_", "-")
        meta = {**_META[c.kind], "grade_id": c.gid, "schema_version": 3, "task": False}
        if c.kind in ("test", "prose"):
            meta["points"] = c.points if c.points % 1 else int(c.points)
        cell.metadata = {"nbgrader": dict(sorted(meta.items()))}
        if c.kind in ("md", "code", "test"):
            cell.metadata["deletable"] = False
            cell.metadata["editable"] = False
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render(spec: Spec) -> str:
    return nbformat.writes(notebook(spec)) + "\n"


def target(name: str) -> Path:
    return SOURCE / name / f"{name}.ipynb"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=NAMES)
    parser.add_argument("--check", action="store_true", help="only check that the notebooks are up to date")
    args = parser.parse_args(argv)
    stale = []
    for name in args.names:
        spec = load_spec(name)
        text, path = render(spec), target(name)
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(str(path))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"{path.relative_to(HERE.parent)}: {spec.auto_points:g} autograded + "
              f"{spec.manual_points:g} manual points; half-right scores {spec.half_expected():g}")
    if stale:
        print("stale (run assignments/_build.py):\n  " + "\n  ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
