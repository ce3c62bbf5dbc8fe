"""A real course hub for the tests: JupyterHub + configurable-http-proxy + DockerSpawner on
the test engine, the ``lab-slim`` image, a small course (two students and an instructor),
and the leaderboard as the hub's managed service with one open competition.

Everything listens on 127.0.0.1 (host networking, one port per server); the hub is stopped
by its pid and the containers it made are removed by id when the module is done."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.docker.conftest import docker_engine  # noqa: F401  (the session's engine: private, or the given one)
from tests.helpers import must_have_or_skip
from tests.leaderboard.conftest import make_competition

REPO = Path(__file__).resolve().parents[2]
IMAGE = "coursebench-lab-slim:latest"
SLUG = "demo"
STUDENTS = ("s01", "s02")
INSTRUCTOR = "prof"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Hub:
    root: Path
    url: str
    leaderboard: str
    tokens: dict[str, str]
    engine: object
    env: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "coursebench.cli", *args], cwd=self.root, env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def container(self, user: str):  # type: ignore[no-untyped-def]
        return self.engine.containers.get(f"cbhub-{user}")  # type: ignore[attr-defined]

    def login(self, user: str) -> httpx.Client:
        """An HTTP session logged into the hub as ``user`` (the hub's own login form)."""
        c = httpx.Client(base_url=self.url, timeout=60, trust_env=False, follow_redirects=True)
        c.get("/hub/login")
        r = c.post("/hub/login", data={"username": user, "password": self.tokens[user],
                                       "_xsrf": c.cookies.get("_xsrf", "")}, follow_redirects=False)
        assert r.status_code == 302 and "login" not in r.headers["location"], (r.status_code, r.text[:500])
        return c

    def api(self, user: str | None = None) -> httpx.Client:
        """The hub's REST API with an admin token (``user``'s own via the admin otherwise)."""
        token = (self.root / "build" / "hub" / "admin_token").read_text().strip()
        return httpx.Client(base_url=self.url + "/hub/api", headers={"Authorization": f"token {token}"},
                            timeout=60, trust_env=False)

    def spawn(self, user: str, timeout: float = 240) -> float:
        """Start ``user``'s server through the hub; seconds until it answered."""
        start = time.monotonic()
        with self.api() as api:
            r = api.post(f"/users/{user}/server")
            assert r.status_code in (201, 202, 400), r.text
            while time.monotonic() - start < timeout:
                model = api.get(f"/users/{user}").json()
                if model.get("servers", {}).get("", {}).get("ready"):
                    return time.monotonic() - start
                time.sleep(0.3)
        raise AssertionError(f"{user}'s server did not become ready in {timeout} s:\n" + self.log_tail())

    def stop_server(self, user: str) -> None:
        with self.api() as api:
            api.delete(f"/users/{user}/server")

    def log_tail(self, n: int = 40) -> str:
        log = self.root / "build" / "hub" / "hub.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-n:]) if log.exists() else ""


def _image(engine) -> None:  # type: ignore[no-untyped-def]
    from coursebench.images.build import ensure

    try:
        engine.images.get(IMAGE)
        return
    except Exception:
        pass
    try:  # a fresh machine: build it (offline, ~3 min on 2 cores)
        ensure("lab-slim", engine=engine, offline=True)
    except Exception as exc:
        must_have_or_skip("the lab-slim image", f"could not be built: {exc}")


def write_course(root: Path, port: int, lb_port: int, students_: tuple[str, ...] = STUDENTS) -> None:
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    students = "".join(f'\n[[students]]\nid = "{s}"\nname = "Student {s}"\n' for s in students_)
    (root / "course.toml").write_text(textwrap.dedent(f"""\
        [course]
        name = "Hub test"
        code = "HUB"

        [execution]
        backend = "auto"

        [hub]
        image = "{IMAGE}"
        memory = "512M"
        cpus = 1.0
        pids = 128
        port = {port}
        leaderboard_port = {lb_port}
        instructors = ["{INSTRUCTOR}"]
        single_user_ports = [{port + 10}, {port + 400}]
        """) + students + textwrap.dedent("""
        [[assignments]]
        name = "lab01"
        kind = "lab"
        category = "labs"
        due = 2099-01-01T00:00:00+00:00
        """))
    shutil.copytree(REPO / "assignments" / "source" / "lab01", root / "assignments" / "source" / "lab01")
    shutil.copy(REPO / "assignments" / "nbgrader_config.py", root / "assignments" / "nbgrader_config.py")
    comps = root / "competitions"
    folder = make_competition(comps, SLUG)
    toml = folder / "competition.toml"
    text = toml.read_text()
    import re

    text = re.sub(r"^start = .*$", f"start = {(now - dt.timedelta(days=1)).isoformat()}", text, flags=re.M)
    text = re.sub(r"^deadline = .*$", f"deadline = {(now + dt.timedelta(days=30)).isoformat()}", text, flags=re.M)
    toml.write_text(text)


def launch(root: Path, engine, host: str, students: tuple[str, ...] = STUDENTS) -> Hub:  # type: ignore[no-untyped-def]
    """A course in ``root`` (roster ``students`` + the instructor, one open competition, lab01)
    and its hub started with ``coursebench hub start``; :func:`shutdown` stops it."""
    port, lb_port = free_port(), free_port()
    while lb_port in range(port, port + 401):
        lb_port = free_port()
    write_course(root, port, lb_port, students)
    env = {**os.environ, "DOCKER_HOST": host, "COURSEBENCH_COURSE": str(root / "course.toml"),
           "COURSEBENCH_SECRET_KEY": "hub-test-secret"}
    env.pop("COURSEBENCH_DB", None)
    env.pop("COURSEBENCH_COMPETITIONS", None)
    # the roster's tokens (what `coursebench compete tokens` makes) and the competition's data
    from leaderboard.db import sqlite_url
    from leaderboard.services import Service

    (root / "build").mkdir(exist_ok=True)
    svc = Service(sqlite_url(root / "build" / "leaderboard.db"), root / "competitions", backend="bwrap")
    svc.prepare(SLUG)
    tokens = {s: svc.add_participant(s, display_name=f"Student {s}") for s in students}
    tokens[INSTRUCTOR] = svc.add_participant(INSTRUCTOR, display_name="Prof", role="instructor")
    svc.db.engine.dispose()
    h = Hub(root, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{lb_port}", tokens, engine, env)
    started = time.monotonic()
    done = h.cli("hub", "start", "--image", IMAGE, "--docker-host", host, timeout=200)
    if done.returncode != 0:
        raise RuntimeError(f"coursebench hub start failed:\n{done.stdout}\n{done.stderr}\n{h.log_tail()}")
    h.timings["hub_start"] = time.monotonic() - started
    try:
        _admin_token(h)
    except BaseException:
        shutdown(h, students)
        raise
    return h


def shutdown(h: Hub, users: tuple[str, ...] = STUDENTS) -> None:
    """Stop the hub (by its pid: `coursebench hub stop`), then remove by id any container of
    ours it left."""
    h.cli("hub", "stop", timeout=120)
    ours = {f"cbhub-{u}" for u in (*users, INSTRUCTOR)}
    for c in h.engine.containers.list(all=True, filters={"name": "cbhub-"}):  # type: ignore[attr-defined]
        if c.name in ours:
            try:
                c.remove(force=True)
            except Exception:
                pass


@pytest.fixture(scope="session")
def hub(tmp_path_factory, docker_engine) -> Hub:  # type: ignore[misc]  # noqa: F811
    if shutil.which("configurable-http-proxy") is None:
        must_have_or_skip("configurable-http-proxy", "not installed (make hub-deps)")
    try:
        import dockerspawner  # noqa: F401
        import jupyterhub  # noqa: F401
    except ImportError as exc:
        must_have_or_skip("JupyterHub", f"the hub extra is not installed: {exc} (pip install -e '.[hub]')")
    engine, host = docker_engine.client, docker_engine.host
    _image(engine)
    try:
        h = launch(tmp_path_factory.mktemp("hubcourse"), engine, host)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield h
    finally:
        shutdown(h)


def _admin_token(h: Hub) -> None:
    """An API token of the instructor (a hub admin): log in once, then ask for a token."""
    c = h.login(INSTRUCTOR)
    try:
        xsrf = c.cookies.get("_xsrf", "")
        r = c.post(f"/hub/api/users/{INSTRUCTOR}/tokens", json={"note": "tests", "expires_in": 3600},
                   headers={"X-XSRFToken": xsrf, "Referer": h.url + "/hub/token"})
        assert r.status_code in (200, 201), r.text
        (h.root / "build" / "hub" / "admin_token").write_text(r.json()["token"])
    finally:
        c.close()
