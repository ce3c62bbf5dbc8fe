"""Web benchmark with several web processes (issue #15): the leaderboard page and API on
PostgreSQL, 300 participants × 30 submissions, 200 concurrent clients (wrk on loopback),
served by ``coursebench serve --processes 4 --workers 0`` against ``--processes 1`` in
the same run, on the same database.

Rows: the page and API p99 against the 50 ms target; the 4-process throughput against the
1-process one as seconds per request (target ≤ 0.4×, i.e. ≥ 2.5× the requests per second);
and what bounds it: the CPU each request costs the server (its processes' user + system
time over the requests answered), the CPU wrk itself burns on the same cores, and the
cores there are — throughput cannot exceed cores / CPU per request, wherever the load
generator runs alongside.

Needs the PostgreSQL 15 server binaries and root (like the tests: a private cluster on a
loopback port, fsync off) and wrk.  Seeding is bench_web's (real scoring for each
participant's first submission, bulk copies for the rest).
"""

from __future__ import annotations

import os
import pwd
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Row

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

import bench_web  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")
CLIENTS = 200


class Postgres:
    """A private PostgreSQL cluster on a loopback port (as tests/leaderboard/conftest.py)."""

    def __init__(self) -> None:
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError("the PostgreSQL 15 server binaries are not installed (apt-get install postgresql)")
        self.pg = pwd.getpwnam("postgres")
        if os.geteuid() != 0:
            raise RuntimeError("starting PostgreSQL needs root (to run it as the postgres user)")
        self.root = Path(tempfile.mkdtemp(prefix="bench-pg-"))
        os.chown(self.root, self.pg.pw_uid, self.pg.pw_gid)
        self.port = bench_web._port()

    def _as_pg(self, *cmd: str) -> subprocess.CompletedProcess:
        prefix = ["setpriv", f"--reuid={self.pg.pw_uid}", f"--regid={self.pg.pw_gid}", "--clear-groups"]
        return subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=120, cwd=self.root,
                              env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"})

    def start(self) -> str:
        data, sock = self.root / "data", self.root / "sock"
        sock.mkdir()
        os.chown(sock, self.pg.pw_uid, self.pg.pw_gid)
        done = self._as_pg(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        if done.returncode:
            raise RuntimeError(f"initdb failed: {done.stderr[-300:]}")
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {sock} -c fsync=off -c synchronous_commit=off "
                "-c full_page_writes=off -c max_connections=400 -c shared_buffers=128MB")
        done = self._as_pg(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(self.root / "log"),
                           "-w", "-t", "60", "start")
        if done.returncode:
            raise RuntimeError(f"PostgreSQL did not start: {done.stderr[-300:]}")
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as c:
            c.execute("CREATE DATABASE bench")
        return f"postgresql://postgres@127.0.0.1:{self.port}/bench"

    def stop(self) -> None:
        self._as_pg(str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def _tree(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    kids: dict[int, list[int]] = {}
    for line in out.splitlines():
        p, pp = (int(x) for x in line.split())
        kids.setdefault(pp, []).append(p)
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += kids.get(p, [])
    return found


def _cpu(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _serve(db: str, comps: Path, processes: int, tmp: Path) -> tuple[subprocess.Popen, str]:
    import httpx

    port = bench_web._port()
    env = {**os.environ, "COURSEBENCH_CONFIG_DIR": str(tmp / "cfg"), "COURSEBENCH_SECRET_KEY": "bench"}
    exe = Path(sys.executable).with_name("coursebench")
    proc = subprocess.Popen([str(exe), "serve", "--db", db, "--competitions", str(comps), "--port", str(port),
                             "--processes", str(processes), "--workers", "0", "--log-level", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        try:
            if httpx.get(f"{url}/api/v1/competitions", timeout=5).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"serve --processes {processes} did not start")
        time.sleep(0.2)
    return proc, url


def _warm(url: str, batch: int = 16, fast: float = 1.0, limit: float = 600) -> None:
    """Until two batches of concurrent fresh connections in a row (the kernel spreads them
    over the processes) all answer within ``fast`` seconds: every process has built its
    board (a first build takes seconds, minutes on a busy machine) before anything is
    measured."""
    import asyncio

    import httpx

    async def one() -> float:
        async with httpx.AsyncClient(timeout=limit) as c:
            started = time.perf_counter()
            await c.get(url, headers={"Accept-Encoding": "gzip"})
            return time.perf_counter() - started

    async def batches() -> None:
        deadline, good = time.monotonic() + limit, 0
        while time.monotonic() < deadline and good < 2:
            times = await asyncio.gather(*(one() for _ in range(batch)))
            good = good + 1 if max(times) < fast else 0

    asyncio.run(batches())


def _measure(url: str, path: str, root: int, seconds: int, processes: int) -> dict[str, float]:

    _warm(url + path)
    pids = _tree(root)
    before_cpu = _cpu(pids)
    before_wrk = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = bench_web._wrk(url + path, seconds, connections=CLIENTS)
    after_wrk = resource.getrusage(resource.RUSAGE_CHILDREN)
    server = _cpu(pids) - before_cpu
    wrk = (after_wrk.ru_utime - before_wrk.ru_utime) + (after_wrk.ru_stime - before_wrk.ru_stime)
    requests = res["rps"] * seconds
    res["cpu_ms"] = 1000 * server / max(requests, 1)
    res["server_cores"] = server / seconds
    res["wrk_cores"] = wrk / seconds
    return res


def run(quick: bool) -> list[Row]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="bench-webproc-"))
    comps = tmp / "competitions"
    bench_web._competition(comps)
    pg = Postgres()
    rows: list[Row] = []
    try:
        db = pg.start()
        bench_web._seed(db, comps, bench_web.PARTICIPANTS, bench_web.PER)
        seconds = 5 if quick else 15
        results: dict[tuple[str, int], dict[str, float]] = {}
        for processes in (1, 4):
            proc, url = _serve(db, comps, processes, tmp)
            try:
                for name, path in (("page", f"/c/{bench_web.SLUG}/leaderboard"),
                                   ("API", f"/api/v1/competitions/{bench_web.SLUG}/leaderboard")):
                    results[(name, processes)] = _measure(url, path, proc.pid, seconds, processes)
            finally:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)
        cores = len(os.sched_getaffinity(0))
        size = f"{bench_web.PARTICIPANTS}×{bench_web.PER}, {CLIENTS} clients, PostgreSQL"
        for name in ("page", "API"):
            four, one = results[(name, 4)], results[(name, 1)]
            rows.append(Row(f"leaderboard {name} p99, 4 web processes, {size}", four["p99"], 50.0, unit="ms",
                            target=1.0, note=f"p50 {four['p50']:.1f} ms, {four['rps']:.0f} req/s, non-2xx "
                                             f"{four['non2xx']:.0f}; 1 process: p99 {one['p99']:.1f} ms, "
                                             f"{one['rps']:.0f} req/s; baseline = the 50 ms target"))
            bound = cores / (four["cpu_ms"] / 1000) if four["cpu_ms"] else float("inf")
            rows.append(Row(f"leaderboard {name}: µs per request, 4 processes vs 1", 1e6 / four["rps"],
                            1e6 / one["rps"], unit="µs", target=0.4, note=f"{four['rps']:.0f} vs {one['rps']:.0f} req/s = "
                                             f"{four['rps'] / one['rps']:.2f}× (target ≥ 2.5×); server CPU "
                                             f"{four['cpu_ms']:.2f} ms/request with 4 ({one['cpu_ms']:.2f} with 1), "
                                             f"{four['server_cores']:.2f} cores busy serving, wrk "
                                             f"{four['wrk_cores']:.2f} cores, {cores} cores here → at most "
                                             f"{bound:.0f} req/s if the server had them all"))
    finally:
        pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return rows
