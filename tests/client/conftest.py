"""A real ``coursebench serve`` process on a temporary SQLite course (one per test module),
and a student who reaches it only over HTTP: the CLI run as an unprivileged user
(``nobody``, through ``setpriv``) with a fresh HOME, from a folder of their own, while the
course folder (database, ``data/private``) is mode 700 and owned by root."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.helpers import checkout_reachable_by_other_users, must_have_or_skip
from tests.leaderboard.conftest import make_competition
from tests.web.conftest import free_port

SLUG = "demo"
NOBODY = 65534
BIN = Path(sys.executable).parent


def open_competition(comps: Path, slug: str = SLUG, **kwargs: object) -> Path:
    """The tests' small binary competition, open from now until 2030 (a real clock)."""
    folder = make_competition(comps, slug, **kwargs)  # type: ignore[arg-type]
    toml = (folder / "competition.toml").read_text()
    toml = re.sub(r"^start = .*$", "", toml, flags=re.M)
    toml = re.sub(r"^deadline = .*$", "deadline = 2030-01-01T00:00:00+00:00", toml, flags=re.M)
    (folder / "competition.toml").write_text(toml)
    return folder


@dataclass
class Server:
    url: str
    course: Path            # mode 700, root's: the database and data/private live here
    db: str
    comps: Path
    tokens: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None

    def api(self, who: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def start_server(course: Path, db: str, comps: Path, *, workers: int = 1) -> subprocess.Popen:
    port = free_port()
    env = {**os.environ, "COURSEBENCH_CONFIG_DIR": str(course / "server-config"), "COURSEBENCH_SECRET_KEY": "t"}
    for var in ("COURSEBENCH_DB", "COURSEBENCH_TOKEN", "COURSEBENCH_SERVER", "COURSEBENCH_COMPETITIONS"):
        env.pop(var, None)
    proc = subprocess.Popen([str(BIN / "coursebench"), "serve", "--db", db, "--competitions", str(comps),
                             "--port", str(port), "--workers", str(workers), "--submit-rate", "1000",
                             "--backend", "bwrap", "--log-level", "warning"],
                            stdout=subprocess.DEVNULL, stderr=open(course / "server.log", "wb"), env=env,
                            cwd=course)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{url}/api/v1/competitions", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"coursebench serve did not start: {(course / 'server.log').read_text()[-2000:]}")
        time.sleep(0.2)
    proc.url = url  # type: ignore[attr-defined]
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    from leaderboard.services import Service

    course = Path(tempfile.mkdtemp(prefix="cb-course-"))  # mode 700, root's
    os.chmod(course, 0o700)
    comps = course / "competitions"
    open_competition(comps)
    db = f"sqlite:///{course / 'leaderboard.db'}"
    svc = Service(db, comps, backend="bwrap")
    svc.prepare(SLUG)
    tokens = {name: svc.add_participant(name, display_name=name.title()) for name in ("alice", "bob", "carol")}
    tokens["prof"] = svc.add_participant("prof", role="instructor")
    svc.db.dispose()
    proc = start_server(course, db, comps)
    yield Server(proc.url, course, db, comps, tokens, proc)  # type: ignore[attr-defined]
    stop(proc)
    shutil.rmtree(course, ignore_errors=True)


@dataclass
class Student:
    """A student's own machine, as far as one test can make it: another user, a fresh
    HOME that is also the working directory, an environment with no course settings."""

    home: Path
    server: Server
    name: str

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120,
            python: str | None = None) -> subprocess.CompletedProcess:
        base = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(self.home), "LANG": "C.UTF-8", "COLUMNS": "200",
                "NO_COLOR": "1", "TERM": "dumb", "PYTHONDONTWRITEBYTECODE": "1"}
        cmd = [str(BIN / "python"), "-c", python, *args] if python else [str(BIN / "coursebench"), *args]
        prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"] if os.geteuid() == 0 else []
        return subprocess.run([*prefix, *cmd], cwd=self.home, env={**base, **(env or {})}, capture_output=True,
                              text=True, timeout=timeout)

    def write(self, name: str, data: bytes) -> Path:
        path = self.home / name
        path.write_bytes(data)
        if os.geteuid() == 0:
            os.chown(path, NOBODY, NOBODY)
        return path


@pytest.fixture
def student(server: Server) -> Iterator[Student]:
    if os.geteuid() != 0:
        must_have_or_skip("root", "running the student's CLI as another user (setpriv --reuid) needs root")
    if shutil.which("setpriv") is None:
        must_have_or_skip("setpriv", "util-linux's setpriv is not installed")
    home = Path(tempfile.mkdtemp(prefix="cb-student-"))
    os.chmod(home, 0o755)
    os.chown(home, NOBODY, NOBODY)
    with checkout_reachable_by_other_users():
        yield Student(home, server, "alice")
    shutil.rmtree(home, ignore_errors=True)
