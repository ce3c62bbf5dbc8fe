"""`coursebench notebooks build [--check]`: every notebook we author is built from its jupytext
source, CI fails naming the committed notebooks that differ from their sources, and a source
with broken nbgrader metadata is refused before nbgrader would trip over it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from coursebench.notebooks import KERNELSPEC, NotebookSourceError, build, discover, read_source

ROOT = Path(__file__).resolve().parents[2]
# A small course tree: two lectures and the index, one lab, one competition baseline.
SUBSET = [
    "lectures/_src/00_introduction_setup.py", "lectures/00_introduction_setup.ipynb",
    "lectures/_src/03_regression.py", "lectures/03_regression.ipynb",
    "lectures/_src/index.py", "lectures/index.ipynb",
    "assignments/_src/lab01.py", "assignments/source/lab01/lab01.ipynb",
    "competitions/wine-demo/_src/baseline.py", "competitions/wine-demo/baseline.ipynb",
    "docs/lectures.md",
]


def _cli(*args: str):
    from coursebench.cli import _register_subcommands, app

    _register_subcommands()
    return CliRunner().invoke(app, ["notebooks", "build", *args], terminal_width=200)


def test_the_committed_notebooks_are_their_sources_built() -> None:
    report = build(ROOT, check=True)
    assert report.ok, (
        "out of date — run `coursebench notebooks build` (make notebooks) and commit:\n  "
        + "\n  ".join(map(str, report.changed + report.orphans)))
    assert not report.changed and not report.orphans
    kinds = {p.parts[0] for p in report.files}
    assert kinds == {"lectures", "assignments", "competitions", "docs"}
    assert len(report.files) == len(discover(ROOT)) + 1 >= 13 + 1 + 12 + 4 + 1  # + docs/lectures.md


def test_one_cell_id_scheme_and_one_kernelspec() -> None:
    for source in discover(ROOT):
        nb = nbformat.read(source.target, as_version=4)
        assert nb.metadata["kernelspec"] == KERNELSPEC, source.target
        for i, cell in enumerate(nb.cells):
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            assert cell.id == (grade_id or f"{source.stem}-{i:03d}"), (source.target, i)
        assert all(not c.outputs and c.execution_count is None for c in nb.cells if c.cell_type == "code")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of part of the course, built (its lecture tables list only its two lectures)."""
    for rel in SUBSET:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    build(tmp_path)
    return tmp_path


