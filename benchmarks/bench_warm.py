"""Warm sandboxes and forked kernels (docs/warm.md) against the obvious alternatives.

All in one run (ratios; the machine's load is noted):

1. A trivial notebook, one after another: warm bubblewrap sandboxes (``run_many`` with one
   slot: the next sandbox boots, template imported, while a notebook runs) vs plain
   ``papermill.execute_notebook`` in this process (target ≤ 0.7×).
2. The same with a notebook that imports numpy, pandas, scikit-learn and fits a small
   model (target ≤ 0.5×).
3. 40 course101 submissions (ps1: two notebooks each), ``autograde(workers=2)``: vs
   default ``nbgrader autograde`` (target ≤ 0.2×), vs hand-tuned nbgrader — kernels shut
   down immediately, two nbgrader processes on split gradebooks (target ≤ 0.6×) — and
   vs our own autograde with warm kernels off (``COURSEBENCH_WARM=0``).
4. A 5-fold notebook submission on 2 slots vs its folds one after another with plain
   papermill (target ≤ 0.35×), run as ``leaderboard.kfold`` runs them (one sandbox per
   slot, its share of the folds one after another with separate files: ``split_separate``):
   as a ``run_many`` of its own (each slot's first fold starts cold), and as a scoring
   worker scores it — on a :class:`SlotPool` kept from the submission before, whose slots
   booted their next sandboxes while it waited.
5. Memory of one warm idle sandbox (bwrap, worker and template: PSS), and how many fit in
   24 GiB.

``BENCH_WARM_SUBMISSIONS`` (default 40, 12 with ``--quick``) sets the number of submissions of
row 3.  The template pre-imports numpy, pandas and scikit-learn (what these notebooks use; a
course file named by ``COURSEBENCH_COURSE`` decides instead).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from common import Row
from nbformat import v4

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "grading"))

TRIVIAL = ["x = 1 + 1", "print(x)"]
SKLEARN = [
    "import numpy as np\nimport pandas as pd\nfrom sklearn.linear_model import LogisticRegression",
    "rng = np.random.default_rng(0)\nX = pd.DataFrame(rng.normal(size=(300, 5)))\ny = (X[0] + X[1] > 0).astype(int)\n"
    "print(LogisticRegression().fit(X, y).score(X, y))",
]
FOLD = [
    "# parameters\nfold = 0",
    *SKLEARN[:1],
    "from sklearn.datasets import load_breast_cancer\nfrom sklearn.model_selection import KFold\n"
    "X, y = load_breast_cancer(return_X_y=True)\ntrain, test = list(KFold(5, shuffle=True, random_state=0).split(X))[fold]\n"
    "model = LogisticRegression(max_iter=2000).fit(X[train], y[train])\nprint(fold, model.score(X[test], y[test]))",
]
GIB24 = 24 * 1024**3


def _notebook(path: Path, cells: list[str]) -> Path:
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [v4.new_code_cell(c) for c in cells]
    if cells[0].startswith("# parameters"):
        nb.cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(nb, str(path))
    return path


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f}/{five:.1f}/{fifteen:.1f} on {os.cpu_count()} cores"


def _serial_rows(work: Path, backend: str, quick: bool) -> list[Row]:
    import papermill

    from coursebench.execution import Job, Limits, run_many

    rows = []
    count = 4 if quick else 8
    out = work / "out.ipynb"
    for label, cells, target in (("trivial notebook", TRIVIAL, 0.7),
                                 ("numpy+pandas+sklearn small fit", SKLEARN, 0.5)):
        nb = _notebook(work / "nb.ipynb", cells)
        papermill.execute_notebook(str(nb), str(out), progress_bar=False)  # page cache, both ways
        started = time.perf_counter()
        results = run_many([Job(nb, backend=backend, limits=Limits(timeout=300)) for _ in range(count + 1)],
                           workers=1, progress=False)
        ours = time.perf_counter() - started
        assert all(r.ok for r in results), [r.summary() for r in results if not r.ok]
        warm = sum(r.warm for r in results)
        # the first sandbox of a slot boots cold: per-notebook cost of the steady state
        per = (ours - results[0].wall_time) / count
        started = time.perf_counter()
        for _ in range(count):
            papermill.execute_notebook(str(nb), str(out), progress_bar=False)
        plain = (time.perf_counter() - started) / count
        rows.append(Row(f"{label}: warm {backend} per notebook vs plain papermill", per, plain, target=target,
                        note=f"{warm}/{count + 1} kernels forked, one slot, first (cold) sandbox left out; {_load()}"))
    return rows


def _autograde_rows(work: Path, backend: str, count: int) -> list[Row]:
    import factory

    from coursebench.execution import Limits
    from coursebench.grading import autograde

    (work / "course").mkdir()
    base = factory.make_course101(work / "course")
    kinds = list(factory.ps1_kinds(base).values())
    for i in range(count):
        factory.submit(base, f"student{i:02d}", "ps1", kinds[i % len(kinds)])
    copies = {name: work / name for name in ("default", "half0", "half1", "ours", "cold")}
    for path in copies.values():
        shutil.copytree(base, path)
    for half in (0, 1):  # split gradebooks: each copy keeps every other student
        for i in range(count):
            if i % 2 != half:
                shutil.rmtree(copies[f"half{half}"] / "submitted" / f"student{i:02d}")

    started = time.perf_counter()
    factory.nbgrader("autograde", "ps1", cwd=copies["default"])
    default = time.perf_counter() - started

    env = dict(os.environ, PATH=f"{factory.BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    started = time.perf_counter()
    procs = [subprocess.Popen([str(factory.BIN / "nbgrader"), "autograde", "ps1",
                               "--Execute.shutdown_kernel=immediate"], cwd=copies[f"half{h}"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for h in (0, 1)]
    codes = [p.wait() for p in procs]
    tuned = time.perf_counter() - started

    limits = Limits(timeout=300)
    started = time.perf_counter()
    report = autograde("ps1", course_dir=copies["ours"], workers=2, backend=backend, limits=limits)
    ours = time.perf_counter() - started
    old = os.environ.get("COURSEBENCH_WARM")
    os.environ["COURSEBENCH_WARM"] = "0"
    try:  # settings are read afresh from the environment on every job
        started = time.perf_counter()
        cold = autograde("ps1", course_dir=copies["cold"], workers=2, backend=backend, limits=limits)
        cold_s = time.perf_counter() - started
    finally:
        if old is None:
            os.environ.pop("COURSEBENCH_WARM", None)
        else:
            os.environ["COURSEBENCH_WARM"] = old
    bad = [r.student for r in report.results if r.status != "graded"]
    same = [r.score for r in report.results] == [r.score for r in cold.results]
    note = f"{count} submissions × 2 notebooks, {backend}, 2 workers; {_load()}"
    note += f"; NOT graded: {', '.join(bad)}" if bad else ""
    return [
        Row("autograde course101: warm vs default nbgrader autograde", ours, default, target=0.2, note=note),
        Row("autograde course101: warm vs hand-tuned nbgrader (immediate shutdown, 2 processes, split gradebooks)",
            ours, tuned, target=0.6, note=f"nbgrader exit codes {codes}"),
        Row("autograde course101: warm vs the same with COURSEBENCH_WARM=0", ours, cold_s,
            note=f"{'same' if same else 'DIFFERENT'} scores"),
    ]


def _templates_ready(count: int, timeout: float = 120.0) -> bool:
    """Wait until ``count`` warm templates have imported (they rename themselves)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = 0
        for pid in os.listdir("/proc"):
            try:
                ready += pid.isdigit() and Path(f"/proc/{pid}/comm").read_text().strip() == "cb-template"
            except OSError:
                continue
        if ready >= count:
            return True
        time.sleep(0.2)
    return False


