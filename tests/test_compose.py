"""docker/compose.yaml runs the real topology, checked through ``docker compose config``
(Compose itself parses, validates and interpolates the file; nothing is started):
PostgreSQL with a health check; N web processes that score nothing and get no Docker
engine; M scoring workers that get the sandbox (the engine's socket and the runtime
image); a student lab with only the server's URL and a token.

Compose v2 (``docker compose``) when installed, else Debian 12's ``docker-compose`` 1.29
(TEST_DEBS); their outputs differ in form (``src:dst:ro`` strings or mappings), which
:func:`_mounts` and :func:`_ports` read alike."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import must_have_or_skip

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker" / "compose.yaml"
SANDBOXED = {"worker", "grader", "grader-gpu"}  # the only services given the engine's socket


def _compose() -> list[str]:
    if shutil.which("docker"):
        done = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if done.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    must_have_or_skip("docker compose", "neither `docker compose` nor `docker-compose` is installed "
                      "(make sysdeps-test, or apt-get install docker-compose)")
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def services() -> dict[str, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COURSEBENCH_", "POSTGRES_"))}
    env.update(COURSEBENCH_WEB_PROCESSES="3", COURSEBENCH_WORKERS="2", COURSEBENCH_STUDENT_TOKEN="tok-123")
    done = subprocess.run([*_compose(), "-p", "coursebench", "-f", str(COMPOSE), "--profile", "instructor",
                           "--profile", "sqlite", "--profile", "grader", "--profile", "gpu", "config"],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)["services"]


def _mounts(service: dict) -> list[tuple[str, str, bool]]:
    """(source, target, read-only) of each volume."""
    out = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            parts = volume.split(":")
            source, target = parts[0], parts[1]
            out.append((source, target, len(parts) > 2 and "ro" in parts[2].split(",")))
        else:
            out.append((str(volume.get("source", "")), volume["target"], bool(volume.get("read_only"))))
    return out


def _ports(service: dict) -> list[str]:
    """The host address each published port is bound to."""
    out = []
    for port in service.get("ports", []):
        out.append(port.split(":")[0] if isinstance(port, str) else str(port.get("host_ip", "")))
    return out


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def test_the_default_topology(services) -> None:
    default = {name for name, s in services.items() if not s.get("profiles")}
    assert default == {"postgres", "web", "worker", "student-lab"}
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    for name in ("web", "worker"):
        assert _env(services[name])["COURSEBENCH_DB"].startswith("postgresql://"), name
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy", name


def test_web_processes_score_nothing_and_get_no_engine(services) -> None:
    web = services["web"]
    command = [str(c) for c in web["command"]]
    assert command[:2] == ["coursebench", "serve"]
    assert command[command.index("--processes") + 1] == "3"
    assert command[command.index("--workers") + 1] == "0"
    assert not any("docker.sock" in src or "docker.sock" in dst for src, dst, _ in _mounts(web))
    assert "DOCKER_HOST" not in _env(web) and "COURSEBENCH_DOCKER_HOST" not in _env(web)
    course = [(src, ro) for src, dst, ro in _mounts(web) if dst == "/course"]
    assert course and all(ro for _, ro in course), "the web service must see the course read-only"
    # ... as nobody: never the owner of data/private, which `prepare` makes 0700
    assert str(web.get("user")) == "65534:65534", web.get("user")


def test_workers_get_the_sandbox(services) -> None:
    worker = services["worker"]
    command = [str(c) for c in worker["command"]]
    assert command[:2] == ["coursebench", "worker"]
    assert command[command.index("--backend") + 1] == "docker"
    assert "subprocess" not in command and "--trusted-notebooks" not in command
    assert any(dst == "/var/run/docker.sock" for _, dst, _ in _mounts(worker))
    env = _env(worker)
    assert env["COURSEBENCH_DOCKER_IMAGE"] and env["DOCKER_HOST"] == "unix:///var/run/docker.sock"
    jobs = env["COURSEBENCH_JOB_ROOT"]
    assert (jobs, jobs) in [(src, dst) for src, dst, _ in _mounts(worker)], "job folders at the same path"
    assert int(worker["deploy"]["replicas"]) == 2
    # docker stop's SIGKILL comes after the worker's own grace (docs/workers.md, Stopping)
    grace = float(command[command.index("--grace") + 1])
    period = worker["stop_grace_period"]
    assert _seconds(period) > grace + 5, (period, grace)


def _seconds(duration: object) -> float:
    """A Compose duration ("30s", "1m30s"; or nanoseconds, as a number) in seconds."""
    if isinstance(duration, int) or str(duration).isdigit():
        return int(str(duration)) / 1e9
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:([\d.]+)s)?", str(duration))
    assert parts is not None and any(parts.groups()), f"not a duration: {duration!r}"
    hours, minutes, seconds = parts.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)


def test_only_scorers_get_the_engine_and_ports_stay_on_loopback(services) -> None:
    for name, service in services.items():
        if any("docker.sock" in src for src, _, _ in _mounts(service)):
            assert name in SANDBOXED, f"{name} must not get the Docker engine's socket"
        assert all(host == "127.0.0.1" for host in _ports(service)), (name, _ports(service))


def test_the_student_lab_sees_only_the_server(services) -> None:
    lab = services["student-lab"]
    env = _env(lab)
    assert env["COURSEBENCH_SERVER"] == "http://web:8000" and env["COURSEBENCH_TOKEN"] == "tok-123"
    assert not any(k in env for k in ("COURSEBENCH_DB", "DOCKER_HOST", "COURSEBENCH_COMPETITIONS"))
    for src, dst, _ in _mounts(lab):
        assert not src.startswith("/"), f"the student lab must not mount host paths: {src} -> {dst}"
        assert dst != "/course"
