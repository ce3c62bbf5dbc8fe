"""The full run of every lecture, once per test session, shared by the tests that read it
(test_full_runs.py, test_chatbot.py).  A full run is what a student gets: real data sizes
and epochs, and the notebook's own ``if not smoke: assert ...`` cells check the results
its prose promises."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from coursebench.lectures import Lecture, discover, run_lectures

ROOT = Path(__file__).resolve().parents[2]
LECTURES = discover(ROOT / "lectures")
#: Seconds the whole full run may take: about 4½ minutes on 2 idle cores; the other
#: lane of `make test` shares them.
FULL_RUN_TIMEOUT = 2400
#: Each lecture's timings go here when the suite runs through scripts/run-tests.sh.
TIMINGS = ROOT / "build" / "test-logs" / "lectures-full.json"


@dataclass
class FullRun:
    output: Path
    results: dict  # lecture name → ExecutionResult
    seconds: float

    def executed(self, lecture: Lecture | str):
        import nbformat

        name = lecture if isinstance(lecture, str) else lecture.name
        return nbformat.read(str(self.output / f"{name}.ipynb"), as_version=4)


def _bwrap_or_skip() -> str:
    from coursebench.execution import availability
    from tests.helpers import must_have_or_skip

    ok, why = availability("bwrap")
    if not ok:
        must_have_or_skip("the bwrap backend", why)
    return "bwrap"


@pytest.fixture(scope="session")
def full_runs(tmp_path_factory) -> FullRun:
    """All lectures run in full (smoke=False) in the bwrap sandbox, two at a time, with
    Keras on TensorFlow (the course's default backend)."""
    backend = _bwrap_or_skip()
    out = tmp_path_factory.mktemp("lectures-full")
    before = os.environ.pop("KERAS_BACKEND", None)
    started = time.monotonic()
    try:
        # The longest lectures first, so the two workers finish close together.
        order = sorted(LECTURES, key=lambda lec: lec.number not in (10, 11, 12, 13, 6))
        results = run_lectures(order, smoke=False, output=out, backend=backend, workers=2)
    finally:
        if before is not None:
            os.environ["KERAS_BACKEND"] = before
    run = FullRun(out, {r.name: r for r in results}, time.monotonic() - started)
    if TIMINGS.parent.is_dir():
        TIMINGS.write_text(json.dumps({
            "wall_seconds": round(run.seconds, 1),
            "lectures": {r.name: {"status": r.status, "seconds": round(r.wall_time, 1)} for r in results},
        }, indent=1))
    return run
