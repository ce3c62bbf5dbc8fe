"""A Debian base image made without any registry: ``debootstrap --variant=minbase`` +
``docker import``, for offline builds.  The root filesystem tarball is cached under
:func:`~coursebench.images.common.cache_dir` for :data:`BASE_MAX_AGE`."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..settings import get_settings
from .common import ImageError, Log, cache_dir, say
from .engine import image_exists

if TYPE_CHECKING:
    import docker

BASE_IMAGE = "coursebench-base:bookworm"
BASE_SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "python3-pip")
BASE_MAX_AGE = 30 * 24 * 3600
#: Left out of the root filesystem: package caches and documentation.
JUNK = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man",
        "usr/share/info", "usr/share/locale")


def make_base_image(engine: docker.DockerClient, name: str = BASE_IMAGE, *, log: Log = None,
                    rebuild: bool = False) -> str:
    """Make a Debian base image without any registry: ``debootstrap --variant=minbase`` +
    ``docker import``.  The root filesystem tarball is cached; returns the image id."""
    if not rebuild and image_exists(engine, name):
        return engine.images.get(name).id
    tarball = cache_dir() / f"base-{BASE_SUITE}-{platform.machine()}.tar"
    fresh = tarball.is_file() and time.time() - tarball.stat().st_mtime < BASE_MAX_AGE
    if rebuild or not fresh:
        _debootstrap_tarball(tarball, log=log)
    else:
        say(log, f"using the cached base filesystem {tarball}")
    repository, _, tag = name.partition(":")
    say(log, f"importing {tarball.name} as {name}")
    engine.api.import_image_from_file(
        str(tarball), repository=repository, tag=tag or "latest",
        changes=['ENV LANG=C.UTF-8', 'CMD ["/bin/bash"]'],
    )
    return engine.images.get(name).id


def _debootstrap_tarball(tarball: Path, *, log: Log) -> None:
    exe = shutil.which("debootstrap")
    if exe is None:
        raise ImageError("debootstrap is not installed (apt-get install debootstrap)", step="base image")
    if os.geteuid() != 0:
        raise ImageError("making a base image with debootstrap needs root (sudo)", step="base image")
    work = Path(tempfile.mkdtemp(prefix="rootfs-", dir=tarball.parent))
    try:
        say(log, f"debootstrap {BASE_SUITE} (minbase + {', '.join(BASE_PACKAGES)}) — about a minute")
        cmd = [exe, "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", BASE_SUITE,
               str(work / "root"), get_settings().debian_mirror]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise ImageError(f"debootstrap failed (exit {done.returncode}):\n{tail}", step="base image")
        root = work / "root"
        for junk in JUNK:
            target = root / junk
            if target.is_dir():
                for child in target.iterdir():
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child, ignore_errors=True)
                    elif child.name not in ("lock", "partial"):
                        child.unlink(missing_ok=True)
        partial = tarball.with_suffix(".tar.part")
        done = subprocess.run(["tar", "--numeric-owner", "--xattrs", "-C", str(root), "-cf", str(partial), "."],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise ImageError(f"tar failed: {done.stderr.strip()[-500:]}", step="base image")
        partial.replace(tarball)
    finally:
        shutil.rmtree(work, ignore_errors=True)
