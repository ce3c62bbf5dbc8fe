"""Run jobs on a Dask cluster: one Dask task per notebook run, the sandbox on the worker.

    results = run_many(jobs, cluster="tcp://scheduler:8786")

coursebench does not grow its own cluster: any ``dask.distributed`` scheduler will do
(by hand, dask-kubernetes, dask-jobqueue; see ``docs/cluster.md``).  Workers need
coursebench installed and a sandbox (bubblewrap, or a Docker engine).

What crosses the wire is data, both ways, never pickled results: the notebook as
nbformat JSON text, parameters JSON, limits and input files as bytes go out; one
``bytes`` zip archive (JSON outcome, the sandbox's JSON answer, ``.ipynb`` autosave,
artifacts) comes back (see :mod:`coursebench.execution.remote`).  The client rebuilds
a job directory from it and runs the same :func:`~coursebench.execution.runner.interpret`
and delivery code as a local run, so a result is validated (JSON schema, nbformat) on
the client exactly as locally.

GPUs: a job with ``limits.gpus = n`` asks Dask for the worker resource ``GPU: n`` (start
GPU workers with ``--resources GPU=N``); on the worker it takes ``n`` concrete device
ids from that worker's own list (``COURSEBENCH_GPUS`` or ``nvidia-smi``).  CPU jobs never
get a device.

Faults: every attempt logs a start event on the batch's Dask topic, so the client knows
which worker ran what.  A job whose worker dies is re-run elsewhere (by Dask, or by the
client after a ``KilledWorker``) at most ``retries`` times, and its result says so
(:attr:`ExecutionResult.attempts` and the message).  The client never waits forever: a
job that outlives its time limit by ``stall_grace`` seconds on a silent worker, GPU jobs
no worker can take, and a cluster left without workers all end as results after a
bounded wait.  Ctrl-C cancels the remote tasks, which kills their sandboxes.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ExecutionError, NotebookInputError
from .job import Job
from .progress import ProgressCallback, check_progress
from .remote import Wire, WireError, decode_answer, make_wire, run_remote
from .result import ExecutionResult

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger("coursebench.execution")
POLL = 0.1
CLUSTER_CHECK = 2.0


class ClusterError(ExecutionError):
    """The Dask cluster cannot be used at all: unreachable, or without workers."""


# ----------------------------------------------------------------------------- client


def run_many_on_cluster(
    jobs: Sequence[Job],
    cluster: Any,
    *,
    progress: ProgressCallback | None = None,
    retries: int = 1,
    connect_timeout: float = 30.0,
    worker_wait: float = 60.0,
    stall_grace: float = 120.0,
) -> list[ExecutionResult]:
    """Run ``jobs`` as Dask tasks on ``cluster``; return their results in input order.

    ``cluster`` is a scheduler address (``"tcp://host:8786"``), a ``distributed.Client``
    (used as is, not closed) or a Dask cluster object (``LocalCluster``, ``KubeCluster``,
    ``SLURMCluster``…).  ``retries`` bounds how often a job is re-run after its worker
    died or its sandbox failed to start.  ``worker_wait`` is how long to wait for workers
    (at the start, after all are lost, or for a GPU job no worker can take);
    ``stall_grace`` is how long past its time limit a running job may stay silent
    before its worker is given up on.  ``progress`` gets ``(done, total, result)`` after
    each job, as for :func:`~coursebench.execution.pool.run_many`.

    Raises :class:`ClusterError` when the scheduler cannot be reached or has no worker
    within ``worker_wait`` seconds.  Never raises for a problem with one notebook.
    """
    callback = check_progress(progress)
    jobs = list(jobs)
    if not jobs:
        return []
    client, owned = _connect(cluster, connect_timeout)
    try:
        batch = _Batch(client, jobs, retries=max(0, retries), worker_wait=worker_wait,
                       stall_grace=stall_grace, connect_timeout=connect_timeout)
        return batch.run(callback)
    finally:
        if owned:
            try:
                client.close(timeout=10)
            except Exception:  # closing a broken connection must not hide the results
                log.debug("closing the Dask client failed", exc_info=True)


def _connect(cluster: Any, timeout: float) -> tuple[Client, bool]:
    from distributed import Client

    if isinstance(cluster, Client):
        return cluster, False
    address = cluster if isinstance(cluster, str) else getattr(cluster, "scheduler_address", None)
    if not isinstance(address, str) or not address:
        raise ClusterError(
            f"cannot use {type(cluster).__name__} as a cluster: pass a scheduler address such as "
            "tcp://host:8786, a distributed.Client or a Dask cluster object"
        )
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({exc}); "
            "is `dask scheduler` running there and is its port open from here?"
        ) from None
    return client, True


@dataclass
class _State:
    index: int
    job: Job
    wire: Wire | None = None
    future: Any = None
    submissions: int = 0
    notes: list[str] = field(default_factory=list)
    answered: list[tuple[str, str]] = field(default_factory=list)
    """(task key, worker) of attempts that ended with an answer or that we stopped."""
    result: ExecutionResult | None = None
    unsatisfiable_since: float | None = None


@dataclass
class _Start:
    worker: str
    key: str
    at: float


class _Batch:
    """One call of :func:`run_many_on_cluster`: submit, watch, retry, collect."""

    def __init__(self, client: Client, jobs: list[Job], *, retries: int, worker_wait: float,
                 stall_grace: float, connect_timeout: float) -> None:
        self.client = client
        self.address = str(getattr(client.scheduler, "address", "") or "the scheduler")
        self.states = [_State(index, job) for index, job in enumerate(jobs)]
        self.retries = retries
        self.worker_wait = worker_wait
        self.stall_grace = stall_grace
        self.connect_timeout = connect_timeout
        self.topic = f"coursebench-{uuid.uuid4().hex[:16]}"
        self.lock = threading.Lock()
        self.starts: dict[int, list[_Start]] = {}
        self.blobs: dict[Path, Any] = {}
        self.active: list[_State] = []
        self.done = 0
        self.on_result: Callable[[ExecutionResult], None] = lambda result: None
        self.no_workers_since: float | None = None
        self.disconnected_since: float | None = None

    # -- the loop ------------------------------------------------------------------

    def run(self, progress: ProgressCallback | None) -> list[ExecutionResult]:
        total = len(self.states)

        def on_result(result: ExecutionResult) -> None:
            self.done += 1
            if progress:
                progress(self.done, total, result)

        self.on_result = on_result
        subscribed = False
        try:
            for st in self.states:
                try:
                    st.wire = make_wire(st.job)
                except NotebookInputError as exc:
                    self._finish(st, ExecutionResult(name=st.job.display_name(), status="invalid", message=str(exc)))
            if any(st.wire is not None for st in self.states):
                self._wait_for_workers()
                self.client.subscribe_topic(self.topic, self._on_event)
                subscribed = True
                self._scatter_inputs()
                for st in self.states:
                    if st.wire is not None:
                        self.active.append(st)
                        self._submit(st)
                self._watch()
        except BaseException:
            self._cancel([st.future for st in self.active if st.future is not None])
            raise
        finally:
            if subscribed:
                try:
                    self.client.unsubscribe_topic(self.topic)
                except Exception:
                    log.debug("unsubscribing from %s failed", self.topic, exc_info=True)
            for future in self.blobs.values():
                future.release()
            self.blobs.clear()
        return [st.result for st in self.states if st.result is not None]

    def _wait_for_workers(self) -> None:
        try:
            self.client.wait_for_workers(1, timeout=self.worker_wait)
        except (TimeoutError, OSError) as exc:
            raise ClusterError(
                f"the Dask scheduler at {self.address} has no workers (waited {self.worker_wait:g} s: {exc}); "
                f"start some with `dask worker {self.address}`"
            ) from None

    def _scatter_inputs(self) -> None:
        paths = sorted({src for st in self.active_wires() for _, src in st.files})
        for path in paths:
            data = path.read_bytes()
            self.blobs[path] = self.client.scatter(data, hash=True, timeout=self.worker_wait)

    def active_wires(self) -> list[Wire]:
        return [st.wire for st in self.states if st.wire is not None]

    def _submit(self, st: _State) -> None:
        assert st.wire is not None
        st.submissions += 1
        spec = dict(st.wire.spec, topic=self.topic, index=st.index)
        gpus = st.job.limits.gpus
        st.future = self.client.submit(
            run_remote,
            json.dumps(spec),
            [self.blobs[src] for _, src in st.wire.files],
            key=f"coursebench-run-{self.topic[-16:]}-{st.index}-{st.submissions}",
            pure=False,
            resources={"GPU": gpus} if gpus else None,
        )

    def _watch(self) -> None:
        next_check = 0.0
        while self.active:
            now = time.monotonic()
            for st in list(self.active):
                status = st.future.status
                if status == "finished":
                    self._finished(st)
                elif status in ("error", "cancelled", "lost"):
                    self._lost(st, status)
                else:
                    self._check_running(st, now)
            if self.active and now >= next_check:
                self._check_cluster(now)
                next_check = now + CLUSTER_CHECK
            if self.active:
                time.sleep(POLL)

    # -- events and outcomes -------------------------------------------------------

    def _on_event(self, event: tuple[float, Any]) -> None:
        _, msg = event
        if not isinstance(msg, dict) or not isinstance(msg.get("job"), int):
            return
        with self.lock:
            self.starts.setdefault(msg["job"], []).append(
                _Start(worker=str(msg.get("worker", "?")), key=str(msg.get("key", "")), at=time.monotonic())
            )

    def _starts(self, st: _State) -> list[_Start]:
        with self.lock:
            return list(self.starts.get(st.index, []))

    def _attempts(self, st: _State) -> int:
        return max(len(self._starts(st)), st.submissions, 1)

    def _lost_workers(self, st: _State) -> list[str]:
        """Workers that started the job and never answered: they died while running it."""
        answered = list(st.answered)
        lost = []
        for start in self._starts(st):
            if (start.key, start.worker) in answered:
                answered.remove((start.key, start.worker))
            else:
                lost.append(start.worker)
        return lost

    def _finished(self, st: _State) -> None:
        future = st.future
        key = str(future.key)
        try:
            data = future.result(timeout=max(60.0, self.connect_timeout))
        except Exception as exc:
            self._lost(st, f"unreadable ({type(exc).__name__}: {exc})")
            return
        finally:
            future.release()
        try:
            result, worker = decode_answer(data, st.job, st.wire)
        except (WireError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            result, worker = ExecutionResult(
                name=st.job.display_name(), status="killed", infrastructure_failure=True,
                message=f"the Dask worker sent an answer coursebench cannot read: {exc}",
            ), "?"
        st.answered.append((key, worker))
        attempts = self._attempts(st)
        result.attempts = attempts
        if result.infrastructure_failure and attempts <= self.retries and self._client_up():
            st.notes.append(f"attempt {attempts} on {worker}: {result.message}")
            log.warning("retrying %s after an infrastructure failure on %s: %s",
                        st.job.display_name(), worker, result.message)
            self._submit(st)
            return
        lost = self._lost_workers(st)
        notes = list(st.notes)
        if lost:
            notes.append(f"the Dask worker(s) {', '.join(lost)} died while running it; it ran again on {worker}")
        if notes:
            result.message = _join(result.message, f"[{attempts} attempts: " + "; ".join(notes) + "]")
        self._finish(st, result)

    def _lost(self, st: _State, why: str) -> None:
        """The task ended without an answer: Dask gave up on it, or it was dropped."""
        reasons = {
            "error": "Dask gave up on it (KilledWorker: the workers running it kept dying)",
            "cancelled": "the scheduler dropped it (restarted, or the connection to it was lost)",
            "lost": "its result was lost with a worker",
        }
        reason = reasons.get(why, why)
        self._release(st)
        attempts = self._attempts(st)
        workers = [s.worker for s in self._starts(st)]
        if attempts <= self.retries and self._client_up():
            st.notes.append(f"attempt {attempts}: {reason}" + (f" (on {workers[-1]})" if workers else ""))
            log.warning("re-running %s: %s", st.job.display_name(), reason)
            try:
                self._submit(st)
                return
            except Exception as exc:
                reason = f"{reason}; re-submitting it failed: {exc}"
        self._give_up(st, reason)

    def _check_running(self, st: _State, now: float) -> None:
        starts = self._starts(st)
        if len(starts) > 1 + self.retries:
            # Dask re-ran it after a worker died more often than we allow: stop it.
            self._release(st, cancel=True)
            died = ", ".join(self._lost_workers(st)[:-1])
            self._give_up(st, f"the Dask worker(s) running it died ({died}); not run again "
                              f"(at most {1 + self.retries} attempts)", attempts=1 + self.retries)
            return
        if starts and now - starts[-1].at > st.job.limits.timeout + self.stall_grace:
            worker = starts[-1].worker
            st.answered.append((starts[-1].key, worker))
            self._release(st, cancel=True)
            reason = (f"the Dask worker {worker} stopped answering: no result {self.stall_grace:g} s after "
                      f"the notebook's time limit of {st.job.limits.timeout:g} s")
            if self._attempts(st) <= self.retries and self._client_up():
                st.notes.append(f"attempt {self._attempts(st)}: {reason}")
                self._submit(st)
            else:
                self._give_up(st, reason)

    def _check_cluster(self, now: float) -> None:
        try:
            workers = self.client.scheduler_info(n_workers=-1).get("workers", {})
            self.disconnected_since = None
        except Exception as exc:
            log.debug("scheduler_info failed: %s", exc)
            self.disconnected_since = self.disconnected_since or now
            if now - self.disconnected_since > self.connect_timeout + self.worker_wait:
                for st in list(self.active):
                    self._release(st)
                    self._give_up(st, f"lost the connection to the Dask scheduler at {self.address}")
            return
        if not workers:
            self.no_workers_since = self.no_workers_since or now
            if now - self.no_workers_since > self.worker_wait:
                for st in list(self.active):
                    self._release(st, cancel=True)
                    self._give_up(st, f"the cluster at {self.address} has had no workers for "
                                      f"{self.worker_wait:g} s")
            return
        self.no_workers_since = None
        most = max((float((w.get("resources") or {}).get("GPU", 0)) for w in workers.values()), default=0.0)
        for st in list(self.active):
            needed = st.job.limits.gpus
            if not needed or needed <= most or self._starts(st):
                st.unsatisfiable_since = None
                continue
            st.unsatisfiable_since = st.unsatisfiable_since or now
            if now - st.unsatisfiable_since > self.worker_wait:
                self._release(st, cancel=True)
                self._finish(st, ExecutionResult(
                    name=st.job.display_name(), status="invalid", attempts=0,
                    message=(f"the job needs {needed} GPU(s) but no worker of the cluster at {self.address} "
                             f"offers that many (the most any worker offers: {most:g}; waited "
                             f"{self.worker_wait:g} s); start GPU workers with "
                             f"`dask worker {self.address} --resources GPU={needed}`"),
                ))

    def _give_up(self, st: _State, reason: str, attempts: int | None = None) -> None:
        notes = [*st.notes, reason]
        count = attempts or self._attempts(st)
        self._finish(st, ExecutionResult(
            name=st.job.display_name(), status="killed", attempts=count, infrastructure_failure=True,
            message=f"gave up after {count} attempt(s): " + "; ".join(notes),
        ))

    def _release(self, st: _State, cancel: bool = False) -> None:
        if st.future is None:
            return
        if cancel:
            self._cancel([st.future])
        st.future.release()

    def _finish(self, st: _State, result: ExecutionResult) -> None:
        st.result = result
        st.future = None
        if st in self.active:
            self.active.remove(st)
        self.on_result(result)

    def _client_up(self) -> bool:
        return getattr(self.client, "status", "running") == "running"

    def _cancel(self, futures: list[Any]) -> None:
        """Cancel remote tasks (their sandboxes are killed on the workers); never hang."""
        if not futures:
            return

        def cancel() -> None:
            try:
                self.client.cancel(futures, force=True)
            except Exception:
                log.debug("cancelling %d Dask tasks failed", len(futures), exc_info=True)

        thread = threading.Thread(target=cancel, name="coursebench-cancel", daemon=True)
        thread.start()
        thread.join(timeout=10)

def _join(first: str, second: str) -> str:
    return f"{first} {second}" if first else second
