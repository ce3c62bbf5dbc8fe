"""The forged-submission corpus (``tests/notebooks/forgeries/``) and the course it targets.

Each corpus file (``NAME.cells``: not a module, the cells of a notebook) is what a student would hand in: wrong answers plus one trick on the
kernel, written as cells of nbgrader's course101 ``ps1`` (``problem1``/``problem2``) or
of ``ps2``, a small assignment made here with ``nbgrader generate_assignment`` whose
tests use what real labs use (``abs``, ``isinstance``, ``math.isclose``, ``np.isclose``,
``numpy.testing.assert_allclose``, ``pandas.testing``, a helper from a locked cell, a
partial-credit cell).  A file is::

    # trick: what it does
    # assignment: ps1
    # expect: words the needs-review note must contain   (or "-": nothing to flag)
    # %% problem1/squares
    ...the student's code for that answer cell...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import factory
import nbformat
from nbformat import v4

CORPUS = Path(__file__).resolve().parents[1] / "notebooks" / "forgeries"

SETUP = """\
import math
import numpy as np
import pandas as pd
from numpy.testing import assert_allclose


def relative_error(a, b):
    return abs(a - b) / max(abs(a) + abs(b), 1e-12)"""

PS2 = [
    ("md", None, "# ps2: a few functions\n\nFill in the functions; the cells after each check them."),
    ("setup", "setup", SETUP),
    ("solution", "mean", "def mean(xs):\n    ### BEGIN SOLUTION\n    return sum(xs) / len(xs)\n    ### END SOLUTION"),
    ("test", "test_mean", "assert abs(mean([1, 2, 3]) - 2) < 1e-9"),
    ("test", "test_mean_close", "assert math.isclose(mean([2, 4]), 3)"),
    ("test", "test_mean_type", "assert isinstance(mean([1.0]), float)"),
    ("solution", "normalize", "def normalize(v):\n    ### BEGIN SOLUTION\n    v = np.asarray(v, dtype=float)\n"
                              "    return v / v.sum()\n    ### END SOLUTION"),
    ("test", "test_normalize", "assert_allclose(normalize([1, 1, 2]), [0.25, 0.25, 0.5])"),
    ("test", "test_normalize_sum", "assert np.isclose(normalize([3, 1]).sum(), 1.0)"),
    ("solution", "table", "def table(xs):\n    ### BEGIN SOLUTION\n"
                          "    return pd.DataFrame({'x': xs, 'sq': [x * x for x in xs]})\n    ### END SOLUTION"),
    ("test", "test_table", "pd.testing.assert_frame_equal(table([1, 2]), pd.DataFrame({'x': [1, 2], 'sq': [1, 4]}))"),
    ("solution", "estimate", "def estimate():\n    ### BEGIN SOLUTION\n    return 355 / 113\n    ### END SOLUTION"),
    ("test", "test_estimate", "assert relative_error(estimate(), math.pi) < 1e-6"),
    ("solution", "spread", "def spread(xs):\n    ### BEGIN SOLUTION\n    m = mean(xs)\n"
                           "    return (sum((x - m) ** 2 for x in xs) / len(xs)) ** 0.5\n    ### END SOLUTION"),
    ("test", "test_spread", "import statistics\nassert abs(spread([1, 2, 3, 4]) - statistics.pstdev([1, 2, 3, 4])) < 1e-9"),
    ("test2", "test_partial", "score = 0\nscore += 1 if mean([5]) == 5 else 0\n"
                              "score += 1 if normalize([1, 3]).tolist() == [0.25, 0.75] else 0\nscore"),
]


def make_ps2(root: Path) -> None:
    """Write ``source/ps2/ps2.ipynb`` and release it with nbgrader's own commands."""
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for kind, gid, source in PS2:
        if kind == "md":
            nb.cells.append(v4.new_markdown_cell(source))
            continue
        cell = v4.new_code_cell(source)
        meta = {"grade": kind.startswith("test"), "solution": kind == "solution", "locked": kind != "solution",
                "grade_id": gid, "schema_version": 3}
        if kind.startswith("test"):
            meta["points"] = 2 if kind == "test2" else 1
        cell.metadata["nbgrader"] = meta
        nb.cells.append(cell)
    (root / "source" / "ps2").mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, root / "source" / "ps2" / "ps2.ipynb")
    factory.nbgrader("db", "assignment", "add", "ps2", cwd=root)
    factory.nbgrader("generate_assignment", "ps2", "--force", cwd=root)


@dataclass
class Forgery:
    name: str
    trick: str
    assignment: str
    expect: list[str]
    cells: dict[str, dict[str, str]] = field(default_factory=dict)
    """notebook → grade_id → the student's source."""

    @property
    def flagged(self) -> bool:
        return self.expect != ["-"]

    def edits(self, root: Path) -> dict[str, factory.Edit | None]:
        notebooks = ["problem1", "problem2"] if self.assignment == "ps1" else ["ps2"]
        return {nb: (lambda gid, src, cells=self.cells.get(nb, {}): cells.get(gid)) for nb in notebooks}


def load_corpus() -> list[Forgery]:
    out = []
    for path in sorted(CORPUS.glob("*.cells")):
        head: dict[str, list[str]] = {}
        cells: dict[str, dict[str, str]] = {}
        current: list[str] | None = None
        for line in path.read_text().splitlines():
            if line.startswith("# %% "):
                notebook, gid = line[5:].strip().split("/")
                current = []
                cells.setdefault(notebook, {})[gid] = current  # type: ignore[assignment]
            elif current is not None:
                current.append(line)
            elif line.startswith("# ") and ":" in line:
                key, value = line[2:].split(":", 1)
                head.setdefault(key.strip(), []).append(value.strip())
        sources = {nb: {gid: "\n".join(lines).strip() + "\n" for gid, lines in c.items()} for nb, c in cells.items()}
        out.append(Forgery(path.stem, " ".join(head.get("trick", [])), head["assignment"][0],
                           head.get("expect", []), sources))
    return out


def blank(assignment: str) -> dict[str, factory.Edit | None]:
    return {"problem1": None, "problem2": None} if assignment == "ps1" else {"ps2": None}


def ps2_kinds(root: Path) -> dict[str, dict[str, factory.Edit | None]]:
    """Honest ps2 submissions: solved, blank, half (mean and normalize only)."""
    sol = factory.solutions(root, "ps2", "ps2")
    half = {k: v for k, v in sol.items() if k in ("mean", "normalize")}
    return {
        "ps2-solved": {"ps2": lambda gid, src: sol.get(gid)},
        "ps2-blank": {"ps2": None},
        "ps2-half": {"ps2": lambda gid, src: half.get(gid)},
    }
