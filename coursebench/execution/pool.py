"""Run many jobs at once: slots, GPU slots, progress, retries, Ctrl-C.

``run_many`` runs jobs on a pool of local slots (threads, each supervising one sandbox).
A failure in one job never stops the others; results come back in input order; on
Ctrl-C every running sandbox is killed and pending jobs are dropped before the
``KeyboardInterrupt`` propagates.
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from .job import Job
from .result import ExecutionResult
from .runner import run_job

log = logging.getLogger("coursebench.execution")
ProgressCallback = Callable[[int, int, ExecutionResult], None]


class GPUSlots:
    """At most one job per GPU device at a time; each GPU job gets explicit device ids.

    ``devices`` are device ids as strings (``"0"``, ``"1"``, or UUIDs).  A job that
    asks for ``n`` GPUs waits until ``n`` devices are free.  CPU-only jobs never take
    a device (and the backends hide all GPUs from them).
    """

    def __init__(self, devices: Sequence[str]) -> None:
        self.devices = list(devices)
        self._free: queue.Queue[str] = queue.Queue()
        for device in self.devices:
            self._free.put(device)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.devices)

    def acquire(self, count: int, cancel: threading.Event | None = None) -> list[str]:
        if count <= 0:
            return []
        if count > len(self.devices):
            raise ValueError(
                f"the job needs {count} GPU(s) but this pool has {len(self.devices)}"
                + ("" if self.devices else " (no GPU was found; see `coursebench doctor`)")
            )
        while True:
            with self._lock:
                if self._free.qsize() >= count:
                    return [self._free.get_nowait() for _ in range(count)]
            if cancel is not None and cancel.is_set():
                raise KeyboardInterrupt
            time.sleep(0.05)

    def release(self, devices: Sequence[str]) -> None:
        for device in devices:
            self._free.put(device)


def detect_gpus() -> list[str]:
    """GPU device ids on this machine: ``COURSEBENCH_GPUS`` (comma list) wins, then
    ``nvidia-smi``.  An empty list means none."""
    forced = os.environ.get("COURSEBENCH_GPUS")
    if forced is not None:
        return [d.strip() for d in forced.split(",") if d.strip()]
    smi = shutil.which("nvidia-smi")
    if not smi:
        return []
    try:
        out = subprocess.run([smi, "--query-gpu=index", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip().isdigit()]


@dataclass
class PoolStats:
    submitted: int = 0
    finished: int = 0
    retried: int = 0


def run_many(
    jobs: Iterable[Job],
    *,
    workers: int | None = None,
    progress: bool | ProgressCallback = True,
    gpus: GPUSlots | Sequence[str] | None = None,
    retries: int = 1,
    cluster: str | Any | None = None,
    description: str = "Running notebooks",
) -> list[ExecutionResult]:
    """Run ``jobs`` concurrently; return their results in input order.

    ``workers`` defaults to the number of CPU cores.  ``progress=True`` shows a Rich
    progress bar on stderr; a callable gets ``(done, total, result)`` after each job.
    ``gpus`` are the GPU devices jobs with ``limits.gpus > 0`` share (default: those
    :func:`detect_gpus` finds).  A job whose sandbox failed to start (not the notebook's
    fault) is retried up to ``retries`` times.

    ``cluster`` (a Dask scheduler address such as ``"tcp://host:8786"``, a
    ``distributed.Client`` or a Dask cluster object) runs every job as a Dask task on
    that cluster instead (see :mod:`coursebench.execution.distributed`); ``workers`` and
    ``gpus`` are then the cluster's business (workers started with ``--resources GPU=N``).
    """
    jobs = list(jobs)
    if cluster is not None:
        from .distributed import run_many_on_cluster

        return run_many_on_cluster(jobs, cluster, progress=progress, retries=retries, description=description)
    if not jobs:
        return []
    workers = max(1, workers or os.cpu_count() or 1)
    slots = gpus if isinstance(gpus, GPUSlots) else GPUSlots(detect_gpus() if gpus is None else gpus)
    cancel = threading.Event()
    results: list[ExecutionResult | None] = [None] * len(jobs)

    def one(job: Job) -> ExecutionResult:
        devices: list[str] = []
        try:
            devices = slots.acquire(job.limits.gpus, cancel)
        except ValueError as exc:
            return ExecutionResult(name=job.display_name(), status="invalid", message=str(exc))
        try:
            attempt = 0
            while True:
                attempt += 1
                try:
                    result = run_job(job, cancel=cancel, gpu_devices=devices)
                except Exception as exc:  # a bug or an infrastructure failure
                    log.exception("job %s failed in the runner", job.display_name())
                    result = ExecutionResult(
                        name=job.display_name(),
                        status="killed",
                        message=f"the runner failed: {type(exc).__name__}: {exc}",
                        infrastructure_failure=True,
                    )
                result.attempts = attempt
                if not result.infrastructure_failure or attempt > retries or cancel.is_set():
                    return result
                log.warning("retrying %s after an infrastructure failure: %s",
                            job.display_name(), result.message)
        finally:
            slots.release(devices)

    callback: ProgressCallback | None = progress if callable(progress) else None
    bar = _RichBar(description, len(jobs)) if progress is True else None
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="coursebench-slot")
    futures: dict[Future, int] = {}
    try:
        if bar:
            bar.start()
        for index, job in enumerate(jobs):
            futures[pool.submit(one, job)] = index
        pending = set(futures)
        done_count = 0
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                index = futures[future]
                results[index] = future.result()
                done_count += 1
                if bar:
                    bar.advance(results[index])
                if callback:
                    callback(done_count, len(jobs), results[index])  # type: ignore[arg-type]
    except BaseException:
        cancel.set()
        for future in futures:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        if bar:
            bar.stop()
        pool.shutdown(wait=True)
    return [r for r in results if r is not None]


class _RichBar:
    def __init__(self, description: str, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self.task = self.progress.add_task(description, total=total, status="")
        self.counts: dict[str, int] = {}

    def start(self) -> None:
        self.progress.start()

    def advance(self, result: ExecutionResult) -> None:
        self.counts[result.status] = self.counts.get(result.status, 0) + 1
        status = " ".join(f"{k}:{v}" for k, v in sorted(self.counts.items()))
        self.progress.update(self.task, advance=1, status=status)

    def stop(self) -> None:
        self.progress.stop()
