"""Keras 3 beyond TensorFlow: `coursebench lectures run --keras-backend NAME` and the Keras
lectures and CNN lab on JAX (the CPU wheels, `jax[cpu]`, in the `dl` extra)."""

from __future__ import annotations

import json
import os
import re

import pytest
from typer.testing import CliRunner

from coursebench import lectures as lectures_mod
from coursebench.lectures import (
    KerasBackendError,
    check_keras_backend,
    keras_backend_env,
    make_jobs,
    runtime_package,
    select,
)

from .conftest import LECTURES, ROOT

LAB = ROOT / "assignments" / "source" / "lab11" / "lab11.ipynb"
#: smoke runs, two at a time: about a minute each on idle cores; the other lane shares them
JAX_TIMEOUT = 1500


def test_an_unknown_backend_is_refused_naming_the_known_ones():
    with pytest.raises(KerasBackendError, match="tensorflow, jax, torch") as caught:
        check_keras_backend("theano")
    assert caught.value.to_dict() == {"error": "keras_backend", "message": str(caught.value), "backend": "theano"}


def test_a_backend_whose_library_is_missing_says_what_to_install(monkeypatch):
    monkeypatch.setitem(lectures_mod.KERAS_BACKENDS, "mxnet", ("no_such_module_here", "pip install mxnet-cpu"))
    with pytest.raises(KerasBackendError, match=r"needs the 'no_such_module_here' package.*pip install mxnet-cpu"):
        check_keras_backend("mxnet")


def test_the_backend_is_set_for_the_run_and_restored(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    with keras_backend_env("tensorflow"):
        assert os.environ["KERAS_BACKEND"] == "tensorflow"
    assert os.environ["KERAS_BACKEND"] == "torch"
    monkeypatch.delenv("KERAS_BACKEND")
    with keras_backend_env(None):
        assert "KERAS_BACKEND" not in os.environ
    with pytest.raises(RuntimeError), keras_backend_env("tensorflow"):
        raise RuntimeError
    assert "KERAS_BACKEND" not in os.environ


def test_cli_refuses_an_unknown_backend_before_running_anything():
    from coursebench.cli import _register_subcommands, app

    _register_subcommands()
    result = CliRunner().invoke(app, ["lectures", "run", "09", "--smoke", "--backend", "subprocess",
                                      "--keras-backend", "theano"], terminal_width=200)
    assert result.exit_code == 2, result.output
    assert "no backend 'theano'" in result.output


def test_a_cluster_run_refuses_a_backend_it_cannot_carry():
    with pytest.raises(KerasBackendError, match="KERAS_BACKEND=jax"):
        lectures_mod.run_lectures(LECTURES[:1], keras_backend="jax", cluster="tcp://127.0.0.1:1")


@pytest.mark.slow
@pytest.mark.timeout(JAX_TIMEOUT + 300)
def test_keras_lectures_and_the_cnn_lab_run_on_jax(tmp_path, bwrap_backend):
    """Lectures 09 (MLPs) and 11 (CNNs) in smoke mode and lab 11's solution notebook (its
    visible and hidden tests are plain asserts), with Keras on JAX, in the sandbox."""
    pytest.importorskip("jax", reason="pip install 'jax[cpu]' (the dl extra)")
    import nbformat

    from coursebench.execution import Job, run_many

    lab = nbformat.read(str(LAB), as_version=4)   # + a last cell that says which backend ran it
    lab.cells.append(nbformat.v4.new_code_cell('print("lab ran on", keras.backend.backend())'))

    chosen = select(LECTURES, ["09", "11"])
    limits = lectures_mod.default_limits(True).replace(timeout=JAX_TIMEOUT)
    with keras_backend_env("jax"):
        runtime = runtime_package(tmp_path / "runtime")
        jobs = make_jobs(chosen, runtime=runtime, smoke=True, output=tmp_path, limits=limits, backend=bwrap_backend)
        jobs.append(Job(notebook=dict(lab), name="lab11", output=tmp_path / "lab11.ipynb", limits=limits,
                        backend=bwrap_backend))
        results = run_many(jobs, workers=2)
    failures = {r.name: f"{r.status} at cell {r.failed_cell}: {r.ename}: {r.evalue} {r.message or ''}"
                for r in results if not r.ok}
    assert not failures, json.dumps(failures, indent=1)
    for lec in chosen:
        executed = nbformat.read(str(tmp_path / f"{lec.name}.ipynb"), as_version=4)
        # the setup cell's table (its result, text/plain) names the backend
        shown = "".join(str(o.get("text") or o.get("data", {}).get("text/plain", "")) for c in executed.cells
                        if c.cell_type == "code" for o in c.outputs)
        assert re.search(r"keras backend\s+jax", shown), f"{lec.name} did not run on JAX"
    lab = nbformat.read(str(tmp_path / "lab11.ipynb"), as_version=4)
    tests = [c for c in lab.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    assert tests and all(c.execution_count for c in tests), "every test cell of the lab ran"
    assert "lab ran on jax" in "".join(o.get("text", "") for o in lab.cells[-1].outputs)
