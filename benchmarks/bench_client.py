"""Student client benchmark (issue #15): ``coursebench compete submit`` of a 1M-row CSV end
to end over HTTP — the CLI process uploading to a real ``coursebench serve`` on loopback,
the server validating, storing and scoring it, the CLI waiting for the score (and the
rank the server knows) — against the same file validated, stored and scored in-process by
the services layer (``Service.submit_file``: the old local mode, without its extra
leaderboard build for the rank).  Target: ≤ 1.5×.

A synthetic competition in a temporary course: 1,000 training rows and 1,000,000 test
rows (binary, ROC AUC) with the bootstrap at the spec's minimum of 100 resamples (each
resample re-ranks 500,000 public rows: scoring, the same on both sides, dominates).  Each
repetition uses a fresh participant (the daily limit is per team).  More rows: accepting
alone (upload, validate, store; the server answers 202 without waiting) against
``submit_file(score_now=False)``, which isolates what the HTTP path adds; the library
without the CLI's start-up; the file gzipped (.csv.gz).
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import Row, timed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SLUG = "million"
BIN = Path(sys.executable).parent


def _course(tmp: Path, n_test: int) -> tuple[str, Path]:
    from tests.leaderboard.conftest import make_competition

    comps = tmp / "competitions"
    folder = make_competition(comps, SLUG, n_train=1000, n_test=n_test)
    toml = (folder / "competition.toml").read_text()
    toml = re.sub(r"^start = .*$", "", toml, flags=re.M)
    toml = re.sub(r"^deadline = .*$", "deadline = 2030-01-01T00:00:00+00:00", toml, flags=re.M)
    toml = re.sub(r"^daily_limit = .*$", "daily_limit = 100", toml, flags=re.M)
    toml = re.sub(r"^bootstrap = .*$", "bootstrap = 100", toml, flags=re.M)
    (folder / "competition.toml").write_text(toml)
    return f"sqlite:///{tmp / 'lb.db'}", comps


def _predictions(comps: Path, path: Path) -> None:
    import pandas as pd

    sample = pd.read_csv(comps / SLUG / "data" / "public" / "sample_submission.csv")
    sample["y"] = np.random.default_rng(0).uniform(size=len(sample)).round(6)
    sample.to_csv(path, index=False)


def _serve(tmp: Path, db: str, comps: Path) -> tuple[subprocess.Popen, str]:
    import httpx

    from tests.web.conftest import free_port

    port = free_port()
    env = {**os.environ, "COURSEBENCH_CONFIG_DIR": str(tmp / "server-cfg"), "COURSEBENCH_SECRET_KEY": "bench"}
    proc = subprocess.Popen([str(BIN / "coursebench"), "serve", "--db", db, "--competitions", str(comps),
                             "--port", str(port), "--workers", "1", "--submit-rate", "1000", "--backend", "bwrap",
                             "--max-upload", "256M", "--log-level", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/api/v1/competitions", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("coursebench serve did not start")


def run(quick: bool) -> list[Row]:
    from leaderboard.services import Service

    n_test = 1_000_000
    repeat = 1 if quick else 3
    tmp = Path(tempfile.mkdtemp(prefix="bench-client-"))
    db, comps = _course(tmp, n_test)
    svc = Service(db, comps, backend="bwrap")
    svc.prepare(SLUG)
    csv_path = tmp / "submission.csv"
    _predictions(comps, csv_path)
    gz_path = tmp / "submission.csv.gz"
    gz_path.write_bytes(gzip.compress(csv_path.read_bytes(), compresslevel=6))
    size_mb = csv_path.stat().st_size / 2**20
    names = iter(f"s{i:03d}" for i in range(100))
    tokens = {n: svc.add_participant(n) for n in [next(names) for _ in range(6 * repeat + 3)]}
    pool = iter(tokens)
    # the server gets its own copy of the database as it is now (same roster, no submissions):
    # the boards both sides rebuild grow alike
    svc.db.dispose()
    server_db = tmp / "lb-server.db"
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{tmp / 'lb.db'}{suffix}").exists():
            shutil.copyfile(f"{tmp / 'lb.db'}{suffix}", f"{server_db}{suffix}")

    def local() -> None:
        view = svc.submit_file(SLUG, svc.participant(next(pool)), csv_path, filename="submission.csv")
        assert view.status == "complete", view.status

    def local_accept() -> None:
        view = svc.submit_file(SLUG, svc.participant(next(pool)), csv_path, filename="submission.csv",
                               score_now=False)
        assert view.status == "pending", view.status

    local()  # warm: the dataset's format and labels cached, as a running server has them
    local_s, _ = timed(local, repeat)
    accept_local_s, _ = timed(local_accept, repeat)
    svc.db.dispose()

    proc, url = _serve(tmp, f"sqlite:///{server_db}", comps)
    rows: list[Row] = []
    try:
        home = tmp / "student"
        home.mkdir()

        def cli(path: Path) -> None:
            env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(home), "COURSEBENCH_SERVER": url,
                   "COURSEBENCH_TOKEN": tokens[next(pool)], "LANG": "C.UTF-8"}
            done = subprocess.run([str(BIN / "coursebench"), "compete", "submit", "-c", SLUG, "-f", str(path)],
                                  env=env, cwd=home, capture_output=True, text=True, timeout=900)
            assert done.returncode == 0 and "scored" in done.stdout, done.stdout + done.stderr

        from coursebench.client.submitting import send

        def library(path: Path) -> None:
            result = send(SLUG, path, wait=900, server=url, token=tokens[next(pool)])
            assert result.status == "complete", result

        def accept(path: Path) -> None:
            result = send(SLUG, path, wait=0, server=url, token=tokens[next(pool)])
            assert result.status in ("pending", "running", "complete"), result

        library(csv_path)  # warm the server's dataset cache (the first request loads the labels)
        cli_s, _ = timed(lambda: cli(csv_path), repeat)
        lib_s, _ = timed(lambda: library(csv_path), repeat)
        gz_s, _ = timed(lambda: library(gz_path), repeat)
        accept_s, _ = timed(lambda: accept(csv_path), repeat)
        note = (f"{n_test:,} rows, {size_mb:.1f} MiB; median of {repeat}; under load (2 shared cores): "
                "compare the ratio, not the seconds")
        rows.append(Row("compete submit of a 1M-row CSV over HTTP (CLI, upload → scored) vs in-process submit_file",
                        cli_s, local_s, target=1.5, note=note + "; includes the CLI's start-up"))
        rows.append(Row("the same through the library (submitting.send) vs in-process", lib_s, local_s,
                        note="informational: no CLI start-up"))
        rows.append(Row("the same file gzipped (.csv.gz) through the library vs in-process", gz_s, local_s,
                        note=f"informational: {gz_path.stat().st_size / 2**20:.1f} MiB on the wire"))
        rows.append(Row("accepting only (upload, validate, store → 202) vs submit_file(score_now=False)", accept_s,
                        accept_local_s, note="informational: what the HTTP path adds, without the scoring"))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row.line())
