"""The real topology on a real PostgreSQL: ``coursebench serve --workers 0`` takes the
uploads, two ``coursebench worker`` processes score them.  The worker that claimed a
notebook submission is SIGKILLed mid-notebook; the other scores it once the lease runs
out (the attempt counted), and nothing is left pending or running."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from leaderboard.models import Submission
from leaderboard.services import Service
from tests.helpers import must_have_or_skip

from .conftest import START, make_competition
from .test_worker import COURSEBENCH, NOTEBOOK_CODE, notebook, predictions

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.filterwarnings("ignore::ResourceWarning")]

SLOW_CODE = "import time\ntime.sleep(3)\n"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([COURSEBENCH, *args], stdout=open(log, "w"), stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def _until(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def test_a_worker_killed_mid_notebook_loses_nothing(postgres_server, tmp_path: Path) -> None:
    import psycopg

    from coursebench.execution import availability

    ok, why = availability("bwrap")
    if not ok:
        must_have_or_skip("the bwrap backend", why)
    name = f"lb_kill_{os.getpid()}"
    with psycopg.connect(postgres_server.replace("postgresql+psycopg", "postgresql") + "/postgres",
                         autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    db = f"{postgres_server}/{name}"
    comps = tmp_path / "competitions"
    make_competition(comps, "demo", folds=2, n_train=120, n_test=80, extra="[notebook]\ntimeout = 120\n")
    svc = Service(db, comps)
    svc.prepare("demo")
    prof, dan = svc.add_participant("prof", role="instructor"), svc.add_participant("dan")
    env = {**os.environ, "COURSEBENCH_CONFIG_DIR": str(tmp_path / "cfg"), "COURSEBENCH_SECRET_KEY": "k"}
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api/v1"
    server = _spawn(["serve", "--db", db, "--competitions", str(comps), "--port", str(port), "--workers", "0",
                     "--test-clock", "--log-level", "warning"], tmp_path / "serve.log", env)
    common = ["worker", "--db", db, "--competitions", str(comps), "--backend", "bwrap", "--lease", "4",
              "--poll", "0.3", "--log-level", "warning"]
    doomed = survivor = None
    try:
        def up() -> bool:
            try:
                return httpx.get(f"{url}/competitions", timeout=2).status_code == 200
            except httpx.TransportError:
                assert server.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
                return False

        _until(up, 120, "the server")
        clock = {"now": (START + dt.timedelta(hours=2)).isoformat()}
        assert httpx.post(f"{url}/admin/clock", json=clock, headers={"Authorization": f"Bearer {prof}"}).is_success
        auth = {"Authorization": f"Bearer {dan}"}
        nb = notebook(tmp_path / "slow.ipynb", SLOW_CODE + NOTEBOOK_CODE)
        r = httpx.post(f"{url}/competitions/demo/submissions", headers=auth, timeout=60,
                       files={"file": ("slow.ipynb", nb.read_bytes())})
        assert r.status_code == 202, r.text
        nb_id = r.json()["id"]
        file_ids = []
        for i in range(2):
            r = httpx.post(f"{url}/competitions/demo/submissions", headers=auth, timeout=60,
                           files={"file": (f"p{i}.csv", predictions(svc, seed=i))})
            assert r.status_code == 202, r.text
            file_ids.append(r.json()["id"])

        def row(sub_id: int) -> Submission:
            with svc.db.read() as s:
                found = s.scalar(select(Submission).where(Submission.id == sub_id))
                assert found is not None
                return found

        doomed = _spawn(common, tmp_path / "doomed.log", env)
        _until(lambda: row(nb_id).status == "running", 120, "the first worker to claim the notebook")
        time.sleep(3)  # mid-notebook: its sandboxes are running
        survivor = _spawn(common, tmp_path / "survivor.log", env)
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(10)
        assert row(nb_id).status == "running" and row(nb_id).attempts == 1  # the lease still holds it

        def finished() -> bool:
            return all(row(i).status in ("complete", "failed") for i in (nb_id, *file_ids))

        _until(finished, 400, "the surviving worker to score everything")
        scored = row(nb_id)
        assert scored.status == "complete", (scored.status, scored.error, (tmp_path / "survivor.log").read_text())
        assert scored.attempts == 2 and scored.cv_mean is not None and scored.counted
        assert all(row(i).status == "complete" for i in file_ids)
        assert httpx.get(f"{url}/competitions/demo/quota", headers=auth).json()["used"] == 3  # the server's day
        assert not svc.pending()
        _stop(survivor)  # SIGTERM: a clean exit
        assert survivor.returncode == 0, (tmp_path / "survivor.log").read_text()[-2000:]
    finally:
        for proc in (doomed, survivor, server):
            if proc is not None:
                _stop(proc, signal.SIGKILL)
        svc.db.dispose()
