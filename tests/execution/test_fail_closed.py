"""Fail closed: nothing runs without isolation unless it was asked for by name, for
notebooks said to be trusted — and then every result says ``sandboxed: false``."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from nbformat import v4

from coursebench.execution import (
    Job,
    JobGroup,
    NoSandbox,
    TrustRequired,
    resolve,
    run_group,
    run_many,
    run_notebook,
)
from coursebench.execution.backends import advice
from coursebench.execution.backends.subprocess import SubprocessBackend
from coursebench.execution.job import prepare
from tests.sandboxless import sandboxes_unusable

CLI = [str(Path(sys.executable).with_name("coursebench"))]


@pytest.fixture
def no_sandbox(tmp_path, monkeypatch):
    yield from sandboxes_unusable(tmp_path, monkeypatch)


def marker_notebook(marker: Path) -> dict:
    """A notebook that leaves a file outside its job directory when it runs at all."""
    nb = v4.new_notebook()
    nb.cells = [v4.new_code_cell(f"open({str(marker)!r}, 'w').write('it ran')\nprint('ran')")]
    return nb


def test_auto_refuses_when_no_sandbox_is_usable_and_names_the_fix(no_sandbox, tmp_path):
    with pytest.raises(NoSandbox) as caught:
        resolve("auto")
    error = caught.value
    assert set(error.tried) == {"bwrap", "docker"}, "subprocess is never a candidate of auto"
    text = str(error)
    assert "will not run these notebooks" in text
    assert "install bubblewrap" in text and "bubblewrap" in error.fixes[0]
    if (tmp_path / "bin-without-bwrap" / "apt-get").exists():
        assert "apt-get install -y bubblewrap" in error.fixes[0]
    assert "make images-runtime" in error.fixes[1] and "Docker" in error.fixes[1]
    data = error.to_dict()
    assert data["error"] == "no_sandbox" and data["fixes"] == error.fixes and data["tried"] == error.tried


def test_run_notebook_with_no_sandbox_runs_nothing(no_sandbox, tmp_path):
    marker = tmp_path / "ran.txt"
    result = run_notebook(marker_notebook(marker))
    assert result.status == "killed" and result.infrastructure_failure, result.summary()
    assert "not run: no sandbox can be used" in result.message and "bubblewrap" in result.message
    group = run_group(JobGroup([Job(marker_notebook(marker), name="a"), Job(marker_notebook(marker), name="b")]))
    assert [r.infrastructure_failure for r in group] == [True, True]
    [pooled] = run_many([Job(marker_notebook(marker))], workers=1)
    assert pooled.infrastructure_failure and "no sandbox" in pooled.message
    assert not marker.exists(), "a notebook ran without a sandbox"


def test_subprocess_without_trust_is_refused_at_every_entry_point(tmp_path):
    marker = tmp_path / "ran.txt"
    with pytest.raises(TrustRequired, match="--trusted-notebooks"):
        resolve("subprocess")
    result = run_notebook(marker_notebook(marker), backend="subprocess")
    assert result.infrastructure_failure and "does not isolate" in result.message
    untrusted_member = JobGroup([Job(marker_notebook(marker), backend="subprocess", trusted=True),
                                 Job(marker_notebook(marker), backend="subprocess")])
    assert all(r.infrastructure_failure for r in run_group(untrusted_member)), "a group is trusted only whole"
    # A caller that skips resolve() and goes to the backend itself is refused there too.
    jobdir = prepare(Job(marker_notebook(marker), backend="subprocess"))
    try:
        with pytest.raises(TrustRequired):
            SubprocessBackend().run(jobdir, threading.Event())
    finally:
        jobdir.cleanup()
    assert not marker.exists(), "an untrusted notebook ran without isolation"


def test_trusted_subprocess_runs_and_says_not_sandboxed(tmp_path, bwrap_backend):
    marker = tmp_path / "ran.txt"
    result = run_notebook(marker_notebook(marker), backend="subprocess", trusted=True)
    assert result.ok and marker.exists(), result.summary()
    assert result.sandboxed is False and result.to_dict()["sandboxed"] is False
    assert "(not sandboxed)" in result.summary()
    group = run_group(JobGroup([Job(marker_notebook(marker), name=n, backend="subprocess", trusted=True)
                                for n in ("a", "b")]))
    assert [(r.status, r.sandboxed) for r in group] == [("ok", False), ("ok", False)]
    sandboxed = run_notebook(v4.new_notebook(), backend=bwrap_backend)
    assert sandboxed.ok and sandboxed.sandboxed is True
    assert run_notebook(v4.new_notebook(), backend=bwrap_backend, trusted=True).sandboxed, \
        "trust changes nothing on a backend that isolates"


def test_a_result_cannot_claim_a_sandbox_it_did_not_have():
    from coursebench.execution import ExecutionResult

    assert ExecutionResult(name="x", status="ok", backend="subprocess", sandboxed=True).sandboxed is False


def test_cli_run_subprocess_needs_the_trusted_flag(tmp_path):
    import nbformat

    marker = tmp_path / "ran.txt"
    path = tmp_path / "mine.ipynb"
    nbformat.write(nbformat.from_dict(marker_notebook(marker)), str(path))
    refused = subprocess.run([*CLI, "run", str(path), "--backend", "subprocess"], capture_output=True, text=True)
    assert refused.returncode == 2, refused.stderr
    assert "--trusted-notebooks" in refused.stderr and not marker.exists()
    done = subprocess.run([*CLI, "run", str(path), "--backend", "subprocess", "--trusted-notebooks", "--json"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    [line] = done.stdout.splitlines()
    assert json.loads(line)["sandboxed"] is False and marker.exists()


def test_cli_run_refuses_without_a_sandbox_and_names_the_fix(no_sandbox, tmp_path):
    import nbformat

    marker = tmp_path / "ran.txt"
    path = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.from_dict(marker_notebook(marker)), str(path))
    done = subprocess.run([*CLI, "run", str(path)], capture_output=True, text=True, env=no_sandbox)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no sandbox can be used" in done.stderr and "bubblewrap" in done.stderr
    assert not marker.exists()


def test_advice_names_the_kernel_setting_that_stops_bubblewrap(tmp_path, monkeypatch):
    clone = tmp_path / "unprivileged_userns_clone"
    clone.write_text("0\n")
    restrict = tmp_path / "apparmor_restrict_unprivileged_userns"
    restrict.write_text("1\n")
    monkeypatch.setattr(advice, "USERNS_SYSCTLS", (
        (clone, "0", "kernel.unprivileged_userns_clone=1"),
        (tmp_path / "missing", "0", "user.max_user_namespaces=15000"),
        (restrict, "1", "kernel.apparmor_restrict_unprivileged_userns=0"),
    ))
    fix = advice.bwrap_fix("bubblewrap cannot create namespaces here: bwrap: No permissions to creating new namespace")
    assert "sysctl -w kernel.unprivileged_userns_clone=1" in fix
    assert "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0" in fix
    assert "user.max_user_namespaces" not in fix
    assert "/etc/sysctl.d/" in fix
    assert "util-linux" in advice.bwrap_fix("setpriv (util-linux) is missing; it drops root inside the sandbox")
    assert "pip install 'coursebench[docker]'" in advice.docker_fix(
        "the Docker SDK for Python is not installed (pip install 'coursebench[docker]')")
    assert "make images-runtime" in advice.docker_fix("the image coursebench-runtime:latest is not in the engine")
