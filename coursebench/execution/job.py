"""A job: a notebook + parameters + input files + limits, and the directory it runs in.

The job directory is all a sandbox sees of the host (besides a read-only runtime)::

    JOB/
      input.ipynb        the notebook to run
      parameters.json    papermill parameters
      job.json           settings for worker.py (timeouts, output cap, kernel)
      files/             extra input files; the notebook's working directory
      guard.py           the test guard's source (for a guarded notebook's kernel)
      executed.ipynb     written by papermill as cells finish (autosave)
      result.json        written by the worker at the end (for people)

A :class:`JobGroup` directory holds ``input-N.ipynb``, ``parameters-N.json``,
``executed-N.ipynb`` and ``result-N.json`` for each of its notebooks, and lists them in
``job.json`` under ``"notebooks"`` (with separate files, ``inputs-N/`` and ``outputs-N/``
too, and no ``result-N.json``).

The host never trusts what is on disk afterwards: the worker's answer arrives over a
private channel (see ``worker.py``) and is validated before use.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from .errors import NotebookInputError
from .jobdirs import new_job_dir, remove_job_dir
from .limits import Limits
from .warm import options as warm_options

NotebookLike = Union[str, os.PathLike, Any]
FileSpec = Union[str, os.PathLike, tuple[Union[str, os.PathLike], str]]
WORKER_PATH = Path(__file__).with_name("worker.py")
#: the test guard's source: copied into every job directory, read by the worker before
#: anything runs and handed to a guarded kernel on a private pipe (see worker.py)
GUARD_PATH = Path(__file__).with_name("guard.py")


@dataclass
class Job:
    """One notebook run, described.  ``files`` are copied into the job's ``files/``
    directory (a path, or ``(path, name_inside)``); ``collect`` lists glob patterns of
    files the notebook writes there that come back as :attr:`ExecutionResult.artifacts`.
    """

    notebook: NotebookLike
    parameters: Mapping[str, Any] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    files: Sequence[FileSpec] = ()
    name: str | None = None
    output: str | os.PathLike | None = None
    collect: Sequence[str] = ()
    artifacts_dir: str | os.PathLike | None = None
    backend: str = "auto"
    kernel_name: str = "python3"
    keep: bool = False
    """Keep the job directory after the run (for debugging)."""
    trusted: bool = False
    """You wrote this notebook (a lecture, your own analysis): it may run on a backend that
    does not isolate (``subprocess``).  Students' work is never trusted."""
    warm: bool | None = None
    """Fork the kernel from the sandbox's pre-imported template (docs/warm.md); None: the
    course's default (``[execution] warm``, ``COURSEBENCH_WARM``)."""

    def display_name(self) -> str:
        if self.name:
            return self.name
        if isinstance(self.notebook, (str, os.PathLike)):
            return Path(self.notebook).stem
        return "notebook"


@dataclass
class JobGroup:
    """Several notebooks run one after another in ONE sandbox: what nbgrader does with
    the notebooks of one submission, at the cost of one sandbox and one worker instead
    of one per notebook.  Each notebook gets a fresh kernel, its own parameters, output
    and limits (``timeout``, ``cell_timeout`` and ``output`` apply to each notebook;
    ``memory``, ``cpus``, ``pids`` and ``disk`` to the sandbox, which never runs two of
    them at once); every process a notebook leaves behind is killed before the next one
    starts.  They share ``files/`` (the working directory), so a file one notebook
    writes is there for the next, as in a submission directory.

    ``run_many`` accepts groups beside jobs and returns one result per notebook, in
    order.  The first job's ``limits``, ``backend``, ``kernel_name`` and ``keep`` hold for
    the group; the ``files`` of all jobs are copied in.  On a Dask cluster a group's
    notebooks run as separate jobs.

    ``separate_files=True``: the notebooks share the sandbox, its pre-imported template
    (docs/warm.md) and nothing else — each sees only its own ``files``, placed in
    ``files/`` just before it runs (the worker took them out of reach before any kernel
    started), and after it ``files/`` and the sandbox's scratch (``/tmp``, ``/dev/shm``,
    ``HOME``) are emptied, its collected files taken out first; no kernel is started
    ahead for the next one.  The k folds of one notebook submission run so
    (:func:`split_separate`): same code, same imports, each fold only its own data.
    """

    jobs: Sequence[Job]
    name: str | None = None
    separate_files: bool = False

    def __post_init__(self) -> None:
        self.jobs = list(self.jobs)
        if not self.jobs:
            raise ValueError("a JobGroup needs at least one job")

    def display_name(self) -> str:
        return self.name or self.jobs[0].display_name()

    @property
    def limits(self) -> Limits:
        return self.jobs[0].limits

    @property
    def backend(self) -> str:
        return self.jobs[0].backend

    @property
    def trusted(self) -> bool:
        """Trusted only when every notebook of the group is."""
        return all(job.trusted for job in self.jobs)


