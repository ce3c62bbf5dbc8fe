"""Build the lecture notebooks from their sources in ``lectures/_src/``.

Each source is a Python file in the "percent" format that jupytext and VS Code read::

    # %% [markdown]
    # # Title
    # Prose, as comment lines.

    # %% tags=["parameters"]
    smoke = False

    # %%
    code()

``python lectures/_build.py`` writes ``lectures/NN_topic.ipynb`` (no outputs, stable cell
ids), ``lectures/index.ipynb`` and ``docs/lectures.md``; ``--check`` only reports which
files are out of date (exit 1), for CI.  Only sources in ``_src/`` are built; notebooks
maintained another way are left alone.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SRC = HERE / "_src"
DOCS = HERE.parent / "docs" / "lectures.md"
CELL = re.compile(r"^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$")

# The syllabus: one line per lecture (index.ipynb and docs/lectures.md are built from it).
LECTURES = [
    ("00_introduction_setup", "Introduction and setup", "AI / ML / DL, the cloud (IaaS/PaaS/SaaS), containers vs VMs, this course's Docker images and JupyterLab, checking for a GPU."),
    ("01_python_basics", "Python basics for data work", "The language, NumPy arrays and vectorisation, pandas tables, matplotlib figures."),
    ("02_ml_concepts", "Concepts of machine learning", "Supervised vs unsupervised; task + data + model + metric; train/validation/test; under- and overfitting."),
    ("03_regression", "Regression", "Linear regression by the normal equation and by gradient descent from scratch, scikit-learn, polynomial features, Ridge/Lasso, RMSE/MAE/R²."),
    ("04_clustering_knn", "Clustering and KNN", "k-means with the elbow and silhouette, KNN classification, and why feature scaling matters."),
    ("05_trees_svm_boosting", "Trees, forests, SVMs and boosting", "Decision trees, random forests, support vector machines and gradient boosting, compared on real data."),
    ("06_model_tuning", "Model tuning and comparison", "Stratified k-fold CV, grid/random search, learning curves, fair comparisons, weighted ensembles, CV vs the public leaderboard."),
    ("07_neural_networks", "Artificial neural networks", "The perceptron, an MLP forward pass in NumPy, activation functions."),
    ("08_how_networks_learn", "How networks learn", "Loss, gradient descent, backpropagation from scratch with a numerical gradient check."),
    ("09_keras_mlp", "Keras: multi-layer networks", "Sequential and functional APIs; compile, fit, evaluate."),
    ("10_keras_deep_networks", "Keras: deep networks", "Initialisation, batch normalisation, dropout, optimisers, callbacks, early stopping."),
    ("11_keras_cnn", "Keras: convolutional networks", "Convolution and pooling, a CNN that beats the MLP, augmentation, filters and feature maps."),
    ("12_model_to_service", "From model to service", "Saving and loading, TFLite conversion and quantisation, a small prediction API, latency vs throughput."),
]


def parse(text: str) -> list[nbformat.NotebookNode]:
    cells: list[nbformat.NotebookNode] = []
    kind, tags, lines = None, [], []

    def flush() -> None:
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(re.sub(r"^# ?", "", line) for line in body.splitlines())
            cell = nbformat.v4.new_markdown_cell(body)
        else:
            cell = nbformat.v4.new_code_cell(body)
        if tags:
            cell.metadata["tags"] = tags
        cells.append(cell)

    for line in text.splitlines():
        match = CELL.match(line)
        if match:
            flush()
            kind = "markdown" if match.group("md") else "code"
            tags = json.loads(match.group("tags")) if match.group("tags") else []
            lines = []
        elif kind is not None:
            lines.append(line)
    flush()
    return cells


def notebook(cells: list[nbformat.NotebookNode], stem: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    for i, cell in enumerate(nb.cells):
        cell.id = f"{stem[:24]}-{i:03d}"
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    nbformat.validate(nb)
    return nb


def index_notebook() -> nbformat.NotebookNode:
    rows = "\n".join(f"| {stem[:2]} | [{title}]({stem}.ipynb) | {line} |" for stem, title, line in LECTURES)
    md = (
        "# Deep learning / cloud — lectures\n\n"
        "From Python basics through classical machine learning (기계학습) to convolutional neural networks "
        "(합성곱 신경망) and serving a model. Open a lecture, run it top to bottom (Run → Run All Cells); "
        "every notebook works offline.\n\n"
        "| # | lecture | what it covers |\n|---|---|---|\n" + rows + "\n\n"
        "Each lecture starts with *what you will learn* and one setup cell, and ends with exercises "
        "and their solutions. To run them all in the sandbox, from a terminal: "
        "`coursebench lectures run` (or `coursebench lectures run --smoke` for a quick check)."
    )
    code = (
        "from pathlib import Path\n\n"
        "# Which lecture notebooks are in this folder?\n"
        "present = sorted(p.name for p in Path('.').glob('[0-9][0-9]_*.ipynb'))\n"
        "present"
    )
    return notebook([nbformat.v4.new_markdown_cell(md), nbformat.v4.new_code_cell(code)], "index")


def docs_page() -> str:
    rows = "\n".join(f"| {stem[:2]} | `{stem}` | {title}: {line} |" for stem, title, line in LECTURES)
    return f"""# Lectures

