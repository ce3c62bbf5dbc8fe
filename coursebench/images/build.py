"""Building a target: the build context, ``docker build``, keeping images current with the
host's worker, and removing the builds they superseded."""

from __future__ import annotations

import fnmatch
import io
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._version import __version__
from .base import BASE_IMAGE, make_base_image
from .common import ImageError, Log, cache_dir, repo_root, say
from .dockerfile import dockerfile_for
from .engine import client, image_exists
from .targets import TARGET_LABEL, WORKER_LABEL, Target, targets, worker_sha256
from .wheels import OFFLINE_PIP_ARGS, download_wheels

if TYPE_CHECKING:
    import docker


def _context_tar(target: Target, wheels: Path | None, out: io.BufferedRandom) -> None:
    root = repo_root()
    skip = ("__pycache__", "*.pyc", "*.egg-info", ".pytest_cache")

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        name = Path(info.name).name
        return None if any(fnmatch.fnmatch(name, p) for p in skip) else info

    with tarfile.open(fileobj=out, mode="w") as tar:
        data = dockerfile_for(target.name).encode()
        info = tarfile.TarInfo("docker/Dockerfile")
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
        for req in sorted((root / "docker").glob("requirements-*.txt")):
            tar.add(req, f"docker/{req.name}")
        tar.add(root / "docker" / "wheels" / "README.md", "docker/wheels/README.md")
        if wheels is not None:
            for wheel in sorted(wheels.glob("*.whl")):
                tar.add(wheel, f"docker/wheels/{wheel.name}")
        tar.add(root / "coursebench" / "execution" / "worker.py", "coursebench/execution/worker.py")
        if target.needs_source:
            for name in ("pyproject.toml", "README.md"):
                tar.add(root / name, name)
            for package in ("coursebench", "leaderboard"):
                tar.add(root / package, package, filter=keep)
    out.seek(0)


def build(
    name: str,
    *,
    engine: docker.DockerClient | None = None,
    offline: bool = False,
    base: str | None = None,
    tag: str | None = None,
    log: Log = None,
    nocache: bool = False,
) -> str:
    """Build one target; return the image id (``sha256:…``).

    ``offline``: no registry and no package index inside the build — make the base image
    locally (unless ``base`` names one that exists) and install wheels downloaded on the
    host.  Raises :class:`ImageError` saying which step failed.
    """
    known = targets()
    if name not in known:
        raise ImageError(f"unknown image target {name!r}; targets: {', '.join(known)}")
    target = known[name]
    engine = engine or client()
    buildargs = {"WORKER_SHA256": worker_sha256(), "COURSEBENCH_VERSION": __version__}
    wheels = None
    if offline:
        if base is None:
            base = BASE_IMAGE
            make_base_image(engine, base, log=log)
        wheels = download_wheels(target.requirements, cache_dir() / "wheels", log=log)
        buildargs["PIP_ARGS"] = OFFLINE_PIP_ARGS
    if base is not None:
        if offline and not image_exists(engine, base):
            raise ImageError(f"the base image {base!r} is not in the engine", target=name)
        buildargs[target.base_arg] = base
    tag = tag or target.tag
    say(log, f"building {name} → {tag}" + (f" (base {base})" if base else ""))
    with tempfile.TemporaryFile(dir=cache_dir()) as context:
        _context_tar(target, wheels, context)  # type: ignore[arg-type]
        stream = engine.api.build(
            fileobj=context, custom_context=True, dockerfile="docker/Dockerfile", target=name,
            tag=tag, buildargs=buildargs, network_mode="host", rm=True, forcerm=True,
            nocache=nocache, decode=True, timeout=3600,
        )
        image_id = _follow(stream, name, log)
    return image_id or engine.images.get(tag).id


def _follow(stream: Iterable[dict[str, Any]], name: str, log: Log) -> str | None:
    image_id = None
    recent: list[str] = []
    for chunk in stream:
        if "error" in chunk:
            detail = "\n".join(recent[-20:])
            raise ImageError(f"docker build failed: {chunk['error'].strip()}\n{detail}", target=name,
                             step="build")
        if "aux" in chunk and isinstance(chunk["aux"], dict) and "ID" in chunk["aux"]:
            image_id = chunk["aux"]["ID"]
        text = chunk.get("stream")
        if text:
            for line in text.rstrip().splitlines():
                recent.append(line)
                recent[:] = recent[-40:]
                say(log, line)
    return image_id


def ensure(name: str = "runtime", *, engine: docker.DockerClient | None = None, offline: bool = False,
           tag: str | None = None, log: Log = None) -> str:
    """The id of an up-to-date image for ``name``: built when missing or when its worker
    is not the host's (a cached build makes that fast)."""
    engine = engine or client()
    tag = tag or targets()[name].tag
    if image_exists(engine, tag):
        image = engine.images.get(tag)
        if (image.labels or {}).get(WORKER_LABEL) == worker_sha256():
            return image.id
        say(log, f"{tag} was built with another worker.py; rebuilding")
    return build(name, engine=engine, offline=offline, tag=tag, log=log)


#: A dangling coursebench image younger than this may belong to a build still running.
BUILD_GRACE_S = 2 * 3600


def remove_superseded(engine: docker.DockerClient) -> list[str]:
    """Remove untagged coursebench images (earlier builds of a tag, e.g. for an older
    worker.py).  Build-stage layers are kept: they are the next build's cache.  Images
    younger than :data:`BUILD_GRACE_S` are left alone: on a shared engine they may be the
    intermediate layers of a build in progress (labelled, untagged until it ends), and
    removing one makes that build fail with "unknown parent image ID"."""
    import datetime as dt
    import time

    removed = []
    for image in engine.images.list(filters={"dangling": True, "label": TARGET_LABEL}):
        try:  # RFC 3339 in UTC, e.g. 2026-12-02T00:01:02.123456789Z
            created = dt.datetime.strptime(str(image.attrs["Created"])[:19], "%Y-%m-%dT%H:%M:%S").replace(
                tzinfo=dt.timezone.utc).timestamp()
        except (KeyError, ValueError):
            created = 0.0
        if time.time() - created < BUILD_GRACE_S:
            continue
        try:
            engine.images.remove(image.id, noprune=False)
            removed.append(image.id)
        except Exception:  # still used by a container, or a parent of another image
            continue
    return removed
