"""Talking to a Docker engine: a client for it, and what it has or can reach."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..settings import get_settings
from .common import ImageError

if TYPE_CHECKING:
    import docker


def client(host: str | None = None, timeout: int = 600) -> docker.DockerClient:
    """A Docker client for ``host`` (default: ``$COURSEBENCH_DOCKER_HOST``, ``$DOCKER_HOST``)."""
    try:
        import docker
    except ImportError:
        raise ImageError("the Docker SDK is not installed: pip install 'coursebench[docker]'") from None
    host = host or get_settings().engine_host
    try:
        engine = docker.DockerClient(base_url=host, timeout=timeout) if host else docker.from_env(timeout=timeout)
        engine.ping()
    except Exception as exc:
        raise ImageError(
            f"no Docker engine answers at {host or 'the default socket'}: {exc}. Start dockerd "
            "(or Docker Desktop), or point DOCKER_HOST at a running engine."
        ) from None
    return engine


def image_exists(engine: docker.DockerClient, name: str) -> bool:
    import docker

    try:
        engine.images.get(name)
        return True
    except docker.errors.ImageNotFound:
        return False


def registry_reachable(engine: docker.DockerClient, image: str = "python:3.11-slim") -> bool:
    """Whether the engine can see ``image`` in its registry (a manifest lookup, no pull)."""
    try:
        engine.api.inspect_distribution(image)
        return True
    except Exception:
        return False
