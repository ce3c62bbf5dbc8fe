"""A real dask.distributed cluster on loopback: `dask scheduler` and `dask worker`
processes, started and stopped by the tests (nothing else is reused or left running)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import must_have_or_skip

pytest.importorskip("distributed")

DASK = str(Path(sys.executable).with_name("dask"))
#: Device ids for GPU workers on a machine without GPUs, with FAKE device nodes (plain
#: files named /dev/nvidia0, nvidia1 in a folder given as COURSEBENCH_DEVICE_ROOT) for
#: the bwrap backend to bind.  They reach the sandbox as NVIDIA_VISIBLE_DEVICES; nothing
#: here pretends to compute on them.
FAKE_GPUS = "0,1"


class LoopbackCluster:
    """A scheduler and workers as separate processes on 127.0.0.1."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.scheduler: subprocess.Popen | None = None
        self.workers: dict[str, subprocess.Popen] = {}
        self.address = ""

    def _spawn(self, args: list[str], log_name: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.root / f"{log_name}.log", "wb")
        full_env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False", **(env or {})}
        return subprocess.Popen([DASK, *args], stdout=log, stderr=subprocess.STDOUT, env=full_env,
                                start_new_session=True)

    def start_scheduler(self) -> str:
        file = self.root / "scheduler.json"
        self.scheduler = self._spawn(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                      "--scheduler-file", str(file)], "scheduler")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if file.exists():
                try:
                    self.address = json.loads(file.read_text())["address"]
                    return self.address
                except (ValueError, KeyError):
                    pass
            if self.scheduler.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("the dask scheduler did not start: " + (self.root / "scheduler.log").read_text()[-2000:])

    def job_root(self, name: str) -> Path:
        """Where worker ``name``'s sandboxes keep their job directories."""
        return self.root / f"jobs-{name}" / "coursebench-jobs"

    def add_worker(self, name: str, *, gpus: str = "", resources: str | None = None, nthreads: int = 1) -> None:
        args = ["worker", self.address, "--name", name, "--nthreads", str(nthreads), "--no-nanny",
                "--no-dashboard", "--host", "127.0.0.1", "--death-timeout", "60", "--memory-limit", "0"]
        if resources:
            args += ["--resources", resources]
        env = {"COURSEBENCH_JOB_ROOT": str(self.root / f"jobs-{name}"), "COURSEBENCH_GPUS": gpus}
        if gpus:
            fake_dev = self.root / f"fake-dev-{name}"
            fake_dev.mkdir(exist_ok=True)
            for device in gpus.split(","):
                (fake_dev / f"nvidia{device}").write_text("a FAKE GPU device node for the tests\n")
            env["COURSEBENCH_DEVICE_ROOT"] = str(fake_dev)
        self.workers[name] = self._spawn(args, f"worker-{name}", env)

    def wait_for_workers(self, n: int, timeout: float = 90) -> None:
        from distributed import Client

        with Client(self.address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(n, timeout=timeout)

    def kill_worker(self, name: str) -> None:
        """SIGKILL the worker process (its sandboxes die with it: bwrap --die-with-parent)."""
        process = self.workers[name]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop(self) -> None:
        processes = [*self.workers.values(), *([self.scheduler] if self.scheduler else [])]
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture(scope="package")
def cluster(tmp_path_factory) -> Iterator[LoopbackCluster]:
    """Scheduler + two CPU workers + one GPU worker (``--resources GPU=2``, fake devices)."""
    running = LoopbackCluster(tmp_path_factory.mktemp("dask"))
    try:
        running.start_scheduler()
        running.add_worker("cpu-0")
        running.add_worker("cpu-1")
        running.add_worker("gpu-0", gpus=FAKE_GPUS, resources="GPU=2", nthreads=2)
        running.wait_for_workers(3)
        yield running
    finally:
        running.stop()


@pytest.fixture
def own_cluster(tmp_path) -> Iterator[LoopbackCluster]:
    """A scheduler with two CPU workers for one test, which may kill them."""
    running = LoopbackCluster(tmp_path / "dask")
    try:
        running.start_scheduler()
        running.add_worker("w0")
        running.add_worker("w1")
        running.wait_for_workers(2)
        yield running
    finally:
        running.stop()


NOTEBOOKS = Path(__file__).parents[1] / "notebooks"
#: The same limits for every job of the batch, locally and on the cluster (the CLI
#: applies one set of limits to all the notebooks it runs).
BATCH_LIMITS = {"timeout": 90, "cell_timeout": 3, "memory": "1G"}


def write_nb(path: Path, *sources: str) -> Path:
    import nbformat
    from nbformat import v4

    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, str(path))
    return path


def signature(result) -> tuple:
    """What a grade depends on: status, where it failed, the error, every cell's outputs
    (minus timings and the sandbox's wording of kill messages)."""
    outputs = []
    for cell in result.notebook.cells if result.notebook is not None else []:
        seen = []
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream":
                seen.append((kind, out.get("name"), out.get("text")))
            elif kind == "error":
                seen.append((kind, out.get("ename"), out.get("evalue")))
            else:
                seen.append((kind, (out.get("data") or {}).get("text/plain")))
        outputs.append(tuple(seen))
    return (result.name, result.status, result.failed_cell, result.ename, result.evalue, tuple(outputs))


@pytest.fixture(scope="package")
def batch(tmp_path_factory) -> list[Path]:
    """Notebooks with every kind of ending; ``slow`` first so that it starts at once."""
    here = tmp_path_factory.mktemp("batch")
    slow = write_nb(here / "slow.ipynb", "import time", "time.sleep(2)", "time.sleep(2)", "time.sleep(2)",
                    "print('slow done')")
    return [slow] + [NOTEBOOKS / f"{name}.ipynb" for name in
                     ("zero_division", "os_exit", "cell_timeout", "invalid_json")]


@pytest.fixture(scope="package")
def local_reference(batch) -> list:
    """The batch run locally (bwrap, two slots): what the cluster must reproduce."""
    from coursebench.execution import Job, Limits, availability, run_many

    ok, why = availability("bwrap")
    if not ok:
        must_have_or_skip("the bwrap backend", why)
    jobs = [Job(path, limits=Limits(**BATCH_LIMITS), backend="bwrap") for path in batch]
    return run_many(jobs, workers=2, progress=False)
