"""run_many (order, isolation of failures, GPU slots, Ctrl-C) and the `coursebench run` CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from coursebench.execution import GPUSlots, Job, Limits, run_many

from ..helpers import leftover_sandbox_processes

NOTEBOOKS = Path(__file__).parents[1] / "notebooks"
CLI = [sys.executable, "-m", "coursebench.cli"]


def write_nb(path: Path, *sources: str) -> Path:
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, str(path))
    return path


def test_run_many_keeps_order_and_isolates_failures(bwrap_backend, tmp_path):
    jobs = [
        Job(write_nb(tmp_path / "slow.ipynb", "import time; time.sleep(2)", "print('slow')"), backend=bwrap_backend),
        Job(write_nb(tmp_path / "boom.ipynb", "raise RuntimeError('boom')"), backend=bwrap_backend),
        Job(tmp_path / "missing.ipynb", backend=bwrap_backend),
        Job(write_nb(tmp_path / "fast.ipynb", "print('fast')"), backend=bwrap_backend),
    ]
    seen = []
    results = run_many(jobs, workers=2, progress=lambda done, total, r: seen.append((done, total, r.name)))
    assert [r.name for r in results] == ["slow", "boom", "missing", "fast"]
    assert [r.status for r in results] == ["ok", "error", "invalid", "ok"]
    assert [s[0] for s in seen] == [1, 2, 3, 4] and all(s[1] == 4 for s in seen)
    assert results[1].evalue == "boom"


def test_run_many_runs_in_parallel(bwrap_backend, tmp_path):
    jobs = [Job(write_nb(tmp_path / f"s{i}.ipynb", "import time; time.sleep(3)"), backend=bwrap_backend)
            for i in range(2)]
    started = time.monotonic()
    results = run_many(jobs, workers=2, progress=False)
    elapsed = time.monotonic() - started
    assert all(r.ok for r in results)
    # Serial would be ≥ 2 × (3 s + kernel start); parallel well under that.
    assert elapsed < sum(r.wall_time for r in results) * 0.85, (elapsed, [r.wall_time for r in results])


def test_gpu_slots_hand_out_distinct_devices():
    slots = GPUSlots(["0", "1"])  # device ids only; no GPU is touched
    a = slots.acquire(1)
    b = slots.acquire(1)
    assert sorted(a + b) == ["0", "1"]
    got: list[list[str]] = []
    waiter = threading.Thread(target=lambda: got.append(slots.acquire(1)))
    waiter.start()
    time.sleep(0.3)
    assert got == [], "a third GPU job must wait for a free device"
    slots.release(a)
    waiter.join(5)
    assert got == [a]
    with pytest.raises(ValueError, match="needs 3 GPU"):
        slots.acquire(3)
    assert slots.acquire(0) == []


def test_gpu_jobs_get_their_devices_and_cpu_jobs_none(bwrap_backend, fake_gpu_devices, tmp_path):
    nb = write_nb(tmp_path / "gpu.ipynb", "import os; print(repr(os.environ.get('NVIDIA_VISIBLE_DEVICES')))")
    jobs = [Job(nb, name=f"gpu{i}", limits=Limits(gpus=1), backend=bwrap_backend) for i in range(2)]
    jobs.append(Job(nb, name="cpu", backend=bwrap_backend))
    fake_devices = GPUSlots(["1", "3"])  # FAKE devices (fake_gpu_devices): this machine has no GPU
    results = run_many(jobs, workers=3, gpus=fake_devices, progress=False)
    printed = [r.notebook.cells[0].outputs[0].text.strip() for r in results]
    assert sorted(printed[:2]) == ["'1'", "'3'"]
    assert printed[2] == "'void'"
    assert [r.gpu_devices for r in results][2] == []


def test_no_gpu_means_gpu_job_is_invalid(tmp_path):
    nb = write_nb(tmp_path / "gpu.ipynb", "print(1)")
    [result] = run_many([Job(nb, limits=Limits(gpus=1))], gpus=[], progress=False)
    assert result.status == "invalid" and "GPU" in result.message


def test_ctrl_c_kills_every_sandbox(bwrap_backend, tmp_path):
    for i in range(3):
        write_nb(tmp_path / f"loop{i}.ipynb", "import time\nwhile True:\n    time.sleep(0.1)")
    script = (
        "import signal, sys; from pathlib import Path\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)  # as in an interactive shell\n"
        "from coursebench.execution import Job, Limits, run_many\n"
        f"jobs = [Job(p, limits=Limits(timeout=120), backend='{bwrap_backend}') "
        f"for p in sorted(Path({str(tmp_path)!r}).glob('*.ipynb'))]\n"
        "print('started', flush=True)\n"
        "run_many(jobs, workers=2, progress=False)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"started"
    deadline = time.monotonic() + 60
    while not leftover_sandbox_processes(wait=0) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert leftover_sandbox_processes(wait=0), "the sandboxes should be running"
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    assert proc.returncode != 0
    assert b"KeyboardInterrupt" in proc.stderr.read()
    assert leftover_sandbox_processes() == []


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_cli_exit_codes_and_json(bwrap_backend, tmp_path):
    good = write_nb(tmp_path / "good.ipynb", "n = 1", "print(n * 2)")
    nb = nbformat.read(str(good), as_version=4)
    nb.cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(nb, str(good))
    bad = write_nb(tmp_path / "bad.ipynb", "x = [1, 2]", "x[5]")

    done = cli("run", str(good), "-p", "n", "21", "--backend", bwrap_backend, "-o", str(tmp_path / "out.ipynb"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = nbformat.read(str(tmp_path / "out.ipynb"), as_version=4)
    assert out.cells[-1].outputs[0].text == "42\n"

    done = cli("run", str(good), str(bad), "--backend", bwrap_backend, "-o", str(tmp_path / "outdir"), cwd=tmp_path)
    assert done.returncode == 1
    assert "IndexError" in done.stdout and "cell 2" in done.stdout and "x[5]" in done.stdout
    assert (tmp_path / "outdir" / "good.ipynb").exists() and (tmp_path / "outdir" / "bad.ipynb").exists()

    done = cli("run", str(good), str(bad), "--backend", bwrap_backend, "--json", "-o", str(tmp_path / "j"), cwd=tmp_path)
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["status"] for o in objects] == ["ok", "error"]
    assert objects[1]["ename"] == "IndexError"

    assert cli("run", str(good), "--backend", "nope", cwd=tmp_path).returncode == 2
    assert cli("run", str(good), "--memory", "lots", cwd=tmp_path).returncode == 2
    assert cli("run", str(good), "-p", "only-name", cwd=tmp_path).returncode == 2
    assert cli("run", cwd=tmp_path).returncode == 2


def test_cli_version_and_help(tmp_path):
    assert cli("--version", cwd=tmp_path).stdout.startswith("coursebench ")
    helptext = cli("--help", cwd=tmp_path).stdout
    assert "run" in helptext and "doctor" in helptext
    assert "--cell-timeout" in cli("run", "--help", cwd=tmp_path).stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="cgroups are made by root")
def test_doctor_reports_backends(tmp_path):
    out = cli("doctor", cwd=tmp_path).stdout
    assert "bwrap" in out and "subprocess" in out and "cgroup" in out
