"""Fixtures for the leaderboard tests: a real PostgreSQL server (own cluster, started
for the session as the ``postgres`` user on a free loopback port), real SQLite files,
and small generated competitions."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import must_have_or_skip

PG_BIN = Path("/usr/lib/postgresql/15/bin")
UTC = dt.timezone.utc
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEADLINE = dt.datetime(2026, 3, 20, 23, 59, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL 15 cluster of our own; yields the admin URL (no database part).

    One that cannot start fails the tests on root/CI, where `make test` installs it, and
    is skipped elsewhere (:func:`tests.helpers.must_have_or_skip`)."""
    if not (PG_BIN / "initdb").exists():
        must_have_or_skip("PostgreSQL", "the PostgreSQL 15 server binaries are not installed "
                          "(make sysdeps-test, or apt-get install postgresql)")
    try:
        pg = pwd.getpwnam("postgres")
    except KeyError:
        must_have_or_skip("PostgreSQL", "there is no 'postgres' user to run the server as")
    if os.geteuid() != 0 and os.geteuid() != pg.pw_uid:
        must_have_or_skip("PostgreSQL", "starting it needs root (to switch to the postgres user) or the postgres user")
    root = Path(tempfile.mkdtemp(prefix="cb-pg-"))
    os.chown(root, pg.pw_uid, pg.pw_gid)
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    os.chown(sock, pg.pw_uid, pg.pw_gid)
    port = _free_port()

    def as_pg(*cmd: str) -> subprocess.CompletedProcess:
        prefix = ["setpriv", f"--reuid={pg.pw_uid}", f"--regid={pg.pw_gid}", "--clear-groups"] if os.geteuid() == 0 else []
        return subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=120, cwd=root,
                              env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"})

    done = as_pg(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
    if done.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        must_have_or_skip("PostgreSQL", f"initdb failed: {done.stderr.strip()[-300:]}")
    opts = (f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=300 -c shared_buffers=64MB")
    done = as_pg(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "-t", "60", "start")
    if done.returncode != 0:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        must_have_or_skip("PostgreSQL", f"the server did not start: {done.stderr.strip()[-200:]} {log[-300:]}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        as_pg(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


_dbs = itertools.count()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'leaderboard.db'}"
    server = request.getfixturevalue("postgres_server")
    import psycopg

    name = f"lb_test_{os.getpid()}_{next(_dbs)}"
    with psycopg.connect(server.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


PREPARE = '''
import numpy as np
import pandas as pd

TASK = {task!r}
N_TRAIN, N_TEST = {n_train}, {n_test}


def make_data(seed):
    rng = np.random.default_rng(seed)
    n = N_TRAIN + N_TEST
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    if TASK == "binary":
        y = np.where(x1 + 0.5 * x2 + rng.normal(scale=0.8, size=n) > 0, "yes", "no")
    elif TASK == "multiclass":
        y = np.array(["a", "b", "c"])[np.digitize(x1 + rng.normal(scale=0.5, size=n), [-0.5, 0.5])]
    else:
        y = np.round(np.exp(0.5 * x1 + 0.2 * x2 + 1), 3)
    frame = pd.DataFrame({{"id": np.arange(n) + 1, "x1": x1.round(6), "x2": x2.round(6), "y": y}})
    return frame.iloc[:N_TRAIN].copy(), frame.iloc[N_TRAIN:].copy()
'''


def make_competition(root: Path, slug: str = "demo", *, task: str = "binary", metric: str = "roc_auc",
                     n_train: int = 300, n_test: int = 200, folds: int = 3, extra: str = "") -> Path:
    folder = root / slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "competition.toml").write_text(textwrap.dedent(f"""\
        slug = "{slug}"
        title = "Test {slug}"
        task = "{task}"
        metric = "{metric}"
        id_column = "id"
        target_column = "y"
        seed = 7
        folds = {folds}
        daily_limit = 5
        start = {START.isoformat()}
        deadline = {DEADLINE.isoformat()}
        team_size = 3
        bootstrap = 200
        """) + extra)
    (folder / "prepare.py").write_text(PREPARE.format(task=task, n_train=n_train, n_test=n_test))
    return folder


@pytest.fixture
def clock():
    from leaderboard.clock import FrozenClock

    return FrozenClock(START + dt.timedelta(hours=1))


@pytest.fixture
def comps(tmp_path) -> Path:
    root = tmp_path / "competitions"
    make_competition(root)
    return root


@pytest.fixture
def svc(db_url, comps, clock):
    from leaderboard.services import Service

    service = Service(db_url, comps, clock=clock, backend="bwrap")
    service.prepare("demo")
    yield service
    service.db.dispose()


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)
