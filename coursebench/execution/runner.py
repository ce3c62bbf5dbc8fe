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
from .errors import NoSandbox, NotebookInputError, TrustRequired
from .job import Job, JobDir, JobGroup, prepare, prepare_group
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
    trusted: bool = False,
) -> ExecutionResult:
    """Run ``notebook`` with papermill inside a sandbox and return what happened.

    Never raises for a problem with the notebook itself: a notebook that cannot run
    comes back with ``status="invalid"`` and a message saying why.  With no sandbox
    usable, or ``backend="subprocess"`` without ``trusted=True``, nothing runs: the
    result is an infrastructure failure saying what to do (see :func:`refused`).
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
        trusted=trusted,
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
        backend_name, why = backends.resolve(job.backend, trusted=job.trusted)
    except (NoSandbox, TrustRequired) as exc:
        return refused(name, exc)
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
        deliver(job, jobdir, result)
        return result
    finally:
        jobdir.cleanup()


def run_group(
    group: JobGroup,
    *,
    cancel: threading.Event | None = None,
    gpu_devices: list[str] | None = None,
) -> list[ExecutionResult]:
    """Run the notebooks of ``group`` in one sandbox; one result per job, in order."""
    cancel = cancel or threading.Event()
    started = time.monotonic()
    count = len(group.jobs)
    try:
        backend_name, why = backends.resolve(group.backend, trusted=group.trusted)
    except (NoSandbox, TrustRequired) as exc:
        return [refused(j.display_name(), exc) for j in group.jobs]
    except Exception as exc:
        return [ExecutionResult(name=j.display_name(), status="invalid", message=str(exc)) for j in group.jobs]
    log.info("%s: %s", group.display_name(), why)
    invalid: dict[int, str] = {}
    try:
        jobdir = prepare_group(group, invalid)
    except NotebookInputError as exc:
        return [ExecutionResult(name=j.display_name(), status="invalid", backend=backend_name,
                                message=invalid.get(i, str(exc))) for i, j in enumerate(group.jobs)]
    jobdir.gpu_devices = list(gpu_devices or [])
    results: list[ExecutionResult | None] = [None] * count
    for index, message in invalid.items():
        results[index] = ExecutionResult(name=group.jobs[index].display_name(), status="invalid",
                                         message=message, backend=backend_name)
    try:
        outcome = backends.create(backend_name).run(jobdir, cancel)
        ran = interpret_group(jobdir, outcome, backend=backend_name)
        elapsed = time.monotonic() - started
        spent = sum(float(r.notebook.metadata.get("papermill", {}).get("duration") or 0)
                    for r in ran if r.notebook is not None) or 0.0
        for position, ((index, job, _nb), result) in enumerate(zip(jobdir.members, ran, strict=True)):
            # Wall time per notebook: its own share of the sandbox's time.
            own = result.notebook.metadata.get("papermill", {}).get("duration") if result.notebook else None
            result.wall_time = elapsed * (float(own) / spent) if own and spent else elapsed / len(ran)
            deliver(job, jobdir, result, work=jobdir.work_of(position))
            results[index] = result
        return [r for r in results if r is not None]
    finally:
        jobdir.cleanup()


def refused(name: str, exc: NoSandbox | TrustRequired) -> ExecutionResult:
    """The result of a job that was not run because nothing could isolate it (fail
    closed): not the notebook's fault, so an infrastructure failure, with the fix."""
    return ExecutionResult(name=name, status="killed", message=f"not run: {exc}", infrastructure_failure=True)


def interpret(jobdir: JobDir, outcome: backends.Outcome, *, name: str, backend: str) -> ExecutionResult:
    """Combine the worker's (validated) answer with what the host saw."""
    answers, problem = _parse_answers(outcome.payload)
    answer = answers[0] if answers else None
    return _interpret_one(
        jobdir, outcome, answer, problem, name=name, backend=backend, limits=jobdir.limits,
        input_notebook=jobdir.notebook, autosave="executed.ipynb", stopped=outcome.stopped,
        oom=bool(outcome.oom_kills),
    )


