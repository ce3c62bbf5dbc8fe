"""Start, stop and inspect the hub process (``jupyterhub -f STATE/jupyterhub_config.py``).

The hub runs in the background, its own session, its output in ``STATE/hub.log`` and its
pid in ``STATE/hub.pid``; stopping it sends SIGTERM to that pid only, and JupyterHub then
stops its proxy, its services and (``cleanup_servers``) every user's container.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from .course import HubError


@dataclass(frozen=True)
class HubStatus:
    running: bool
    pid: int | None
    url: str
    version: str | None


def _pid(state: Path) -> int | None:
    try:
        pid = int((state / "hub.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid


def _version(url: str) -> str | None:
    try:
        reply = httpx.get(url + "/hub/api/", timeout=3, trust_env=False)
    except httpx.HTTPError:
        return None
    return reply.json().get("version") if reply.status_code == 200 else None


def status(state: Path, url: str) -> HubStatus:
    pid = _pid(state)
    return HubStatus(pid is not None, pid, url, _version(url) if pid else None)


def start(config: Path, url: str, *, env: dict[str, str] | None = None, timeout: float = 120.0) -> HubStatus:
    """Start the hub with ``config``; return once its API answers (HubError when it does not)."""
    state = config.parent
    if _pid(state) is not None:
        raise HubError(f"the hub is already running (pid {_pid(state)}); `coursebench hub stop` first")
    log = open(state / "hub.log", "ab")  # handed to the child
    child_env = {**os.environ, **(env or {})}
    child_env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + child_env.get("PATH", "")
    proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=state,
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=child_env, start_new_session=True)
    log.close()
    (state / "hub.pid").write_text(str(proc.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = (state / "hub.log").read_text(errors="replace").splitlines()[-15:]
            raise HubError("the hub exited at start:\n" + "\n".join(tail))
        version = _version(url)
        if version:
            return HubStatus(True, proc.pid, url, version)
        time.sleep(0.3)
    stop(state)
    raise HubError(f"the hub did not answer at {url} within {timeout:.0f} s (see {state / 'hub.log'})")


def wait_for(url: str, timeout: float) -> bool:
    """True once ``url`` answers 200 (a service the hub started), False after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=3, trust_env=False).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def stop(state: Path, *, timeout: float = 60.0) -> bool:
    """SIGTERM the hub (its pid only) and wait; False when it was not running."""
    pid = _pid(state)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = 0 if _alive(pid) else pid
        if done == pid or not _alive(pid):
            break
        time.sleep(0.2)
    else:
        os.kill(pid, signal.SIGKILL)
    (state / "hub.pid").unlink(missing_ok=True)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return True