def _kfold_rows(work: Path, backend: str) -> list[Row]:
    import papermill

    from coursebench.execution import Job, Limits, SlotPool, run_many, split_separate

    nb = _notebook(work / "folds.ipynb", FOLD)

    def folds() -> list:  # as leaderboard.kfold runs them: one sandbox per slot, separate files
        return split_separate([Job(nb, parameters={"fold": k}, backend=backend, limits=Limits(timeout=300))
                               for k in range(5)], 2)

    started = time.perf_counter()
    results = run_many(folds(), workers=2, progress=False)
    ours = time.perf_counter() - started
    assert all(r.ok for r in results), [r.summary() for r in results if not r.ok]
    # a scoring worker (``coursebench worker``) keeps its slots between submissions: the
    # next submission's folds find a booted sandbox in each slot
    with SlotPool(2) as pool:
        run_many(folds(), pool=pool, progress=False)  # the submission before
        ready = _templates_ready(2)
        started = time.perf_counter()
        kept = run_many(folds(), pool=pool, progress=False)
        steady = time.perf_counter() - started
    assert all(r.ok for r in kept), [r.summary() for r in kept if not r.ok]
    out = work / "fold-out.ipynb"
    started = time.perf_counter()
    for k in range(5):
        papermill.execute_notebook(str(nb), str(out), parameters={"fold": k}, progress_bar=False)
    serial = time.perf_counter() - started
    return [
        Row("5-fold submission on 2 slots (warm) vs its folds serially with plain papermill", ours, serial,
            target=0.35, note=f"a run_many of its own: {sum(r.warm for r in results)}/5 kernels forked; {_load()}"),
        Row("the same, scored by a worker's SlotPool after another submission (slots booted while it waited)",
            steady, serial, target=0.35,
            note=f"{sum(r.warm for r in kept)}/5 kernels forked; templates {'ready' if ready else 'NOT ready'} "
                 f"when it came; {_load()}"),
    ]


