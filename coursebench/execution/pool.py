"""Run many jobs at once: slots, GPU slots, progress, retries, Ctrl-C.

``run_many`` runs jobs on a pool of local slots (threads, each supervising one sandbox).
A failure in one job never stops the others; results come back in input order; on
Ctrl-C every running sandbox is killed and pending jobs are dropped before the
``KeyboardInterrupt`` propagates.

Progress is reported, never drawn: a ``progress`` callback gets ``(done, total, result)``
after each job (:data:`~coursebench.execution.progress.ProgressCallback`); the command
line turns that into a bar (:mod:`coursebench.cli_progress`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from .backends import warm as sandboxes
from .gpus import GPUSlots, detect_gpus
from .job import Job, JobGroup
from .progress import ProgressCallback, check_progress
from .result import ExecutionResult
from .runner import run_group, run_job

__all__ = ["GPUSlots", "PoolStats", "SlotPool", "detect_gpus", "run_many"]

log = logging.getLogger("coursebench.execution")


@dataclass
class PoolStats:
    submitted: int = 0
    finished: int = 0
    retried: int = 0


class SlotPool:
    """Local slots that outlive one :func:`run_many` call, for a process that runs jobs
    again and again (a scoring worker: each notebook submission is one ``run_many`` of its
    folds).  Each slot keeps its next sandbox booted — template imported — between calls,
    as a Dask worker thread does, so the first folds of the next submission start warm
    too (docs/warm.md).  An idle slot holds one booted sandbox (~200 MiB).

    Several threads may run ``run_many(..., pool=pool)`` at once; their jobs share the
    slots.  :meth:`close` (or leaving a ``with`` block) waits for running jobs and ends
    the booted sandboxes."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="coursebench-warm-slot")
        self._threads: set[int] = set()
        self._lock = threading.Lock()
        self.closed = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        if self.closed:
            raise RuntimeError("this SlotPool is closed")

        def in_slot() -> Any:
            with self._lock:
                self._threads.add(threading.get_ident())
            return fn(*args)

        return self._executor.submit(in_slot)

    def close(self) -> None:
        """Wait for the jobs running in the slots, then end every booted sandbox."""
        self.closed = True  # no slot boots another sandbox from now on
        self._executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            threads = set(self._threads)
        sandboxes.drain(threads)

    def __enter__(self) -> SlotPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_many(
    jobs: Iterable[Job | JobGroup],
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    gpus: GPUSlots | Sequence[str] | None = None,
    retries: int = 1,
    cluster: str | Any | None = None,
    total: int | None = None,
    pool: SlotPool | None = None,
) -> list[ExecutionResult]:
    """Run ``jobs`` concurrently; return their results in input order.

    ``workers`` defaults to the number of CPU cores.  ``progress``, a callable, gets
    ``(done, total, result)`` after each job (``total`` is 0 when not known).
    ``gpus`` are the GPU devices jobs with ``limits.gpus > 0`` share (default: those
    :func:`detect_gpus` finds).  A job whose sandbox failed to start (not the notebook's
    fault) is retried up to ``retries`` times.

    An item may be a :class:`JobGroup`: its notebooks run one after another in one
    sandbox and give one result each (so the list of results is as long as the jobs
    inside).  ``jobs`` may be a lazy iterable (a generator): items are taken as slots
    free up, a few ahead, so preparing the next job overlaps with running the current
    ones; pass ``total`` (the number of results) for the progress callback then.

    ``cluster`` (a Dask scheduler address such as ``"tcp://host:8786"``, a
    ``distributed.Client`` or a Dask cluster object) runs every job as a Dask task on
    that cluster instead (see :mod:`coursebench.execution.distributed`); ``workers`` and
    ``gpus`` are then the cluster's business (workers started with ``--resources GPU=N``).
    A group's notebooks run there as separate jobs.

    ``pool`` (a :class:`SlotPool`) runs the jobs on that pool's slots instead of slots of
    this call (``workers`` is then the pool's): their booted sandboxes stay for the next call.
    """
    callback = check_progress(progress)
    if cluster is not None:
        from .distributed import run_many_on_cluster

        flat = [job for item in jobs for job in (item.jobs if isinstance(item, JobGroup) else [item])]
        return run_many_on_cluster(flat, cluster, progress=callback, retries=retries)
    if isinstance(jobs, Sequence):
        total = sum(len(item.jobs) if isinstance(item, JobGroup) else 1 for item in jobs)
        if not total:
            return []
    workers = pool.workers if pool is not None else max(1, workers or os.cpu_count() or 1)
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
        with lock:
            queued[0] -= 1
        # this slot's next sandbox boots (warm, docs/warm.md) while jobs are still to come,
        # or, in a SlotPool, for the next call, until the pool closes
        if pool is not None:
            keep = pool
            sandboxes.want_spares(lambda: not keep.closed)
        else:
            sandboxes.want_spares(lambda: queued[0] > 0 or not exhausted)
            ran.add(threading.get_ident())
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

    lock = threading.Lock()
    queued = [0]  # items submitted that no slot has started yet
    ran: set[int] = set()  # this call's own slot threads (their booted sandboxes end with it)
    executor: ThreadPoolExecutor | SlotPool = (
        pool if pool is not None else ThreadPoolExecutor(max_workers=workers, thread_name_prefix="coursebench-slot"))
    futures: dict[Future, int] = {}
    source = iter(jobs)
    exhausted = False
    ahead = workers + 1  # items submitted but not finished: a slot never waits for the caller
    try:
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
                with lock:
                    queued[0] += 1
                future = executor.submit(one, item)
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
                    if callback:
                        callback(done_count, total or 0, result)
    except BaseException:
        cancel.set()
        for future in futures:
            future.cancel()
        if isinstance(executor, ThreadPoolExecutor):
            executor.shutdown(wait=True, cancel_futures=True)
        else:
            wait(futures)  # the pool's slots stay; this call's jobs were cancelled
        raise
    finally:
        if isinstance(executor, ThreadPoolExecutor):
            executor.shutdown(wait=True)
            sandboxes.drain(ran)
    return [r for batch in results if batch is not None for r in batch]

