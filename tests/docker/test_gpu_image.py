"""The ``gpu`` image: built offline on the same debootstrap base as the other images, with
the CUDA runtime from pip wheels (``tensorflow[and-cuda]`` → nvidia-* wheels) downloaded on
the host, no CUDA base image and no apt-get.  Then TensorFlow imports in it with no network
and reports the devices it sees: here (no GPU) CPU only — the call must work and claim no
GPU without one.  About 8 GB and several minutes: not in ``make test``; run it with
``make test-gpu-image`` (sets COURSEBENCH_TEST_GPU_IMAGE=1).
"""

from __future__ import annotations

import json

import pytest

from coursebench.settings import get_settings

from .conftest import Engine

pytestmark = pytest.mark.skipif(
    not get_settings().test_gpu_image,
    reason="the ~8 GB gpu image is built only on request: make test-gpu-image",
)

PROBE = (
    "import glob, json, os, sys\n"
    "import tensorflow as tf, keras\n"
    "site = os.path.dirname(os.path.dirname(tf.__file__))\n"
    "print(json.dumps({\n"
    "  'tf': tf.__version__, 'keras': keras.__version__,\n"
    "  'built_with_cuda': tf.test.is_built_with_cuda(),\n"
    "  'cuda_libs': sorted(os.path.basename(p) for p in glob.glob(site + '/nvidia/*/lib/lib*.so*'))[:50],\n"
    "  'devices': [d.device_type for d in tf.config.list_physical_devices()],\n"
    "  'gpus': len(tf.config.list_physical_devices('GPU')),\n"
    "}))\n"
)


def _run(engine: Engine, image: str, command: list[str], **kwargs) -> str:
    out = engine.client.containers.run(  # type: ignore[attr-defined]
        image, command, network_mode="none", remove=True, stdout=True, stderr=False, **kwargs)
    return out.decode(errors="replace")


@pytest.mark.timeout(3600)
def test_gpu_image_builds_offline_and_tensorflow_reports_devices(docker_engine: Engine) -> None:
    from coursebench.execution import detect_gpus
    from coursebench.images.build import build
    from coursebench.images.dockerfile import dockerfile_for

    text = dockerfile_for("gpu")
    assert "apt-get" not in text and "nvidia/cuda" not in text  # the base is ours, nothing fetched
    image_id = build("gpu", engine=docker_engine.client, offline=True)  # type: ignore[arg-type]
    report = json.loads(_run(docker_engine, image_id, ["python", "-c", PROBE]).strip().splitlines()[-1])
    assert report["tf"].startswith("2.") and report["keras"].startswith("3.")
    assert report["built_with_cuda"] is True
    assert any(lib.startswith("libcudnn") for lib in report["cuda_libs"]), report["cuda_libs"]
    assert any(lib.startswith("libcublas") for lib in report["cuda_libs"]), report["cuda_libs"]
    assert "CPU" in report["devices"]
    if not detect_gpus():  # no GPU given to the container (nor on this host): none may be claimed
        assert report["gpus"] == 0 and "GPU" not in report["devices"], report
    who = _run(docker_engine, image_id, ["sh", "-c", "id -u; for c in jupyter nbgrader papermill; do command -v $c; done"])
    assert who.split()[0] == "1000" and who.count("/opt/venv/bin/") == 3, who