@dataclass
class JobDir:
    """A prepared job directory on the host."""

    path: Path
    job: Job
    limits: Limits
    notebook: Any
    sandbox_uid: int | None = None
    gpu_devices: list[str] = field(default_factory=list)
    members: list[Any] = field(default_factory=list)
    """For a group: one ``(job, notebook, per-notebook limits)`` per notebook, in order."""
    separate: bool = False
    """A group with ``separate_files``: each notebook's collected files come back in its
    own ``outputs-N/``."""

    @property
    def work(self) -> Path:
        return self.path / "files"

    def work_of(self, position: int) -> Path:
        """Where the ``position``-th notebook of the group left its collected files."""
        return self.path / f"outputs-{position}" if self.separate else self.work

    def set_scratch(self, dirs: Sequence[str]) -> None:
        """Name the sandbox's private scratch directories (``/tmp``…) in ``job.json``, for
        the worker to empty between the notebooks of a ``separate_files`` group.  Only a
        backend whose scratch is the sandbox's own calls this (never ``subprocess``: its
        ``/tmp`` is the host's).  Written before the sandbox sees the job directory."""
        if not self.separate:
            return
        path = self.path / "job.json"
        settings = json.loads(path.read_text())
        settings["scratch"] = list(dirs)
        path.write_text(json.dumps(settings))

    @property
    def worker(self) -> Path:
        return WORKER_PATH

    def cleanup(self) -> None:
        remove_job_dir(self.path, keep=self.job.keep)


