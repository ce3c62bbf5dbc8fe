"""Every lecture in full, in the sandbox: the runs students get, with the results their
prose promises asserted by the notebooks' own ``if not smoke:`` cells.  (Smoke mode is for
quick local runs; test_chatbot.py keeps one smoke run, of lecture 13, to show it works.)
The Keras lectures and the CNN lab also run with Keras on JAX (test_keras_backends.py)."""

from __future__ import annotations

import json
import re

import pytest

from .conftest import FULL_RUN_TIMEOUT, LECTURES


def _failures(run) -> dict[str, str]:
    return {name: f"{r.status} at cell {r.failed_cell}: {r.ename}: {r.evalue} {r.message or ''}"
            for name, r in run.results.items() if not r.ok}


@pytest.mark.slow
@pytest.mark.timeout(FULL_RUN_TIMEOUT)
def test_every_lecture_runs_in_full_and_keeps_its_promises(full_runs):
    failures = _failures(full_runs)
    assert not failures, json.dumps(failures, indent=1)
    assert sorted(full_runs.results) == sorted(lec.name for lec in LECTURES)
    for lec in LECTURES:
        executed = full_runs.executed(lec)
        injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert injected and "smoke = False" in injected[0].source, lec.name
        # Each promise check ran (a cell skipped or never reached would have no count).
        guards = [c for c in executed.cells if c.cell_type == "code" and re.search(r"^\s*if not smoke:", c.source, re.M)
                  and re.search(r"^\s+assert ", c.source, re.M)]
        assert guards, f"{lec.name} asserts no promised result in its full run"
        assert all(c.execution_count for c in guards), lec.name
        assert not [o for c in guards for o in c.outputs if o.get("output_type") == "error"], lec.name
