"""GPU jobs get explicit device ids, at most one job per device at a time; CPU jobs never
get a GPU.  There is no GPU here: ``FAKE_GPU_DEVICES`` are made-up device ids, and the
``FakeGPUDockerBackend`` records the exact ``device_requests`` the docker backend built
for each job, then runs the container for real without them (an engine without the
NVIDIA runtime refuses GPU requests).  The real GPU path is marked ``gpu``."""

from __future__ import annotations

import threading
import time
from typing import ClassVar

import pytest
from nbformat import v4

from coursebench.execution import Job, Limits, backends, detect_gpus, run_many, run_notebook
from coursebench.execution.backends import docker as docker_backend_module
from coursebench.execution.job import prepare
from coursebench.execution.pool import GPUSlots

FAKE_GPU_DEVICES = ["fake-gpu-0", "fake-gpu-1"]
pytestmark = [pytest.mark.docker]


class FakeGPUDockerBackend(docker_backend_module.DockerBackend):
    """The docker backend, recording each job's GPU requests and dropping them before the
    container is created (this machine has no GPU)."""

    name = "docker-fakegpu"
    strength = -1
    lock = threading.Lock()
    log: ClassVar[list[dict]] = []

    def spec(self, job, image, **kwargs):
        spec = super().spec(job, image, **kwargs)
        with self.lock:
            self.log.append({
                "job": job.job.name,
                "devices": list(job.gpu_devices),
                "requests": [dict(r) for r in spec["device_requests"]],
                "start": time.monotonic(),
            })
        spec["device_requests"] = []
        return spec

    def run(self, job, cancel):
        try:
            return super().run(job, cancel)
        finally:
            with self.lock:
                for entry in self.log:
                    if entry["job"] == job.job.name:
                        entry["end"] = time.monotonic()


def test_cpu_job_spec_has_no_gpu(tmp_path):
    jobdir = prepare(Job(v4.new_notebook(), name="cpu"))
    try:
        spec = docker_backend_module.container_spec(jobdir, "img", user="1000:1000", labels={})
    finally:
        jobdir.cleanup()
    assert spec["device_requests"] == []
    assert spec["environment"]["NVIDIA_VISIBLE_DEVICES"] == "void"
    assert spec["environment"]["CUDA_VISIBLE_DEVICES"] == ""


def test_gpu_job_spec_requests_exactly_its_devices():
    jobdir = prepare(Job(v4.new_notebook(), name="gpu", limits=Limits(gpus=2)))
    jobdir.gpu_devices = list(FAKE_GPU_DEVICES)
    try:
        spec = docker_backend_module.container_spec(jobdir, "img", user="1000:1000", labels={})
    finally:
        jobdir.cleanup()
    assert [dict(r) for r in spec["device_requests"]] == [{
        "Driver": "", "Count": 0, "DeviceIDs": FAKE_GPU_DEVICES, "Capabilities": [["gpu"]], "Options": {},
    }]
    assert spec["environment"]["NVIDIA_VISIBLE_DEVICES"] == "fake-gpu-0,fake-gpu-1"
    assert "CUDA_VISIBLE_DEVICES" not in spec["environment"]


def test_gpu_slots_hand_out_each_device_once():
    slots = GPUSlots(FAKE_GPU_DEVICES)
    first = slots.acquire(1)
    second = slots.acquire(1)
    assert sorted(first + second) == FAKE_GPU_DEVICES
    got: list[list[str]] = []
    waiter = threading.Thread(target=lambda: got.append(slots.acquire(1)))
    waiter.start()
    time.sleep(0.3)
    assert got == [], "a third GPU job must wait for a free device"
    slots.release(first)
    waiter.join(5)
    assert got == [first]
    with pytest.raises(ValueError, match="needs 3 GPU"):
        slots.acquire(3)


@pytest.mark.slow
def test_pool_schedules_gpu_jobs_on_fake_devices(docker_backend, docker_engine, monkeypatch):
    monkeypatch.setenv("COURSEBENCH_DOCKER_GPU_IMAGE", docker_engine.image)  # no gpu image here
    backends.register(FakeGPUDockerBackend)
    FakeGPUDockerBackend.log.clear()
    try:
        sleepy = v4.new_notebook()
        sleepy.cells = [v4.new_code_cell("import time, os\ntime.sleep(3)\nprint(os.environ.get('NVIDIA_VISIBLE_DEVICES'))")]
        jobs = [Job(sleepy, name=f"gpu{i}", limits=Limits(timeout=60, gpus=1), backend="docker-fakegpu")
                for i in range(3)]
        jobs.append(Job(sleepy, name="cpu", limits=Limits(timeout=60), backend="docker-fakegpu"))
        results = run_many(jobs, workers=4, progress=False, gpus=FAKE_GPU_DEVICES)
    finally:
        backends._REGISTRY.pop(FakeGPUDockerBackend.name, None)
        backends._AVAILABLE.pop(FakeGPUDockerBackend.name, None)
    assert [r.status for r in results] == ["ok"] * 4, [r.summary() for r in results]
    by_job = {entry["job"]: entry for entry in FakeGPUDockerBackend.log}
    for r in results[:3]:
        (device,) = r.gpu_devices
        assert device in FAKE_GPU_DEVICES
        entry = by_job[r.name]
        assert entry["requests"] == [{"Driver": "", "Count": 0, "DeviceIDs": [device],
                                      "Capabilities": [["gpu"]], "Options": {}}]
        assert r.notebook.cells[0].outputs[0].text.strip() == device
    assert results[3].gpu_devices == [] and by_job["cpu"]["requests"] == []
    assert results[3].notebook.cells[0].outputs[0].text.strip() == "void"
    # never two jobs on one device at once; never more GPU jobs than devices
    gpu_entries = [e for e in FakeGPUDockerBackend.log if e["devices"]]
    for a in gpu_entries:
        for b in gpu_entries:
            if a is not b and a["devices"] == b["devices"]:
                assert a["end"] <= b["start"] or b["end"] <= a["start"], (a, b)
    for e in gpu_entries:
        running = [o for o in gpu_entries if o["start"] <= e["start"] < o["end"]]
        assert len(running) <= len(FAKE_GPU_DEVICES)


@pytest.mark.gpu
def test_real_gpu_is_visible_in_the_gpu_image(docker_backend, docker_engine):
    """Needs a GPU, an engine with the NVIDIA runtime (COURSEBENCH_TEST_DOCKER_HOST=the
    system engine) and the gpu image built (python -m coursebench.images build gpu)."""
    if not detect_gpus():
        pytest.skip("no GPU on this machine (nvidia-smi finds none)")
    if "nvidia" not in (docker_engine.client.info().get("Runtimes") or {}):
        pytest.skip("the test engine has no NVIDIA runtime; set COURSEBENCH_TEST_DOCKER_HOST to one that has")
    nb = v4.new_notebook()
    nb.cells = [v4.new_code_cell("import tensorflow as tf\nprint(len(tf.config.list_physical_devices('GPU')))")]
    result = run_notebook(nb, limits=Limits(timeout=300, gpus=1), backend="docker")
    assert result.status == "ok", result.summary()
    assert result.notebook.cells[0].outputs[-1].text.strip() == "1"
