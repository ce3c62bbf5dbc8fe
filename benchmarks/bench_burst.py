"""Burst benchmark (issue 15): 200 uploads by 100 students at once while scoring goes on.

Two topologies, measured one after the other in the same run, on fresh databases:

- **workers** (ours): ``coursebench serve --workers 0`` only accepts — validates the file
  (cheap: the id set and values, ~10 ms for 500 rows), stores it pending with its quota
  slot, answers 202 — while two ``coursebench worker`` processes claim and score;
- **in-process** (the old way): ``coursebench serve --workers 2`` scoring in threads of
  the web process, competing with the uploads for its interpreter.

Each student sends 2 files; the daily limit is 2, so every student ends exactly at it.
Reported: accept p50/p99 (upload → answer), time until every upload was answered and
until every submission was scored, and the checks: every accepted submission scored,
quotas exact (each student's used = 2 = accepted), nothing lost, no other status.
The database is SQLite (WAL) for both — one file shared by the processes; the
PostgreSQL topology is exercised by tests/leaderboard/test_worker_kill.py.
File submissions never run in a sandbox, so the workers start with ``--backend
subprocess --trusted-notebooks`` (no notebooks are submitted here).
"""

from __future__ import annotations

import asyncio
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
from common import Row

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SLUG = "burst"
STUDENTS, PER = 100, 2
EXE = Path(sys.executable).with_name("coursebench")