def _memory_row(backend_name: str) -> Row:
    import psutil

    from coursebench.execution import Job, Limits, backends
    from coursebench.execution.backends import warm as sandboxes
    from coursebench.execution.job import prepare

    backend = backends.create(backend_name)
    jobdir = prepare(Job(_notebook(Path(tempfile.mkdtemp()) / "m.ipynb", TRIVIAL), limits=Limits(timeout=60)))
    try:
        sandboxes.want_spares(lambda: True)
        key = sandboxes.key_of(backend_name, jobdir)
        sandboxes.boot(backend, key, jobdir)
        spare = sandboxes._local.spare
        root = psutil.Process(spare.sandbox.proc.pid)
        deadline = time.monotonic() + 300
        pss = 0
        while time.monotonic() < deadline:  # idle: the template has imported and sleeps
            time.sleep(2)
            procs = [root, *root.children(recursive=True)]
            names = [p.name() for p in procs]
            if "cb-template" in names and all(p.cpu_percent(0.5) < 2 for p in procs):
                pss = sum(p.memory_full_info().pss for p in procs)
                break
    finally:
        sandboxes.want_spares(None)
        sandboxes.drain()
        jobdir.cleanup()
    fit = int(GIB24 // pss) if pss else 0
    return Row("memory per warm idle sandbox (PSS: bwrap, worker, template)", pss / 2**20, GIB24 / 2**20,
               unit="MiB", note=f"{fit} fit in 24 GiB; baseline = 24 GiB")


def run(quick: bool = False) -> list[Row]:
    from coursebench.execution import availability

    backend = "bwrap" if availability("bwrap")[0] else "subprocess"
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-warm-") as tmp:
        work = Path(tmp)
        if not os.environ.get("COURSEBENCH_COURSE"):  # what these notebooks import, pre-imported
            course = work / "course.toml"
            course.write_text('[execution]\npreimport = ["numpy", "pandas", "sklearn"]\n')
            os.environ["COURSEBENCH_COURSE"] = str(course)
        count = int(os.environ.get("BENCH_WARM_SUBMISSIONS", "12" if quick else "40"))
        sections = [lambda: _serial_rows(work, backend, quick), lambda: _kfold_rows(work, backend),
                    lambda: [_memory_row(backend)] if backend == "bwrap" else [],
                    lambda: _autograde_rows(work, backend, count)]
        for section in sections:  # one failing section must not hide the others' rows
            try:
                found = section()
            except Exception as exc:
                found = [Row(f"FAILED: {type(exc).__name__}: {str(exc)[:200]}", 0.0, 1.0)]
            for row in found:
                print("   " + row.line(), flush=True)
            rows += found
    return rows
