"""A machine where neither bubblewrap nor Docker can be used — made for real, not mocked:
PATH holds only this virtual environment's bin (no ``bwrap``) and a folder with the
package manager the advice names, and the Docker engine address points at a socket
nobody listens on.  A test module makes it a fixture::

    @pytest.fixture
    def no_sandbox(tmp_path, monkeypatch):
        yield from sandboxes_unusable(tmp_path, monkeypatch)
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


def sandboxes_unusable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Docker and bubblewrap unusable here; yields the environment for child processes."""
    from coursebench.execution import backends
    from coursebench.execution.backends import bwrap

    tools = tmp_path / "bin-without-bwrap"
    tools.mkdir()
    apt = shutil.which("apt-get")
    if apt:  # the advice names the package manager this machine has
        (tools / "apt-get").symlink_to(apt)
    path = f"{Path(sys.executable).parent}{os.pathsep}{tools}"
    monkeypatch.setenv("PATH", path)
    monkeypatch.setenv("COURSEBENCH_DOCKER_HOST", f"unix://{tmp_path}/nobody-listens.sock")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(backends, "_AVAILABLE", {})  # forget what was found with the real PATH
    bwrap._bwrap.cache_clear()
    assert not backends.availability("bwrap")[0] and not backends.availability("docker")[0]
    try:
        yield dict(os.environ)
    finally:
        bwrap._bwrap.cache_clear()
