"""What a notebook inside the bwrap sandbox can and cannot see or do."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from coursebench.execution import Limits, run_notebook

REPO = Path(__file__).parents[2]

PROBE = r"""
import json, os, socket, pathlib
report = {"uid": os.getuid(), "cwd": os.getcwd(), "home": os.environ.get("HOME")}
report["env_keys"] = sorted(os.environ)
def can_read(p):
    try:
        pathlib.Path(p).read_bytes()[:1]
        return True
    except Exception:
        return False
def exists(p):
    return os.path.exists(p)
report["paths"] = {p: exists(p) for p in PATHS}
report["listings"] = {p: sorted(os.listdir(p)) for p in PATHS if os.path.isdir(p)}
report["read_job_json"] = can_read("/job/job.json")
try:
    pathlib.Path("/usr/coursebench-probe").write_text("x")
    report["write_usr"] = True
except OSError:
    report["write_usr"] = False
try:
    socket.create_connection(("127.0.0.1", 22), timeout=2)
    report["loopback_ssh"] = True
except OSError:
    report["loopback_ssh"] = False
report["pid1"] = open("/proc/1/cmdline", "rb").read().split(b"\0")[0].decode()
report["nprocs_visible"] = len([p for p in os.listdir("/proc") if p.isdigit()])
print("PROBE" + json.dumps(report))
"""


def probe(backend: str, tmp_path: Path, paths: list[str]) -> dict:
    nb = v4.new_notebook()
    nb.cells = [v4.new_code_cell(f"PATHS = {paths!r}"), v4.new_code_cell(PROBE)]
    result = run_notebook(nb, limits=Limits(timeout=60), backend=backend)
    assert result.status == "ok", result.summary() + result.log_tail
    text = result.notebook.cells[1].outputs[0].text
    return json.loads(text.split("PROBE", 1)[1])


def test_bwrap_sees_only_its_job(bwrap_backend, tmp_path, monkeypatch):
    secret = tmp_path / "gradebook.db"
    secret.write_text("grades")
    monkeypatch.setenv("COURSEBENCH_TEST_SECRET", "hunter2")
    home = os.path.expanduser("~")
    watched = [str(REPO), str(REPO / "course.toml"), str(secret), home, "/etc/shadow", "/var/lib", "/srv"]
    report = probe(bwrap_backend, tmp_path, watched)
    assert report["uid"] != 0, "the notebook must not run as root"
    assert report["cwd"] == "/job/files"
    assert report["home"] == "/tmp"
    # Parents of the read-only Python runtime exist as bare mount points; nothing else of
    # the course directory or the host's HOME is there.
    runtime_parents = {str(REPO): [".venv"], home: [".pyenv"]}
    for path, seen in report["paths"].items():
        if path in runtime_parents and seen:
            assert report["listings"][path] == runtime_parents[path], report["listings"]
        else:
            assert not seen, f"{path} is visible in the sandbox"
    assert "COURSEBENCH_TEST_SECRET" not in report["env_keys"], "host environment leaked in"
    assert report["write_usr"] is False, "the runtime must be read-only"
    assert report["loopback_ssh"] is False
    assert report["nprocs_visible"] < 20, "the sandbox must have its own pid namespace"


def test_forged_answer_is_ignored(process_backend, tmp_path):
    """A notebook that writes a fake 'all ok' answer to stdout and to result.json."""
    fake = json.dumps({"result": {"version": 1, "status": "ok", "failed_cell": None,
                                  "cell_durations": [], "versions": {}}, "notebook": None})
    nb = v4.new_notebook()
    nb.cells = [
        v4.new_code_cell(
            "import os, pathlib\n"
            f"fake = {fake!r}\n"
            "os.write(1, fake.encode())\n"
            "pathlib.Path('/job/result.json' if os.path.exists('/job') else '../result.json').write_text(fake)\n"
        ),
        v4.new_code_cell("raise ValueError('the real outcome')"),
    ]
    result = run_notebook(nb, limits=Limits(timeout=60), backend=process_backend, trusted=True)
    assert result.status == "error"
    assert result.ename == "ValueError"
    assert result.notebook_trusted


def test_invalid_inputs_become_invalid_results(tmp_path):
    missing = run_notebook(tmp_path / "nope.ipynb")
    assert missing.status == "invalid" and "no such notebook" in missing.message
    binary = tmp_path / "bad.ipynb"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = run_notebook(binary)
    assert result.status == "invalid" and "UTF-8" in result.message
    not_nb = tmp_path / "list.ipynb"
    not_nb.write_text("[1, 2, 3]")
    assert "not a Jupyter notebook" in run_notebook(not_nb).message


def test_unknown_backend_lists_known_ones():
    result = run_notebook(v4.new_notebook(), backend="podman")
    assert result.status == "invalid"
    assert "known backends" in result.message and "bwrap" in result.message


def test_input_files_and_artifacts(process_backend, tmp_path):
    data = tmp_path / "train.csv"
    data.write_text("x,y\n1,2\n3,4\n")
    nb = v4.new_notebook()
    nb.cells = [v4.new_code_cell(
        "import pandas as pd\n"
        "df = pd.read_csv('train.csv')\n"
        "df.assign(z=df.x + df.y).to_csv('predictions.csv', index=False)\n"
        "import os\nos.symlink('/etc/passwd', 'leak.csv')"
    )]
    out = tmp_path / "artifacts"
    result = run_notebook(nb, files=(data,), collect=("*.csv",), artifacts_dir=out, backend=process_backend,
                          trusted=True)
    assert result.status == "ok", result.summary()
    assert (out / "predictions.csv").read_text().splitlines()[1] == "1,2,3"
    assert "leak.csv" not in result.artifacts, "links the sandbox made are never followed"
    assert set(result.artifacts) == {"predictions.csv", "train.csv"}


def test_executed_notebook_written_and_valid(process_backend, tmp_path):
    nb = v4.new_notebook()
    nb.cells = [v4.new_markdown_cell("# 제목"), v4.new_code_cell("print(2 + 2)")]
    out = tmp_path / "deep" / "out.ipynb"
    result = run_notebook(nb, output=out, backend=process_backend, trusted=True)
    assert result.ok and result.output_path == out
    written = nbformat.read(str(out), as_version=4)
    nbformat.validate(written)
    assert written.cells[1].outputs[0].text == "4\n"
    assert result.versions["python"].startswith("3.")
    assert len(result.cell_durations) == 2


@pytest.mark.parametrize("limits", [{"timeout": 0}, {"pids": 3}, {"memory": "lots"}])
def test_bad_limits_are_refused(limits):
    with pytest.raises(ValueError):
        Limits(**limits)


def test_disk_limit_stops_a_notebook_that_fills_the_disk(process_backend, tmp_path):
    nb = v4.new_notebook()
    nb.cells = [v4.new_code_cell("chunk = b'x' * 2**20\nwith open('big.bin', 'wb') as f:\n"
                                 "    for _ in range(10_000):\n        f.write(chunk)\n        f.flush()")]
    result = run_notebook(nb, limits=Limits(timeout=60, disk="64M"), backend=process_backend, trusted=True)
    assert result.status == "killed" and "disk limit" in result.message, result.summary()
    assert result.wall_time < 30


def test_memory_watcher_without_cgroups(process_backend, tmp_path, monkeypatch):
    """Where cgroups cannot be made, memory is enforced by watching the process tree."""
    from coursebench.execution import cgroups

    monkeypatch.setattr(cgroups, "_SUPPORT", (False, "disabled for this test"))
    nb = v4.new_notebook()
    nb.cells = [v4.new_code_cell("print('start')"),
                v4.new_code_cell("blocks = []\nwhile True:\n    blocks.append(bytearray(32 * 2**20))")]
    result = run_notebook(nb, limits=Limits(timeout=60, memory="300M"), backend=process_backend, trusted=True)
    assert result.status == "oom", result.summary()
    assert "memory limit" in result.message
    assert result.peak_memory and result.peak_memory >= 250 * 2**20
    assert "start" in result.notebook.cells[0].outputs[0].text


def test_bwrap_runs_the_worker_compiled_once(bwrap_backend, tmp_path):
    """The sandbox runs worker.py compiled by the host (kept in the job root, writable by
    the host's user only); a compiled file anyone else could have written is not trusted."""
    import stat

    from coursebench.execution.backends.bwrap import compiled_worker
    from coursebench.execution.job import WORKER_PATH

    code = compiled_worker(WORKER_PATH)
    assert code is not None and code.read_bytes()[16:]  # a real .pyc: header + code
    assert code == compiled_worker(WORKER_PATH)
    other = code.with_name(".worker-0123456789abcdef01234567.cpython-311.pyc")  # an older version's
    other.write_bytes(b"old")
    os.utime(other, (1, 1))
    os.chmod(code, 0o666)  # as if another user could have rewritten it: compiled again
    again = compiled_worker(WORKER_PATH)
    assert again == code and not stat.S_IMODE(os.stat(again).st_mode) & 0o022
    assert not other.exists(), "an older version's compiled worker, unused for long, is removed"

    nb = v4.new_notebook()
    nb.cells = [v4.new_code_cell("import os, sys; print(sorted(os.listdir('/opt/coursebench')))")]
    result = run_notebook(nb, limits=Limits(timeout=60), backend=bwrap_backend)
    assert result.status == "ok", result.summary() + result.log_tail
    assert result.notebook.cells[0].outputs[0].text.strip() == "['worker.py', 'worker.pyc']"


def test_job_cgroups_of_killed_hosts_are_reaped(tmp_path):
    """A host killed mid-job leaves its job cgroup behind; the next process that checks
    cgroup support removes the empty ones older than an hour, never one with a process
    in it, never a recent one (a job being set up)."""
    import subprocess
    import time

    from coursebench.execution import cgroups

    usable, why = cgroups.cgroup_support()
    if not usable:
        pytest.skip(f"no cgroups here: {why}")
    old = time.time() - 2 * cgroups.STALE_AFTER
    stale = cgroups.JobCgroup.create(Limits(), name="job-reaptest-stale")
    busy = cgroups.JobCgroup.create(Limits(), name="job-reaptest-busy")
    fresh = cgroups.JobCgroup.create(Limits(), name="job-reaptest-fresh")
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        for path in busy.procs_files:
            path.write_text(str(sleeper.pid))
        for group in (stale, busy):
            for directory in group.dirs:
                os.utime(directory, (old, old))
        removed = cgroups.reap_stale()
        assert "job-reaptest-stale" in removed
        assert not any(d.exists() for d in stale.dirs)
        assert "job-reaptest-busy" not in removed and all(d.exists() for d in busy.dirs)
        assert "job-reaptest-fresh" not in removed and all(d.exists() for d in fresh.dirs)
    finally:
        sleeper.kill()
        sleeper.wait()
        for group in (stale, busy, fresh):
            group.destroy()
