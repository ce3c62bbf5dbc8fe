"""Containers come and go: the image is recorded, every container is removed (after ok,
timeout, cancel, Ctrl-C, and a crashed host process), and the backend says clearly
when it cannot run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from nbformat import v4

from coursebench.execution import Limits, backends, run_notebook
from coursebench.execution.backends.docker import OWNER_LABEL, SANDBOX_LABEL, reap_stale

from ..helpers import leftover_sandbox_processes
from .conftest import sandbox_containers

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def notebook(*sources: str):
    nb = v4.new_notebook()
    nb.cells = [v4.new_code_cell(s) for s in sources]
    return nb


def test_result_records_the_image_id(docker_backend, docker_engine):
    result = run_notebook(notebook("print(1 + 1)"), limits=Limits(timeout=60), backend="docker")
    assert result.status == "ok", result.summary()
    assert result.image == docker_engine.image_id
    assert result.image.startswith("sha256:")
    assert result.versions["python"].startswith("3.11")
    assert result.peak_memory is None or result.peak_memory > 10 * 1024**2
    assert sandbox_containers(docker_engine) == []


def test_a_regrade_can_pin_the_recorded_image(docker_backend, docker_engine, monkeypatch):
    first = run_notebook(notebook("x = 1"), limits=Limits(timeout=60), backend="docker")
    monkeypatch.setenv("COURSEBENCH_DOCKER_IMAGE", first.image)
    again = run_notebook(notebook("x = 1"), limits=Limits(timeout=60), backend="docker")
    assert again.status == "ok" and again.image == first.image


def test_auto_prefers_docker_when_the_engine_and_image_are_there(docker_backend):
    name, why = backends.resolve("auto")
    assert name == "docker", why
    assert "coursebench-runtime" in why or "image" in why


def test_cancel_kills_and_removes_the_container(docker_backend, docker_engine):
    cancel = threading.Event()
    from coursebench.execution import Job
    from coursebench.execution.runner import run_job

    job = Job(notebook("import time\nwhile True: time.sleep(0.1)"), limits=Limits(timeout=120), backend="docker")
    threading.Timer(6.0, cancel.set).start()
    started = time.monotonic()
    result = run_job(job, cancel=cancel)
    assert result.status == "killed" and "cancelled" in result.message
    assert time.monotonic() - started < 40
    assert sandbox_containers(docker_engine) == []
    assert leftover_sandbox_processes() == []


CHILD = textwrap.dedent("""
    import signal, sys
    # A background job of a non-interactive shell (the test suite's second lane) starts with
    # SIGINT ignored, and children inherit that; a person's Ctrl-C is what we simulate here.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from nbformat import v4
    from coursebench.execution import Limits, run_notebook
    nb = v4.new_notebook()
    nb.cells = [v4.new_code_cell("import time\\nwhile True: time.sleep(0.1)")]
    print("starting", flush=True)
    try:
        run_notebook(nb, limits=Limits(timeout=300), backend="docker")
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
""")


def _child_with_a_running_container(engine) -> tuple[subprocess.Popen, str]:
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=dict(os.environ))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for c in engine.client.containers.list(filters={"label": SANDBOX_LABEL}):
            if c.labels.get(OWNER_LABEL, "").split(":")[1] == str(child.pid):
                time.sleep(2)  # let the worker start the kernel
                return child, c.id
        if child.poll() is not None:
            break
        time.sleep(0.2)
    child.kill()
    pytest.fail("the child never started a container: " + child.stderr.read().decode()[-2000:])


def test_ctrl_c_removes_the_container(docker_backend, docker_engine):
    child, _ = _child_with_a_running_container(docker_engine)
    child.send_signal(signal.SIGINT)
    try:
        out, err = child.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        child.kill()  # never leave it (and its container) to the next test
        out, err = child.communicate()
        pytest.fail("the interrupted process did not exit within 120 s: " + err.decode()[-2000:])
    assert child.returncode == 130, err.decode()[-2000:]
    assert b"interrupted" in out
    assert sandbox_containers(docker_engine) == []
    assert leftover_sandbox_processes() == []


def test_containers_of_a_crashed_host_process_are_reaped(docker_backend, docker_engine):
    child, container_id = _child_with_a_running_container(docker_engine)
    child.kill()  # no finally runs: the container outlives its owner
    child.wait(timeout=30)
    assert any(c.startswith(container_id[:10]) for c in sandbox_containers(docker_engine))
    removed = reap_stale(docker_engine.client)
    assert container_id in removed
    assert sandbox_containers(docker_engine) == []
    assert leftover_sandbox_processes() == []


def test_a_stale_image_is_refused_with_a_rebuild_hint(docker_backend, docker_engine, monkeypatch):
    base = docker_engine.client.images.get(docker_engine.image)
    container = docker_engine.client.containers.create(base.id, command=["true"], network_mode="none")
    try:
        container.commit(repository="coursebench-runtime", tag="stale-test",
                         changes=["LABEL org.coursebench.worker-sha256=0000"])
    finally:
        container.remove(force=True)
    monkeypatch.setenv("COURSEBENCH_DOCKER_IMAGE", "coursebench-runtime:stale-test")
    try:
        ok, why = backends.availability("docker", refresh=True)
        assert not ok
        assert "another worker.py" in why and "coursebench.images build runtime" in why
        result = run_notebook(notebook("1"), limits=Limits(timeout=30), backend="auto")
        assert result.backend != "docker"
    finally:
        docker_engine.client.images.remove("coursebench-runtime:stale-test", force=True)
        backends._AVAILABLE.pop("docker", None)


def test_missing_image_and_missing_engine_say_what_to_do(docker_backend, monkeypatch):
    monkeypatch.setenv("COURSEBENCH_DOCKER_IMAGE", "coursebench-runtime:no-such-tag")
    ok, why = backends.availability("docker", refresh=True)
    assert not ok and "not in the engine" in why and "make images" in why
    result = run_notebook(notebook("1"), limits=Limits(timeout=30), backend="docker")
    assert result.status == "invalid" and "make images" in result.message
    monkeypatch.setenv("COURSEBENCH_DOCKER_HOST", "unix:///nonexistent/docker.sock")
    ok, why = backends.availability("docker", refresh=True)
    assert not ok and "no Docker engine answers" in why and "DOCKER_HOST" in why
    backends._AVAILABLE.pop("docker", None)
