"""The sandboxed runner vs plain papermill, same script, same notebooks.

1. Per-notebook overhead on a trivial notebook: ``run_notebook(backend="bwrap")`` vs
   ``papermill.execute_notebook`` in this process (target ≤ 1.3×).  Means, because
   papermill's occasional 4 s shutdown stall is part of what plain papermill costs.
2. 40 notebooks that import scikit-learn and fit a small model: ``run_many(workers=2)``
   on bwrap vs the same notebooks one after another with plain papermill (target ≤ 0.6×).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import nbformat
from common import Row
from nbformat import v4

SKLEARN_SOURCES = [
    "from sklearn.datasets import load_breast_cancer\nfrom sklearn.linear_model import LogisticRegression\n"
    "from sklearn.preprocessing import StandardScaler\nfrom sklearn.pipeline import make_pipeline",
    "X, y = load_breast_cancer(return_X_y=True)\nmodel = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))\n"
    "print(model.fit(X, y).score(X, y))",
]


def _notebook(path: Path, cells: list[str]) -> Path:
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, str(path))
    return path


def run(quick: bool = False) -> list[Row]:
    import papermill

    from coursebench.execution import Job, Limits, availability, run_many, run_notebook

    backend = "bwrap" if availability("bwrap")[0] else "subprocess"
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        trivial = _notebook(work / "trivial.ipynb", ["x = 1 + 1", "print(x)"])
        out = work / "out.ipynb"
        # warm both paths once (imports, page cache)
        papermill.execute_notebook(str(trivial), str(out), progress_bar=False)
        run_notebook(trivial, backend=backend)
        ours, plain = [], []
        for _ in range(4 if quick else 12):
            started = time.perf_counter()
            result = run_notebook(trivial, backend=backend, limits=Limits(timeout=60))
            ours.append(time.perf_counter() - started)
            assert result.ok, result.summary()
            started = time.perf_counter()
            papermill.execute_notebook(str(trivial), str(out), progress_bar=False)
            plain.append(time.perf_counter() - started)
        rows.append(Row(f"trivial notebook, {backend} runner vs plain papermill (mean)",
                        statistics.mean(ours), statistics.mean(plain), target=1.3,
                        note=f"medians {statistics.median(ours):.2f}s vs {statistics.median(plain):.2f}s"))

        count = 12 if quick else 40
        notebooks = [_notebook(work / f"sk{i}.ipynb", SKLEARN_SOURCES) for i in range(count)]
        started = time.perf_counter()
        results = run_many([Job(nb, backend=backend, limits=Limits(timeout=120)) for nb in notebooks],
                           workers=2, progress=False)
        parallel = time.perf_counter() - started
        assert all(r.ok for r in results), [r.summary() for r in results if not r.ok]
        started = time.perf_counter()
        for nb in notebooks:
            papermill.execute_notebook(str(nb), str(out), progress_bar=False)
        serial = time.perf_counter() - started
        rows.append(Row(f"{count} scikit-learn notebooks, run_many(workers=2) on {backend} vs serial papermill",
                        parallel, serial, target=0.6))
    return rows
