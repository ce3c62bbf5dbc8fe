"""The offline wheel cache: binary wheels downloaded *on the host* for the images' Python,
sent in the build context and installed there with ``--no-index``."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from .common import ImageError, Log, repo_root, say

#: Python of the images (Debian bookworm's python3, python:3.11-slim).
IMAGE_PYTHON = "3.11"
#: pip's arguments inside an offline build (the wheels are under /wheels there).
OFFLINE_PIP_ARGS = "--no-index --find-links=/wheels"
# Targets that install coursebench itself from the build context, with these extras
# (as in the Dockerfile's `pip install "/src[...]"`): offline, their dependencies must
# be among the wheels too.
PROJECT_EXTRAS = {"lab": ("grading", "web", "docker"), "gpu": ("grading", "docker"), "lab-slim": ("grading",)}


def project_requirements(extras: Iterable[str]) -> list[str]:
    """coursebench's own dependencies and those of ``extras``, from pyproject.toml."""
    import tomllib

    project = tomllib.loads((repo_root() / "pyproject.toml").read_text())["project"]
    found = list(project["dependencies"])
    for extra in extras:
        found += [r for r in project["optional-dependencies"][extra] if r not in found]
    return found


def download_wheels(requirements: Iterable[str], dest: Path, *, log: Log = None, force: bool = False) -> Path:
    """``pip download`` binary wheels for the images' Python (3.11, Linux, this CPU) into
    ``dest``; skipped when the same requirements were downloaded there before.  For the
    targets that install coursebench itself, its own dependencies come along."""
    root = repo_root()
    requirements = list(requirements)
    files = [root / "docker" / f"requirements-{name}.txt" for name in requirements]
    extras = sorted({e for name in requirements for e in PROJECT_EXTRAS.get(name, ())})
    specs = project_requirements(extras) if extras else []
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files) + "\n".join(specs).encode()).hexdigest()[:16]
    stamp = dest / f".done-{'-'.join(requirements)}-{digest}"
    if stamp.exists() and not force:
        say(log, f"wheels for {', '.join(requirements)} already in {dest}")
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    machine = platform.machine()
    cmd = [sys.executable, "-m", "pip", "download", "--dest", str(dest), "--only-binary=:all:",
           "--python-version", IMAGE_PYTHON, "--implementation", "cp",
           "--abi", f"cp{IMAGE_PYTHON.replace('.', '')}",
           "--progress-bar", "off"]
    # Every manylinux tag glibc 2.36 (bookworm) accepts; older pips do not expand them.
    for minor in range(36, 16, -1):
        cmd += ["--platform", f"manylinux_2_{minor}_{machine}"]
    cmd += ["--platform", f"manylinux2014_{machine}", "--platform", f"manylinux2010_{machine}",
            "--platform", f"manylinux1_{machine}"]
    for f in files:
        cmd += ["-r", str(f)]
    cmd += specs
    # The host's pip configuration (find-links, constraints for the host's own venv) is
    # not the image's business; certificates and proxies from the environment still apply.
    env = {k: v for k, v in os.environ.items()
           if k not in ("PIP_FIND_LINKS", "PIP_CONSTRAINT", "PIP_REQUIRE_VIRTUALENV", "PIP_NO_INDEX")}
    env["PIP_CONFIG_FILE"] = os.devnull
    say(log, f"pip download ({', '.join(requirements)}) for Python {IMAGE_PYTHON} → {dest}")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise ImageError(f"pip download failed (exit {done.returncode}):\n{tail}", step="wheels")
    stamp.touch()
    return dest
