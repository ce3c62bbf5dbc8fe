"""The deliberately bad notebooks of tests/notebooks, on every process backend.

Each must end with its expected status and a clear message, within its limit, leave no
process behind and harm nothing on the host.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
import pytest

from coursebench.execution import Limits, run_notebook
from coursebench.execution.result import cell_label

from ..helpers import leftover_sandbox_processes

NOTEBOOKS = Path(__file__).parents[1] / "notebooks"
BASE = {"timeout": 60, "memory": "1G", "pids": 256, "output": "10M"}


def expectations() -> list[tuple[str, dict]]:
    cases = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        sidecar = path.with_suffix(".expect.json")
        if sidecar.exists():
            expect = json.loads(sidecar.read_text())
        else:
            expect = nbformat.read(str(path), as_version=4).metadata["coursebench_test"]
        cases.append((path.stem, expect))
    return cases


CASES = expectations()


@pytest.mark.parametrize("name,expect", CASES, ids=[c[0] for c in CASES])
def test_bad_notebook(name, expect, process_backend, tmp_path):
    if expect.get("isolated_only") and process_backend == "subprocess":
        pytest.skip("the subprocess backend does not isolate; nothing to check")
    limits = Limits(**{**BASE, **expect.get("limits", {})})
    params = dict(expect.get("parameters", {}))
    secret = tmp_path / "secret.txt"
    secret.write_text("the answer key")
    target = tmp_path / "pwned.txt"
    if name == "read_outside":
        params["secret_path"] = str(secret)
    if name == "write_outside":
        params["target"] = str(target)

    started = time.monotonic()
    result = run_notebook(NOTEBOOKS / f"{name}.ipynb", params, limits=limits, backend=process_backend,
                          trusted=True, output=tmp_path / "out.ipynb")
    elapsed = time.monotonic() - started

    statuses = expect["status"] if isinstance(expect["status"], list) else [expect["status"]]
    assert result.status in statuses, result.summary() + "\n" + result.log_tail[-2000:]
    assert elapsed < limits.timeout + 20, f"took {elapsed:.1f}s, limit {limits.timeout}s"
    assert result.backend == process_backend
    text = f"{result.message} {result.ename} {result.evalue}"
    if expect.get("contains"):
        assert expect["contains"] in text, text
    if expect.get("ename"):
        assert result.ename == expect["ename"] or (
            expect["ename"] == "OSError" and result.ename in {"OSError", "ConnectionRefusedError", "TimeoutError"}
        ), text
    if "cell" in expect:
        assert cell_label(result.notebook, result.failed_cell) == f"cell {expect['cell']}", result.summary()
    if result.status != "ok":
        assert result.message or result.ename, "a failure must say why"
    if expect.get("truncated"):
        assert result.output_truncated
        assert (tmp_path / "out.ipynb").stat().st_size < 4 * 1024 * 1024
        outputs = json.dumps(result.notebook.cells[-1].outputs)
        assert "after" in outputs, "cells after the loud one still ran"
        assert "output truncated" in json.dumps([c.get("outputs") for c in result.notebook.cells])
    if expect.get("stdout"):
        printed = "".join(o.get("text", "") for c in result.notebook.cells for o in c.get("outputs", []))
        assert expect["stdout"] in printed
        reread = nbformat.read(str(tmp_path / "out.ipynb"), as_version=4)
        assert expect["stdout"] in json.dumps(reread.cells[-1].outputs, ensure_ascii=False)
    if name == "write_outside":
        assert not target.exists(), "the sandbox wrote outside its job directory"
    if name == "memory_bomb":
        outputs = json.dumps([c.get("outputs") for c in result.notebook.cells])
        assert "before" in outputs, "outputs of cells that finished are kept"
        assert result.peak_memory is None or result.peak_memory < 4 * limits.memory
    if name == "infinite_loop":
        before, _loop, after = result.notebook.cells
        assert before.execution_count is not None and before.get("outputs") == [], "the cell before ran cleanly"
        assert result.cell_durations and result.cell_durations[0] is not None
        assert after.execution_count is None and "never" not in json.dumps(after.get("outputs")), \
            "no cell runs after the time limit"
    if name == "os_exit":
        outputs = json.dumps([c.get("outputs") for c in result.notebook.cells])
        assert "about to exit" in outputs
    assert leftover_sandbox_processes() == [], "processes were left behind"


def test_partial_outputs_kept_after_timeout(process_backend, tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("print('first cell done')"),
        nbformat.v4.new_code_cell("print('second cell done')"),
        nbformat.v4.new_code_cell("import time\nwhile True:\n    time.sleep(0.1)"),
    ]
    result = run_notebook(nb, limits=Limits(timeout=15), backend=process_backend, trusted=True)
    assert result.status == "timeout"
    assert "first cell done" in result.notebook.cells[0].outputs[0].text
    assert "second cell done" in result.notebook.cells[1].outputs[0].text
    assert result.failed_cell == 2
    assert result.notebook_trusted
