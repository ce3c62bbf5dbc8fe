"""The lecture notebooks and `coursebench lectures`: structure and the CLI.  The full run of
every lectures/NN_*.ipynb in the sandbox is in test_full_runs.py, one smoke run (lecture 13)
in test_chatbot.py, the Keras backends in test_keras_backends.py."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from coursebench.lectures import (
    LectureNotFound,
    default_root,
    discover,
    runtime_package,
    select,
)

ROOT = Path(__file__).resolve().parents[2]
LECTURES = discover(ROOT / "lectures")


def _cell(kind: str, source: str, tags: list[str] | None = None):
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    if tags:
        cell.metadata["tags"] = tags
    return cell


def _write(path: Path, cells) -> Path:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


def test_the_course_has_its_lectures():
    names = [lec.name for lec in LECTURES]
    for expected in ["00_introduction_setup", "01_python_basics", "02_ml_concepts", "03_regression",
                     "04_clustering_knn", "05_trees_svm_boosting", "06_model_tuning"]:
        assert expected in names
    assert default_root() == ROOT / "lectures"
    assert [lec.number for lec in LECTURES] == sorted(lec.number for lec in LECTURES)


@pytest.mark.parametrize("lecture", LECTURES, ids=lambda lec: lec.name)
def test_every_lecture_follows_the_house_structure(lecture):
    nb = nbformat.read(str(lecture.path), as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit notebooks without outputs"
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert "what you will learn" in "\n".join(c.source for c in nb.cells[:3] if c.cell_type == "markdown").lower()
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and re.search(r"^smoke\s*=\s*False", params[0].source, re.M)
    setup_cells = [c for c in code if re.search(r"\bsetup\(", c.source) and "coursebench.notebook" in c.source]
    assert len(setup_cells) == 1, "one setup cell calling coursebench.notebook.setup()"
    assert code.index(setup_cells[0]) <= 1, "the setup cell comes first"
    headings = [line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines()
                if line.startswith("#")]
    exercises = [i for i, h in enumerate(headings) if re.match(r"#+ .*Exercises", h)]
    solutions = [i for i, h in enumerate(headings) if re.match(r"#+ .*Solutions", h)]
    assert exercises and solutions and exercises[0] < solutions[0]
    assert lecture.title and lecture.summary


def test_every_lecture_is_built_from_a_source_with_a_summary():
    sources = {p.stem for p in (ROOT / "lectures" / "_src").glob("*.py")}
    assert sources == {lec.name for lec in LECTURES} | {"index"}
    for lec in LECTURES:
        meta = nbformat.read(str(lec.path), as_version=4).metadata
        assert meta["coursebench"]["summary"] == lec.summary, "the front matter's summary is the one listed"
        assert meta["kernelspec"]["name"] == "python3"


def test_index_lists_all_fourteen_lectures():
    index = nbformat.read(str(ROOT / "lectures" / "index.ipynb"), as_version=4)
    text = index.cells[0].source
    linked = re.findall(r"\((\d\d_[a-z0-9_]+)\.ipynb\)", text)
    assert [n[:2] for n in linked] == [f"{i:02d}" for i in range(14)]
    for lec in LECTURES:
        assert lec.name in linked, f"{lec.name} is missing from index.ipynb"
    docs = (ROOT / "docs" / "lectures.md").read_text()
    assert all(f"`{name}`" in docs for name in linked)


def test_select_by_number_name_topic_and_path():
    lectures = discover(ROOT / "lectures")
    assert [lec.name for lec in select(lectures, ["3"])] == ["03_regression"]
    assert [lec.name for lec in select(lectures, ["03"])] == ["03_regression"]
    assert [lec.name for lec in select(lectures, ["regression"])] == ["03_regression"]
    assert [lec.name for lec in select(lectures, ["lectures/04_clustering_knn.ipynb", "04"])] == ["04_clustering_knn"]
    assert select(lectures, []) == lectures
    with pytest.raises(LectureNotFound, match="03_regression"):
        select(lectures, ["astrology"])


def test_runtime_package_holds_only_the_lecture_modules(tmp_path):
    package = runtime_package(tmp_path)
    assert sorted(p.name for p in package.iterdir()) == ["__init__.py", "data", "datasets.py", "intents.py", "notebook.py"]
    assert sorted(p.name for p in (package / "data" / "intents").iterdir()) == ["faq.csv", "intents.csv", "responses.csv"]
    # Only these files are in the sandbox: the modules must work without the rest of the
    # toolkit (a submodule import like coursebench.execution would fail here).
    code = (
        "import sys; sys.path.insert(0, '.')\n"
        "import coursebench, coursebench.notebook as n, coursebench.datasets as d\n"
        "assert coursebench.__file__.startswith(sys.argv[1]), coursebench.__file__\n"
        "import coursebench.intents as i\n"
        "assert i.data_dir().is_relative_to(sys.argv[1]) and len(i.load().intents) == 15\n"
        "print(d.load('iris').source, type(n.setup()).__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-1500:]
    assert done.stdout.split() == ["scikit-learn", "bundled", "SetupInfo"]


def test_cli_list_shows_every_lecture():
    from coursebench.cli import _register_subcommands, app

    _register_subcommands()
    result = CliRunner().invoke(app, ["lectures", "list"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for lec in LECTURES:
        assert lec.name in result.output


@pytest.mark.slow
def test_cli_run_reports_the_failing_cell_and_keeps_going(tmp_path, bwrap_backend):
    root = tmp_path / "lectures"
    root.mkdir()
    params = _cell("code", "smoke = False", ["parameters"])
    _write(root / "00_ok.ipynb", [
        _cell("markdown", "# ok"), params,
        _cell("code", "from coursebench.notebook import setup\nfrom coursebench import datasets\n"
                      "info = setup()\nprint(datasets.load('digits', n_samples=50).source, smoke)"),
    ])
    _write(root / "01_broken.ipynb", [_cell("markdown", "# broken"), params, _cell("code", "x = 1\n1 / 0")])
    from coursebench.cli import _register_subcommands, app

    _register_subcommands()
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["lectures", "run", "--smoke", "--root", str(root), "--backend", bwrap_backend,
                                      "-o", str(out), "--workers", "2"], terminal_width=200)
    assert result.exit_code == 1, result.output
    assert "ZeroDivisionError" in result.output and "01_broken" in result.output and "1/2 ok" in result.output
    executed = nbformat.read(str(out / "00_ok.ipynb"), as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert "scikit-learn bundled True" in printed  # runtime importable in the sandbox; smoke injected
    assert (out / "01_broken.ipynb").exists()
