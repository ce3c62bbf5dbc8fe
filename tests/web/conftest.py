"""Fixtures for the web tests: a real uvicorn server on loopback (in a thread, over a
real SQLite file or the real PostgreSQL server of tests/leaderboard), a small generated
competition, a roster with tokens, and helpers to make prediction files."""

from __future__ import annotations

import datetime as dt
import io
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from tests.leaderboard.conftest import DEADLINE, START, make_competition, postgres_server  # noqa: F401

SLUG = "demo"
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn serving ``app`` on 127.0.0.1 in a background thread."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on",
                                access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@dataclass
class Site:
    url: str
    service: object
    clock: object
    root: Path
    tokens: dict[str, str] = field(default_factory=dict)
    server: LiveServer | None = None

    def client(self, who: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, follow_redirects=False)

    def browser_login(self, who: str) -> httpx.Client:
        """A cookie session, logged in through the login form (CSRF and all)."""
        c = httpx.Client(base_url=self.url, timeout=60, follow_redirects=False)
        page = c.get("/login")
        csrf = extract_csrf(page.text)
        done = c.post("/login", data={"token": self.tokens[who], "csrf_token": csrf, "next": "/"})
        assert done.status_code == 303, done.text
        return c

    @property
    def data(self) -> Path:
        return self.root / SLUG / "data"


def extract_csrf(html: str) -> str:
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def predictions(site: Site, quality: float, seed: int = 0, *, private_quality: float | None = None) -> bytes:
    """A valid submission for the demo competition: probabilities that agree with the
    truth to a degree (``quality`` on public rows, ``private_quality`` on private rows)."""
    sample = pd.read_csv(site.data / "public" / "sample_submission.csv")
    solution = pd.read_csv(site.data / "private" / "solution.csv")
    truth = solution.set_index(sample.columns[0]).loc[sample[sample.columns[0]]]
    rng = np.random.default_rng(seed)
    target = sample.columns[1]
    y = (truth[truth.columns[0]].astype(str) == "yes").to_numpy().astype(float)
    public = (truth["Usage"] == "Public").to_numpy()
    q = np.where(public, quality, quality if private_quality is None else private_quality)
    noise = rng.uniform(size=len(y))
    informed = rng.uniform(size=len(y)) < q
    sample[target] = np.where(informed, 0.3 + 0.4 * y + 0.2 * noise, noise).round(6)
    buf = io.StringIO()
    sample.to_csv(buf, index=False)
    return buf.getvalue().encode()


def build_site(db_url: str, root: Path, *, workers: int = 2, submit_rate: int = 1000, max_upload: int = 2**20,
               wait: float = 15.0) -> Site:
    from leaderboard.services import Service
    from leaderboard.web import WebSettings, create_app
    from leaderboard.web.testclock import MovableClock

    comps = root / "competitions"
    make_competition(comps, SLUG)
    clock = MovableClock(START + dt.timedelta(hours=1))
    svc = Service(db_url, comps, clock=clock, backend="bwrap")
    svc.prepare(SLUG)
    tokens = {"prof": svc.add_participant("prof", display_name="Prof. Kim", role="instructor")}
    for name, display in (("alice", "Alice A."), ("bob", "Bob B."), ("carol", "Carol C.")):
        tokens[name] = svc.add_participant(name, display_name=display)
    settings = WebSettings(secret_key="test-secret", workers=workers, submit_rate=submit_rate,
                           max_upload_bytes=max_upload, wait_seconds=wait, test_clock=clock)
    app = create_app(svc, settings)
    server = LiveServer(app).start()
    return Site(server.url, svc, clock, comps, tokens, server)


@pytest.fixture
def site(tmp_path) -> Iterator[Site]:
    s = build_site(f"sqlite:///{tmp_path / 'web.db'}", tmp_path)
    yield s
    assert s.server is not None
    s.server.stop()
    s.service.db.dispose()  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_site(request, tmp_path) -> Iterator[Site]:
    """The same site over SQLite and over the real PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'web.db'}"
    else:
        import os

        import psycopg

        server = request.getfixturevalue("postgres_server")
        name = f"web_test_{os.getpid()}_{int(time.monotonic() * 1000)}"
        with psycopg.connect(server.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as c:
            c.execute(f"CREATE DATABASE {name}")
        url = f"{server}/{name}"
    s = build_site(url, tmp_path)
    yield s
    assert s.server is not None
    s.server.stop()
    s.service.db.dispose()  # type: ignore[attr-defined]


def wait_scored(site: Site, who: str, count: int, timeout: float = 60) -> list[dict]:
    """Wait until ``who`` has ``count`` submissions and none is pending or running."""
    deadline = time.monotonic() + timeout
    with site.client(who) as c:
        while True:
            subs = c.get(f"/api/v1/competitions/{SLUG}/submissions").json()
            if len(subs) == count and all(s["status"] in ("complete", "failed") for s in subs):
                return subs
            if time.monotonic() > deadline:
                raise AssertionError(f"not scored in time: {[s['status'] for s in subs]}")
            time.sleep(0.1)
