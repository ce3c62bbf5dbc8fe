"""A JobGroup (one submission's notebooks) in one docker container: each notebook gets
its own kernel and verdict; an OOM kill or a timeout belongs to the notebook it hit."""

from __future__ import annotations

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from coursebench.execution import Job, JobGroup, Limits, run_group

from .conftest import sandbox_containers

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def nb(*sources: str):
    notebook = new_notebook(cells=[new_code_cell(s) for s in sources])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def test_group_in_one_container(docker_backend, docker_engine):
    limits = Limits(timeout=8, memory="400M", pids=256)
    jobs = [
        Job(nb("open('shared.txt', 'w').write('kept')", "state = 1"), name="writes", backend=docker_backend,
            limits=limits),
        Job(nb("x = bytearray(3 * 1024**3)"), name="bomb", backend=docker_backend, limits=limits),
        Job(nb("print(open('shared.txt').read(), 'state' in globals())"), name="reads", backend=docker_backend,
            limits=limits),
        Job(nb("while True: pass"), name="loops", backend=docker_backend, limits=limits),
        Job(nb("print('last')"), name="last", backend=docker_backend, limits=limits),
    ]
    writes, bomb, reads, loops, last = run_group(JobGroup(jobs, name="student/ps1"))
    assert writes.status == "ok", writes.summary()
    assert bomb.status == "oom", bomb.summary()
    assert reads.status == "ok", reads.summary()
    text = "".join(o.get("text", "") for c in reads.notebook.cells for o in c.get("outputs", []))
    assert "kept False" in text
    assert loops.status == "timeout" and "8 s" in loops.message
    assert last.status == "ok"
    assert {r.image for r in (writes, bomb, reads, loops, last)} == {docker_engine.image_id}
    assert sandbox_containers(docker_engine) == []
