"""The ``lab`` image (TensorFlow, Keras, JupyterLab, nbgrader — about 3 GB): built offline
from the debootstrap base and host-downloaded wheels, then checked the way students and
instructors use it.  Not part of ``make test`` (it downloads ~600 MB of wheels and adds
minutes); run it with ``make test-lab-image``, which sets COURSEBENCH_TEST_LAB_IMAGE=1.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coursebench.settings import get_settings

from .conftest import Engine

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not get_settings().test_lab_image,
    reason="the 3 GB lab image is built only on request: make test-lab-image",
)


def _run(engine: Engine, image: str, command: str, **kwargs) -> str:
    out = engine.client.containers.run(  # type: ignore[attr-defined]
        image, ["bash", "-c", command], network_mode="none", remove=True, stdout=True, stderr=True, **kwargs)
    return out.decode(errors="replace")


@pytest.mark.timeout(3600)
def test_lab_image_builds_offline_and_runs_a_keras_lecture(docker_engine: Engine) -> None:
    from coursebench.images.build import build

    image_id = build("lab", engine=docker_engine.client, offline=True)  # type: ignore[arg-type]
    versions = _run(docker_engine, image_id, "python -c 'import tensorflow as tf, keras, nbgrader, jupyterlab, "
                                             "papermill, sklearn, coursebench; print(\"OK\", tf.__version__, "
                                             "keras.__version__)' 2>/dev/null")
    assert versions.startswith("OK 2.") and " 3." in versions, versions
    assert "nbgrader.server_extensions.formgrader" in _run(docker_engine, image_id,
                                                           "jupyter server extension list 2>&1")
    assert "@jupyter/nbgrader" in _run(docker_engine, image_id, "jupyter labextension list 2>&1")
    who = _run(docker_engine, image_id, "id -u; command -v gcc cc || echo no-compiler")
    assert who.split() == ["1000", "no-compiler"], who
    # a Keras lecture, top to bottom (smoke size), with no network, in the image lectures run in
    done = _run(docker_engine, image_id,
                "cp -r /course/lectures /tmp/l && cd /tmp/l && papermill 09_keras_mlp.ipynb /tmp/out.ipynb "
                "-p smoke True --cwd /tmp/l >/tmp/log 2>&1; echo exit=$?; tail -5 /tmp/log",
                volumes={str(REPO): {"bind": "/course", "mode": "ro"}})
    assert "exit=0" in done, done
