"""The course hub: spawn time and memory per idle student server.

* **spawn time**, login → JupyterLab ready, per student: log in on the hub's form, ask for
  the server, follow the OAuth redirects until ``/user/NAME/lab`` answers JupyterLab's page;
  for 1 student alone and for 10 students logging in at once (2 cores). Baseline: a plain
  ``docker run`` of the same image running ``jupyter lab`` until its page answers.
* **memory per idle server** (the container's cgroup memory usage minus page cache, after
  the page was loaded and 20 s of idling), against the plain ``docker run`` of the same
  image running ``jupyter lab``.

Needs what tests/hub needs (an engine, the ``lab-slim`` image, configurable-http-proxy):
``COURSEBENCH_TEST_DOCKER_HOST``/``DOCKER_HOST`` or, as root, a private ``dockerd``.
Run: ``python benchmarks/run.py hub``.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from common import Row

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _engine():  # type: ignore[no-untyped-def]
    """(client, host) of an engine: the given one, else a private one (root)."""
    import docker
    from coursebench.images.dockerd import private_engine

    host = os.environ.get("COURSEBENCH_TEST_DOCKER_HOST") or os.environ.get("DOCKER_HOST")
    stack = contextlib.ExitStack()
    if not host:
        host = stack.enter_context(private_engine())
    return docker.DockerClient(base_url=host, timeout=300), host, stack


def login_to_lab(hub, user: str, timeout: float = 600) -> float:  # type: ignore[no-untyped-def]
    """Seconds from the login form to JupyterLab's page of ``user``'s own server."""
    started = time.monotonic()
    with httpx.Client(base_url=hub.url, timeout=120, trust_env=False, follow_redirects=True) as c:
        c.get("/hub/login")
        r = c.post("/hub/login", data={"username": user, "password": hub.tokens[user],
                                       "_xsrf": c.cookies.get("_xsrf", "")})
        r.raise_for_status()
        while time.monotonic() - started < timeout:
            model = c.get(f"/hub/api/users/{user}").json()
            if model.get("servers", {}).get("", {}).get("ready"):
                break
            time.sleep(0.2)
        page = c.get(f"/user/{user}/lab")
        if page.status_code != 200 or "jupyter-config-data" not in page.text:
            raise RuntimeError(f"{user}: no JupyterLab page ({page.status_code} {page.url})")
    return time.monotonic() - started


def plain_run(engine, image: str, port: int) -> tuple[object, float]:  # type: ignore[no-untyped-def]
    """``docker run`` of the image running jupyter lab on 127.0.0.1:port; seconds to its page."""
    started = time.monotonic()
    c = engine.containers.run(image, ["jupyter", "lab", "--ip=127.0.0.1", f"--port={port}", "--no-browser",
                                      "--IdentityProvider.token=bench", "--ServerApp.root_dir=/home/student"],
                              detach=True, network_mode="host", mem_limit="512m", remove=False,
                              name=f"cbbench-plain-{port}")
    url = f"http://127.0.0.1:{port}/lab?token=bench"
    while time.monotonic() - started < 300:
        try:
            r = httpx.get(url, timeout=5, trust_env=False)
            if r.status_code == 200 and "jupyter-config-data" in r.text:
                return c, time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the plain jupyter lab did not answer")


def idle_memory(container) -> float:  # type: ignore[no-untyped-def]
    """MiB of the container's cgroup (usage minus page cache; v1 and v2)."""
    stats = container.stats(stream=False)["memory_stats"]
    inner = stats.get("stats", {})
    cache = inner.get("total_inactive_file", inner.get("inactive_file", inner.get("cache", 0)))
    return (stats["usage"] - cache) / 2**20


def run(quick: bool = False) -> list[Row]:
    from tests.hub.conftest import IMAGE, _image, free_port, launch, shutdown

    many = 4 if quick else 10
    students = tuple(f"b{i:02d}" for i in range(many))
    engine, host, stack = _engine()
    rows: list[Row] = []
    with stack, tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp:
        _image(engine)
        hub = launch(Path(tmp), engine, host, students)
        plain = None
        try:
            # baseline first: the image is in the page cache for both
            plain, plain_s = plain_run(engine, IMAGE, free_port())
            one = login_to_lab(hub, students[0])
            rows.append(Row("hub spawn: 1 student, login → JupyterLab ready", one, plain_s,
                            note="baseline: plain docker run of the same image until its lab page answers"))
            hub.stop_server(students[0])
            time.sleep(2)
            times: dict[str, float] = {}
            errors: list[str] = []

            def go(user: str) -> None:
                try:
                    times[user] = login_to_lab(hub, user)
                except Exception as exc:
                    errors.append(f"{user}: {exc}")

            threads = [threading.Thread(target=go, args=(u,)) for u in students]
            wall = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - wall
            if errors:
                raise RuntimeError("; ".join(errors))
            per = statistics.median(times.values())
            hub_wall = wall
            # the same number of plain `docker run`s at once, for the baseline
            plains: list[tuple[object, float]] = []
            lock = threading.Lock()

            def plain_go() -> None:
                got = plain_run(engine, IMAGE, free_port())
                with lock:
                    plains.append(got)

            runners = [threading.Thread(target=plain_go) for _ in students]
            for t in runners:
                t.start()
            for t in runners:
                t.join()
            try:
                plain_many = statistics.median(p[1] for p in plains)
            finally:
                for c, _ in plains:
                    c.remove(force=True)  # type: ignore[attr-defined]
            rows.append(Row(f"hub spawn: {many} students at once, median per student", per, plain_many,
                            note=f"slowest {max(times.values()):.1f} s, all ready after {hub_wall:.1f} s; "
                                 f"baseline: {many} plain docker runs at once; 2 cores"))
            time.sleep(20)  # idle
            ours = statistics.median(idle_memory(hub.container(u)) for u in students)
            rows.append(Row("memory per idle student server (jupyterhub-singleuser)", ours, idle_memory(plain),
                            unit="MiB", note="baseline: plain docker run … jupyter lab, same image, same idling"))
        finally:
            if plain is not None:
                plain.remove(force=True)  # type: ignore[attr-defined]
            shutdown(hub, students)
    return rows