The course's notebooks live in `lectures/`, one per week, from Python basics to CNNs and
serving a model. They run top to bottom offline: data comes from `coursebench.datasets`
(scikit-learn's bundled sets, the Keras cache when it already holds a dataset, generated
data otherwise — each load says which source it used), and every notebook opens with one
setup cell, `coursebench.notebook.setup()`, which checks versions, fixes the seeds and sets
the plot style.

| # | notebook | topic |
|---|---|---|
{rows}

## Running them

```bash
coursebench lectures list                 # the table above, read from the notebooks
coursebench lectures run --smoke          # all lectures, small data and few epochs (CI)
coursebench lectures run 03 regression    # by number or topic; full run, real results
coursebench lectures run --workers 2 --backend bwrap
coursebench lectures run --cluster tcp://scheduler:8786
```

`lectures run` executes each notebook with papermill inside the sandbox (the same engine
that grades assignments), shows a progress bar, writes the executed copies to
`build/lectures/NN_topic.ipynb`, and exits 1 with the failing cell and error if any
notebook fails. The papermill parameter `smoke=True` shrinks data and training so the
whole course runs in a few minutes; a full run shows (and asserts) the results the prose
promises, e.g. the accuracy a model reaches.

Inside the sandbox the toolkit is not installed, so each job carries a small `coursebench`
package in its working directory with just `coursebench/notebook.py` and
`coursebench/datasets.py` (they import nothing else from coursebench).

## Writing lectures

Lectures 00–06 are built from `lectures/_src/NN_topic.py` (the jupytext "percent" format)
by `python lectures/_build.py`; edit the source, rebuild, and commit both. Notebooks are
committed without outputs. `python lectures/_build.py --check` fails when a notebook is out
of date with its source.

Conventions for every lecture: a title and *what you will learn*; one setup cell; a cell
tagged `parameters` with `smoke = False` and the sizes/epochs; key terms in English with
the Korean term beside them where they first appear (regression 회귀, overfitting 과적합);
figures where a picture says it better; results promised in the prose are asserted in
the full run (`if not smoke: assert ...`); exercises at the end, solutions in a separate
section after them.
"""


def outputs() -> dict[Path, str]:
    files: dict[Path, str] = {}
    for src in sorted(SRC.glob("[0-9][0-9]_*.py")):
        nb = notebook(parse(src.read_text(encoding="utf-8")), src.stem)
        files[HERE / f"{src.stem}.ipynb"] = nbformat.writes(nb) + "\n"
    files[HERE / "index.ipynb"] = nbformat.writes(index_notebook()) + "\n"
    files[DOCS] = docs_page()
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report out-of-date files; change nothing")
    args = parser.parse_args(argv)
    stale = []
    for path, text in outputs().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(path)
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    verb = "out of date" if args.check else "written"
    for path in stale:
        print(f"{verb}: {path.relative_to(HERE.parent)}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
