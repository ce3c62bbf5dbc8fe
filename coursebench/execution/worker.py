"""The process that runs INSIDE the sandbox.

    python worker.py JOB_DIR

It reads ``JOB_DIR/job.json`` (settings), ``JOB_DIR/input.ipynb`` and
``JOB_DIR/parameters.json``, executes the notebook with papermill (working directory
``JOB_DIR/files``) and writes ``JOB_DIR/executed.ipynb`` and ``JOB_DIR/result.json``.

This file is deliberately standalone: it imports only the standard library, papermill
and nbclient, so that a sandbox can be given this one file and a Python environment and
nothing else of coursebench or of the course directory.  Results leave the sandbox only
as JSON and ``.ipynb``; nothing is pickled.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import threading
import time
import traceback
from importlib import metadata

# jsonschema's format checkers pull in rfc3987_syntax (1.2 s) and papermill's iorw pulls
# in pyarrow (0.1 s); neither is needed to execute a notebook.  Blocking them here only
# affects this worker process, never the kernel that runs the student's code.
for _slow in (
    "rfc3987_syntax",
    "rfc3987",
    "rfc3339_validator",
    "isoduration",
    "fqdn",
    "uri_template",
    "webcolors",
    "jsonpointer",
    "pyarrow",
):
    sys.modules.setdefault(_slow, None)  # type: ignore[arg-type]

RESULT_VERSION = 1
AUTOSAVE_SECONDS = 2.0
ERROR_TAG = "papermill-error-cell-tag"
INJECTED_TAG = "injected-parameters"
TRUNCATION_NOTE = (
    "\n[coursebench: output truncated here. This notebook printed more than {limit}; "
    "print less (e.g. df.head() instead of df) to see everything.]\n"
)
VERSION_PACKAGES = (
    "papermill",
    "nbclient",
    "ipykernel",
    "numpy",
    "pandas",
    "scikit-learn",
    "matplotlib",
    "tensorflow",
    "keras",
    "torch",
    "jax",
)


def _human(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def package_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for name in VERSION_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


class _State:
    """What the engine and the watchdog share."""

    def __init__(self, output_limit: int) -> None:
        self.client = None
        self.cell_index: int | None = None
        self.output_limit = output_limit
        self.output_bytes = 0
        self.truncated = False
        self.timed_out = False
        self.lock = threading.Lock()
        # The watchdog's deadline for the notebook now running (None: none running) and a
        # counter that changes with every notebook, so a late kill never hits the next one.
        self.deadline: float | None = None
        self.generation = 0

    def next_notebook(self, output_limit: int, deadline: float | None) -> None:
        with self.lock:
            self.client = None
            self.cell_index = None
            self.output_limit = output_limit
            self.output_bytes = 0
            self.truncated = False
            self.timed_out = False
            self.deadline = deadline
            self.generation += 1

    def notebook_done(self) -> None:
        with self.lock:
            self.deadline = None
            self.generation += 1


STATE = _State(output_limit=0)
WATCHDOG = threading.Thread(target=lambda: _watchdog(), daemon=True, name="watchdog")


def _message_size(content: dict) -> int:
    if "text" in content:
        return len(content["text"])
    size = 0
    for value in (content.get("data") or {}).values():
        size += len(value) if isinstance(value, str) else len(json.dumps(value))
    if "traceback" in content:
        size += sum(len(line) for line in content["traceback"])
    return size


def _make_engine():
    from nbclient.exceptions import CellExecutionError  # noqa: F401  (import check)
    from nbformat import v4
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine
    from papermill.utils import merge_kwargs, remove_args

    class CappedClient(PapermillNotebookClient):
        """papermill's client with an output cap and a record of the running cell."""

        def execute_cell(self, cell, cell_index, *args, **kwargs):
            STATE.cell_index = cell_index
            return super().execute_cell(cell, cell_index, *args, **kwargs)

        def output(self, outs, msg, display_id, cell_index):
            limit = STATE.output_limit
            if limit:
                size = _message_size(msg.get("content", {}))
                with STATE.lock:
                    if STATE.output_bytes + size > limit:
                        if not STATE.truncated:
                            STATE.truncated = True
                            outs.append(
                                v4.new_output(
                                    "stream",
                                    name="stderr",
                                    text=TRUNCATION_NOTE.format(limit=_human(limit)),
                                )
                            )
                        return None
                    STATE.output_bytes += size
            return super().output(outs, msg, display_id, cell_index)

        def setup_kernel(self, **kwargs):
            STATE.client = self
            return super().setup_kernel(**kwargs)

    class CoursebenchEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            **kwargs,
        ):
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log_output=False,
                shutdown_kernel="immediate",
            )
            # papermill saves the whole notebook (nbformat.writes, schema validation
            # included) when every cell starts and again when it ends: O(cells²) work
            # that cost more than the cells of a typical lab.  Here a save happens at
            # most every AUTOSAVE_SECONDS while cells run; papermill's own saves after
            # the run (notebook_complete, final write) are untouched, and the worker
            # answers with the finished notebook anyway.  The autosave only serves the
            # host's backstop after a hard kill, which loses at most that much progress.
            original_save = nb_man.save
            last = [time.monotonic()]

            def throttled_save(**save_kwargs):
                now = time.monotonic()
                if now - last[0] >= AUTOSAVE_SECONDS:
                    last[0] = now
                    original_save(**save_kwargs)

            nb_man.save = throttled_save
            try:
                return CappedClient(nb_man, **final_kwargs).execute()
            finally:
                nb_man.save = original_save

    return CoursebenchEngine


