"""The ``bwrap`` backend: bubblewrap namespaces around the worker.

Inside the sandbox the notebook sees:

* a read-only runtime: ``/usr`` (and its ``/lib``, ``/bin`` links), the Python
  installation and virtual environment that run the worker, a few harmless ``/etc``
  files, and ``worker.py`` itself;
* its job directory at ``/job`` (read-write, the only writable place besides a private
  tmpfs at ``/tmp``, which is also ``HOME``; its ``.etc/``, the sandbox's ``/etc/passwd``
  and ``/etc/group``, is read-only);
* its own pid, network (loopback only, so no network), IPC and UTS namespaces;
* for a GPU job, only its own ``/dev/nvidiaN`` nodes and the NVIDIA control devices
  (:mod:`.nvidia`); a CPU job sees no GPU device;
* an unprivileged uid: as root, bubblewrap starts without a user namespace and drops to
  a per-job uid with ``setpriv`` (no capabilities, no-new-privs); otherwise an
  unprivileged user namespace maps the caller to uid 65534.

It sees nothing of the course directory, the gradebook, hidden tests, other jobs, or
the host's HOME.  It dies with its parent (``--die-with-parent``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from functools import lru_cache
from pathlib import Path

from ..job import JobDir
from ..jobdirs import job_root
from .base import Outcome, register
from .nvidia import gpu_view
from .process import ProcessBackend, chown_tree, pick_sandbox_uid, python_for_sandbox, sandbox_env

ETC_FILES = (
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/fonts",
    "/etc/ssl/certs",
    "/etc/mime.types",
    "/etc/matplotlibrc",
)
TOP_LEVEL_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
JOB_MOUNT = "/job"
WORKER_MOUNT = "/opt/coursebench/worker.py"
#: worker.py compiled for the host's Python (which the sandbox runs): every sandbox would
#: otherwise compile its ~2,000 lines again (~35 ms of CPU); the source is bound beside it
#: for tracebacks
WORKER_CODE_MOUNT = "/opt/coursebench/worker.pyc"


@lru_cache(maxsize=1)
def _bwrap() -> str | None:
    return shutil.which("bwrap")


@register
class BwrapBackend(ProcessBackend):
    name = "bwrap"
    strength = 20

    @classmethod
    def available(cls) -> tuple[bool, str]:
        exe = _bwrap()
        if exe is None:
            return False, "bubblewrap is not installed (apt-get install bubblewrap)"
        probe = [exe, "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "--die-with-parent"]
        if os.geteuid() != 0:
            probe.append("--unshare-user")
        if os.geteuid() == 0 and not shutil.which("setpriv"):
            return False, "setpriv (util-linux) is missing; it drops root inside the sandbox"
        try:
            done = subprocess.run([*probe, "true"], capture_output=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, f"bubblewrap does not start: {exc}"
        if done.returncode != 0:
            why = done.stderr.decode(errors="replace").strip().splitlines()
            return False, f"bubblewrap cannot create namespaces here: {why[-1] if why else done.returncode}"
        return True, "bubblewrap namespaces, no network, read-only runtime"

    def run(self, job: JobDir, cancel: threading.Event) -> Outcome:
        """A warm sandbox of this pool slot when one fits (docs/warm.md), else a new one;
        this slot's next sandbox boots while this one runs."""
        from . import warm as sandboxes

        job.set_scratch(("/tmp", "/dev/shm", "/dev/mqueue"))  # the sandbox's own (HOME is /tmp)
        sandboxes.fit_preimport(job)
        key = sandboxes.key_of(self.name, job)
        try:
            started = sandboxes.take(key, job)
        except OSError:
            started = None
        if started is None:
            started = self.launch(job)
        if isinstance(started, Outcome):
            return started
        sandboxes.boot(self, key, job)
        return self.supervise(job, started, cancel)

    def command(self, job: JobDir) -> tuple[list[str], dict[str, str], str]:
        exe, python_dirs = python_for_sandbox()
        root = os.geteuid() == 0
        if root and job.sandbox_uid is None:
            job.sandbox_uid = pick_sandbox_uid()
        args: list[str] = [
            _bwrap() or "bwrap",
            "--die-with-parent",
            "--new-session",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--hostname",
            "sandbox",
        ]
        made: set[str] = {"/"}
        args += ["--ro-bind", "/usr", "/usr"]
        made.add("/usr")
        for link in TOP_LEVEL_LINKS:
            path = Path(link)
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), link]
            elif path.is_dir():
                args += ["--ro-bind", link, link]
            made.add(link)
        args += ["--proc", "/proc", "--dev", "/dev"]
        tmp_size = ["--size", str(job.limits.disk)] if job.limits.disk else []
        args += ["--perms", "1777", *tmp_size, "--tmpfs", "/tmp"]
        args += ["--perms", "1777", *tmp_size, "--tmpfs", "/dev/shm"]
        args += ["--mqueue", "/dev/mqueue"]  # the sandbox's POSIX message queues, where its worker sees them
        made.update({"/proc", "/dev", "/tmp", "/dev/shm", "/dev/mqueue"})
        for etc in ETC_FILES:
            if os.path.exists(etc):
                args += _parents(etc, made) + ["--ro-bind", etc, etc]
        for directory in python_dirs:
            if str(directory).startswith("/usr/"):
                continue
            args += _parents(str(directory), made) + ["--ro-bind", str(directory), str(directory)]
        args += _parents(WORKER_MOUNT, made) + ["--ro-bind", str(job.worker), WORKER_MOUNT]
        code = compiled_worker(job.worker)
        if code is not None:
            args += ["--ro-bind", str(code), WORKER_CODE_MOUNT]
        gpus = gpu_view(job.gpu_devices)  # only the job's own /dev/nvidiaN, plus the control devices
        for host, inside in gpus.binds:
            args += _parents(inside, made) + ["--dev-bind", str(host), inside]
        passwd, group = self._identity_files(job)
        args += _parents("/etc/passwd", made) + ["--ro-bind", str(passwd), "/etc/passwd"]
        args += ["--ro-bind", str(group), "/etc/group"]
        args += ["--bind", str(job.path), JOB_MOUNT]
        # the identity files are bound at /etc read-only, but /job would show them
        # writable (the same inodes): a run of a separate group could leave a message in
        # /etc/passwd for the runs after it.  Their folder is bound read-only over itself.
        args += ["--ro-bind", str(passwd.parent), f"{JOB_MOUNT}/{passwd.parent.name}"]
        args += ["--chdir", f"{JOB_MOUNT}/files"]
        env = sandbox_env(job, python_bin=str(Path(exe).parent))
        if job.gpu_devices:
            # CUDA numbers the GPUs it can open from 0, as in a container: name them by
            # UUID where the driver gives one, else let CUDA see the nodes it has.
            env.pop("CUDA_VISIBLE_DEVICES", None)
            if gpus.uuids:
                env["CUDA_VISIBLE_DEVICES"] = ",".join(gpus.uuids)
            env["NVIDIA_VISIBLE_DEVICES"] = ",".join(job.gpu_devices)
        else:
            env["NVIDIA_VISIBLE_DEVICES"] = "void"
        args += ["--clearenv"]
        for key, value in env.items():
            args += ["--setenv", key, value]
        worker = [exe, WORKER_CODE_MOUNT if code is not None else WORKER_MOUNT, JOB_MOUNT]
        if root:
            uid = job.sandbox_uid
            assert uid is not None
            chown_tree(job.path, uid)
            limit = job.limits.pids
            drop = [
                "setpriv",
                f"--reuid={uid}",
                f"--regid={uid}",
                "--clear-groups",
                "--no-new-privs",
                "--inh-caps=-all",
                "--bounding-set=-all",
            ]
            nproc = ["prlimit", f"--nproc={limit}:{limit}", "--"] if limit else []
            argv = [*args, "--", *nproc, *drop, *worker]
        else:
            argv = [*args, "--unshare-user", "--uid", "65534", "--gid", "65534", "--", *worker]
        return argv, {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, str(job.path)

    def _identity_files(self, job: JobDir) -> tuple[Path, Path]:
        uid = job.sandbox_uid if job.sandbox_uid is not None else 65534
        meta = job.path / ".etc"
        meta.mkdir(exist_ok=True)
        passwd = meta / "passwd"
        group = meta / "group"
        passwd.write_text(f"root:x:0:0:root:/root:/bin/sh\nstudent:x:{uid}:{uid}:student:/tmp:/bin/sh\n")
        group.write_text(f"root:x:0:\nstudent:x:{uid}:\n")
        return passwd, group


def compiled_worker(source: Path) -> Path | None:
    """``source`` compiled for this Python, kept in the job root under its content's hash
    (readable by every sandbox uid, writable by this user only); None where it cannot be
    written (the sandbox then runs the source)."""
    import py_compile
    import stat
    import sys
    import tempfile

    try:
        st = source.stat()
        root = job_root()
        target = root / f".worker-{_digest(str(source), st.st_mtime_ns, st.st_size)}.{sys.implementation.cache_tag}.pyc"
        try:
            have = os.lstat(target)
            if stat.S_ISREG(have.st_mode) and have.st_uid == os.geteuid() and not have.st_mode & 0o022:
                return target
        except FileNotFoundError:
            pass
        fd, tmp = tempfile.mkstemp(prefix=".worker-", suffix=".tmp", dir=root)
        os.close(fd)
        try:
            py_compile.compile(str(source), cfile=tmp, dfile=WORKER_MOUNT, doraise=True,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
        _prune_compiled(root, keep=target)
        return target
    except (OSError, py_compile.PyCompileError):
        return None


def _prune_compiled(root: Path, keep: Path, older_than: float = 3600.0) -> None:
    """Remove other versions' compiled workers made over an hour ago (a process still
    running an older coursebench compiles its own again when it next needs it; a sandbox
    that has one bound keeps it open)."""
    import time

    for path in root.glob(".worker-*.pyc"):
        try:
            if path != keep and time.time() - path.stat().st_mtime > older_than:
                path.unlink()
        except OSError:
            pass


@lru_cache(maxsize=8)
def _digest(source: str, mtime_ns: int, size: int) -> str:
    import hashlib

    return hashlib.sha256(Path(source).read_bytes()).hexdigest()[:24]


def _parents(path: str, made: set[str]) -> list[str]:
    """``--dir`` arguments creating the parents of ``path`` world-readable (bubblewrap
    would otherwise make them 0700 as root, hiding the runtime from the sandbox uid)."""
    args: list[str] = []
    parts = Path(path).parts
    current = ""
    for part in parts[1:-1]:
        current = f"{current}/{part}"
        if current not in made:
            args += ["--perms", "0755", "--dir", current]
            made.add(current)
    made.add(path)
    return args
