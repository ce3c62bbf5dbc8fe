"""Run one job: prepare its directory, run the sandbox, validate and interpret the answer."""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import backends
from .errors import NotebookInputError
from .job import Job, JobDir, prepare
from .limits import Limits, format_size
from .result import ExecutionResult, cell_label, validate_result

log = logging.getLogger("coursebench.execution")
ARTIFACT_LIMIT = 256 * 1024**2


def run_notebook(
    notebook: Any,
    parameters: Mapping[str, Any] | None = None,
    *,
    limits: Limits | None = None,
    backend: str = "auto",
    files: tuple = (),
    output: str | Path | None = None,
    name: str | None = None,
    collect: tuple[str, ...] = (),
    artifacts_dir: str | Path | None = None,
) -> ExecutionResult:
    """Run ``notebook`` with papermill inside a sandbox and return what happened.

    Never raises for a problem with the notebook itself: a notebook that cannot run
    comes back with ``status="invalid"`` and a message saying why.
    """
    job = Job(
        notebook=notebook,
        parameters=dict(parameters or {}),
        limits=limits or Limits(),
        files=files,
        name=name,
        output=output,
        collect=collect,
        artifacts_dir=artifacts_dir,
        backend=backend,
    )
    return run_job(job)


def run_job(
    job: Job,
    *,
    cancel: threading.Event | None = None,
    gpu_devices: list[str] | None = None,
) -> ExecutionResult:
    cancel = cancel or threading.Event()
    name = job.display_name()
    started = time.monotonic()
    try:
        backend_name, why = backends.resolve(job.backend)
    except Exception as exc:
        return ExecutionResult(name=name, status="invalid", message=str(exc))
    log.info("%s: %s", name, why)
    try:
        jobdir = prepare(job)
    except NotebookInputError as exc:
        return ExecutionResult(name=name, status="invalid", message=str(exc), backend=backend_name)
    jobdir.gpu_devices = list(gpu_devices or [])
    try:
        outcome = backends.create(backend_name).run(jobdir, cancel)
        result = interpret(jobdir, outcome, name=name, backend=backend_name)
        result.wall_time = time.monotonic() - started
        _deliver(job, jobdir, result)
        return result
    finally:
        jobdir.cleanup()


def interpret(jobdir: JobDir, outcome: backends.Outcome, *, name: str, backend: str) -> ExecutionResult:
    """Combine the worker's (validated) answer with what the host saw."""
    import nbformat

    limits = jobdir.limits
    result = ExecutionResult(
        name=name,
        status="killed",
        backend=backend,
        image=outcome.image,
        peak_memory=outcome.peak_memory,
        log_tail=_clean_log(outcome.log_tail),
        gpu_devices=list(jobdir.gpu_devices),
    )
    if outcome.infrastructure_error:
        result.status = "killed"
        result.message = f"the sandbox could not run: {outcome.infrastructure_error}"
        result.infrastructure_failure = True
        return result
    answer, problem = _parse_payload(outcome.payload)
    if answer is not None:
        data = answer["result"]
        result.status = data["status"]
        result.failed_cell = data.get("failed_cell")
        result.ename = data.get("ename")
        result.evalue = data.get("evalue")
        result.traceback = list(data.get("traceback") or [])
        result.message = data.get("message", "")
        result.cell_durations = list(data.get("cell_durations") or [])
        result.versions = dict(data.get("versions") or {})
        result.output_truncated = bool(data.get("output_truncated"))
        result.notebook = answer["notebook"]
    else:
        result.notebook = _autosaved(jobdir)
        result.notebook_trusted = False
        if result.notebook is not None:
            result.cell_durations = _durations(result.notebook)
            result.failed_cell = _running_cell(result.notebook)
    if result.notebook is None:
        result.notebook = jobdir.notebook
        result.notebook_trusted = True

    memory = format_size(limits.memory)
    if outcome.stopped == "oom" or outcome.oom_kills:
        result.status = "oom"
        result.message = (
            f"the notebook used more than its memory limit of {memory}"
            + (f" in {cell_label(result.notebook, result.failed_cell)}" if result.failed_cell is not None else "")
            + "; use smaller data or free memory (del big_array) as you go"
        )
    elif outcome.stopped == "timeout":
        result.status = "timeout"
        result.message = (
            f"the notebook ran past its time limit of {limits.timeout:g} s"
            + (f" in {cell_label(result.notebook, result.failed_cell)}" if result.failed_cell is not None else "")
            + " and was stopped"
        )
    elif outcome.stopped == "disk":
        result.status = "killed"
        result.message = (
            f"the notebook wrote more than its disk limit of {format_size(limits.disk)} "
            "into its working directory and was stopped; write smaller files"
        )
    elif outcome.stopped == "cancelled":
        result.status = "killed"
        result.message = "the run was cancelled"
    elif answer is None:
        result.status = "killed"
        code = outcome.returncode
        result.message = (
            f"the sandbox ended (exit code {code}) without a valid answer from the runner: {problem}"
        )
    if outcome.pids_refused and result.status != "ok":
        result.message += (
            f" (the sandbox refused {outcome.pids_refused} new processes/threads: "
            f"the limit is {limits.pids})"
        )
    if result.notebook is not None and not isinstance(result.notebook, nbformat.NotebookNode):
        result.notebook = nbformat.from_dict(result.notebook)
    return result


