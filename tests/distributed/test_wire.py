"""The answer archive a worker sends back is checked on the client before use."""

from __future__ import annotations

import json

import pytest

from coursebench.execution import Job
from coursebench.execution.remote import WIRE_VERSION, WireError, _pack, decode_answer, make_wire

from .conftest import write_nb

META = {"version": WIRE_VERSION, "worker": "tcp://127.0.0.1:1", "backend": "bwrap", "gpu_devices": [],
        "wall_time": 1.0}


@pytest.fixture
def job_and_wire(tmp_path):
    job = Job(write_nb(tmp_path / "a.ipynb", "print(1)"))
    return job, make_wire(job)


def test_an_answer_with_a_bad_outcome_is_refused(job_and_wire):
    job, wire = job_and_wire
    bad = _pack({**META, "early": {"status": "fine", "message": ""}})
    with pytest.raises(WireError, match="early/status"):
        decode_answer(bad, job, wire)
    with pytest.raises(WireError, match="expected bytes"):
        decode_answer({"status": "ok"}, job, wire)


def test_artifact_names_must_stay_inside_the_job(job_and_wire):
    job, wire = job_and_wire
    outcome = {"returncode": 0, "stopped": None, "oom_kills": 0, "pids_refused": 0, "peak_memory": None,
               "log_tail": "", "image": None, "infrastructure_error": None}
    archive = _pack({**META, "outcome": outcome}, artifacts=[("../../escape.txt", b"x")])
    with pytest.raises(WireError, match="plain relative name"):
        decode_answer(archive, job, wire)


def test_a_sandbox_answer_that_fails_the_schema_is_not_trusted(job_and_wire):
    """The sandbox's own answer goes through the same validation as locally."""
    job, wire = job_and_wire
    outcome = {"returncode": 0, "stopped": None, "oom_kills": 0, "pids_refused": 0, "peak_memory": None,
               "log_tail": "", "image": None, "infrastructure_error": None}
    forged = json.dumps({"result": {"version": 1, "status": "ok", "grade": 100}, "notebook": None}).encode()
    result, worker = decode_answer(_pack({**META, "outcome": outcome}, payload=forged), job, wire)
    assert worker == META["worker"]
    assert result.status == "killed" and "without a valid answer" in result.message, result.message
