"""Per-notebook overhead of the docker sandbox against bwrap and plain papermill.

Same script, same notebooks (a small typical lab: numpy + pandas + a scikit-learn fit):

* one notebook at a time (median of several runs): docker vs plain papermill, bwrap vs
  plain papermill, docker vs bwrap;
* 20 notebooks with 2 workers: ``run_many(backend="docker")`` vs plain papermill in a
  2-process pool, and vs ``run_many(backend="bwrap")``.

Needs a Docker engine with the runtime image: ``$COURSEBENCH_DOCKER_HOST``/``$DOCKER_HOST``
when one answers, else (as root) a private ``dockerd`` started and stopped here; the
image is built offline when missing.  Run: ``python benchmarks/run.py docker``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from common import Row

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

BENCH_SOURCES = [
    "import numpy as np\nimport pandas as pd\nfrom sklearn.linear_model import LogisticRegression",
    "seed = 0",
    "rng = np.random.default_rng(seed)\nX = rng.normal(size=(300, 5))\ny = (X[:, 0] + X[:, 1] > 0).astype(int)",
    "df = pd.DataFrame(X, columns=list('abcde'))\ndf.describe()",
    "model = LogisticRegression().fit(X, y)\nprint(round(model.score(X, y), 3))",
]


def make_notebooks(folder: Path, count: int) -> list[Path]:
    import nbformat
    from nbformat import v4

    paths = []
    for i in range(count):
        nb = v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [v4.new_code_cell(src) for src in BENCH_SOURCES]
        nb.cells[1].metadata["tags"] = ["parameters"]
        nb.cells[1].source = f"seed = {i}"
        path = folder / f"lab_{i:02d}.ipynb"
        nbformat.write(nb, str(path))
        paths.append(path)
    return paths


def _papermill(args: tuple[str, str]) -> float:
    import papermill

    started = time.perf_counter()
    papermill.execute_notebook(args[0], args[1], kernel_name="python3", progress_bar=False, log_output=False)
    return time.perf_counter() - started


@contextlib.contextmanager
def _engine():
    """The address of an engine with the runtime image (started here if need be)."""
    from coursebench.images.build import ensure
    from coursebench.images.common import ImageError
    from coursebench.images.dockerd import private_engine
    from coursebench.images.engine import client, registry_reachable
    from coursebench.settings import get_settings

    host = get_settings().engine_host
    with contextlib.ExitStack() as stack:
        if host is None:
            try:
                client(timeout=10)
            except ImageError:
                host = stack.enter_context(private_engine())
        engine = client(host)
        offline = not registry_reachable(engine)
        ensure("runtime", engine=engine, offline=offline)
        old = os.environ.get("COURSEBENCH_DOCKER_HOST")
        if host:
            os.environ["COURSEBENCH_DOCKER_HOST"] = host
        try:
            yield host
        finally:
            if old is None:
                os.environ.pop("COURSEBENCH_DOCKER_HOST", None)
            else:
                os.environ["COURSEBENCH_DOCKER_HOST"] = old


def run(quick: bool = False) -> list[Row]:
    from coursebench.execution import Job, Limits, availability, run_many, run_notebook

    repeat = 3 if quick else 5
    many = 20
    limits = Limits(timeout=300, memory="1G", cpus=1)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-docker-") as tmp, _engine():
        folder = Path(tmp)
        notebooks = make_notebooks(folder, many)
        ok, why = availability("docker", refresh=True)
        if not ok:
            raise RuntimeError(f"the docker backend is not available: {why}")
        have_bwrap = availability("bwrap")[0]

        def one(backend: str, path: Path) -> float:
            started = time.perf_counter()
            result = run_notebook(path, {"seed": 1}, limits=limits, backend=backend)
            elapsed = time.perf_counter() - started
            if result.status != "ok":
                raise RuntimeError(f"{backend}: {result.summary()}")
            return elapsed

        # warm up every path once (page cache, first container, kernel spec lookup)
        _papermill((str(notebooks[0]), str(folder / "warm.ipynb")))
        one("docker", notebooks[0])
        if have_bwrap:
            one("bwrap", notebooks[0])
        times: dict[str, list[float]] = {"papermill": [], "docker": [], "bwrap": []}
        for i in range(repeat):  # interleaved, so machine load hits all alike
            times["papermill"].append(_papermill((str(notebooks[i]), str(folder / f"pm_{i}.ipynb"))))
            times["docker"].append(one("docker", notebooks[i]))
            if have_bwrap:
                times["bwrap"].append(one("bwrap", notebooks[i]))
        pm = statistics.median(times["papermill"])
        dk = statistics.median(times["docker"])
        rows.append(Row("docker vs plain papermill, one notebook", dk, pm,
                        note=f"overhead {dk - pm:+.2f} s per notebook; median of {repeat}"))
        if have_bwrap:
            bw = statistics.median(times["bwrap"])
            rows.append(Row("bwrap vs plain papermill, one notebook", bw, pm, note=f"overhead {bw - pm:+.2f} s"))
            rows.append(Row("docker vs bwrap, one notebook", dk, bw, note=f"difference {dk - bw:+.2f} s"))

        # 20 notebooks, 2 at a time
        started = time.perf_counter()
        import papermill

        execute = functools.partial(papermill.execute_notebook, kernel_name="python3", progress_bar=False,
                                    log_output=False)
        with ProcessPoolExecutor(2) as pool:  # (run.py's modules cannot be pickled by name)
            list(pool.map(execute, [str(p) for p in notebooks], [str(folder / f"many_{p.name}") for p in notebooks]))
        pm_many = time.perf_counter() - started

        def batch(backend: str) -> float:
            jobs = [Job(p, {"seed": 2}, limits=limits, backend=backend) for p in notebooks]
            started = time.perf_counter()
            results = run_many(jobs, workers=2, progress=False)
            elapsed = time.perf_counter() - started
            bad = [r.summary() for r in results if r.status != "ok"]
            if bad:
                raise RuntimeError(f"{backend}: {bad[:3]}")
            return elapsed

        dk_many = batch("docker")
        rows.append(Row(f"docker vs plain papermill, {many} notebooks, workers=2", dk_many, pm_many,
                        note=f"{dk_many / many:.2f} s vs {pm_many / many:.2f} s per notebook"))
        if have_bwrap:
            bw_many = batch("bwrap")
            rows.append(Row(f"bwrap vs plain papermill, {many} notebooks, workers=2", bw_many, pm_many))
            rows.append(Row(f"docker vs bwrap, {many} notebooks, workers=2", dk_many, bw_many))
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row.line())
