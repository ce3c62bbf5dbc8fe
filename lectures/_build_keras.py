"""Build lectures 07–12 (neural networks → Keras → serving) from their sources.

The sources are plain Python modules in ``lectures/_keras_src/`` (one per lecture); each
defines ``CELLS``, a list made with :func:`md` and :func:`code`.  This script turns them
into ``lectures/NN_topic.ipynb`` without outputs and with stable cell ids, so rebuilding an
unchanged lecture gives a byte-identical file:

    .venv/bin/python lectures/_build_keras.py            # build all six
    .venv/bin/python lectures/_build_keras.py 11 12      # build some
    .venv/bin/python lectures/_build_keras.py --check    # fail if an .ipynb is out of date

The .ipynb files are the product (students open them); the sources are how we edit them.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from textwrap import dedent

import nbformat

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "_keras_src"
LECTURES = {
    "07": "07_neural_networks",
    "08": "08_how_networks_learn",
    "09": "09_keras_mlp",
    "10": "10_keras_deep_networks",
    "11": "11_keras_cnn",
    "12": "12_model_to_service",
}
# One line per lecture for `coursebench lectures list` (notebook metadata coursebench.summary).
SUMMARIES = {
    "07": "Perceptron and XOR, the MLP forward pass in NumPy, activation functions.",
    "08": "Loss, gradient descent, backpropagation from scratch with a gradient check; a NumPy MLP on digits.",
    "09": "Keras Sequential and functional APIs: compile, fit, evaluate, predict; three kinds of task.",
    "10": "Initialisation, batch norm, dropout and L2, optimisers, LR schedules, callbacks, early stopping.",
    "11": "Convolution and pooling from scratch, a CNN that beats an MLP, augmentation, filters and feature maps.",
    "12": "Saving and loading, TFLite and quantisation (size, latency), a FastAPI prediction API, dynamic batching.",
}


def _clean(text: str) -> str:
    return dedent(text).strip("\n").rstrip()


def md(text: str) -> nbformat.NotebookNode:
    """A markdown cell (the text is dedented)."""
    return nbformat.v4.new_markdown_cell(_clean(text))


def code(text: str, *tags: str) -> nbformat.NotebookNode:
    """A code cell without outputs; ``tags`` become cell tags (e.g. ``"parameters"``)."""
    cell = nbformat.v4.new_code_cell(_clean(text))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _load_cells(stem: str) -> list[nbformat.NotebookNode]:
    path = SOURCES / f"{stem}.py"
    spec = importlib.util.spec_from_file_location(f"_keras_src_{stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("_build_keras", sys.modules[__name__])
    spec.loader.exec_module(module)
    return list(module.CELLS)


def notebook(stem: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = _load_cells(stem)
    number = stem.split("_", 1)[0]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"l{number}-{i:03d}"
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "pygments_lexer": "ipython3"},
        "coursebench": {"summary": SUMMARIES[number]},
    }
    nbformat.validate(nb)
    return nb


def render(stem: str) -> str:
    return nbformat.writes(notebook(stem)) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("numbers", nargs="*", help="lecture numbers to build (default: all)")
    parser.add_argument("--check", action="store_true", help="only check that the .ipynb files are up to date")
    args = parser.parse_args(argv)
    unknown = [n for n in args.numbers if n not in LECTURES]
    if unknown:
        parser.error(f"unknown lecture(s) {unknown}; known: {', '.join(LECTURES)}")
    stale = []
    for number in args.numbers or LECTURES:
        stem = LECTURES[number]
        target = HERE / f"{stem}.ipynb"
        text = render(stem)
        if args.check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(target.name)
            continue
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target.relative_to(HERE.parent)}  ({len(nbformat.reads(text, 4).cells)} cells)")
    if stale:
        print("out of date (run lectures/_build_keras.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
