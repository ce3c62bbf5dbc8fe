"""The wire format between the client and a Dask worker, and the task the worker runs.

To the worker: a JSON spec (the notebook as nbformat JSON text, parameters JSON, limits,
backend, kernel, collect patterns, input-file names) and the input files as ``bytes``.
Back to the client: one ``bytes`` value, a zip archive (stored, not compressed):

    outcome.json     what the worker's host saw (checked against ENVELOPE_SCHEMA)
    answer.json      the sandbox's own answer, untouched (validated by ``interpret``)
    executed.ipynb   the sandbox's autosave, for runs that died before answering
    files/...        artifacts the job asked to collect

Dask moves ``bytes`` as raw frames, so no result is ever unpickled on the client.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import backends
from .errors import ExecutionError, NoSandbox, NotebookInputError, TrustRequired
from .gpus import GPUSlots, detect_gpus
from .job import Job, JobDir, load_notebook, prepare
from .jobdirs import job_root
from .limits import Limits
from .result import STATUSES, ExecutionResult
from .runner import ARTIFACT_LIMIT, deliver, interpret

log = logging.getLogger("coursebench.execution")
WIRE_VERSION = 1
AUTOSAVE_LIMIT = 64 * 1024**2
LOG_TAIL_LIMIT = 64 * 1024


class WireError(ExecutionError):
    """A worker's answer did not have the expected shape."""


