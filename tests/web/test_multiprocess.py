"""Several web processes on the real PostgreSQL server: ``coursebench serve --processes 2
--workers 0`` behind one port, with a ``coursebench worker`` process scoring.  Every piece
of state the processes share lives in the database — what these tests check:

- 100 concurrent submissions by 10 students, spread over both web processes: the rate
  limit (8 a minute) refuses exactly 2 per student and the daily limit (5) accepts exactly
  5 per student, all 50 then scored by the worker;
- a score committed by another process (the worker) wakes a waiting upload (201), and
  a waiter that never polls (only NOTIFY can wake it) is woken too;
- the public board served by the web processes shows a score committed elsewhere;
- the web processes run where ``data/private`` is an empty folder (bubblewrap binds the
  host through with an empty tmpfs over it): uploads, every board with its ties and
  private intervals, the shake-up and the downloads work without the hidden labels;
- the test clock (``--test-clock``) moved through one process is the time of both;
- ``--processes 2`` on SQLite is refused with a clear message.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import os
import shutil
import signal
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

from tests.helpers import must_have_or_skip
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
    """SIGTERM to the process group (bubblewrap and the server under it), SIGKILL after 20 s."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _without_private(cmd: list[str], comps: Path) -> list[str]:
    """``cmd`` where every competition's ``data/private`` is an empty folder: bubblewrap
    binds the host's root through and mounts an empty tmpfs over each."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        must_have_or_skip("bubblewrap", "bwrap is not installed (make sysdeps-test)")
    masks = [arg for folder in sorted(comps.glob("*/data/private")) for arg in ("--tmpfs", str(folder))]
    return [str(bwrap), "--dev-bind", "/", "/", *masks, "--", *cmd]


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
    tokens["prof"] = svc.add_participant("prof", role="instructor")
    # no COURSEBENCH_SECRET_KEY: serve makes the key file once, before the processes start
    env = {k: v for k, v in os.environ.items() if k != "COURSEBENCH_SECRET_KEY"}
    env["COURSEBENCH_CONFIG_DIR"] = str(tmp / "config")
    port = free_port()
    # the web processes never see the hidden labels: they serve from the database and data/public
    web = _start(_without_private([COURSEBENCH, "serve", "--processes", "2", "--workers", "0", "--db", db,
                                   "--competitions", str(comps), "--port", str(port), "--submit-rate", str(RATE),
                                   "--test-clock", "--log-level", "warning"], comps),
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
def test_the_web_processes_serve_every_board_without_the_private_data(cluster: Cluster) -> None:
    """Their data/private is an empty folder; the ties and private intervals come from the
    replicates the worker stored with each score."""
    with cluster.client("prof") as c:
        for name in ("sample_submission.csv", "test.csv", "train.csv"):
            r = c.get(f"/api/v1/competitions/{SLUG}/files/{name}")
            assert r.status_code == 200 and r.content, (name, r.status_code)
        for i in range(2):  # two of the same predictions: a statistical tie, on every board
            r = c.post(f"/api/v1/competitions/{SLUG}/submissions?wait=60",
                       files={"file": ("p.csv", _predictions(cluster.comps, 1234))}, data={"message": f"twin {i}"})
            assert r.status_code == 201 and r.json()["status"] == "complete", r.text
        boards = {}
        for private in ("false", "true"):
            r = c.get(f"/api/v1/competitions/{SLUG}/leaderboard", params={"private": private})
            assert r.status_code == 200, r.text
            boards[private] = r.json()["rows"]
        shake = c.get(f"/api/v1/competitions/{SLUG}/shakeup")
        assert shake.status_code == 200, shake.text
    # the same as a process with the private data builds them
    for private in (False, True):
        expected = cluster.service.leaderboard(SLUG, private=private)  # type: ignore[attr-defined]
        served = boards[str(private).lower()]
        assert [(r["team"], r["tied_with_above"]) for r in served] == \
               [(r.team, r.tied_with_above) for r in expected.rows]
        if private:
            assert all(r["ci_low"] is not None and r["ci_high"] is not None for r in served)
            assert [v for r in served for v in (r["ci_low"], r["ci_high"])] == \
                   pytest.approx([v for r in expected.rows for v in r.ci])
    # the instructor is on the board once (the better twin); the other students' submissions
    # are random, so ties between them are whatever the bootstrap says — compared above
    assert len(shake.json()["rows"]) == len(boards["true"])


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


@pytest.mark.postgres
def test_the_test_clock_is_the_same_in_every_process(cluster: Cluster) -> None:
    """Moved through one connection (one process), the time of both: the offset is kept in
    the database.  Past the deadline, then back (the module's other tests want it open)."""
    def closed_everywhere(expected: bool) -> None:
        deadline = time.monotonic() + 15
        streak = 0
        while streak < 12:  # fresh connections: the kernel hands them to either process
            with httpx.Client(base_url=cluster.url, timeout=30) as anon:
                closed = anon.get(f"/api/v1/competitions/{SLUG}").json()["closed"]
            streak = streak + 1 if closed is expected else 0
            assert time.monotonic() < deadline, f"a process still says closed={closed}"
            time.sleep(0.05)

    closed_everywhere(False)
    with cluster.client("prof") as c:
        later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=31)
        r = c.post("/api/v1/admin/clock", json={"now": later.isoformat()})
        assert r.status_code == 200, r.text
        closed_everywhere(True)
        with cluster.client("late") as student:
            r = student.post(f"/api/v1/competitions/{SLUG}/submissions",
                             files={"file": ("p.csv", _predictions(cluster.comps, 5))}, data={"message": "late"})
            assert r.status_code == 409 and r.json()["error"] == "competition_closed", r.text
        r = c.post("/api/v1/admin/clock", json={"now": dt.datetime.now(dt.timezone.utc).isoformat()})
        assert r.status_code == 200, r.text
    closed_everywhere(False)


def test_several_processes_need_postgresql(tmp_path) -> None:
    comps = tmp_path / "competitions"
    comps.mkdir()
    env = {**os.environ, "COURSEBENCH_CONFIG_DIR": str(tmp_path / "config")}
    done = subprocess.run([COURSEBENCH, "serve", "--processes", "2", "--db", f"sqlite:///{tmp_path / 'x.db'}",
                           "--competitions", str(comps)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "needs PostgreSQL" in done.stderr, done.stderr


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
