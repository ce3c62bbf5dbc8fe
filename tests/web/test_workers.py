"""Background scoring: pending work survives ``kill -9`` of ``coursebench serve`` and is
scored after the restart; a lease that runs out is taken over; a submission whose
scorer keeps dying fails clearly (not counted) instead of staying pending; notebook
submissions are scored through the sandboxed runner."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import nbformat
import pytest

from .conftest import SLUG, START, build_site, free_port, make_competition, predictions, wait_scored

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
COURSEBENCH = Path(sys.executable).with_name("coursebench")


def _serve(db: str, comps: Path, port: int, workers: int, tmp: Path) -> subprocess.Popen:
    env = {**os.environ, "COURSEBENCH_CONFIG_DIR": str(tmp / "config"), "COURSEBENCH_SECRET_KEY": "k"}
    log = open(tmp / f"serve-{port}-{workers}.log", "w")
    proc = subprocess.Popen([str(COURSEBENCH), "serve", "--db", db, "--competitions", str(comps), "--port", str(port),
                             "--workers", str(workers), "--test-clock", "--backend", "bwrap", "--log-level", "warning"],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/competitions", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError((tmp / f"serve-{port}-{workers}.log").read_text()[-2000:])
        time.sleep(0.2)


def test_pending_survives_kill_9(tmp_path) -> None:
    from leaderboard.services import Service

    comps = tmp_path / "competitions"
    make_competition(comps, SLUG)
    db = f"sqlite:///{tmp_path / 'lb.db'}"
    svc = Service(db, comps)
    svc.prepare(SLUG)
    tokens = {"prof": svc.add_participant("prof", role="instructor"), "dan": svc.add_participant("dan")}
    svc.db.dispose()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {tokens['dan']}"}
    prof = {"Authorization": f"Bearer {tokens['prof']}"}
    now = (START + dt.timedelta(hours=2)).isoformat()

    first = _serve(db, comps, port, 0, tmp_path)  # a server whose workers never get to it
    try:
        assert httpx.post(f"{url}/api/v1/admin/clock", json={"now": now}, headers=prof).status_code == 200
        site_like = type("S", (), {"data": comps / SLUG / "data"})()
        ids = []
        for i in range(3):
            r = httpx.post(f"{url}/api/v1/competitions/{SLUG}/submissions", headers=headers,
                           files={"file": (f"p{i}.csv", predictions(site_like, 0.5 + i / 10, seed=i))})  # type: ignore[arg-type]
            assert r.status_code == 202 and r.json()["status"] == "pending"
            ids.append(r.json()["id"])
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    second = _serve(db, comps, port, 1, tmp_path)
    try:
        httpx.post(f"{url}/api/v1/admin/clock", json={"now": now}, headers=prof)
        deadline = time.monotonic() + 60
        while True:
            subs = httpx.get(f"{url}/api/v1/competitions/{SLUG}/submissions", headers=headers).json()
            if [s["status"] for s in subs] == ["complete"] * 3:
                break
            assert time.monotonic() < deadline, subs
            time.sleep(0.2)
        assert sorted(s["id"] for s in subs) == ids
        assert httpx.get(f"{url}/api/v1/competitions/{SLUG}/quota", headers=headers).json()["used"] == 3
    finally:
        second.send_signal(signal.SIGKILL)
        second.wait(10)


def test_expired_lease_is_taken_over_and_repeated_crashes_fail_clearly(tmp_path) -> None:
    site = build_site(f"sqlite:///{tmp_path / 'w.db'}", tmp_path, workers=0)
    svc = site.service
    try:
        from leaderboard.web.workers import ScoringWorkers

        who = svc.participant("alice")  # type: ignore[attr-defined]
        held = svc.submit_file(SLUG, who, predictions(site, 0.7), score_now=False)  # type: ignore[attr-defined]
        doomed = svc.submit_file(SLUG, who, predictions(site, 0.6), score_now=False)  # type: ignore[attr-defined]
        svc.lease = dt.timedelta(seconds=30)  # type: ignore[attr-defined]
        assert svc.claim(held.id)  # type: ignore[attr-defined]  # a worker that then died
        for _ in range(3):  # a submission whose scorer died three times
            assert svc.claim(doomed.id)  # type: ignore[attr-defined]
            site.clock.advance(dt.timedelta(seconds=31))  # type: ignore[attr-defined]
        assert svc.quota(SLUG, who).used == 2  # type: ignore[attr-defined]
        workers = ScoringWorkers(svc, 1, poll=0.1)  # type: ignore[arg-type]
        workers.start()
        try:
            assert workers.wait(held.id, 30) and workers.wait(doomed.id, 30)
        finally:
            workers.stop()
        assert svc.submission(held.id).status == "complete"  # type: ignore[attr-defined]
        failed = svc.submission(doomed.id)  # type: ignore[attr-defined]
        assert failed.status == "failed" and failed.failure_category == "infrastructure"
        assert not failed.counted and "not your code" in (failed.error or "")
        assert svc.quota(SLUG, who).used == 1  # type: ignore[attr-defined]  # refunded
        assert svc.release(held.id) is False  # type: ignore[attr-defined]  # done: nothing to hand back
    finally:
        assert site.server is not None
        site.server.stop()


NOTEBOOK = """
import pandas as pd
from sklearn.linear_model import LogisticRegression
train = pd.read_csv(train_path)
test = pd.read_csv(test_path)
model = LogisticRegression().fit(train[["x1", "x2"]], train["y"])
pd.DataFrame({"id": test["id"], "y": model.predict_proba(test[["x1", "x2"]])[:, 1]}).to_csv(output_path, index=False)
"""


@pytest.mark.slow
def test_notebook_submission_through_the_sandbox(site, bwrap_backend) -> None:  # type: ignore[no-untyped-def]
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('train_path = "train.csv"\ntest_path = "test.csv"\noutput_path = "out.csv"\nfold = -1')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(NOTEBOOK)]
    r = site.client("carol").post(f"/api/v1/competitions/{SLUG}/submissions",
                                  files={"file": ("model.ipynb", nbformat.writes(nb).encode())}, data={"message": "lr"})
    assert r.status_code == 202, r.text
    (sub,) = wait_scored(site, "carol", 1, timeout=240)
    assert sub["status"] == "complete", sub
    assert sub["cv_mean"] is not None and len(sub["cv_folds"]) == 3 and sub["public_score"] > 0.6
    page = site.browser_login("carol").get(f"/c/{SLUG}/submissions/{sub['id']}")
    assert "Notebook runs" in page.text and "fold 0" in page.text and "full training run" in page.text