#: What ``outcome.json`` in a worker's answer must look like.  Checked on the client.
ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "worker", "backend", "gpu_devices", "wall_time"],
    "properties": {
        "version": {"const": WIRE_VERSION},
        "worker": {"type": "string", "maxLength": 500},
        "backend": {"type": "string", "maxLength": 100},
        "gpu_devices": {"type": "array", "items": {"type": "string", "maxLength": 200}, "maxItems": 64},
        "wall_time": {"type": "number", "minimum": 0},
        "artifacts_skipped": {"type": "array", "items": {"type": "string"}},
        "early": {
            "type": "object",
            "required": ["status", "message"],
            "properties": {
                "status": {"enum": list(STATUSES)},
                "message": {"type": "string", "maxLength": 10_000},
                "infrastructure_failure": {"type": "boolean"},
            },
            "additionalProperties": False,
        },
        "outcome": {
            "type": "object",
            "properties": {
                "returncode": {"type": ["integer", "null"]},
                "stopped": {"type": ["string", "null"], "maxLength": 50},  # interpret() knows the values
                "oom_kills": {"type": "integer", "minimum": 0},
                "pids_refused": {"type": "integer", "minimum": 0},
                "peak_memory": {"type": ["integer", "null"], "minimum": 0},
                "log_tail": {"type": "string"},
                "image": {"type": ["string", "null"]},
                "infrastructure_error": {"type": ["string", "null"]},
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}


# ----------------------------------------------------------------------------- client side


@dataclass
class Wire:
    """A job made ready to travel: a JSON spec and the input files to send."""

    spec: dict[str, Any]
    files: list[tuple[str, Path]]
    notebook: Any


def make_wire(job: Job) -> Wire:
    """Read and check ``job``'s notebook and input files on the client, as ``prepare`` does.

    Raises :class:`NotebookInputError` with the same messages as a local run."""
    import nbformat

    nb = load_notebook(job.notebook)
    files: list[tuple[str, Path]] = []
    for spec in job.files:
        src, name = spec if isinstance(spec, tuple) else (spec, Path(spec).name)
        src, name = Path(src), str(name)
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise NotebookInputError(f"input file name {name!r} must be a plain relative name")
        if src.is_dir():
            files += [(str(Path(name) / f.relative_to(src)), f) for f in sorted(src.rglob("*")) if f.is_file()]
        elif src.is_file():
            files.append((name, src))
        else:
            raise NotebookInputError("input file does not exist", path=str(src))
    spec_data = {
        "version": WIRE_VERSION,
        "name": job.display_name(),
        "notebook": nbformat.writes(nb),
        "parameters": json.dumps(dict(job.parameters), default=str),
        "limits": job.limits.to_dict(),
        "backend": job.backend,
        "kernel_name": job.kernel_name,
        "collect": list(job.collect),
        "files": [name for name, _ in files],
        "keep": job.keep,
        "trusted": job.trusted,
    }
    return Wire(spec=spec_data, files=files, notebook=nb)


def decode_answer(data: Any, job: Job, wire: Wire) -> tuple[ExecutionResult, str]:
    """Turn a worker's archive into an :class:`ExecutionResult` and the worker's address,
    validating it as a local run does: the same ``interpret`` and delivery, on a job
    directory rebuilt here.  Raises :class:`WireError` when the archive is malformed."""
    from jsonschema import Draft202012Validator

    if not isinstance(data, (bytes, bytearray)):
        raise WireError(f"expected bytes, got {type(data).__name__}")
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        meta = json.loads(archive.read("outcome.json"))
        error = next(iter(Draft202012Validator(ENVELOPE_SCHEMA).iter_errors(meta)), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
            raise WireError(f"outcome.json is not valid at {where}: {error.message}")
        name = job.display_name()
        worker = meta["worker"]
        early = meta.get("early")
        if early is not None or "outcome" not in meta:
            early = early or {"status": "killed", "message": "the worker sent no outcome"}
            return ExecutionResult(
                name=name, status=early["status"], message=early["message"], backend=meta["backend"],
                infrastructure_failure=bool(early.get("infrastructure_failure")),
                gpu_devices=list(meta["gpu_devices"]), wall_time=meta["wall_time"],
            ), worker
        names = set(archive.namelist())
        outcome = backends.Outcome(
            payload=archive.read("answer.json") if "answer.json" in names else None,
            **meta["outcome"],
        )
        path = Path(tempfile.mkdtemp(prefix=f"remote-{name[:30]}-", dir=job_root()))
        try:
            work = path / "files"
            work.mkdir()
            if "executed.ipynb" in names and archive.getinfo("executed.ipynb").file_size <= AUTOSAVE_LIMIT:
                (path / "executed.ipynb").write_bytes(archive.read("executed.ipynb"))
            budget = ARTIFACT_LIMIT
            for info in archive.infolist():
                if not info.filename.startswith("files/") or info.is_dir():
                    continue
                relative = Path(info.filename[len("files/"):])
                if relative.is_absolute() or ".." in relative.parts or not relative.parts:
                    raise WireError(f"artifact name {info.filename!r} is not a plain relative name")
                if info.file_size > budget:
                    continue
                budget -= info.file_size
                dest = work / relative
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(archive.read(info))
            jobdir = JobDir(path=path, job=job, limits=job.limits, notebook=wire.notebook,
                            gpu_devices=list(meta["gpu_devices"]))
            result = interpret(jobdir, outcome, name=name, backend=meta["backend"])
            result.wall_time = float(meta["wall_time"])
            deliver(job, jobdir, result)
            for skipped in meta.get("artifacts_skipped", []):
                result.message += f" (artifact {skipped} skipped: over the size limit)"
        finally:
            shutil.rmtree(path, ignore_errors=True)
    return result, worker



# ----------------------------------------------------------------------------- worker side

_SLOTS: GPUSlots | None = None
_SLOTS_LOCK = threading.Lock()


def worker_gpus() -> GPUSlots:
    """This worker process's GPU devices (``COURSEBENCH_GPUS`` or ``nvidia-smi``), shared
    by the GPU jobs it runs; Dask's ``GPU`` resource keeps them from over-subscribing."""
    global _SLOTS
    with _SLOTS_LOCK:
        if _SLOTS is None:
            _SLOTS = GPUSlots(detect_gpus())
        return _SLOTS


def run_remote(spec_text: str, blobs: list[bytes]) -> bytes:
    """The Dask task: run one job in the worker's sandbox; answer with a zip archive.

    Never raises: whatever goes wrong comes back as an answer the client can read.
    """
    from distributed import get_worker
    from distributed.worker import thread_state

    started = time.monotonic()
    worker = get_worker()
    key = getattr(thread_state, "key", None)
    meta: dict[str, Any] = {"version": WIRE_VERSION, "worker": str(worker.address), "backend": "",
                            "gpu_devices": [], "wall_time": 0.0}
    cancel, stop = threading.Event(), threading.Event()
    try:
        spec = json.loads(spec_text)
        worker.log_event(spec["topic"], {"job": int(spec["index"]), "worker": str(worker.address), "key": str(key)})
        watcher = threading.Thread(target=_watch_cancel, args=(worker, key, cancel, stop),
                                   name="coursebench-cancel-watch", daemon=True)
        watcher.start()
        return _run_spec(spec, blobs, cancel, meta, started)
    except Exception as exc:  # a bug here must come back as an answer, not a pickled exception
        log.exception("coursebench task failed on %s", worker.address)
        meta["early"] = {"status": "killed", "infrastructure_failure": True,
                         "message": f"the Dask worker {worker.address} failed: {type(exc).__name__}: {exc}"[:10_000]}
        meta["wall_time"] = time.monotonic() - started
        return _pack(meta)
    finally:
        stop.set()


def _watch_cancel(worker: Any, key: Any, cancel: threading.Event, stop: threading.Event) -> None:
    """Set ``cancel`` when the client cancels this task or the worker shuts down; the
    backend then kills the sandbox."""
    while not stop.wait(0.2):
        task = worker.state.tasks.get(key) if key is not None else None
        status = getattr(getattr(worker, "status", None), "name", "running")
        gone = key is not None and task is None
        if gone or getattr(task, "state", None) == "cancelled" or status in ("closing", "closed", "failed"):
            cancel.set()
            return


def _run_spec(spec: dict[str, Any], blobs: list[bytes], cancel: threading.Event, meta: dict[str, Any],
              started: float) -> bytes:
    def early(status: str, message: str, infrastructure: bool = False) -> bytes:
        meta["early"] = {"status": status, "message": message[:10_000], "infrastructure_failure": infrastructure}
        meta["wall_time"] = time.monotonic() - started
        return _pack(meta)

    if spec.get("version") != WIRE_VERSION:
        return early("killed", f"the client speaks wire version {spec.get('version')}, this worker "
                               f"{WIRE_VERSION}; install the same coursebench on both", True)
    try:
        backend_name, why = backends.resolve(spec["backend"], trusted=bool(spec.get("trusted")))
    except (NoSandbox, TrustRequired) as exc:  # fail closed: not run, and not the notebook's fault
        return early("killed", f"not run on worker {meta['worker']}: {exc}", True)
    except Exception as exc:
        return early("invalid", f"on worker {meta['worker']}: {exc}")
    log.info("%s on %s: %s", spec["name"], meta["worker"], why)
    meta["backend"] = backend_name
    job = Job(
        notebook=json.loads(spec["notebook"]),
        parameters=json.loads(spec["parameters"]),
        limits=Limits.from_dict(spec["limits"]),
        name=spec["name"],
        backend=backend_name,
        kernel_name=spec["kernel_name"],
        keep=bool(spec.get("keep")),
        trusted=bool(spec.get("trusted")),
        collect=tuple(spec.get("collect") or ()),  # the sandbox hashes these when the run ends
    )
    try:
        jobdir = prepare(job)
    except NotebookInputError as exc:
        return early("invalid", str(exc))
    try:
        for name, data in zip(spec["files"], blobs, strict=True):
            relative = Path(name)
            if relative.is_absolute() or ".." in relative.parts:
                return early("invalid", f"input file name {name!r} must be a plain relative name")
            dest = jobdir.work / relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        devices: list[str] = []
        if job.limits.gpus:
            try:
                devices = worker_gpus().acquire(job.limits.gpus, cancel)
            except ValueError as exc:
                return early("killed", f"worker {meta['worker']} took a GPU job but {exc}; start it with "
                                       "COURSEBENCH_GPUS set to its device ids, or fix nvidia-smi there", True)
            except KeyboardInterrupt:
                return early("killed", "the run was cancelled")
        jobdir.gpu_devices = devices
        meta["gpu_devices"] = devices
        from .backends import warm as sandboxes

        # a Dask worker thread keeps its next sandbox booted, as a pool slot does (docs/warm.md)
        sandboxes.want_spares(lambda: True)
        try:
            outcome = backends.create(backend_name).run(jobdir, cancel)
        finally:
            worker_gpus().release(devices)
        meta["outcome"] = {
            "returncode": outcome.returncode,
            "stopped": outcome.stopped,
            "oom_kills": int(outcome.oom_kills),
            "pids_refused": int(outcome.pids_refused),
            "peak_memory": outcome.peak_memory,
            "log_tail": outcome.log_tail[-LOG_TAIL_LIMIT:],
            "image": outcome.image,
            "infrastructure_error": outcome.infrastructure_error,
        }
        autosave = jobdir.path / "executed.ipynb"
        saved = None
        if autosave.is_file() and not autosave.is_symlink() and autosave.stat().st_size <= AUTOSAVE_LIMIT:
            saved = autosave.read_bytes()
        artifacts, skipped = _collect(jobdir.work, spec.get("collect") or [])
        meta["artifacts_skipped"] = skipped
        meta["wall_time"] = time.monotonic() - started
        return _pack(meta, payload=outcome.payload, autosave=saved, artifacts=artifacts)
    finally:
        jobdir.cleanup()


def _collect(work: Path, patterns: list[str]) -> tuple[list[tuple[str, bytes]], list[str]]:
    """The files the job asked to collect, under the same rules as a local run: plain
    files inside the job's directory only (no links), within :data:`ARTIFACT_LIMIT`."""
    found: list[tuple[str, bytes]] = []
    skipped: list[str] = []
    budget = ARTIFACT_LIMIT
    root = work.resolve()
    seen: set[str] = set()
    for pattern in patterns:
        for src in sorted(work.glob(pattern)):
            if src.is_symlink() or not src.is_file() or not src.resolve().is_relative_to(root):
                continue
            relative = str(src.relative_to(work))
            if relative in seen:
                continue
            seen.add(relative)
            size = src.stat().st_size
            if size > budget:
                skipped.append(src.name)
                continue
            budget -= size
            found.append((relative, src.read_bytes()))
    return found, skipped


def _pack(meta: dict[str, Any], *, payload: bytes | None = None, autosave: bytes | None = None,
          artifacts: Sequence[tuple[str, bytes]] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("outcome.json", json.dumps(meta))
        if payload is not None:
            archive.writestr("answer.json", payload)
        if autosave is not None:
            archive.writestr("executed.ipynb", autosave)
        for name, data in artifacts:
            archive.writestr(f"files/{name}", data)
    return buffer.getvalue()
