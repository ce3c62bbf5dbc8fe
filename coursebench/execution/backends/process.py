"""Host-side supervision shared by the process backends (bubblewrap, subprocess).

Starts the sandbox as a child process in its own session (and, when possible, its own
cgroup), reads the worker's answer from its stdout, keeps a bounded tail of its stderr,
and enforces the wall-clock timeout and the memory limit from outside.  When the sandbox
ends, everything it started is killed.
"""

from __future__ import annotations

import collections
import math
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..cgroups import JobCgroup, cached_support
from ..job import JobDir
from .base import Backend, Outcome

#: Extra seconds the host waits past the notebook's timeout before killing the sandbox:
#: the worker stops the kernel itself at the timeout and needs a moment to report.
HARD_KILL_GRACE = 8.0
POLL = 0.05
LOG_TAIL_BYTES = 16 * 1024
#: Environment variables passed from the host into every sandbox when set.
PASSTHROUGH_ENV = ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL", "TZ")
SANDBOX_UID_RANGE = (100_000, 160_000)


def sandbox_env(job: JobDir, *, python_bin: str, home: str = "/tmp") -> dict[str, str]:
    threads = str(max(1, math.ceil(job.limits.cpus or os.cpu_count() or 1)))
    env = {
        "PATH": f"{python_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{home}/.matplotlib",
        "IPYTHONDIR": f"{home}/.ipython",
        "JUPYTER_RUNTIME_DIR": f"{home}/.jupyter-runtime",
        "JUPYTER_PLATFORM_DIRS": "1",
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "TF_NUM_INTRAOP_THREADS": threads,
        "TF_NUM_INTEROP_THREADS": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "CUDA_VISIBLE_DEVICES": ",".join(job.gpu_devices),
        "COURSEBENCH_SANDBOX": "1",
    }
    for name in PASSTHROUGH_ENV:
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def pick_sandbox_uid() -> int:
    """A uid no other running job is likely to have: RLIMIT_NPROC counts per uid."""
    return random.randrange(*SANDBOX_UID_RANGE)


class _Reader(threading.Thread):
    def __init__(self, stream, *, keep_head: int | None = None, keep_tail: int | None = None):
        super().__init__(daemon=True)
        self.stream, self.keep_head, self.keep_tail = stream, keep_head, keep_tail
        self.head = bytearray()
        self.tail: collections.deque[bytes] = collections.deque()
        self.tail_size = 0
        self.overflow = False

    def run(self) -> None:
        while True:
            chunk = self.stream.read1(65536) if hasattr(self.stream, "read1") else self.stream.read(65536)
            if not chunk:
                break
            if self.keep_head is not None:
                if len(self.head) + len(chunk) > self.keep_head:
                    self.overflow = True
                else:
                    self.head += chunk
            if self.keep_tail is not None:
                self.tail.append(chunk)
                self.tail_size += len(chunk)
                while self.tail_size > self.keep_tail and len(self.tail) > 1:
                    self.tail_size -= len(self.tail.popleft())
        self.stream.close()

    def tail_text(self) -> str:
        data = b"".join(self.tail)[-(self.keep_tail or 0):]
        return data.decode("utf-8", "replace")


@dataclass
class Started:
    """A sandbox process the host started, with its cgroup and the readers of its output."""

    proc: subprocess.Popen
    cgroup: JobCgroup | None
    out: _Reader
    err: _Reader


