"""What a notebook inside a docker sandbox can and cannot see or do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nbformat import v4

from coursebench.execution import Limits, run_notebook

pytestmark = [pytest.mark.docker, pytest.mark.slow]
REPO = Path(__file__).parents[2]

PROBE = r"""
import json, os, socket, pathlib
report = {"uid": os.getuid(), "gid": os.getgid(), "cwd": os.getcwd(), "home": os.environ.get("HOME")}
report["env"] = dict(os.environ)
report["paths"] = {p: os.path.exists(p) for p in PATHS}
def writable(p):
    try:
        pathlib.Path(p, ".probe").write_text("x")
        return True
    except OSError:
        return False
report["writable"] = {p: writable(p) for p in ["/", "/usr", "/etc", "/opt/coursebench", "/opt/venv",
                                               "/tmp", os.environ["HOME"], "/job", "/job/files"]}
report["interfaces"] = sorted(name for _, name in socket.if_nameindex())
def connect(host, port):
    try:
        socket.create_connection((host, port), timeout=3).close()
        return "connected"
    except OSError as exc:
        return type(exc).__name__ + ": " + str(exc)
report["connect_ip"] = connect("1.1.1.1", 443)
report["connect_dns"] = connect("pypi.org", 443)
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
report["cap_eff"] = status["CapEff"].strip()
report["cap_bnd"] = status["CapBnd"].strip()
report["no_new_privs"] = status["NoNewPrivs"].strip()
report["mounts"] = [line.split()[1] for line in open("/proc/self/mounts")]
report["job_listing"] = sorted(os.listdir("/job"))
report["nprocs_visible"] = len([p for p in os.listdir("/proc") if p.isdigit()])
print("PROBE" + json.dumps(report))
"""


def probe(tmp_path: Path, paths: list[str]) -> tuple[dict, object]:
    nb = v4.new_notebook()
    nb.cells = [v4.new_code_cell(f"PATHS = {paths!r}"), v4.new_code_cell(PROBE)]
    result = run_notebook(nb, limits=Limits(timeout=60), backend="docker")
    assert result.status == "ok", result.summary() + result.log_tail
    text = result.notebook.cells[1].outputs[0].text
    return json.loads(text.split("PROBE", 1)[1]), result


def test_docker_sandbox_is_locked_down(docker_backend, tmp_path, monkeypatch):
    secret = tmp_path / "gradebook.db"
    secret.write_text("grades")
    monkeypatch.setenv("COURSEBENCH_TEST_SECRET", "hunter2")
    report, result = probe(tmp_path, [str(secret), str(tmp_path), str(REPO), str(REPO / "course.toml"),
                                       "/var/run/docker.sock", "/run/docker.sock", "/work"])
    assert result.backend == "docker"
    # non-root, no capabilities, no way to gain privileges
    assert report["uid"] != 0 and report["gid"] != 0
    assert int(report["cap_eff"], 16) == 0 and int(report["cap_bnd"], 16) == 0
    assert report["no_new_privs"] == "1"
    # nothing of the host: no course, no gradebook, no docker socket, no host env
    assert not any(report["paths"].values()), report["paths"]
    assert "COURSEBENCH_TEST_SECRET" not in report["env"]
    assert not any("hunter2" in v for v in report["env"].values())
    assert report["env"]["HOME"] == "/home/student"
    # read-only root; writable: /tmp, HOME and the job directory only
    writable = report["writable"]
    assert not writable["/"] and not writable["/usr"] and not writable["/etc"]
    assert not writable["/opt/coursebench"] and not writable["/opt/venv"]
    assert writable["/tmp"] and writable["/home/student"] and writable["/job/files"]
    assert "/job" in report["mounts"]
    assert {"files", "input.ipynb", "job.json"} <= set(report["job_listing"])
    # no network: loopback only, nothing outside reachable
    assert report["interfaces"] == ["lo"], report["interfaces"]
    assert report["connect_ip"] != "connected" and report["connect_dns"] != "connected"
    # own pid namespace: only the sandbox's few processes
    assert report["nprocs_visible"] < 10
    # CPU jobs see no GPU
    assert report["env"]["CUDA_VISIBLE_DEVICES"] == ""
    assert report["env"]["NVIDIA_VISIBLE_DEVICES"] == "void"


def test_jobs_do_not_see_each_other(docker_backend, tmp_path):
    """Two jobs at once: separate containers, separate uids, each sees only its own /job."""
    from coursebench.execution import Job, run_many

    code = (
        "import os, time, json\n"
        "open('/job/files/mine.txt', 'w').write(NAME)\n"
        "time.sleep(2)\n"
        "print(json.dumps({'uid': os.getuid(), 'files': sorted(os.listdir('/job/files'))}))"
    )
    jobs = []
    for name in ("a", "b"):
        nb = v4.new_notebook()
        nb.cells = [v4.new_code_cell(f"NAME = {name!r}"), v4.new_code_cell(code)]
        jobs.append(Job(nb, name=name, backend="docker", limits=Limits(timeout=60)))
    results = run_many(jobs, workers=2, progress=False)
    seen = [json.loads(r.notebook.cells[1].outputs[0].text) for r in results]
    assert all(r.status == "ok" for r in results), [r.summary() for r in results]
    assert seen[0]["files"] == ["mine.txt"] and seen[1]["files"] == ["mine.txt"]
    assert seen[0]["uid"] != seen[1]["uid"]


def test_limits_reach_the_engine(docker_backend, docker_engine, tmp_path):
    """The container the engine ran had exactly the job's limits (read from inside)."""
    nb = v4.new_notebook()
    nb.cells = [v4.new_code_cell(
        "import os\n"
        "def first(*paths):\n"
        "    for p in paths:\n"
        "        if os.path.exists(p):\n"
        "            return open(p).read().strip()\n"
        "print(first('/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'))\n"
        "print(first('/sys/fs/cgroup/pids.max', '/sys/fs/cgroup/pids/pids.max'))\n"
        "print(first('/sys/fs/cgroup/cpu.max', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us'))\n"
    )]
    result = run_notebook(nb, limits=Limits(timeout=60, memory="700M", pids=99, cpus=0.5), backend="docker")
    assert result.status == "ok", result.summary()
    memory, pids, cpu = result.notebook.cells[0].outputs[0].text.split("\n")[:3]
    assert int(memory) == 700 * 1024**2
    assert pids == "99"
    assert cpu.split()[0] == "50000"  # 0.5 CPU of a 100 ms period
