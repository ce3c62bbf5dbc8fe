"""The images coursebench builds — the Dockerfile's targets and their tags — and the labels
that tie an image to the worker it was built with."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..settings import get_settings

#: The SHA-256 of ``coursebench/execution/worker.py`` the image was built with; the docker
#: backend refuses an image whose worker differs from the host's.
WORKER_LABEL = "org.coursebench.worker-sha256"
TARGET_LABEL = "org.coursebench.target"


@dataclass(frozen=True)
class Target:
    name: str
    tag: str
    requirements: tuple[str, ...]
    needs_source: bool
    base_arg: str
    default_base: str


def targets() -> dict[str, Target]:
    """The Dockerfile's targets and the tags they get (runtime/gpu tags from course.toml)."""
    runtime_tag, gpu_tag = "coursebench-runtime:latest", "coursebench-gpu:latest"
    try:
        from ..config import load_course

        execution = load_course().execution
        runtime_tag, gpu_tag = execution.image, execution.gpu_image
    except Exception:  # a broken course.toml must not stop image builds
        pass
    runtime_tag = get_settings().docker_image or runtime_tag
    return {
        "runtime": Target("runtime", runtime_tag, ("runtime",), False, "BASE", "python:3.11-slim"),
        "lab": Target("lab", "coursebench-lab:latest", ("runtime", "lab"), True, "BASE", "python:3.11-slim"),
        "lab-slim": Target("lab-slim", "coursebench-lab-slim:latest", ("runtime", "lab-slim"), True, "BASE",
                           "python:3.11-slim"),
        # The CUDA runtime comes as pip wheels (tensorflow[and-cuda]): the same Debian base.
        "gpu": Target("gpu", gpu_tag, ("runtime", "gpu"), True, "BASE", "python:3.11-slim"),
    }


def worker_sha256() -> str:
    from ..execution.job import WORKER_PATH

    return hashlib.sha256(WORKER_PATH.read_bytes()).hexdigest()
