"""run_many(cluster=...) and `coursebench run --cluster` on a real loopback Dask cluster,
with real bwrap sandboxes on the workers."""

from __future__ import annotations

import _thread
import ast
import json
import threading
import time
from pathlib import Path

import nbformat
import pytest

from coursebench.execution import Job, Limits, run_many
from coursebench.execution.distributed import ClusterError, run_many_on_cluster

from .conftest import BATCH_LIMITS, FAKE_GPUS, LoopbackCluster, signature, write_nb


def _json_objects(text: str) -> list[dict]:
    """JSON objects printed one after another (JSON Lines or pretty-printed)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while True:
        at = text.find("{", at)
        if at < 0:
            return found
        obj, at = decoder.raw_decode(text, at)
        found.append(obj)


def _job_dirs(cluster: LoopbackCluster, prefix: str) -> dict[str, list[Path]]:
    return {name: sorted(cluster.job_root(name).glob(f"{prefix}*")) for name in cluster.workers}


def test_cli_run_on_cluster_matches_local_run(cluster, batch, local_reference, tmp_path):
    from typer.testing import CliRunner

    from coursebench.cli import app

    out = tmp_path / "out"
    args = ["run", *map(str, batch), "-o", str(out), "--cluster", cluster.address, "--json",
            "--timeout", str(BATCH_LIMITS["timeout"]), "--cell-timeout", str(BATCH_LIMITS["cell_timeout"]),
            "--memory", BATCH_LIMITS["memory"], "--backend", "bwrap"]
    outcome = CliRunner().invoke(app, args)
    assert outcome.exit_code == 1, outcome.output  # some notebooks fail on purpose
    remote = _json_objects(outcome.stdout)
    assert [r["name"] for r in remote] == [r.name for r in local_reference]
    assert [r["status"] for r in remote] == [r.status for r in local_reference]
    assert [r["status"] for r in remote] == ["ok", "error", "killed", "timeout", "invalid"]
    assert [(r["failed_cell"], r["ename"], r["evalue"]) for r in remote] == \
        [(r.failed_cell, r.ename, r.evalue) for r in local_reference]
    assert all(r["backend"] == "bwrap" for r in remote if r["status"] != "invalid")
    assert all(r["attempts"] == 1 for r in remote)
    # the executed notebooks came back (as .ipynb) with the same outputs as locally
    for local in local_reference:
        if local.status == "invalid":
            continue
        executed = nbformat.read(str(out / f"{local.name}.ipynb"), as_version=4)
        remote_like = type(local)(name=local.name, status=local.status, notebook=executed,
                                  failed_cell=local.failed_cell, ename=local.ename, evalue=local.evalue)
        assert signature(remote_like) == signature(local)
    assert all(not dirs for dirs in _job_dirs(cluster, "slow").values()), "workers clean up job directories"


def test_worker_killed_mid_batch_every_job_still_ends_like_locally(own_cluster, batch, local_reference):
    from distributed import Client

    with Client(own_cluster.address, set_as_default=False) as client:
        names = {info["name"]: address for address, info in client.scheduler_info()["workers"].items()}
    # slow (killed mid-run), an error and a kernel crash: a subset of the batch, to keep CI short
    jobs = [Job(path, limits=Limits(**BATCH_LIMITS), backend="bwrap") for path in batch[:3]]
    reference = local_reference[:3]
    seen: list[tuple[int, int, str]] = []
    box: dict = {}

    def run() -> None:
        try:
            box["results"] = run_many(jobs, cluster=own_cluster.address, retries=1,
                                      progress=lambda done, total, r: seen.append((done, total, r.name)))
        except BaseException as exc:
            box["error"] = exc

    runner = threading.Thread(target=run)
    runner.start()
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline and runner.is_alive():
        for name, dirs in _job_dirs(own_cluster, "slow").items():
            if any((d / "executed.ipynb").exists() for d in dirs):
                victim = name
        time.sleep(0.2)
    assert victim is not None, "the slow notebook never started on a worker"
    time.sleep(1.0)  # let it run a cell or two
    own_cluster.kill_worker(victim)
    runner.join(timeout=300)
    assert not runner.is_alive(), "the client hung after losing a worker"
    assert "error" not in box, box.get("error")
    results = box["results"]

    assert [signature(r) for r in results] == [signature(r) for r in reference]
    slow = results[0]
    assert slow.status == "ok" and slow.attempts == 2, slow.message
    assert names[victim] in slow.message and "died while running it" in slow.message, slow.message
    assert all(r.attempts == 1 for r in results[1:]), [(r.name, r.attempts, r.message) for r in results]
    assert [s[0] for s in seen] == list(range(1, len(jobs) + 1)) and sorted(s[2] for s in seen) == \
        sorted(r.name for r in results)


def test_gpu_jobs_take_worker_gpus_and_cpu_jobs_none(cluster, tmp_path):
    probe = write_nb(
        tmp_path / "probe.ipynb",
        "import os, time\nstart = time.time()",
        "time.sleep(1.5)\nprint(repr(os.environ.get('NVIDIA_VISIBLE_DEVICES')), start, time.time(), tag)",
    )
    wanted = [1, 2, 0]
    jobs = [Job(probe, {"tag": f"job{i}"}, limits=Limits(timeout=90, gpus=n), backend="bwrap", name=f"g{i}-{n}")
            for i, n in enumerate(wanted)]
    jobs.append(Job(probe, {"tag": "too-many"}, limits=Limits(timeout=90, gpus=3), backend="bwrap", name="g3"))
    results = run_many_on_cluster(jobs, cluster.address, progress=False, worker_wait=4)
    fake = FAKE_GPUS.split(",")
    spans = []
    for result, n in zip(results, wanted, strict=False):
        assert result.status == "ok", result.summary()
        text = result.notebook.cells[-1].outputs[0]["text"].split()
        visible, start, end, tag = ast.literal_eval(text[0]), float(text[1]), float(text[2]), text[3]
        assert tag == f"job{results.index(result)}", "parameters reached the notebook"
        assert len(result.gpu_devices) == n and set(result.gpu_devices) <= set(fake), result.gpu_devices
        assert visible == (",".join(result.gpu_devices) or "void"), "the sandbox sees exactly its devices"
        spans.append((set(result.gpu_devices), start, end))
    assert results[2].gpu_devices == [] and ast.literal_eval(results[2].notebook.cells[-1].outputs[0]["text"].split()[0]) == "void"
    for i, (devices, start, end) in enumerate(spans):
        for other, other_start, other_end in spans[i + 1:]:
            if devices & other:
                assert end <= other_start or other_end <= start, "two jobs held one GPU at the same time"
    assert results[3].status == "invalid"
    assert "needs 3 GPU(s)" in results[3].message and "--resources GPU=3" in results[3].message


def test_ctrl_c_cancels_the_remote_sandboxes(cluster, tmp_path):
    from distributed import Client

    sleepy = write_nb(tmp_path / "sleepy.ipynb", "import time", "time.sleep(90)")
    jobs = [Job(sleepy, limits=Limits(timeout=120), backend="bwrap", name=f"sleepy{i}") for i in range(2)]

    def interrupt_when_running() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if any((d / "executed.ipynb").exists() for dirs in _job_dirs(cluster, "sleepy").values() for d in dirs):
                time.sleep(0.5)
                _thread.interrupt_main()
                return
            time.sleep(0.2)

    threading.Thread(target=interrupt_when_running, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_many(jobs, cluster=cluster.address, progress=False)
    assert time.monotonic() - started < 80, "interrupted long before the notebooks would end"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_job_dirs(cluster, "sleepy").values()):
        time.sleep(0.25)
    assert not any(_job_dirs(cluster, "sleepy").values()), "the sandboxes were killed and cleaned up"
    with Client(cluster.address, set_as_default=False) as client:
        assert not any(client.processing().values()), "no task is left running on the cluster"


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    nb = write_nb(tmp_path / "a.ipynb", "1")
    started = time.monotonic()
    with pytest.raises(ClusterError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        run_many_on_cluster([Job(nb)], "tcp://127.0.0.1:9", connect_timeout=2)
    assert time.monotonic() - started < 30