def load_notebook(notebook: NotebookLike) -> Any:
    """Read and check a notebook; raise :class:`NotebookInputError` saying what is wrong."""
    import nbformat

    if isinstance(notebook, (str, os.PathLike)):
        path = Path(notebook)
        if not path.exists():
            raise NotebookInputError("no such notebook file", path=str(path))
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise NotebookInputError(
                f"the file is not UTF-8 text (byte {exc.start}); is it really a .ipynb?",
                path=str(path),
            ) from None
        source = str(path)
    elif isinstance(notebook, Mapping):
        text, source = json.dumps(notebook), "<notebook>"
    else:
        raise NotebookInputError(f"cannot run a {type(notebook).__name__}; pass a path or a notebook")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookInputError(
            f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}. "
            "The file may have been edited by hand or truncated; re-download or re-save it "
            "from Jupyter.",
            path=source,
        ) from None
    if not isinstance(raw, dict) or "cells" not in raw:
        raise NotebookInputError("this JSON is not a Jupyter notebook (no 'cells')", path=source)
    try:
        nb = nbformat.reads(json.dumps(raw), as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NotebookInputError(f"not a valid notebook: {first}", path=source) from None
    kernelspec = nb.metadata.get("kernelspec") or {}
    language = (kernelspec.get("language") or nb.metadata.get("language_info", {}).get("name") or "python")
    if str(language).lower() != "python":
        raise NotebookInputError(
            f"this notebook's kernel is {kernelspec.get('display_name') or kernelspec.get('name')!r} "
            f"(language {language!r}); coursebench runs Python notebooks. Change the kernel to "
            "Python 3 in Jupyter (Kernel → Change kernel) and save again.",
            path=source,
        )
    return nb


def prepare(job: Job, limits: Limits | None = None) -> JobDir:
    """Create the job directory for ``job``.  Raises :class:`NotebookInputError`."""
    import nbformat

    limits = limits or job.limits
    nb = load_notebook(job.notebook)
    path = new_job_dir(f"{_safe(job.display_name())}-")
    try:
        work = path / "files"
        work.mkdir()
        _copy_files(job.files, work)
        nbformat.write(nb, str(path / "input.ipynb"))
        (path / "parameters.json").write_text(json.dumps(dict(job.parameters), default=str))
        settings = {
            "timeout": limits.timeout,
            "cell_timeout": limits.cell_timeout,
            "output_limit": limits.output,
            "kernel_name": job.kernel_name,
            "start_timeout": min(60.0, limits.timeout),
            "collect": list(job.collect),
            "id": uuid.uuid4().hex,
            "warm": warm_options(job.warm),
        }
        (path / "job.json").write_text(json.dumps(settings))
        shutil.copyfile(GUARD_PATH, path / GUARD_PATH.name)
    except BaseException:
        remove_job_dir(path)
        raise
    return JobDir(path=path, job=job, limits=limits, notebook=nb)


def prepare_group(group: JobGroup, invalid: Mapping[int, str]) -> JobDir:
    """Create one job directory for the runnable notebooks of ``group``.

    ``invalid`` collects ``{index: message}`` for notebooks that cannot run (they are
    left out of the directory).  Raises :class:`NotebookInputError` when no notebook of
    the group can run, or an input file is bad (that concerns them all).
    """
    import dataclasses

    import nbformat

    first = group.jobs[0]
    members, loaded = [], []
    for index, job in enumerate(group.jobs):
        try:
            loaded.append((index, job, load_notebook(job.notebook)))
        except NotebookInputError as exc:
            invalid[index] = str(exc)  # type: ignore[index]
    if not loaded:
        raise NotebookInputError("no notebook of the group can run: " + "; ".join(invalid.values()))
    limits = first.limits
    sandbox = dataclasses.replace(
        limits,
        timeout=sum(job.limits.timeout for _, job, _ in loaded),
        output=(sum(job.limits.output or 0 for _, job, _ in loaded) or limits.output),
    )
    path = new_job_dir(f"{_safe(group.display_name())}-")
    try:
        work = path / "files"
        work.mkdir()
        if not group.separate_files:
            for job in group.jobs:
                _copy_files(job.files, work)
        entries = []
        for position, (index, job, nb) in enumerate(loaded):
            nbformat.write(nb, str(path / f"input-{position}.ipynb"))
            (path / f"parameters-{position}.json").write_text(json.dumps(dict(job.parameters), default=str))
            separate = {}
            if group.separate_files:  # the worker hides them before any kernel starts
                (path / f"inputs-{position}").mkdir()
                (path / f"outputs-{position}").mkdir()
                _copy_files(job.files, path / f"inputs-{position}")
                separate = {"inputs": f"inputs-{position}", "outputs": f"outputs-{position}"}
            entries.append({
                **separate,
                "input": f"input-{position}.ipynb",
                "parameters": f"parameters-{position}.json",
                "output": f"executed-{position}.ipynb",
                "result": f"result-{position}.json",
                "timeout": job.limits.timeout,
                "cell_timeout": job.limits.cell_timeout,
                "output_limit": job.limits.output,
                "start_timeout": min(60.0, job.limits.timeout),
                "collect": list(job.collect),
                "name": job.display_name(),
            })
            members.append((index, job, nb))
        settings = {"kernel_name": first.kernel_name, "id": uuid.uuid4().hex, "notebooks": entries,
                    "warm": warm_options(first.warm), "separate": group.separate_files}
        (path / "job.json").write_text(json.dumps(settings))
        shutil.copyfile(GUARD_PATH, path / GUARD_PATH.name)
    except BaseException:
        remove_job_dir(path)
        raise
    dummy = Job(notebook=members[0][2], limits=sandbox, name=group.display_name(),
                backend=first.backend, kernel_name=first.kernel_name, keep=first.keep, trusted=group.trusted,
                warm=first.warm)
    return JobDir(path=path, job=dummy, limits=sandbox, notebook=members[0][2], members=members,
                  separate=group.separate_files)


def split_separate(jobs: Sequence[Job], slots: int) -> list[Job | JobGroup]:
    """``jobs`` (the runs of one submission: same notebook, same imports) as at most
    ``slots`` groups (:class:`JobGroup` with ``separate_files``), consecutive runs together, so
    each slot's sandbox pays the imports once for its share; results come back in the
    order of ``jobs``.  A share of one run stays a plain job."""
    jobs = list(jobs)
    slots = max(1, min(slots, len(jobs)))
    size, extra = divmod(len(jobs), slots)
    out: list[Job | JobGroup] = []
    start = 0
    for slot in range(slots):
        share = jobs[start:start + size + (slot < extra)]
        start += len(share)
        name = f"{share[0].display_name()}-{share[-1].display_name()}"
        out.append(share[0] if len(share) == 1 else JobGroup(share, name=name, separate_files=True))
    return out


def _copy_files(specs: Sequence[FileSpec], work: Path) -> None:
    for spec in specs:
        src, name = (spec if isinstance(spec, tuple) else (spec, Path(spec).name))
        src = Path(src)
        dest = work / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise NotebookInputError(f"input file name {name!r} must be a plain relative name")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dest, dirs_exist_ok=True)
        elif src.is_file():
            shutil.copyfile(src, dest)
        else:
            raise NotebookInputError("input file does not exist", path=str(src))


def _safe(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return keep[:40] or "job"
