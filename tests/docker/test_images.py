"""The images: the Dockerfile's targets, the runtime image's promises, the build tool."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from coursebench.images.common import ImageError
from coursebench.images.dockerfile import dockerfile_for
from coursebench.images.targets import worker_sha256

REPO = Path(__file__).parents[2]
DOCKERFILE = (REPO / "docker" / "Dockerfile").read_text()


def stages(text: str) -> list[str]:
    return [m.group(1).lower() for m in re.finditer(r"^FROM\s+\S+\s+AS\s+(\S+)", text, re.M | re.I)]


def test_dockerfile_has_the_three_targets():
    assert {"runtime", "lab", "gpu"} <= set(stages(DOCKERFILE))
    assert re.search(r"^ARG BASE=python:3\.11-slim$", DOCKERFILE, re.M)
    # the gpu target is on the same base (CUDA from pip wheels): no CUDA base image, no apt-get
    assert "GPU_BASE" not in DOCKERFILE and "nvidia/cuda" not in DOCKERFILE
    assert "apt-get" not in dockerfile_for("gpu")


def test_each_target_gets_only_the_stages_it_needs():
    assert stages(dockerfile_for("runtime")) == ["runtime-build", "runtime"]
    assert stages(dockerfile_for("lab")) == ["runtime-build", "runtime", "lab-build", "lab"]
    assert stages(dockerfile_for("gpu")) == ["runtime-build", "runtime", "gpu-build", "gpu"]
    with pytest.raises(ImageError, match="no target 'nope'"):
        dockerfile_for("nope")


def test_compose_file_declares_the_services_and_gpu_reservations():
    compose = yaml.safe_load((REPO / "docker" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"lab", "leaderboard", "grader", "postgres", "lab-gpu"} <= set(services)
    for name in ("lab-gpu", "grader-gpu"):
        (device,) = services[name]["deploy"]["resources"]["reservations"]["devices"]
        assert device["capabilities"] == ["gpu"] and device["driver"] == "nvidia"
    assert services["grader"]["environment"]["COURSEBENCH_JOB_ROOT"] in " ".join(services["grader"]["volumes"])
    for name, service in services.items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} must not listen on every interface"


def test_images_cli_help():
    done = subprocess.run([sys.executable, "-m", "coursebench.images", "build", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "--offline" in done.stdout and "--all" in done.stdout
    done = subprocess.run([sys.executable, "-m", "coursebench.images", "build", "nope"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "unknown target" in done.stderr


@pytest.mark.docker
def test_runtime_image_keeps_its_promises(docker_engine):
    image = docker_engine.client.images.get(docker_engine.image)
    labels = image.labels
    assert labels["org.coursebench.worker-sha256"] == worker_sha256()
    assert labels["org.coursebench.target"] == "runtime"
    assert image.attrs["Config"]["User"] not in ("", "0", "root", "0:0")
    script = (
        "import shutil, sys, importlib.metadata as m;"
        "print(sys.version_info[:2] == (3, 11));"
        "print([c for c in ('gcc', 'cc', 'g++', 'clang', 'make') if shutil.which(c)]);"
        "print(sorted(p for p in ('papermill','ipykernel','numpy','pandas','scikit-learn','matplotlib')"
        " if m.version(p)))"
    )
    out = docker_engine.client.containers.run(
        image.id, ["python", "-c", script], network_mode="none", remove=True, read_only=True,
    ).decode().split("\n")
    assert out[0] == "True"
    assert out[1] == "[]", f"compilers in the runtime image: {out[1]}"
    assert "papermill" in out[2] and "scikit-learn" in out[2]
    worker = docker_engine.client.containers.run(
        image.id, ["cat", "/opt/coursebench/worker.py"], network_mode="none", remove=True)
    assert worker == (REPO / "coursebench" / "execution" / "worker.py").read_bytes()


def _build_errors(engine, dockerfile: str) -> list[str]:
    import docker

    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        info = tarfile.TarInfo("docker/Dockerfile")
        info.size = len(dockerfile.encode())
        tar.addfile(info, io.BytesIO(dockerfile.encode()))
    context.seek(0)
    try:
        stream = engine.api.build(fileobj=context, custom_context=True, dockerfile="docker/Dockerfile",
                                  target="parse-check-only", network_mode="none", rm=True, decode=True,
                                  timeout=120)
        return [chunk["error"] for chunk in stream if "error" in chunk]
    except docker.errors.APIError as exc:
        return [str(exc.explanation)]


@pytest.mark.docker
def test_the_whole_dockerfile_parses(docker_engine):
    """The engine's builder parses every stage (lab and gpu too) before it looks for the
    target: asking for a target that does not exist checks the whole file's syntax and
    instructions without building the huge lab or gpu images."""
    errors = _build_errors(docker_engine.client, DOCKERFILE)
    assert errors == ["failed to reach build target parse-check-only in Dockerfile"], errors
    broken = DOCKERFILE.replace("COPY --from=lab-build", "COPY --form=lab-build")
    errors = _build_errors(docker_engine.client, broken)
    assert errors and "form" in errors[0] and "reach build target" not in errors[0], errors
