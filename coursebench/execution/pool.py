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

from .job import Job, JobGroup
from .result import ExecutionResult
from .runner import run_group, run_job

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
    jobs: Iterable[Job | JobGroup],
    *,
    workers: int | None = None,
    progress: bool | ProgressCallback = True,
    gpus: GPUSlots | Sequence[str] | None = None,
    retries: int = 1,
    cluster: str | Any | None = None,
    description: str = "Running notebooks",
    total: int | None = None,
) -> list[ExecutionResult]:
    """Run ``jobs`` concurrently; return their results in input order.

    ``workers`` defaults to the number of CPU cores.  ``progress=True`` shows a Rich
    progress bar on stderr; a callable gets ``(done, total, result)`` after each job.
    ``gpus`` are the GPU devices jobs with ``limits.gpus > 0`` share (default: those
    :func:`detect_gpus` finds).  A job whose sandbox failed to start (not the notebook's
    fault) is retried up to ``retries`` times.

    An item may be a :class:`JobGroup`: its notebooks run one after another in one
    sandbox and give one result each (so the list of results is as long as the jobs
    inside).  ``jobs`` may be a lazy iterable (a generator): items are taken as slots
    free up, a few ahead, so preparing the next job overlaps with running the current
    ones; pass ``total`` (the number of results) for the progress bar then.

    ``cluster`` (a Dask scheduler address such as ``"tcp://host:8786"``, a
    ``distributed.Client`` or a Dask cluster object) runs every job as a Dask task on
    that cluster instead (see :mod:`coursebench.execution.distributed`); ``workers`` and
    ``gpus`` are then the cluster's business (workers started with ``--resources GPU=N``).
    A group's notebooks run there as separate jobs.
    """
    if cluster is not None:
        from .distributed import run_many_on_cluster

        flat = [job for item in jobs for job in (item.jobs if isinstance(item, JobGroup) else [item])]
        return run_many_on_cluster(flat, cluster, progress=progress, retries=retries, description=description)
    if isinstance(jobs, Sequence):
        total = sum(len(item.jobs) if isinstance(item, JobGroup) else 1 for item in jobs)
        if not total:
            return []
    workers = max(1, workers or os.cpu_count() or 1)
    slots = gpus if isinstance(gpus, GPUSlots) else GPUSlots(detect_gpus() if gpus is None else gpus)
    cancel = threading.Event()
    results: list[list[ExecutionResult] | None] = []

    def attempts(name: str, call: Callable[[], list[ExecutionResult]]) -> list[ExecutionResult]:
        attempt = 0
        while True:
            attempt += 1
            try:
                batch = call()
            except Exception as exc:  # a bug or an infrastructure failure
                log.exception("job %s failed in the runner", name)
                batch = [ExecutionResult(
                    name=name,
                    status="killed",
                    message=f"the runner failed: {type(exc).__name__}: {exc}",
                    infrastructure_failure=True,
                )]
            for result in batch:
                result.attempts = attempt
            if not any(r.infrastructure_failure for r in batch) or attempt > retries or cancel.is_set():
                return batch
            log.warning("retrying %s after an infrastructure failure: %s", name,
                        next(r.message for r in batch if r.infrastructure_failure))

    def one(item: Job | JobGroup) -> list[ExecutionResult]:
        members = item.jobs if isinstance(item, JobGroup) else [item]
        devices: list[str] = []
        try:
            devices = slots.acquire(item.limits.gpus, cancel)
        except ValueError as exc:
            return [ExecutionResult(name=j.display_name(), status="invalid", message=str(exc)) for j in members]
        try:
            if isinstance(item, JobGroup):
                batch = attempts(item.display_name(),
                                 lambda: run_group(item, cancel=cancel, gpu_devices=devices))
                if len(batch) != len(members):  # the runner itself failed: same verdict for all
                    batch = [ExecutionResult(**{**batch[0].__dict__, "name": j.display_name()}) for j in members]
                return batch
            return attempts(item.display_name(), lambda: [run_job(item, cancel=cancel, gpu_devices=devices)])
        finally:
            slots.release(devices)

    callback: ProgressCallback | None = progress if callable(progress) else None
    bar = _RichBar(description, total) if progress is True else None
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="coursebench-slot")
    futures: dict[Future, int] = {}
    source = iter(jobs)
    exhausted = False
    ahead = workers + 1  # items submitted but not finished: a slot never waits for the caller
    try:
        if bar:
            bar.start()
        pending: set[Future] = set()
        done_count = 0
        while True:
            while not exhausted and len(pending) < ahead:
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                results.append(None)
                future = pool.submit(one, item)
                futures[future] = len(results) - 1
                pending.add(future)
            if not pending:
                break
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                index = futures[future]
                batch = future.result()
                results[index] = batch
                for result in batch:
                    done_count += 1
                    if bar:
                        bar.advance(result)
                    if callback:
                        callback(done_count, total or 0, result)
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
    return [r for batch in results if batch is not None for r in batch]


class _RichBar:
    def __init__(self, description: str, total: int | None) -> None:
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