def interpret_group(jobdir: JobDir, outcome: backends.Outcome, *, backend: str) -> list[ExecutionResult]:
    """One result per notebook of a group job, from the answers the worker sent before
    the sandbox ended.  The notebook that was running when the host stopped the sandbox
    gets the host's verdict (timeout, oom, ...); the ones after it never ran.  An OOM
    kill counts against a notebook whose kernel died of SIGKILL."""
    answers, problem = _parse_answers(outcome.payload)
    results: list[ExecutionResult] = []
    running_name = None
    for position, (_index, job, nb) in enumerate(jobdir.members):
        name = job.display_name()
        if outcome.infrastructure_error or position <= len(answers):
            answer = answers[position] if position < len(answers) else None
            if answer is not None:
                data = answer["result"]
                oom = bool(outcome.oom_kills) and data["status"] == "killed" and data.get("kernel_exit") in (-9, None)
                stopped = None
            else:
                oom, stopped, running_name = bool(outcome.oom_kills), outcome.stopped, name
            result = _interpret_one(
                jobdir, outcome, answer, problem, name=name, backend=backend, limits=job.limits,
                input_notebook=nb, autosave=f"executed-{position}.ipynb", stopped=stopped, oom=oom,
            )
        else:
            result = ExecutionResult(
                name=name, status="killed", backend=backend, image=outcome.image, notebook=nb,
                gpu_devices=list(jobdir.gpu_devices),
                message=f"not run: the sandbox was stopped while it ran {running_name}",
            )
        results.append(result)
    return results


def _interpret_one(
    jobdir: JobDir,
    outcome: backends.Outcome,
    answer: dict | None,
    problem: str,
    *,
    name: str,
    backend: str,
    limits: Limits,
    input_notebook: Any,
    autosave: str,
    stopped: str | None,
    oom: bool,
) -> ExecutionResult:
    import nbformat

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
        result.warm = (data.get("warm") or {}).get("forked") is True
        result.notebook = answer["notebook"]
    else:
        result.notebook = _autosaved(jobdir, autosave)
        result.notebook_trusted = False
        if result.notebook is not None:
            result.cell_durations = _durations(result.notebook)
            result.failed_cell = _running_cell(result.notebook)
    if result.notebook is None:
        result.notebook = input_notebook
        result.notebook_trusted = True

    memory = format_size(limits.memory)
    if stopped == "oom" or oom:
        result.status = "oom"
        result.message = (
            f"the notebook used more than its memory limit of {memory}"
            + (f" in {cell_label(result.notebook, result.failed_cell)}" if result.failed_cell is not None else "")
            + "; use smaller data or free memory (del big_array) as you go"
        )
    elif stopped == "timeout":
        result.status = "timeout"
        result.message = (
            f"the notebook ran past its time limit of {limits.timeout:g} s"
            + (f" in {cell_label(result.notebook, result.failed_cell)}" if result.failed_cell is not None else "")
            + " and was stopped"
        )
    elif stopped == "disk":
        result.status = "killed"
        result.message = (
            f"the notebook wrote more than its disk limit of {format_size(limits.disk)} "
            "into its working directory and was stopped; write smaller files"
        )
    elif stopped == "cancelled":
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


def _parse_answers(payload: bytes | None) -> tuple[list[dict], str]:
    """The worker's answers, one JSON document per line, each checked; reading stops at
    the first that is not valid (the problem says why) or out of order."""
    if not payload:
        return [], "no answer"
    answers: list[dict] = []
    problem = "no answer"
    for line in payload.split(b"\n"):
        if not line.strip():
            continue
        answer, problem = _parse_payload(line)
        if answer is None:
            break
        if answer.get("index", 0) != len(answers):
            problem = f"answer {answer.get('index')!r} arrived out of order"
            break
        answers.append(answer)
        problem = "no answer"
    return answers, problem


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
    if not isinstance(answer.get("index", 0), int):
        return None, "the answer's index is not a number"
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


def _autosaved(jobdir: JobDir, name: str = "executed.ipynb") -> Any:
    import nbformat

    path = jobdir.path / name
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


def deliver(job: Job, jobdir: JobDir, result: ExecutionResult, *, work: Path | None = None) -> None:
    """Hand a finished job's products to where the job asked for them: the executed
    notebook to ``job.output``, the files matching ``job.collect`` (never links, at most
    :data:`ARTIFACT_LIMIT` bytes in all) to ``job.artifacts_dir``.  Records both on
    ``result``.  A local run and a Dask client (after rebuilding the job directory from
    the worker's answer) deliver the same way.  ``work``: where the collected files are
    (default ``files/``; a ``separate_files`` group's notebook leaves them in its own
    ``outputs-N/``)."""
    import nbformat

    work = work if work is not None else jobdir.work
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
        if work.is_symlink() or not work.is_dir():
            return  # the sandbox put a link (or nothing) where its files should be
        budget = ARTIFACT_LIMIT
        for pattern in job.collect:
            for src in sorted(work.glob(pattern)):
                if src.is_symlink() or not src.is_file():
                    continue  # never follow a link the sandbox made
                size = src.stat().st_size
                if size > budget:
                    result.message += f" (artifact {src.name} skipped: over the size limit)"
                    continue
                budget -= size
                dest = target / src.relative_to(work)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest, follow_symlinks=False)
                result.artifacts[str(src.relative_to(work))] = dest


_NOISE = ("Kernel is running over TCP without encryption",)


def _clean_log(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not any(n in line for n in _NOISE))
