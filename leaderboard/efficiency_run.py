"""Score a saved-model submission: run :mod:`leaderboard.efficiency_probe` on the test
features in the sandbox (the runner notebooks use), then score what comes back on the
host.

The job directory gets the model, ``test.csv`` (features only, read-only), the probe
script and its settings; one notebook cell starts the probe as a separate Python process
with its threads pinned (``OMP_NUM_THREADS`` and friends, TensorFlow's intra/inter-op
threads, the interpreter's ``num_threads``).  ``predictions.csv`` and ``report.json``
come back, and are used only if the sandbox's worker hashed them when the run ended
(:func:`leaderboard.kfold.produced`).  The labels never enter the sandbox; the model's
size is the stored file's, measured here.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursebench.execution import ExecutionResult, Job, run_many

from .data import Dataset
from .efficiency import Measurement
from .errors import SubmissionInvalid
from .kfold import classify, produced
from .scoring import Scores, score
from .validation import SubmissionFormat, validate

PROBE = Path(__file__).with_name("efficiency_probe.py")
PREDICTIONS, REPORT = "predictions.csv", "report.json"

_CELL = '''\
import os, subprocess, sys
threads = str({threads})
env = dict(os.environ, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads, MKL_NUM_THREADS=threads,
           TF_NUM_INTRAOP_THREADS=threads, TF_NUM_INTEROP_THREADS=threads, TF_CPP_MIN_LOG_LEVEL="2",
           KERAS_BACKEND=os.environ.get("KERAS_BACKEND", "tensorflow"))
proc = subprocess.run([sys.executable, "efficiency_probe.py", "probe.json"], env=env,
                      capture_output=True, text=True)
print(proc.stdout[-2000:])
if proc.returncode != 0:
    raise RuntimeError(f"the model's run stopped (exit code {{proc.returncode}}): {{proc.stderr[-1500:]}}")
'''


@dataclass
class ModelOutcome:
    ok: bool
    category: str | None = None       # invalid_model | infrastructure
    message: str = ""
    scores: Scores | None = None
    predictions: Any = None
    measurement: Measurement | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    image: str | None = None


def probe_notebook(threads: int) -> dict[str, Any]:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(_CELL.format(threads=threads))]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def evaluate_model(ds: Dataset, model: bytes, fmt: str, *, backend: str = "auto", trusted: bool = False) -> ModelOutcome:
    """Run a stored model on the test set in the sandbox and score it; never raises for
    the student's mistakes (they come back as ``category="invalid_model"``).  ``trusted``
    lets a non-isolating backend named explicitly run it (as for notebooks)."""
    eff = ds.spec.efficiency
    assert eff is not None, "not an efficiency competition"
    work = Path(tempfile.mkdtemp(prefix=f"model-{ds.spec.slug}-"))
    try:
        model_name = f"model.{fmt}"
        (work / model_name).write_bytes(model)
        test = work / "test.csv"
        shutil.copyfile(ds.paths.public / "test.csv", test)
        test.chmod(0o444)
        cfg = {"model": model_name, "format": fmt, "test": "test.csv", "id_column": ds.spec.id_column,
               "target_column": ds.spec.target_column, "labels": ds.labels, "input_shape": eff.input_shape,
               "batch_size": eff.batch_size, "warmup": eff.warmup_batches, "timed": eff.timed_batches,
               "rounds": eff.rounds,
               "threads": eff.cpus, "predictions": PREDICTIONS, "report": REPORT}
        (work / "probe.json").write_text(json.dumps(cfg))
        job = Job(notebook=probe_notebook(eff.cpus), limits=eff.limits(), name=f"model-{fmt}",
                  files=[(work / model_name, model_name), (test, "test.csv"), (PROBE, "efficiency_probe.py"),
                         (work / "probe.json", "probe.json")],
                  collect=[PREDICTIONS, REPORT], artifacts_dir=work / "out", backend=backend, trusted=trusted)
        [result] = run_many([job], workers=1)
        return read_outcome(ds, result, size=len(model), fmt=fmt)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def read_outcome(ds: Dataset, result: ExecutionResult, *, size: int, fmt: str) -> ModelOutcome:
    outcome = ModelOutcome(ok=False, versions=dict(result.versions),
                           image=result.image or f"{result.backend}:host-python")
    run = {"fold": -1, "status": result.status, "wall_time": round(result.wall_time, 3), "message": "",
           "traceback": result.traceback_tail(30)[-4000:]}
    outcome.runs = [run]

    def fail(category: str, message: str) -> ModelOutcome:
        outcome.category, outcome.message = category, message
        run["message"] = message[:2000]
        return outcome

    report_path, why = produced(result, REPORT)
    category, message = classify(result, report_path is not None)
    if category == "infrastructure":
        return fail(category, message)
    if category is not None:
        if category == "output_not_found":
            message = why or "the model's run wrote no report"
        return fail("invalid_model", _sandbox_message(category, message))
    assert report_path is not None
    try:
        report = json.loads(Path(report_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return fail("invalid_model", "the model's run left an unreadable report")
    if not isinstance(report, dict) or report.get("ok") is not True:
        problem = report.get("problem") if isinstance(report, dict) else None
        return fail("invalid_model", str(problem or "the model could not be run")[:2000])
    times, sizes = report.get("batch_ms"), report.get("round_sizes")
    eff = ds.spec.efficiency
    assert eff is not None
    if (not isinstance(times, list) or len(times) < eff.timed_batches * eff.rounds
            or not all(isinstance(t, (int, float)) and math.isfinite(t) and t > 0 for t in times)
            or not isinstance(sizes, list) or len(sizes) != eff.rounds
            or not all(isinstance(n, int) and n >= eff.timed_batches for n in sizes) or sum(sizes) != len(times)):
        return fail("invalid_model", "the model's run reported no usable timings")
    preds_path, why = produced(result, PREDICTIONS)
    if preds_path is None:
        return fail("invalid_model", why or "the model's run wrote no predictions")
    try:
        preds = validate(preds_path, SubmissionFormat.for_dataset(ds), filename=PREDICTIONS)
        outcome.scores = score(ds, preds)
    except SubmissionInvalid as exc:
        return fail("invalid_model", str(exc))
    outcome.predictions = preds
    outcome.measurement = Measurement.from_times(fmt, size, [float(t) for t in times], batch_size=eff.batch_size,
                                                 threads=eff.cpus, rounds=sizes,
                                                 cpu_ms=_numbers(report.get("batch_cpu_ms"), len(times)))
    m = outcome.measurement
    run["message"] = (f"{fmt}: {size / 1024:.1f} KB, median {m.latency_ms:.3f} ms per batch of {m.batch_size} "
                      f"on {m.threads} pinned thread(s) (CPU time; wall clock: median {m.wall_ms:.3f} ms, "
                      f"p90 {m.p90_ms:.3f} ms), {len(times)} timed batches")
    outcome.ok = True
    return outcome


def _numbers(values: Any, n: int) -> list[float] | None:
    """``values`` if it is ``n`` finite non-negative numbers (the probe's CPU times), else None."""
    if isinstance(values, list) and len(values) == n and all(
            isinstance(v, (int, float)) and math.isfinite(v) and v >= 0 for v in values):
        return [float(v) for v in values]
    return None


def _sandbox_message(category: str, message: str) -> str:
    if category == "timeout":
        return f"the model took too long on the test set: {message}"
    if category == "memory":
        return f"the model needed more memory than this track allows: {message}"
    return f"the model could not be run in the sandbox: {message}"


def score_model_submission(ds: Dataset, model: bytes, filename: str, *, backend: str = "auto",
                           trusted: bool = False) -> dict[str, Any]:
    """The scoring life cycle's result for a stored model submission: the columns to set,
    ``_preds`` (aligned predictions), ``_efficiency`` (the measurement's JSON, stored as a
    blob) and ``_refund`` (a model the sandbox found unusable does not count)."""
    fmt = Path(filename).suffix.lower().lstrip(".")
    outcome = evaluate_model(ds, model, fmt, backend=backend, trusted=trusted)
    if not outcome.ok:
        return {"status": "failed", "failure_category": outcome.category, "error": outcome.message,
                "runs": outcome.runs, "image": outcome.image, "versions": outcome.versions,
                "_refund": outcome.category == "invalid_model"}
    assert outcome.scores is not None and outcome.measurement is not None
    return {"status": "complete", "public_score": outcome.scores.public, "private_score": outcome.scores.private,
            "runs": outcome.runs, "image": outcome.image, "versions": outcome.versions,
            "_preds": outcome.predictions, "_efficiency": outcome.measurement.to_json()}
