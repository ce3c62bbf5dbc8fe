"""A real Docker engine for the docker tests: started here, stopped here.

The session fixture :func:`docker_engine` starts its own ``dockerd`` with
:func:`coursebench.images.dockerd.private_engine` (own socket, exec root and pid file;
``--bridge=none --iptables=false --ip-forward=false``, so no network is ever created),
its data root cached in ``/var/cache/coursebench/docker`` so the runtime image survives
between runs on one machine; it builds the ``runtime`` image offline when missing or
stale (a debootstrap base + wheels downloaded on the host), and stops the daemon by pid
at the end.  ``COURSEBENCH_TEST_DOCKER_HOST`` points the tests at an engine that is
already running instead (it is left running).

An engine that cannot be had (not root, docker.io / debootstrap / the Docker SDK not
installed, a daemon that does not start) FAILS the docker tests where the suite is expected
to provide it — as root or on CI, where ``make test`` installs it — and skips them, saying
why, elsewhere (:func:`tests.helpers.must_have_or_skip`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from coursebench.settings import get_settings
from tests.helpers import must_have_or_skip


@dataclass
class Engine:
    host: str
    client: object
    image: str
    image_id: str


def _reason_unavailable() -> str | None:
    try:
        import docker  # noqa: F401
    except ImportError:
        return "the Docker SDK is not installed (pip install 'coursebench[docker]')"
    if get_settings().test_docker_host:
        return None
    if os.geteuid() != 0:
        return "starting a private Docker engine needs root (run `make test` as root)"
    for exe, package in (("dockerd", "docker.io"), ("debootstrap", "debootstrap")):
        if not shutil.which(exe):
            return f"{exe} is not installed (apt-get install {package})"
    return None


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[Engine]:
    reason = _reason_unavailable()
    if reason:
        must_have_or_skip("a Docker engine", reason)
    import docker
    from coursebench.execution.backends.docker import reap_stale
    from coursebench.images.build import ensure, remove_superseded
    from coursebench.images.common import ImageError
    from coursebench.images.dockerd import private_engine

    image = get_settings().test_docker_image
    given = get_settings().test_docker_host
    with contextlib.ExitStack() as stack:
        try:
            host = given or stack.enter_context(private_engine())
            engine = docker.DockerClient(base_url=host, timeout=600)
            stack.callback(engine.close)
            reap_stale(engine)  # containers of an earlier, crashed test session
            image_id = ensure("runtime", engine=engine, offline=True, tag=image)
        except ImageError as exc:
            pytest.fail(f"no Docker engine with the runtime image for the tests: {exc}")
        remove_superseded(engine)  # earlier builds for another worker.py
        yield Engine(host, engine, image, image_id)


@pytest.fixture
def docker_backend(docker_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``"docker"``, with the backend pointed at the test engine for this test only (so
    ``backend="auto"`` elsewhere in the suite is not changed by the docker tests)."""
    from coursebench.execution import backends

    monkeypatch.setenv("COURSEBENCH_DOCKER_HOST", docker_engine.host)
    monkeypatch.setenv("COURSEBENCH_DOCKER_IMAGE", docker_engine.image)
    ok, why = backends.availability("docker", refresh=True)
    assert ok, why
    yield "docker"
    backends._AVAILABLE.pop("docker", None)


def sandbox_containers(engine: Engine) -> list[str]:
    """Every coursebench sandbox container the engine has, running or not."""
    from coursebench.execution.backends.docker import SANDBOX_LABEL

    found = engine.client.containers.list(all=True, filters={"label": SANDBOX_LABEL})  # type: ignore[attr-defined]
    return [f"{c.short_id} {c.status}" for c in found]


@pytest.fixture(scope="session")
def lab_slim_image(docker_engine: Engine) -> str:
    """The ``lab-slim`` image (a student's server in the hub) on the test engine — built
    offline through :mod:`coursebench.images` when missing (a fresh machine, CI).  An
    existing one is used as it is: no notebook is graded in it, so its worker.py may lag."""
    from coursebench.images.build import build
    from coursebench.images.common import ImageError
    from coursebench.images.targets import targets

    tag = targets()["lab-slim"].tag
    try:
        return docker_engine.client.images.get(tag).id  # type: ignore[attr-defined]
    except Exception:
        pass
    try:
        return build("lab-slim", engine=docker_engine.client, offline=True)  # type: ignore[arg-type]
    except ImageError as exc:
        must_have_or_skip("the lab-slim image", f"could not be built: {exc}")
        raise