# The pid of the kernel already booting for the group's NEXT notebook: it belongs to no
# notebook yet, so neither the watchdog nor the cleanup between notebooks touches it.
SPARE_PID: int | None = None


def _children() -> list[int]:
    """Pids whose parent is this process (the kernel), read from /proc; the spare
    kernel for the next notebook is left out."""
    me, found, spare = os.getpid(), [], SPARE_PID
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me and int(entry) != spare:
            found.append(int(entry))
    return found


def _watchdog() -> None:
    """At a notebook's deadline, interrupt its kernel (SIGINT), then kill it.

    papermill then records the running cell as failed and saves the notebook with every
    finished cell's outputs; the host's own hard kill comes only later, as a backstop.
    One watchdog serves every notebook of a job; a kill is only sent while the notebook
    whose deadline passed is still the one running (checked under the state's lock).
    """
    import signal

    while True:
        time.sleep(0.05)
        with STATE.lock:
            deadline, generation = STATE.deadline, STATE.generation
            if deadline is None or time.monotonic() < deadline:
                continue
            STATE.timed_out = True
        for sig, wait in ((signal.SIGINT, 1.5), (signal.SIGKILL, 0)):
            with STATE.lock:
                if STATE.generation != generation:
                    break
                for pid in _children():
                    try:
                        os.kill(pid, sig)
                    except OSError:
                        pass
            time.sleep(wait)
        while STATE.generation == generation:
            time.sleep(0.05)