class ProcessBackend(Backend):
    """Runs a command built by :meth:`command` and supervises it."""

    def command(self, job: JobDir) -> tuple[list[str], dict[str, str], str]:
        raise NotImplementedError

    def payload_limit(self, job: JobDir) -> int:
        return (job.limits.output or 0) + 64 * 1024**2

    def run(self, job: JobDir, cancel: threading.Event) -> Outcome:
        started = self.launch(job)
        return started if isinstance(started, Outcome) else self.supervise(job, started, cancel)

    def launch(self, job: JobDir, boot: list[str] | None = None) -> Started | Outcome:
        """Start the sandbox for ``job`` (its cgroup, the process, the readers of its output).
        ``boot``: extra worker arguments for a warm sandbox booted before its job (its stdin
        is then a pipe the host writes "go" to; see :mod:`coursebench.execution.backends.warm`)."""
        limits = job.limits
        cgroup = None
        if cached_support()[0]:
            try:
                cgroup = JobCgroup.create(limits)
            except OSError:
                cgroup = None
        try:
            argv, env, cwd = self.command(job)
        except Exception as exc:
            if cgroup:
                cgroup.destroy()
            return Outcome(None, None, infrastructure_error=f"cannot build the sandbox: {exc}")
        argv = [*argv, *(boot or [])]
        if cgroup:
            joins = " ".join(str(p) for p in cgroup.procs_files)
            script = 'for f in $0; do echo $$ > "$f" || exit 125; done; exec "$@"'
            argv = ["/bin/sh", "-c", script, joins, *argv]
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if boot else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as exc:
            if cgroup:
                cgroup.destroy()
            return Outcome(None, None, infrastructure_error=f"cannot start {argv[0]}: {exc}")
        out = _Reader(proc.stdout, keep_head=self.payload_limit(job))
        err = _Reader(proc.stderr, keep_tail=LOG_TAIL_BYTES)
        out.start()
        err.start()
        return Started(proc, cgroup, out, err)

    def supervise(self, job: JobDir, sandbox: Started, cancel: threading.Event) -> Outcome:
        """Watch a started sandbox to its end: the timeout (from now), memory, disk."""
        limits = job.limits
        proc, cgroup, out, err = sandbox.proc, sandbox.cgroup, sandbox.out, sandbox.err
        started = time.monotonic()
        stopped: str | None = None
        peak = 0
        watcher_ooms = 0
        deadline = started + limits.timeout + HARD_KILL_GRACE
        next_disk_check = started + 1.0
        disk_used = 0
        try:
            while proc.poll() is None:
                if cancel.is_set():
                    stopped = "cancelled"
                    break
                if time.monotonic() > deadline:
                    stopped = "timeout"
                    break
                if cgroup is None and limits.memory:
                    rss, victim = _tree_rss(proc.pid)
                    peak = max(peak, rss)
                    if rss > limits.memory:
                        watcher_ooms += 1
                        if victim is None or watcher_ooms > 20:
                            stopped = "oom"
                            break
                        _kill(victim)
                if limits.disk and time.monotonic() > next_disk_check:
                    disk_used = _dir_size(job.path)
                    if disk_used > limits.disk:
                        stopped = "disk"
                        break
                    next_disk_check = time.monotonic() + 1.0
                time.sleep(POLL)
        except BaseException:
            stopped = "cancelled"
            raise
        finally:
            if stopped:
                self._kill_everything(proc, cgroup)
            else:
                # The worker is done; nothing it started may outlive it.
                self._kill_everything(proc, cgroup, wait_first=True)
            out.join(5)
            err.join(5)
            oom_kills = watcher_ooms
            pids_refused = 0
            if cgroup is not None:
                oom_kills += cgroup.oom_kills()
                pids_refused = cgroup.pids_refused()
                peak = max(peak, cgroup.peak_memory() or 0)
                cgroup.destroy()
        payload = None if out.overflow else bytes(out.head) or None
        return Outcome(
            payload=payload,
            returncode=proc.returncode,
            stopped=stopped,
            oom_kills=oom_kills,
            pids_refused=pids_refused,
            peak_memory=peak or None,
            log_tail=err.tail_text(),
            extra={"payload_overflow": out.overflow},
        )

    def _kill_everything(self, proc: subprocess.Popen, cgroup: JobCgroup | None, wait_first: bool = False) -> None:
        if wait_first:
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        descendants = _descendants(proc.pid)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for pid in descendants:
            _kill(pid)
        if cgroup is not None:
            cgroup.kill_all()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a process in D state
            pass


def _dir_size(path: Path, cap: int = 200_000) -> int:
    """Bytes under ``path`` (not following links), looking at no more than ``cap`` entries."""
    total, seen, stack = 0, 0, [str(path)]
    while stack and seen < cap:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    seen += 1
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        else:
                            total += entry.stat(follow_symlinks=False).st_blocks * 512
                    except OSError:
                        continue
        except OSError:
            continue
    return total


def _descendants(pid: int) -> list[int]:
    try:
        import psutil

        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except Exception:
        return []


def _tree_rss(pid: int) -> tuple[int, int | None]:
    """Total RSS of ``pid``'s tree and the biggest process that is not the worker."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0, None
    total, victim, victim_rss = 0, None, -1
    for p in procs:
        try:
            rss = p.memory_info().rss
            cmdline = " ".join(p.cmdline())
        except psutil.Error:
            continue
        total += rss
        # a kernel forked from the warm template (docs/warm.md) keeps the template's
        # command line (worker.py --template) but is named cb-kernel: it can be the victim
        if p.name() != "cb-kernel" and ("worker.py" in cmdline or p.pid == pid or p.name() == "bwrap"):
            continue
        if rss > victim_rss:
            victim, victim_rss = p.pid, rss
    return total, victim


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def python_for_sandbox() -> tuple[str, list[Path]]:
    """The interpreter the sandbox runs and the directories it needs to see."""
    exe = sys.executable
    dirs = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)}
    return exe, sorted(dirs)


def chown_tree(path: Path, uid: int) -> None:
    """Give the job directory to the sandbox uid (and only it: mode 0700)."""
    os.chown(path, uid, uid)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), uid, uid, follow_symlinks=False)
    os.chmod(path, 0o700)
