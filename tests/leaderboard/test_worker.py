"""``coursebench worker``: claims with leases fenced by their attempt (SQLite and a real
PostgreSQL), ``--drain`` on SQLite, the refusal to start without a sandbox, and notebook
submissions scored on a real Dask ``LocalCluster``.  The two-workers-and-a-server run on
PostgreSQL with a SIGKILL mid-notebook is in test_worker_kill.py."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from leaderboard.clock import FrozenClock
from leaderboard.services import Service
from tests.helpers import must_have_or_skip
from tests.sandboxless import sandboxes_unusable

from .conftest import START, make_competition

COURSEBENCH = str(Path(sys.executable).with_name("coursebench"))
OPEN = START + dt.timedelta(hours=1)

#: Scores a fold by the feature x1 alone: no model, only pandas — a tiny, fast notebook.
NOTEBOOK_CODE = ('import numpy as np\nimport pandas as pd\ntest = pd.read_csv(test_path)\n'
                 'pd.DataFrame({"id": test["id"], "y": 1 / (1 + np.exp(-test["x1"]))}).to_csv(output_path, index=False)\n')


def notebook(path: Path, code: str = NOTEBOOK_CODE) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell('train_path = "train.csv"\ntest_path = "test.csv"\n'
                                       'output_path = "submission.csv"\nfold = -1')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, str(path))
    return path


def predictions(svc: Service, slug: str = "demo", seed: int = 0) -> bytes:
    data = svc.dataset(slug).paths
    sample = pd.read_csv(data.public / "sample_submission.csv")
    sample["y"] = np.random.default_rng(seed).uniform(size=len(sample)).round(6)
    return sample.to_csv(index=False).encode()


def worker(db: str, comps: Path, *args: str, env: dict[str, str] | None = None,
           timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([COURSEBENCH, "worker", "--db", db, "--competitions", str(comps), "--log-level", "warning",
                           *args], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture
def site(tmp_path):
    comps = tmp_path / "competitions"
    make_competition(comps, "demo", folds=2, n_train=120, n_test=80, extra="[notebook]\ntimeout = 120\n")
    svc = Service(f"sqlite:///{tmp_path / 'lb.db'}", comps, clock=FrozenClock(OPEN), backend="bwrap")
    svc.prepare("demo")
    yield svc
    svc.db.dispose()


def test_claims_are_fenced_by_their_attempt(db_url, comps, clock) -> None:
    svc = Service(db_url, comps, clock=clock, lease=dt.timedelta(seconds=30))
    try:
        svc.prepare("demo")
        who = svc.authenticate(svc.add_participant("ann"))
        first = svc.submit_file("demo", who, predictions(svc), score_now=False)
        second = svc.submit_file("demo", who, predictions(svc, seed=1), score_now=False)
        a = svc.claim_next()
        b = svc.claim_next()
        assert (a.submission_id, a.attempt, b.submission_id) == (first.id, 1, second.id)  # type: ignore[union-attr]
        assert svc.claim_next() is None  # both held
        clock.advance(dt.timedelta(seconds=31))  # a's scorer stalled past its lease; b's heartbeat kept it
        assert svc.renew(b)  # type: ignore[arg-type]
        taken = svc.claim_next()
        assert taken is not None and (taken.submission_id, taken.attempt) == (first.id, 2)
        assert not svc.renew(a) and not svc.release(first.id, a.attempt)  # type: ignore[union-attr,arg-type]
        svc.evaluate_claimed(a)  # the stale scorer finishes: its result is dropped  # type: ignore[arg-type]
        assert svc.submission(first.id).status == "running"
        svc.evaluate_claimed(taken)
        svc.evaluate_claimed(b)  # type: ignore[arg-type]
        assert [svc.submission(i).status for i in (first.id, second.id)] == ["complete", "complete"]
        assert svc.quota("demo", who).used == 2
    finally:
        svc.db.dispose()


def test_drain_scores_what_is_pending_on_sqlite(site: Service, tmp_path: Path) -> None:
    """Prediction files only (notebooks: the cluster test and test_worker_kill.py)."""
    ok, why = __import__("coursebench.execution", fromlist=["availability"]).availability("bwrap")
    if not ok:
        must_have_or_skip("the bwrap backend", why)
    who = site.authenticate(site.add_participant("bob"))
    ids = [site.submit_file("demo", who, predictions(site, seed=i), score_now=False).id for i in range(4)]
    done = worker(site.db.url, site.competitions_dir, "--drain", "--concurrency", "2", "--backend", "bwrap")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "scored 4 submission(s)" in " ".join(done.stderr.split())
    views = [site.submission(i) for i in ids]
    assert [v.status for v in views] == ["complete"] * 4, [(v.status, v.error) for v in views]
    assert site.quota("demo", who).used == 4 and not site.pending()


def test_refuses_to_start_without_a_sandbox(site: Service, tmp_path: Path, monkeypatch) -> None:
    env = next(sandboxes_unusable(tmp_path, monkeypatch))
    env["COURSEBENCH_CONFIG_DIR"] = str(tmp_path / "cfg")
    who = site.authenticate(site.add_participant("eve"))
    marker = tmp_path / "ran.txt"
    sub = site.submit_notebook("demo", who, notebook(tmp_path / "snoop.ipynb",
                                                     f"open({str(marker)!r}, 'w').write('unsandboxed')"),
                               score_now=False)
    refused = worker(site.db.url, site.competitions_dir, "--drain", env=env)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    text = " ".join(refused.stderr.split())
    assert "will not score students' notebooks here" in text and "bubblewrap" in text
    assert "install" in text and "docker" in text.lower()
    named = worker(site.db.url, site.competitions_dir, "--drain", "--backend", "subprocess", env=env)
    assert named.returncode == 3 and "--trusted-notebooks" in " ".join(named.stderr.split())
    assert site.submission(sub.id).status == "pending" and site.submission(sub.id).counted
    assert not marker.exists()


def _executed(dask_worker) -> int:  # type: ignore[no-untyped-def]
    return int(dask_worker.state.executed_count)


@pytest.mark.slow
def test_notebook_folds_on_a_dask_local_cluster(site: Service, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    ok, why = __import__("coursebench.execution", fromlist=["availability"]).availability("bwrap")
    if not ok:
        must_have_or_skip("the bwrap backend", why)
    who = site.authenticate(site.add_participant("cy"))
    sub = site.submit_notebook("demo", who, notebook(tmp_path / "x1.ipynb"), score_now=False)
    os.environ.setdefault("DASK_DISTRIBUTED__WORKER__DAEMON", "False")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as cluster:
        done = worker(site.db.url, site.competitions_dir, "--drain", "--backend", "bwrap",
                      "--cluster", cluster.scheduler_address)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "notebooks: 2 Dask worker(s)" in " ".join(done.stderr.split())
        with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
            executed = client.run(_executed)
        assert sum(executed.values()) >= 3, executed  # the K+1 = 3 runs were Dask tasks there
    view = site.submission(sub.id)
    assert view.status == "complete", (view.status, view.error)
    assert view.cv_mean is not None and len(view.runs) == 3 and view.public_score is not None


def test_serve_refuses_a_notebook_it_cannot_isolate(tmp_path: Path, monkeypatch) -> None:
    """``coursebench serve`` scoring in its own threads, on a machine without a sandbox:
    a notebook upload is answered 503 with a clear message, nothing stored or counted;
    prediction files are still taken."""
    from tests.web.conftest import SLUG, build_site
    from tests.web.conftest import predictions as web_predictions

    next(sandboxes_unusable(tmp_path, monkeypatch))
    site = build_site(f"sqlite:///{tmp_path / 'web.db'}", tmp_path, workers=1, wait=0)
    svc = site.service
    svc.backend = "auto"  # type: ignore[attr-defined]
    try:
        nb = notebook(tmp_path / "nb.ipynb").read_bytes()
        with site.client("alice") as c:
            r = c.post(f"/api/v1/competitions/{SLUG}/submissions", files={"file": ("nb.ipynb", nb)})
            assert r.status_code == 503, r.text
            body = r.json()
            assert body["error"] == "scoring_unavailable" and "does not count" in body["message"]
            assert "no sandbox can be used" in body["message"] and body["fixes"]
            assert c.get(f"/api/v1/competitions/{SLUG}/quota").json()["used"] == 0
            assert c.get(f"/api/v1/competitions/{SLUG}/submissions").json() == []
            ok = c.post(f"/api/v1/competitions/{SLUG}/submissions",
                        files={"file": ("p.csv", web_predictions(site, 0.7))})  # type: ignore[arg-type]
            assert ok.status_code in (201, 202), ok.text
    finally:
        assert site.server is not None
        site.server.stop()


@pytest.mark.slow
def test_sigterm_hands_back_what_it_could_not_finish(site: Service, tmp_path: Path) -> None:
    """SIGTERM with ``--grace 0`` mid-notebook: the worker exits 0 at once and the
    submission is pending again (attempt counted), for the next worker to take at once."""
    import signal
    import time

    ok, why = __import__("coursebench.execution", fromlist=["availability"]).availability("bwrap")
    if not ok:
        must_have_or_skip("the bwrap backend", why)
    who = site.authenticate(site.add_participant("tess"))
    sub = site.submit_notebook("demo", who, notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(120)"),
                               score_now=False)
    proc = subprocess.Popen([COURSEBENCH, "worker", "--db", site.db.url, "--competitions", str(site.competitions_dir),
                             "--backend", "bwrap", "--grace", "0", "--poll", "0.2", "--log-level", "warning"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while site.submission(sub.id).status != "running":
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.2)
        time.sleep(2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert proc.returncode == 0, err
    assert "handed back 1" in " ".join(err.split())
    view = site.submission(sub.id)
    assert view.status == "pending" and view.counted
    claim = site.claim_next()
    assert claim is not None and (claim.submission_id, claim.attempt) == (sub.id, 2)