def _become_subreaper() -> None:
    """Orphans of the student's code (a background process the kernel started) are
    re-parented to this process, so :func:`_kill_children` finds them between notebooks."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except Exception:
        pass


def _kill_children() -> None:
    """Kill every process below this one (the kernel and anything it left running) and
    reap them; orphans come back to us as children (subreaper), hence the rounds."""
    for _ in range(20):
        pids = _children()
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        for pid in pids:
            try:
                os.waitpid(pid, 0)
            except OSError:
                pass


@functools.cache
def _kernel_classes():
    """(manager class, client class): jupyter_client's AsyncKernelManager and its client
    without two fixed waits that cost every notebook ~0.3 s of idle time (measured here):

    - ``wait_for_ready`` ends by draining IOPub until 0.2 s pass without a message;
      here it drains only what has already arrived (nbclient ignores IOPub messages
      that do not answer its own requests, so stray start-up messages are harmless);
    - killing the kernel polls for its end every 0.1 s; here every 5 ms.
    """
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.utils import ensure_async

    class ReadyClient(AsyncKernelClient):
        async def wait_for_ready(self, timeout=None):
            deadline = time.time() + (float("inf") if timeout is None else timeout)
            while True:  # as jupyter_client does: kernel_info until IOPub is connected
                self.kernel_info()
                try:
                    msg = await ensure_async(self.shell_channel.get_msg(timeout=1))
                except Empty:
                    pass
                else:
                    if msg["msg_type"] == "kernel_info_reply":
                        try:
                            await ensure_async(self.iopub_channel.get_msg(timeout=0.2))
                        except Empty:
                            pass
                        else:
                            self._handle_kernel_info_reply(msg)
                            break
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.time() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")
            while True:
                try:
                    await ensure_async(self.iopub_channel.get_msg(timeout=0.005))
                except Empty:
                    break

    class KernelManager(AsyncKernelManager):
        async def _async_wait(self, pollinterval: float = 0.005) -> None:
            await super()._async_wait(pollinterval=pollinterval)

    return KernelManager, ReadyClient


def _start_kernel_early(kernel_name: str, cwd: str):
    """An AsyncKernelManager whose kernel process is already starting, or None."""
    try:
        import asyncio

        manager, client = _kernel_classes()
        km = manager(kernel_name=kernel_name)
        km.client_factory = client
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(
                km.start_kernel(cwd=cwd, extra_arguments=["--HistoryManager.hist_file=:memory:"])
            )
        finally:
            loop.close()
        return km
    except Exception:
        return None


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def _cell_error(nb) -> tuple[int | None, str | None, str | None, list[str]]:
    """The first code cell whose papermill status is failed, with its error output."""
    for index, cell in enumerate(nb.cells):
        pm = cell.get("metadata", {}).get("papermill", {})
        if pm.get("exception") or pm.get("status") == "failed":
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    tb = [_strip_ansi(line) for line in out.get("traceback", [])]
                    return index, out.get("ename"), out.get("evalue"), tb
            return index, None, None, []
    return None, None, None, []


def _cell_name(nb, index: int | None) -> str:
    """'cell 3' in the numbering the student sees: 1-based, papermill's injected
    parameters cell not counted."""
    if index is None:
        return "the notebook"
    injected = sum(
        1 for c in nb.cells[:index] if INJECTED_TAG in c.get("metadata", {}).get("tags", [])
    )
    return f"cell {index + 1 - injected}"


def _durations(nb) -> list[float | None]:
    out: list[float | None] = []
    for cell in nb.cells:
        pm = cell.get("metadata", {}).get("papermill", {})
        duration = pm.get("duration")
        out.append(float(duration) if isinstance(duration, (int, float)) else None)
    return out


def notebooks_of(job: dict) -> list[dict]:
    """The notebooks a job runs, in order, each with its own settings.  A plain job has
    one (``input.ipynb``); a group job lists several under ``"notebooks"``, which share the
    sandbox and ``files/`` but each get a fresh kernel and their own limits."""
    items = job.get("notebooks")
    if not items:
        return [{**job, "input": "input.ipynb", "parameters": "parameters.json",
                 "output": "executed.ipynb", "result": "result.json"}]
    return [{**{k: v for k, v in job.items() if k != "notebooks"}, **item} for item in items]


def _kernel_process(km):
    """The kernel's ``subprocess.Popen`` behind a kernel manager, or None."""
    return getattr(getattr(km, "provisioner", None), "process", None)


def _alive(km) -> bool:
    process = _kernel_process(km)
    return process is not None and process.poll() is None


