"""A throwaway ``dockerd`` for the docker tests and the docker benchmark, on a machine with
no running engine (root, Debian's docker.io).  Nothing else in coursebench starts one:
outside tests and benchmarks the engine is the machine's own."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .common import ImageError, cache_dir


@contextlib.contextmanager
def private_engine(data_root: Path | None = None, *, start_timeout: float = 90.0) -> Iterator[str]:
    """Start a throwaway ``dockerd``; yield its address; stop it by pid at the end.

    It has its own socket, exec root and pid file, and never creates a network
    (``--bridge=none --iptables=false --ip-forward=false``): containers run with network
    mode ``none`` and builds with ``host``.  ``data_root`` (default: a cached one under
    :func:`~coursebench.images.common.cache_dir`, shared between runs, one daemon at a
    time by a lock; a private temporary one while another holds it) keeps images between
    runs.
    """
    import fcntl

    exe = shutil.which("dockerd")
    if exe is None:
        raise ImageError("dockerd is not installed (apt-get install docker.io)", step="engine")
    if os.geteuid() != 0:
        raise ImageError("starting a private dockerd needs root", step="engine")
    private = None
    lock = None
    if data_root is None:
        lock = open(cache_dir() / "docker.lock", "w")  # held while the engine runs
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            data_root = cache_dir() / "docker"
        except BlockingIOError:
            lock.close()
            lock = None
            data_root = private = Path(tempfile.mkdtemp(prefix="coursebench-docker-", dir="/var/tmp"))
    run_dir = Path(tempfile.mkdtemp(prefix="cb-dockerd-", dir="/run" if os.path.isdir("/run") else None))
    host = f"unix://{run_dir / 'docker.sock'}"
    log_path = run_dir / "dockerd.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [exe, "--host", host, "--data-root", str(data_root), "--exec-root", str(run_dir / "exec"),
             "--pidfile", str(run_dir / "dockerd.pid"),
             "--bridge=none", "--iptables=false", "--ip-forward=false", "--ip-masq=false"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    try:
        import docker

        deadline = time.monotonic() + start_timeout
        while True:
            try:
                docker.DockerClient(base_url=host, timeout=10).ping()
                break
            except Exception as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = log_path.read_text(errors="replace")[-3000:]
                    raise ImageError(f"dockerd did not start ({exc}); its log:\n{tail}", step="engine") from None
                time.sleep(0.3)
        yield host
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(run_dir, ignore_errors=True)
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)
        if lock is not None:
            lock.close()
