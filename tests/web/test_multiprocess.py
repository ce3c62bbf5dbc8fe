"""Several web processes on the real PostgreSQL server: ``coursebench serve --processes 2
--workers 0`` behind one port, with a ``coursebench worker`` process scoring.  Every piece
of state the processes share lives in the database — what these tests check:

- 100 concurrent submissions by 10 students, spread over both web processes: the rate
  limit (8 a minute) refuses exactly 2 per student and the daily limit (5) accepts exactly
  5 per student, all 50 then scored by the worker;
- a score committed by another process (the worker) wakes a waiting upload (201), and
  a waiter that never polls (only NOTIFY can wake it) is woken too;
- the public board served by the web processes shows a score committed elsewhere;
- ``--processes 2`` on SQLite and with ``--test-clock`` is refused with a clear message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from tests.leaderboard.conftest import make_competition, postgres_server  # noqa: F401
from tests.web.conftest import free_port

COURSEBENCH = str(Path(sys.executable).with_name("coursebench"))
SLUG = "multi"
STUDENTS = [f"s{i:02d}" for i in range(10)]
RATE = 8


@dataclass
class Cluster:
    url: str
    db: str
    comps: Path
    tokens: dict[str, str]
    service: object

    def client(self, who: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def _predictions(comps: Path, seed: int) -> bytes:
    sample = pd.read_csv(comps / SLUG / "data" / "public" / "sample_submission.csv")
    sample[sample.columns[1]] = np.random.default_rng(seed).uniform(size=len(sample)).round(6)
    buf = io.StringIO()
    sample.to_csv(buf, index=False)
    return buf.getvalue().encode()


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("wb")
    return subprocess.Popen(cmd, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="module")
def cluster(postgres_server, tmp_path_factory) -> Iterator[Cluster]:  # noqa: F811
    import psycopg

    from leaderboard.services import Service

    tmp = tmp_path_factory.mktemp("multiproc")
    name = f"multiproc_{os.getpid()}_{int(time.monotonic() * 1000)}"
    with psycopg.connect(postgres_server.replace("postgresql+psycopg", "postgresql") + "/postgres",
                         autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    db = f"{postgres_server}/{name}"
    comps = tmp / "competitions"
    folder = make_competition(comps, SLUG)
    # open now (the test clock cannot be moved in a server of several processes)
    now = dt.datetime.now(dt.timezone.utc)
    toml = folder / "competition.toml"
    lines = [line for line in toml.read_text().splitlines() if not line.startswith(("start =", "deadline ="))]
    lines += [f"start = {(now - dt.timedelta(days=1)).isoformat()}",
              f"deadline = {(now + dt.timedelta(days=30)).isoformat()}"]
    toml.write_text("\n".join(lines) + "\n")
    svc = Service(db, comps)
    svc.prepare(SLUG)
    tokens = {who: svc.add_participant(who) for who in STUDENTS + ["late"]}
    # no COURSEBENCH_SECRET_KEY: serve makes the key file once, before the processes start
    env = {k: v for k, v in os.environ.items() if k != "COURSEBENCH_SECRET_KEY"}
    env["COURSEBENCH_CONFIG_DIR"] = str(tmp / "config")
    port = free_port()
    web = _start([COURSEBENCH, "serve", "--processes", "2", "--workers", "0", "--db", db, "--competitions",
                  str(comps), "--port", str(port), "--submit-rate", str(RATE), "--log-level", "warning"],
                 env, tmp / "serve.log")
    worker = _start([COURSEBENCH, "worker", "--db", db, "--competitions", str(comps), "--backend", "subprocess",
                     "--trusted-notebooks", "--concurrency", "2", "--poll", "0.2", "--log-level", "warning"],
                    env, tmp / "worker.log")
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/api/v1/competitions", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if web.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("serve --processes 2 did not start:\n" + (tmp / "serve.log").read_text())
            time.sleep(0.2)
        assert worker.poll() is None, (tmp / "worker.log").read_text()
        yield Cluster(url, db, comps, tokens, svc)
    finally:
        _stop(worker)
        _stop(web)
        svc.db.dispose()


@pytest.mark.postgres
def test_quota_and_rate_limit_hold_across_processes(cluster: Cluster) -> None:
    async def burst() -> list[tuple[str, int, dict]]:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=0)  # a connection each
        async with httpx.AsyncClient(base_url=cluster.url, timeout=120, limits=limits) as client:
            async def one(who: str, i: int) -> tuple[str, int, dict]:
                r = await client.post(f"/api/v1/competitions/{SLUG}/submissions",
                                      headers={"Authorization": f"Bearer {cluster.tokens[who]}"},
                                      files={"file": ("p.csv", _predictions(cluster.comps, i))},
                                      data={"message": f"try {i}"})
                return who, r.status_code, r.json()

            return await asyncio.gather(*(one(who, i) for who in STUDENTS for i in range(10)))

    results = asyncio.run(burst())
    for who in STUDENTS:
        mine = [(code, body) for w, code, body in results if w == who]
        accepted = [b for code, b in mine if code in (201, 202)]
        rated = [b for code, b in mine if code == 429 and b["error"] == "rate_limited"]
        over = [b for code, b in mine if code == 429 and b["error"] == "quota_exceeded"]
        assert len(accepted) == 5, (who, mine)
        assert len(rated) == 10 - RATE, (who, mine)   # one limit for both processes
        assert len(over) == RATE - 5, (who, mine)
    ids = [b["id"] for _, code, b in results if code in (201, 202)]
    deadline = time.monotonic() + 180
    with cluster.client(STUDENTS[0]) as c:
        while True:
            subs = {s["id"]: s["status"] for who in STUDENTS
                    for s in c.get(f"/api/v1/competitions/{SLUG}/submissions",
                                   headers={"Authorization": f"Bearer {cluster.tokens[who]}"}).json()}
            if all(subs.get(i) == "complete" for i in ids):
                break
            assert time.monotonic() < deadline, subs
            time.sleep(0.5)
        for who in STUDENTS:
            quota = c.get(f"/api/v1/competitions/{SLUG}/quota",
                          headers={"Authorization": f"Bearer {cluster.tokens[who]}"}).json()
            assert quota["used"] == 5, (who, quota)


@pytest.mark.postgres
def test_a_score_committed_elsewhere_wakes_waiters_and_updates_the_board(cluster: Cluster) -> None:
    from leaderboard.db import Database
    from leaderboard.notify import Waiter

    def teams_on_board() -> set[str]:
        with httpx.Client(base_url=cluster.url, timeout=30) as anon:  # a new connection: either process
            return {row["team"] for row in anon.get(f"/api/v1/competitions/{SLUG}/leaderboard").json()["rows"]}

    assert not any("late" in team for team in teams_on_board())
    # a waiter in this process that never polls the row: only a NOTIFY can wake it
    db = Database(cluster.db)
    waiter = Waiter(db, poll=1000.0)
    waiter.start()
    try:
        assert waiter.listening.wait(30), "the waiter did not LISTEN"
        woke: dict[str, object] = {}
        with cluster.client("late") as c:
            # the upload waits in one web process; the worker process scores and commits
            started = time.monotonic()
            r = c.post(f"/api/v1/competitions/{SLUG}/submissions?wait=60",
                       files={"file": ("p.csv", _predictions(cluster.comps, 99))}, data={"message": "wait"})
            assert r.status_code == 201, r.text  # scored within the wait: woken through the database
            assert r.json()["status"] == "complete"
            assert time.monotonic() - started < 60
            # a second one, with this process's NOTIFY-only waiter on it
            r = c.post(f"/api/v1/competitions/{SLUG}/submissions",
                       files={"file": ("p.csv", _predictions(cluster.comps, 98))}, data={"message": "notify"})
            assert r.status_code == 202, r.text
            second = r.json()["id"]
            thread = threading.Thread(target=lambda: woke.update(ok=waiter.wait(second, 60), at=time.monotonic()))
            thread.start()
            thread.join(90)
            assert woke.get("ok") is True, "a score committed by the worker did not wake the waiter"
    finally:
        waiter.stop()
        db.dispose()

    # the board served by the web processes shows it, on every fresh connection (either process)
    deadline = time.monotonic() + 30
    streak = 0
    while streak < 10:
        teams = teams_on_board()
        streak = streak + 1 if any("late" in team for team in teams) else 0
        assert time.monotonic() < deadline, f"the board never showed the new score: {sorted(teams)}"


@pytest.mark.postgres
def test_a_session_cookie_works_in_every_process(cluster: Cluster) -> None:
    """Logged in through one process, recognised by all: they sign with the one key file."""
    import re

    with httpx.Client(base_url=cluster.url, timeout=60) as c:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
        assert csrf
        done = c.post("/login", data={"token": cluster.tokens["s00"], "csrf_token": csrf.group(1), "next": "/"})
        assert done.status_code == 303, done.text
        cookies = dict(c.cookies.items())
    for _ in range(12):  # fresh connections: the kernel hands them to either process
        with httpx.Client(base_url=cluster.url, timeout=60, cookies=cookies) as fresh:
            page = fresh.get(f"/c/{SLUG}/submissions")
            assert page.status_code == 200, (page.status_code, page.headers.get("location"))


def test_several_processes_need_postgresql_and_no_test_clock(tmp_path) -> None:
    comps = tmp_path / "competitions"
    comps.mkdir()
    env = {**os.environ, "COURSEBENCH_CONFIG_DIR": str(tmp_path / "config")}
    done = subprocess.run([COURSEBENCH, "serve", "--processes", "2", "--db", f"sqlite:///{tmp_path / 'x.db'}",
                           "--competitions", str(comps)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "needs PostgreSQL" in done.stderr, done.stderr
    done = subprocess.run([COURSEBENCH, "serve", "--processes", "2", "--test-clock", "--db",
                           "postgresql://nobody@127.0.0.1:1/x", "--competitions", str(comps)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "--test-clock" in done.stderr, done.stderr


def test_sqlite_one_web_process_hears_a_worker_process(tmp_path) -> None:
    """The embedded default: one web process on SQLite scoring nothing itself, a
    ``coursebench worker --drain`` process writing the score into the same file — the
    waiting upload gets it (the row is polled) and the board shows it (PRAGMA data_version)."""
    from tests.web.conftest import SLUG as DEMO
    from tests.web.conftest import build_site, predictions

    url = f"sqlite:///{tmp_path / 'one.db'}"
    site = build_site(url, tmp_path, workers=0)
    try:
        with site.client() as anon:
            assert anon.get(f"/api/v1/competitions/{DEMO}/leaderboard").json()["rows"] == []
        answer: dict[str, httpx.Response] = {}

        def upload() -> None:
            with site.client("alice") as c:
                answer["r"] = c.post(f"/api/v1/competitions/{DEMO}/submissions?wait=120",
                                     files={"file": ("p.csv", predictions(site, 0.7))}, data={"message": "m"})

        thread = threading.Thread(target=upload)
        thread.start()
        deadline = time.monotonic() + 60
        while not site.service.pending():  # type: ignore[attr-defined]
            assert time.monotonic() < deadline and thread.is_alive(), answer
            time.sleep(0.1)
        done = subprocess.run([COURSEBENCH, "worker", "--drain", "--db", url, "--competitions", str(site.root),
                               "--backend", "subprocess", "--trusted-notebooks", "--log-level", "warning"],
                              capture_output=True, text=True, timeout=300,
                              env={**os.environ, "COURSEBENCH_CONFIG_DIR": str(tmp_path / "cfg")})
        assert done.returncode == 0, done.stderr
        thread.join(120)
        assert answer["r"].status_code == 201, answer["r"].text
        deadline = time.monotonic() + 30
        while True:
            with site.client() as anon:
                rows = anon.get(f"/api/v1/competitions/{DEMO}/leaderboard").json()["rows"]
            if rows:
                break
            assert time.monotonic() < deadline, "the board never showed the worker's score"
            time.sleep(0.2)
    finally:
        assert site.server is not None
        site.server.stop()
        site.service.db.dispose()  # type: ignore[attr-defined]