def run(job_dir: str, settings: dict | None = None, *, km=None,
        next_settings: dict | None = None) -> tuple[dict, object, object]:
    """Run one notebook of the job in ``job_dir`` (``settings``: one entry of
    :func:`notebooks_of`; default: the job's only notebook).

    ``km``: a kernel already launched for this notebook (the spare from the previous
    one), used when it is still alive.  ``next_settings``: the group's next notebook,
    whose kernel is launched now, so it boots while this notebook runs (kernel start-up
    is most of a short notebook's cost).  Returns (result, notebook, that spare kernel
    manager or None)."""
    global SPARE_PID
    started = time.monotonic()
    if settings is None:
        with open(os.path.join(job_dir, "job.json"), encoding="utf-8") as fh:
            settings = notebooks_of(json.load(fh))[0]
    job = settings
    with open(os.path.join(job_dir, job["parameters"]), encoding="utf-8") as fh:
        parameters = json.load(fh)
    timeout = job.get("timeout")
    STATE.next_notebook(int(job.get("output_limit") or 0), started + float(timeout) if timeout else None)
    if not WATCHDOG.is_alive():
        WATCHDOG.start()

    work_dir = os.path.join(job_dir, "files")
    # Start the kernel first: it boots in its own process while this one imports
    # papermill (~0.4 s saved per notebook).  If that fails, nbclient starts one itself.
    # A spare launched during the previous notebook is used only if it is alive and is
    # the kernel this notebook asks for; it is this notebook's from now on.
    SPARE_PID = None
    kernel_name = job.get("kernel_name", "python3")
    if km is not None and not (_alive(km) and km.kernel_name == kernel_name):
        _kill_kernel(km)
        km = None
    if km is None:
        km = _start_kernel_early(kernel_name, work_dir)
    spare = None
    if next_settings is not None:
        spare = _start_kernel_early(next_settings.get("kernel_name", "python3"), work_dir)
        SPARE_PID = getattr(_kernel_process(spare), "pid", None)

    import papermill
    from papermill.engines import papermill_engines

    if "coursebench" not in papermill_engines._engines:
        _skip_validation()
        papermill_engines.register("coursebench", _make_engine())
    input_path = os.path.join(job_dir, job["input"])
    output_path = os.path.join(job_dir, job["output"])

    result: dict = {
        "version": RESULT_VERSION,
        "status": "ok",
        "failed_cell": None,
        "ename": None,
        "evalue": None,
        "traceback": [],
        "cell_durations": [],
        "output_truncated": False,
        "versions": package_versions(),
        "message": "",
    }
    nb = None
    try:
        nb = papermill.execute_notebook(
            input_path,
            output_path,
            parameters=parameters,
            engine_name="coursebench",
            kernel_name=job.get("kernel_name", "python3"),
            language="python",
            cwd=work_dir,
            progress_bar=False,
            log_output=False,
            execution_timeout=job.get("cell_timeout"),
            start_timeout=job.get("start_timeout", 60),
            km=km,
        )
    except BaseException as exc:
        name = type(exc).__name__
        if STATE.timed_out:
            result["status"] = "timeout"
            result["message"] = (
                f"the notebook ran past its time limit of {timeout:g} s"
                + (f" in cell {STATE.cell_index}" if STATE.cell_index is not None else "")
            )
        elif name == "CellTimeoutError":
            result["status"] = "timeout"
            result["message"] = (
                f"cell {STATE.cell_index} ran past the per-cell limit of "
                f"{job.get('cell_timeout'):g} s"
            )
        elif name == "DeadKernelError":
            result["status"] = "killed"
            result["ename"] = name
            result["kernel_exit"] = _kernel_exit(km)
            result["message"] = (
                f"the Python kernel died while running cell {STATE.cell_index} "
                "(a crash, os._exit(), or a limit the sandbox enforces)"
            )
        elif name == "PapermillExecutionError":
            result["status"] = "error"
        elif name in ("NoSuchKernel",):
            result["status"] = "invalid"
            result["message"] = f"no such kernel: {exc}"
        else:
            result["status"] = "error"
            result["ename"] = name
            result["evalue"] = str(exc)
            result["traceback"] = traceback.format_exception(exc)[-20:]
            result["message"] = f"the runner failed before the notebook finished: {name}: {exc}"
        result["failed_cell"] = STATE.cell_index
    if nb is None and os.path.exists(output_path):
        try:
            import nbformat

            nb = nbformat.read(output_path, as_version=4)
        except Exception:
            nb = None
    if nb is not None:
        # papermill adds red "an exception was encountered" banner cells; they are not
        # the student's cells and would confuse graders, so they go.
        nb.cells = [c for c in nb.cells if ERROR_TAG not in c.get("metadata", {}).get("tags", [])]
        index, ename, evalue, tb = _cell_error(nb)
        if index is not None and result["status"] in ("error", "ok"):
            result["status"] = "error"
            result["failed_cell"] = index
            result["ename"], result["evalue"], result["traceback"] = ename, evalue, tb
            result["message"] = f"{_cell_name(nb, index)} raised {ename}: {evalue}"
        elif result["status"] in ("timeout", "killed") and index is not None and not result["ename"]:
            result["failed_cell"] = index
        result["cell_durations"] = _durations(nb)
    if nb is not None and result["status"] in ("timeout", "killed") and result["failed_cell"] is not None:
        raw = f"cell {STATE.cell_index}"
        result["message"] = result["message"].replace(raw, _cell_name(nb, result["failed_cell"]))
    result["output_truncated"] = STATE.truncated
    if STATE.truncated and not result["message"]:
        result["message"] = f"output truncated at {_human(STATE.output_limit)}"
    STATE.notebook_done()
    result["worker_seconds"] = round(time.monotonic() - started, 4)
    return result, nb, spare


