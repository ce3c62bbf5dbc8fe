"""Warm sandboxes: each pool slot keeps its next sandbox booted before the job arrives.

A booted sandbox runs ``worker.py /job --boot PREIMPORT``: the worker starts its template
(ipykernel and the course's libraries imported, nothing of any student's), imports
papermill itself, and waits on its stdin.  When the slot's next job comes, the host moves
the job's prepared files into the booted sandbox's (still empty) job directory, gives them
to the sandbox's uid and writes ``go``; the notebook's kernel is forked at once.  The
sandbox is used for that one job only and then destroyed, like every sandbox: nothing of
one student's run can reach another's, because no sandbox ever serves two jobs.

The pool has one booted sandbox per slot of :func:`coursebench.execution.run_many` (it is
kept per slot thread: bubblewrap's ``--die-with-parent`` ties a sandbox to the thread that
started it), booted only when more jobs are coming (:func:`want_spares`), for jobs of the
same backend, limits and pre-imports, CPU only.  :func:`drain` ends unused ones.  The slots
of a :class:`~coursebench.execution.pool.SlotPool` (and Dask worker threads) keep theirs
between calls.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..jobdirs import release, remove_job_dir

if TYPE_CHECKING:
    from ..job import JobDir
    from .process import ProcessBackend, Started

__all__ = ["boot", "drain", "fit_preimport", "imported", "key_of", "take", "want_spares"]

_local = threading.local()
_all: list[Spare] = []
_lock = threading.Lock()
_registered: list[bool] = []


@dataclass
class Spare:
    key: tuple
    jobdir: JobDir
    sandbox: Started
    backend: ProcessBackend
    thread: int = field(default_factory=threading.get_ident)
    """The slot thread that booted it (``--die-with-parent`` follows that thread)."""


def want_spares(when: Callable[[], bool] | None) -> None:
    """In a pool slot's thread: after each job, boot the next sandbox if ``when()`` says
    more jobs are coming (None: never)."""
    _local.want = when


def imported(job: JobDir) -> set[str]:
    """Top-level modules the job's notebooks import (their import statements, parsed)."""
    import ast

    names: set[str] = set()
    for path in sorted(job.path.glob("input*.ipynb")):
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells") or []
        except (OSError, ValueError, AttributeError):
            continue
        for cell in cells:
            if not isinstance(cell, dict) or cell.get("cell_type") != "code":
                continue
            source = cell.get("source") or ""
            source = "".join(source) if isinstance(source, list) else str(source)
            lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
            try:
                tree = ast.parse("\n".join(lines))
            except (SyntaxError, ValueError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module.split(".")[0])
    return names


def fit_preimport(job: JobDir) -> None:
    """Pre-import only what this job's notebooks import (of the course's list): the next
    job of a slot is most often the same assignment, with the same imports, and a template
    import no notebook needs is CPU every sandbox pays.  ``job.json`` is rewritten before
    the sandbox ever sees it."""
    path = job.path / "job.json"
    try:
        settings = json.loads(path.read_text())
        warm = settings.get("warm") or {}
        if not warm.get("enabled"):
            return
        used = imported(job)
        warm["preimport"] = [m for m in warm.get("preimport") or [] if m.split(".")[0] in used]
        path.write_text(json.dumps(settings))
    except (OSError, ValueError, AttributeError):
        return


def key_of(backend: str, job: JobDir) -> tuple | None:
    """What a booted sandbox must match to run ``job`` (None: not for a warm sandbox).
    Read from ``job.json`` before the sandbox ever sees it."""
    try:
        warm = json.loads((job.path / "job.json").read_text()).get("warm") or {}
    except (OSError, ValueError):
        return None
    if not warm.get("enabled") or job.gpu_devices:
        return None
    # what a sandbox is booted with: its cgroup (memory, cpus, pids) and tmpfs (disk); the
    # timeout is the host's from the job's start, the output limits the worker's (job.json)
    # and the answer's reader takes the job's limit (take()) -- a group of 3 folds and one
    # of 2 fit the same booted sandbox
    import dataclasses

    booted = dataclasses.replace(job.limits, timeout=1.0, cell_timeout=None, output=None)
    return (backend, repr(booted), tuple(warm.get("preimport") or ()))


def take(key: tuple | None, job: JobDir) -> Started | None:
    """This slot's booted sandbox for ``job``, with ``job``'s files moved in and told to go;
    None when there is none that fits (the caller starts one cold)."""
    spare: Spare | None = getattr(_local, "spare", None)
    _local.spare = None
    if spare is None:
        return None
    if key is None or spare.key != key or spare.sandbox.proc.poll() is not None:
        _discard(spare)
        return None
    with _lock:
        if spare in _all:
            _all.remove(spare)
    into = spare.jobdir.path
    try:
        for entry in os.listdir(job.path):
            source = job.path / entry
            if entry == "files":
                for item in os.listdir(source):
                    os.rename(source / item, into / "files" / item)
                source.rmdir()
            else:
                os.rename(source, into / entry)
        job.path.rmdir()
        release(job.path)
        job.path = into
        job.sandbox_uid = spare.jobdir.sandbox_uid
        if job.sandbox_uid is not None:
            from .process import chown_tree

            chown_tree(into, job.sandbox_uid)
        spare.sandbox.out.keep_head = spare.backend.payload_limit(job)  # nothing is read before "go"
        stdin = spare.sandbox.proc.stdin
        assert stdin is not None
        stdin.write(b"go\n")
        stdin.close()
    except (OSError, ValueError) as exc:
        _discard(spare)
        raise OSError(f"the warm sandbox could not take the job: {exc}") from exc
    return spare.sandbox


def boot(backend: ProcessBackend, key: tuple | None, like: JobDir) -> None:
    """Boot this slot's next sandbox (for jobs like ``like``), if more jobs are coming."""
    when = getattr(_local, "want", None)
    if key is None or when is None or getattr(_local, "spare", None) is not None or not when():
        return
    from ..job import JobDir
    from ..jobdirs import new_job_dir

    path = new_job_dir("warm-")
    (path / "files").mkdir()
    jobdir = JobDir(path=path, job=like.job, limits=like.limits, notebook=None)
    started = backend.launch(jobdir, boot=["--boot", json.dumps(list(key[2]))])
    if not hasattr(started, "proc"):  # an Outcome: it could not start; the next job starts cold
        remove_job_dir(path)
        return
    spare = Spare(key, jobdir, started, backend)  # type: ignore[arg-type]
    _local.spare = spare
    with _lock:
        if not _all and not _registered:
            import atexit

            atexit.register(drain)  # a process that ends with spares (a Dask worker) leaves none
            _registered.append(True)
        _all.append(spare)


def _discard(spare: Spare) -> None:
    with _lock:
        if spare in _all:
            _all.remove(spare)
    sandbox = spare.sandbox
    spare.backend._kill_everything(sandbox.proc, sandbox.cgroup)
    for reader in (sandbox.out, sandbox.err):
        reader.join(2)
    if sandbox.cgroup is not None:
        sandbox.cgroup.destroy()
    remove_job_dir(spare.jobdir.path)


def drain(threads: Collection[int] | None = None) -> None:
    """End every booted sandbox no job took (the pool is done): all of them, or those
    the slot threads ``threads`` booted (other pools' slots keep theirs)."""
    with _lock:
        spares = [s for s in _all if threads is None or s.thread in threads]
    for spare in spares:
        _discard(spare)
