"""On bubblewrap a GPU job sees only its own /dev/nvidiaN (plus the control devices).

The device nodes here are FAKE (plain files from the ``fake_gpu_devices`` fixture, named
like the NVIDIA driver's); no GPU is needed or touched.  What is checked is what the
sandbox is given: the bwrap arguments, and the /dev a real bwrap job lists.
"""

from __future__ import annotations

import json
import shutil

import pytest
from nbformat import v4

from coursebench.execution import GPUSlots, Job, Limits, run_many
from coursebench.execution.backends.bwrap import BwrapBackend
from coursebench.execution.backends.nvidia import FAKE_DRIVER_INFO, GPUDeviceMissing, gpu_view
from coursebench.execution.job import prepare

from .conftest import FAKE_MINORS

CONTROLS = {"/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset", "/dev/nvidia-caps"}

LIST_DEV = """
import json, os
nodes = sorted(n for n in os.listdir('/dev') if n.startswith('nvidia'))
caps = sorted(os.listdir('/dev/nvidia-caps')) if os.path.isdir('/dev/nvidia-caps') else []
print(json.dumps({"nodes": nodes, "caps": caps,
                  "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
                  "nvidia": os.environ.get("NVIDIA_VISIBLE_DEVICES")}))
"""


def dev_binds(argv: list[str]) -> dict[str, str]:
    """inside path → host path of every --dev-bind in a bwrap command line."""
    return {argv[i + 2]: argv[i + 1] for i, a in enumerate(argv) if a == "--dev-bind"}


def test_gpu_view_names_the_nodes_of_its_own_gpus_only(fake_gpu_devices):
    view = gpu_view(["2"])
    inside = {dest for _, dest in view.binds}
    minor = FAKE_MINORS[2]  # nvidia-smi index 2 is the driver's minor 3 here
    assert inside == {f"/dev/nvidia{minor}"} | CONTROLS
    assert view.uuids == ["GPU-fake-2"]
    by_uuid = gpu_view(["GPU-fake-0", "GPU-FAKE-3"])
    assert {d for _, d in by_uuid.binds} - CONTROLS == {f"/dev/nvidia{FAKE_MINORS[0]}", f"/dev/nvidia{FAKE_MINORS[3]}"}
    assert gpu_view([]).binds == []


def test_a_gpu_that_is_not_there_is_refused(fake_gpu_devices):
    with pytest.raises(GPUDeviceMissing, match="lists 4 GPU"):
        gpu_view(["7"])
    with pytest.raises(GPUDeviceMissing, match="UUID"):
        gpu_view(["GPU-not-here"])
    shutil.rmtree(fake_gpu_devices / FAKE_DRIVER_INFO)  # without the driver's list, ids are minors
    assert {d for _, d in gpu_view(["3"]).binds} - CONTROLS == {"/dev/nvidia3"}
    assert gpu_view(["3"]).uuids == []
    (fake_gpu_devices / "nvidia3").unlink()
    with pytest.raises(GPUDeviceMissing, match="nvidia3 does not exist"):
        gpu_view(["3"])


def test_bwrap_arguments_bind_only_the_jobs_own_gpu(fake_gpu_devices):
    nb = v4.new_notebook()
    nb.cells = [v4.new_code_cell("print(1)")]
    jobdir = prepare(Job(nb, limits=Limits(gpus=1), backend="bwrap"))
    try:
        jobdir.gpu_devices = ["1"]
        argv, _, _ = BwrapBackend().command(jobdir)
        binds = dev_binds(argv)
        minor = FAKE_MINORS[1]
        assert set(binds) == {f"/dev/nvidia{minor}"} | CONTROLS
        assert binds[f"/dev/nvidia{minor}"] == str(fake_gpu_devices / f"nvidia{minor}")
        env = {argv[i + 1]: argv[i + 2] for i, a in enumerate(argv) if a == "--setenv"}
        assert env["CUDA_VISIBLE_DEVICES"] == "GPU-fake-1"
        assert env["NVIDIA_VISIBLE_DEVICES"] == "1"
        jobdir.gpu_devices = []
        argv, _, _ = BwrapBackend().command(jobdir)
        assert dev_binds(argv) == {}, "a CPU job sees no GPU device"
    finally:
        jobdir.cleanup()


def test_real_bwrap_jobs_list_only_their_own_gpu_in_dev(bwrap_backend, fake_gpu_devices):
    nb = v4.new_notebook()
    nb.cells = [v4.new_code_cell(LIST_DEV)]
    jobs = [Job(nb, name=f"gpu{i}", limits=Limits(gpus=1, timeout=60), backend=bwrap_backend) for i in range(2)]
    jobs.append(Job(nb, name="cpu", limits=Limits(timeout=60), backend=bwrap_backend))
    results = run_many(jobs, workers=3, gpus=GPUSlots(["0", "3"]), progress=False)
    seen = {}
    for r in results:
        assert r.status == "ok", r.summary() + r.log_tail
        seen[r.name] = (r.gpu_devices, json.loads(r.notebook.cells[0].outputs[0].text))
    controls = sorted(name.removeprefix("/dev/") for name in CONTROLS)
    for name in ("gpu0", "gpu1"):
        [device], view = seen[name]
        minor = FAKE_MINORS[int(device)]
        assert view["nodes"] == sorted([f"nvidia{minor}", *controls]), view
        assert view["caps"] == ["nvidia-cap1"]
        assert view["cuda"] == f"GPU-fake-{device}" and view["nvidia"] == device
    assert sorted(seen["gpu0"][0] + seen["gpu1"][0]) == ["0", "3"]
    devices, view = seen["cpu"]
    assert devices == [] and view["nodes"] == [] and view["cuda"] == ""