def _parse_payload(payload: bytes | None) -> tuple[dict | None, str]:
    import nbformat

    if not payload:
        return None, "no answer"
    try:
        answer = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        return None, f"the answer is not JSON ({exc})"
    if not isinstance(answer, dict) or "result" not in answer:
        return None, "the answer has no result"
    try:
        validate_result(answer["result"])
    except ValueError as exc:
        return None, str(exc)
    nb = answer.get("notebook")
    if nb is not None:
        try:
            node = nbformat.from_dict(nb)
            nbformat.validate(node)
            answer["notebook"] = node
        except Exception as exc:
            return None, f"the executed notebook is not valid: {str(exc).splitlines()[0]}"
    return answer, ""


def _autosaved(jobdir: JobDir) -> Any:
    import nbformat

    path = jobdir.path / "executed.ipynb"
    try:
        node = nbformat.read(str(path), as_version=4)
        nbformat.validate(node)
        return node
    except Exception:
        return None


def _durations(nb: Any) -> list[float | None]:
    out: list[float | None] = []
    for cell in nb.cells:
        d = cell.get("metadata", {}).get("papermill", {}).get("duration")
        out.append(float(d) if isinstance(d, (int, float)) else None)
    return out


def _running_cell(nb: Any) -> int | None:
    for index, cell in enumerate(nb.cells):
        status = cell.get("metadata", {}).get("papermill", {}).get("status")
        if status in ("running", "failed"):
            return index
    return None


def _deliver(job: Job, jobdir: JobDir, result: ExecutionResult) -> None:
    import nbformat

    if job.output is not None and result.notebook is not None:
        out = Path(job.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(result.notebook, str(out))
        result.output_path = out
    if job.collect:
        target = Path(job.artifacts_dir) if job.artifacts_dir else None
        if target is None:
            return
        target.mkdir(parents=True, exist_ok=True)
        budget = ARTIFACT_LIMIT
        for pattern in job.collect:
            for src in sorted(jobdir.work.glob(pattern)):
                if src.is_symlink() or not src.is_file():
                    continue  # never follow a link the sandbox made
                size = src.stat().st_size
                if size > budget:
                    result.message += f" (artifact {src.name} skipped: over the size limit)"
                    continue
                budget -= size
                dest = target / src.relative_to(jobdir.work)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest, follow_symlinks=False)
                result.artifacts[str(src.relative_to(jobdir.work))] = dest


_NOISE = ("Kernel is running over TCP without encryption",)


def _clean_log(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not any(n in line for n in _NOISE))