def _kill_kernel(km) -> None:
    process = _kernel_process(km)
    if process is None:
        return
    try:
        process.kill()
        process.wait()
    except OSError:
        pass


def _skip_validation() -> None:
    """nbformat checks a notebook against its JSON schema on every read and write, and
    only logs what it finds; papermill reads once and writes several times.  In here that
    is wasted work (compiling the schema alone costs ~0.15 s per process): the host
    validated the input before the run and validates the answer after it, and trusts
    nothing in between.  Only this worker process is affected, never the kernel."""
    import nbformat

    nbformat.validate = lambda *args, **kwargs: None


def _kernel_exit(km) -> int | None:
    """The dead kernel's exit status (-9: SIGKILL, e.g. the kernel OOM killer), if known."""
    for manager in (km, getattr(STATE.client, "km", None)):
        process = _kernel_process(manager)
        if process is not None:
            try:
                for _ in range(20):
                    code = process.poll()
                    if code is not None:
                        return int(code)
                    time.sleep(0.05)
            except Exception:
                return None
    return None


def _no_dumping() -> None:
    """Make this process un-ptrace-able by the code it runs (same uid): the kernel must
    not read the worker's memory or write to its private result channel."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:
        pass


def main(argv: list[str]) -> int:
    """Run the job's notebooks in order; after each, send
    ``{"index": i, "result": ..., "notebook": ...}`` as one line of JSON on the ORIGINAL
    standard output, which only this process holds: before any kernel starts, fd 1 is
    pointed at stderr, so nothing the student's code writes can reach the host's result
    channel.  ``result.json`` (``result-N.json`` in a group) is also written in the job
    dir for people to read.  Between notebooks every process the previous one left is
    killed, so each notebook starts from a clean sandbox (its files stay, as in nbgrader).
    """
    if len(argv) != 2:
        print("usage: worker.py JOB_DIR", file=sys.stderr)
        return 2
    job_dir = argv[1]
    _no_dumping()
    _become_subreaper()
    channel = os.dup(1)  # non-inheritable (PEP 446): the kernel never gets it
    os.dup2(2, 1)
    with open(os.path.join(job_dir, "job.json"), encoding="utf-8") as fh:
        items = notebooks_of(json.load(fh))
    spare = None
    for index, settings in enumerate(items):
        following = items[index + 1] if index + 1 < len(items) else None
        result, nb, spare = run(job_dir, settings, km=spare, next_settings=following)
        notebook = json.loads(json.dumps(nb)) if nb is not None else None
        with open(os.path.join(job_dir, settings["result"]), "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=1)
        payload = json.dumps({"index": index, "result": result, "notebook": notebook}).encode("utf-8")
        view = memoryview(payload + b"\n")
        while view:
            written = os.write(channel, view)
            view = view[written:]
        _kill_children()  # the kernel and its leftovers: nothing may outlive a notebook
    os.close(channel)
    sys.stdout.flush()
    sys.stderr.flush()
    # Exit hard: a forked or stuck kernel thread must not keep the sandbox alive.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