def test_check_names_exactly_the_notebooks_that_differ(tree: Path) -> None:
    result = _cli("--check", "--root", str(tree))
    assert result.exit_code == 0 and "6 files up to date" in result.output, result.output
    lab = tree / "assignments/source/lab01/lab01.ipynb"
    nb = nbformat.read(lab, as_version=4)
    nb.cells[3].source += "\n# edited in the notebook instead of the source"
    nbformat.write(nb, lab)
    report = build(tree, check=True)
    assert not report.ok and report.changed == [Path("assignments/source/lab01/lab01.ipynb")]

    result = _cli("--check", "--root", str(tree))
    assert result.exit_code == 1
    assert "differs from its source: assignments/source/lab01/lab01.ipynb" in result.output
    assert "wine-demo" not in result.output and "lectures/" not in result.output
    assert "edited in the notebook instead" in lab.read_text(), "--check writes nothing"

    done = subprocess.run([sys.executable, "-m", "coursebench.notebooks", "build", "--check", "--root", str(tree)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "assignments/source/lab01/lab01.ipynb" in done.stderr, done.stderr

    assert build(tree).changed == [Path("assignments/source/lab01/lab01.ipynb")]
    assert build(tree, check=True).ok and build(tree).changed == [], "a rebuild changes nothing"


def test_a_changed_summary_reaches_the_lecture_tables(tree: Path) -> None:
    src = tree / "lectures/_src/03_regression.py"
    text = src.read_text()
    assert "#     summary: " in text
    src.write_text(text.replace("#     summary: \"", "#     summary: \"Now with fewer equations. ", 1))
    changed = build(tree, check=True).changed
    assert sorted(changed) == sorted(Path(p) for p in ("lectures/03_regression.ipynb", "lectures/index.ipynb",
                                                       "docs/lectures.md"))
    build(tree)
    assert "Now with fewer equations." in (tree / "docs/lectures.md").read_text()
    index = nbformat.read(tree / "lectures/index.ipynb", as_version=4)
    assert "| 03 | [Regression](03_regression.ipynb) | Now with fewer equations." in index.cells[0].source
    assert nbformat.read(tree / "lectures/03_regression.ipynb", as_version=4).metadata["coursebench"][
        "summary"].startswith("Now with fewer equations.")


def test_a_missing_notebook_and_a_notebook_without_source(tree: Path) -> None:
    (tree / "competitions/wine-demo/baseline.ipynb").unlink()
    shutil.copy(tree / "lectures/03_regression.ipynb", tree / "lectures/13_extra.ipynb")
    report = build(tree, check=True)
    assert report.changed == [Path("competitions/wine-demo/baseline.ipynb")]
    assert report.orphans == [Path("lectures/13_extra.ipynb")]
    result = _cli("--root", str(tree))
    assert result.exit_code == 1, "a notebook no source builds fails the build too"
    assert "no source builds it: lectures/13_extra.ipynb" in result.output
    assert (tree / "competitions/wine-demo/baseline.ipynb").is_file()


LAB = '''# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # A lab

# %% nbgrader={"grade": false, "grade_id": "answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def answer():
    ### BEGIN SOLUTION
    return 42
    ### END SOLUTION

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_answer", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert answer() == 42
### BEGIN HIDDEN TESTS
assert answer() + 1 == 43
### END HIDDEN TESTS
'''


def test_a_good_nbgrader_source(tmp_path: Path) -> None:
    path = tmp_path / "lab.py"
    path.write_text(LAB)
    nb = read_source(path)
    assert [c.id for c in nb.cells] == ["intro", "answer", "test_answer"]
    assert nb.cells[2].metadata["nbgrader"]["points"] == 2 and nb.cells[2].metadata["editable"] is False
    assert nb.cells[1].source.endswith("### END SOLUTION")
    assert set(nb.metadata) == {"kernelspec", "language_info"}


@pytest.mark.parametrize(("old", "new", "problem"), [
    ('"grade_id": "answer"', '"grade_id": "intro"', "cell 1 (intro): the grade_id 'intro' is also used by cell 0"),
    ('"points": 2, ', "", "cell 2 (test_answer): a graded cell needs points > 0"),
    ("    ### END SOLUTION\n", "", "cell 1 (answer): a solution cell needs matching"),
    ('"grade": true, "grade_id": "test_answer"', '"grade": false, "grade_id": "test_answer"',
     "cell 2 (test_answer): '### BEGIN HIDDEN TESTS' outside a graded test cell"),
    ('"solution": true', '"solution": false', "cell 1 (answer): '### BEGIN SOLUTION' in a cell that is not a solution"),
    ('# %% nbgrader={"grade": false, "grade_id": "answer"', '# %% nbgrader={"grade": no, "grade_id": "answer"',
     "cell 1: the cell header has metadata that is not key=JSON"),
    ('# %% nbgrader={"grade": false, "grade_id": "answer", "locked": false, "schema_version": 3, "solution": true, "task": false}',
     "# %%", "cell 1: '### BEGIN SOLUTION' in a cell without nbgrader metadata"),
    ("# # A lab", "# # A lab\n\n# %% tags=parameters\nsmoke = False",
     "cell 1: the cell header has metadata that is not key=JSON"),
    ("# %% [markdown] deletable", "# ---\n# jupyter:\n#   kernelspec:\n#     display_name: R\n#     language: R\n#     name: ir\n"
                                  "# ---\n\n# %% [markdown] deletable",
     "the front matter asks for the kernel 'ir'"),
])
def test_sources_nbgrader_would_trip_over_are_refused(tmp_path: Path, old: str, new: str, problem: str) -> None:
    assert old in LAB
    path = tmp_path / "lab.py"
    path.write_text(LAB.replace(old, new, 1))
    with pytest.raises(NotebookSourceError) as info:
        read_source(path)
    assert str(info.value).startswith(f"{path}")
    assert problem in str(info.value)


def test_a_lecture_needs_its_summary(tree: Path) -> None:
    src = tree / "lectures/_src/00_introduction_setup.py"
    text = src.read_text()
    assert text.startswith("# ---\n# jupyter:\n#   coursebench:\n#     summary: ")
    src.write_text(text[text.index("# %%"):])  # no front matter
    result = _cli("--check", "--root", str(tree))
    assert result.exit_code == 1
    assert "00_introduction_setup.py: a lecture's front matter needs its one-line summary" in result.output