def _setup(tmp: Path) -> tuple[str, Path, dict[str, str], dict[str, bytes]]:
    import pandas as pd
    from bench_web import _competition, _predictions  # type: ignore[import-not-found]

    from leaderboard.services import Service

    comps = tmp / "competitions"
    _competition(comps)
    src = comps / "bench"
    toml = (src / "competition.toml").read_text().replace('slug = "bench"', f'slug = "{SLUG}"')
    toml = re.sub(r"^daily_limit = .*$", f"daily_limit = {PER}", toml, flags=re.M)
    (src / "competition.toml").write_text(toml)
    src.rename(comps / SLUG)
    db = f"sqlite:///{tmp / 'lb.db'}"
    svc = Service(db, comps, backend="subprocess")
    svc.prepare(SLUG)
    tokens = {f"b{i:03d}": svc.add_participant(f"b{i:03d}") for i in range(STUDENTS)}
    svc.db.dispose()
    data = comps / SLUG / "data"
    sample = pd.read_csv(data / "public" / "sample_submission.csv")
    solution = pd.read_csv(data / "private" / "solution.csv").set_index("id").loc[sample["id"]]
    yes = (solution["y"].astype(str) == "yes").to_numpy().astype(float)
    rng = np.random.default_rng(3)
    files = {name: _predictions(sample, yes, 0.6, rng) for name in tokens}
    return db, comps, tokens, files


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([str(EXE), *args], stdout=open(log, "w"), stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def _cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _burst(url: str, tokens: dict[str, str], files: dict[str, bytes], server_pid: int) -> dict[str, float]:
    import httpx

    latencies: list[float] = []
    codes: dict[int, int] = {}
    accepted: dict[str, list[int]] = {name: [] for name in tokens}
    errors: list[str] = []
    # a fresh connection per upload: no race with the server closing an idle keep-alive one
    limits = httpx.Limits(max_connections=STUDENTS, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:
        async def one(name: str, i: int) -> None:
            t = time.perf_counter()
            try:
                r = await client.post(f"/api/v1/competitions/{SLUG}/submissions",
                                      headers={"Authorization": f"Bearer {tokens[name]}"},
                                      files={"file": (f"{name}-{i}.csv", files[name])})
            except httpx.TransportError as exc:  # counted as "other": the burst must not hide it
                codes[-1] = codes.get(-1, 0) + 1
                errors.append(f"{type(exc).__name__}: {exc}")
                return
            latencies.append(time.perf_counter() - t)
            codes[r.status_code] = codes.get(r.status_code, 0) + 1
            if r.status_code in (201, 202):
                accepted[name].append(r.json()["id"])

        started, cpu_before = time.perf_counter(), _cpu(server_pid)
        await asyncio.gather(*(one(n, i) for i in range(PER) for n in tokens))
        absorbed, web_cpu = time.perf_counter() - started, _cpu(server_pid) - cpu_before
        deadline = time.monotonic() + 600
        while True:  # every accepted submission ends scored
            rows, used = [], {}
            for name in tokens:
                auth = {"Authorization": f"Bearer {tokens[name]}"}
                rows += [(s["id"], s["status"], s["counted"])
                         for s in (await client.get(f"/api/v1/competitions/{SLUG}/submissions", headers=auth)).json()]
            if all(st in ("complete", "failed") for _, st, _ in rows) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        drained = time.perf_counter() - started
        for name in tokens:
            auth = {"Authorization": f"Bearer {tokens[name]}"}
            used[name] = (await client.get(f"/api/v1/competitions/{SLUG}/quota", headers=auth)).json()["used"]
    ids = {i for got in accepted.values() for i in got}
    lat = np.array(latencies) * 1000
    exact = all(used[n] == len(accepted[n]) == PER for n in tokens)
    return {"p50": float(np.percentile(lat, 50)), "p99": float(np.percentile(lat, 99)), "absorbed_s": absorbed,
            "drained_s": drained, "web_cpu_ms": web_cpu * 1000 / max(1, len(latencies)), "accepted": len(ids), "complete": sum(st == "complete" for _, st, _ in rows),
            "lost": len(ids - {i for i, _, _ in rows}), "exact": float(exact),
            "other": sum(v for k, v in codes.items() if k not in (201, 202)), "errors": errors[:3]}  # type: ignore[dict-item]


def _topology(tmp: Path, workers: bool) -> dict[str, float]:
    import httpx
    from bench_web import _port  # type: ignore[import-not-found]

    db, comps, tokens, files = _setup(tmp)
    env = {**os.environ, "COURSEBENCH_CONFIG_DIR": str(tmp / "cfg"), "COURSEBENCH_SECRET_KEY": "bench"}
    port = _port()
    url = f"http://127.0.0.1:{port}"
    procs = [_spawn(["serve", "--db", db, "--competitions", str(comps), "--port", str(port),
                     "--workers", "0" if workers else "2", "--submit-rate", "1000", "--backend", "subprocess",
                     "--log-level", "warning"], env, tmp / "serve.log")]
    if workers:
        procs += [_spawn(["worker", "--db", db, "--competitions", str(comps), "--backend", "subprocess",
                          "--trusted-notebooks", "--poll", "0.2", "--log-level", "warning"], env, tmp / f"w{i}.log")
                  for i in range(2)]
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/api/v1/competitions", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        time.sleep(2)  # the workers are up and polling
        return asyncio.run(_burst(url, tokens, files, procs[0].pid))
    finally:
        for proc in procs:
            _stop(proc)
        for log in sorted(tmp.glob("*.log")):  # a crash must be visible in the benchmark's output
            text = log.read_text()
            if "Traceback" in text:
                print(f"   {log.name}: {text[-1500:]}", flush=True)


def run(quick: bool) -> list[Row]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-burst-"))
    try:
        ours = _topology(tmp / "workers", workers=True)
        old = _topology(tmp / "inprocess", workers=False)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def checks(r: dict[str, float]) -> str:
        ok = (r["accepted"] == STUDENTS * PER and r["complete"] == r["accepted"] and r["lost"] == 0
              and r["exact"] == 1.0 and r["other"] == 0)
        errors = f"; transport errors e.g. {r['errors'][0]}" if r["errors"] else ""  # type: ignore[index]
        return (f"accepted {r['accepted']:.0f}, scored {r['complete']:.0f}, lost {r['lost']:.0f}, other "
                f"{r['other']:.0f}, quotas {'exact' if r['exact'] else 'NOT EXACT'} → "
                f"{'all scored, nothing lost' if ok else 'CHECKS FAILED'}{errors}")

    return [
        Row(f"burst of {STUDENTS * PER} uploads by {STUDENTS} students, 2 worker processes: accept p99",
            ours["p99"], 300.0, unit="ms", target=1.0,
            note=f"p50 {ours['p50']:.0f} ms; answered in {ours['absorbed_s']:.1f} s, all scored after "
                 f"{ours['drained_s']:.1f} s; {checks(ours)}; baseline = the 300 ms target"),
        Row("burst: web process CPU per upload while the burst is answered, worker processes vs threads in serve",
            ours["web_cpu_ms"], old["web_cpu_ms"], unit="ms",
            note="user+system CPU of the serve process from /proc over the burst ÷ uploads: what one accept costs "
                 "the web process (in-process, its scoring threads' share included) — less load-bound than latency"),
        Row("burst accept p99: 2 worker processes vs scoring threads inside serve", ours["p99"], old["p99"],
            unit="ms", note=f"in-process: p50 {old['p50']:.0f} ms, answered in {old['absorbed_s']:.1f} s, all "
                            f"scored after {old['drained_s']:.1f} s; {checks(old)}"),
    ]
