"""The ``docker`` backend: each job in its own locked-down container (Docker SDK).

Per job the container gets:

* no network (``network_disabled`` and network mode ``none``: loopback only, which the
  kernel and the worker talk over);
* ``mem_limit`` = ``memswap_limit`` (no swap), ``nano_cpus``, ``pids_limit`` from the
  job's :class:`~coursebench.execution.limits.Limits`, no core dumps; the disk limit by
  watching the job directory (as the process backends do) and by the tmpfs sizes;
* a read-only root filesystem, tmpfs at ``/tmp`` and at ``HOME``;
* a non-root user (a per-job uid when coursebench runs as root, else the caller's),
  ``cap_drop=ALL``, ``no-new-privileges``, an init process that reaps zombies;
* the job directory bind-mounted read-write at ``/job`` and nothing else of the host;
* GPUs only for GPU jobs, by the explicit device ids the pool gave them
  (``device_requests``); CPU jobs get none and ``NVIDIA_VISIBLE_DEVICES=void``.

The container runs ``python /opt/coursebench/worker.py /job`` (the worker is baked into
the image; its SHA-256 label must match the host's ``worker.py``).  The worker's answer
is the container's *stdout* (it points its own fd 1 at stderr before the kernel starts);
stderr is kept as the log tail.  The container is removed in every case; containers
orphaned by a crashed host process are reaped (by label) the next time the backend runs,
and an in-container ``timeout`` bounds their life even if nobody comes back.

Settings: ``COURSEBENCH_DOCKER_HOST`` (else ``DOCKER_HOST``, else the default socket) and
``COURSEBENCH_DOCKER_IMAGE`` / ``COURSEBENCH_DOCKER_GPU_IMAGE`` (else course.toml's
``[execution] image`` / ``gpu_image``).  The engine must share the job directory's
filesystem (a local engine, or a grader container that mounts the job root at the same
path; see docker/README.md).
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...settings import course_table, get_settings
from ..job import WORKER_PATH, JobDir
from .base import Backend, Outcome, register
from .process import HARD_KILL_GRACE, LOG_TAIL_BYTES, _dir_size, chown_tree, pick_sandbox_uid, sandbox_env

if TYPE_CHECKING:
    import docker as docker_sdk

DEFAULT_IMAGE = "coursebench-runtime:latest"
DEFAULT_GPU_IMAGE = "coursebench-gpu:latest"
WORKER_LABEL = "org.coursebench.worker-sha256"
SANDBOX_LABEL = "org.coursebench.sandbox"
OWNER_LABEL = "org.coursebench.owner"
DEADLINE_LABEL = "org.coursebench.deadline"
JOB_LABEL = "org.coursebench.job"
JOB_MOUNT = "/job"
CONTAINER_WORKER = "/opt/coursebench/worker.py"
CONTAINER_PYTHON_BIN = "/opt/venv/bin"
CONTAINER_HOME = "/home/student"
#: Seconds allowed for the engine to create and start a container, on top of the timeout.
START_GRACE = 30.0
POLL = 0.05
#: Containers of another host (a shared engine) are reaped this long after their deadline.
FOREIGN_REAP_AFTER = 600.0


@dataclass(frozen=True)
class DockerSettings:
    host: str | None
    image: str
    gpu_image: str

    @classmethod
    def current(cls) -> DockerSettings:
        settings = get_settings()
        image, gpu_image = DEFAULT_IMAGE, DEFAULT_GPU_IMAGE
        if not (settings.docker_image and settings.docker_gpu_image):
            # course.toml's [execution] image / gpu_image (the course model validates the
            # file; an unreadable one is reported there, and the defaults hold here)
            execution = course_table("execution")
            image = execution.get("image") if isinstance(execution.get("image"), str) else image
            gpu = execution.get("gpu_image")
            gpu_image = gpu if isinstance(gpu, str) else gpu_image
        return cls(
            host=settings.engine_host,
            image=settings.docker_image or image,
            gpu_image=settings.docker_gpu_image or gpu_image,
        )

    @property
    def where(self) -> str:
        return self.host or "the default socket (unix:///var/run/docker.sock)"


_clients: dict[tuple[str | None, int], Any] = {}
_clients_lock = threading.Lock()
_reaped: set[str | None] = set()


def engine_client(host: str | None, timeout: int = 60) -> docker_sdk.DockerClient:
    """A (cached) client for the engine at ``host``; raises when the SDK is missing."""
    import docker

    with _clients_lock:
        engine = _clients.get((host, timeout))
        if engine is None:
            engine = docker.DockerClient(base_url=host, timeout=timeout) if host else docker.from_env(timeout=timeout)
            _clients[(host, timeout)] = engine
        return engine


def worker_sha256() -> str:
    return hashlib.sha256(WORKER_PATH.read_bytes()).hexdigest()


def stale_image_reason(image: Any, name: str) -> str | None:
    """Why ``image`` cannot run this checkout's jobs (its worker differs), or None."""
    label = (image.labels or {}).get(WORKER_LABEL)
    if label == worker_sha256():
        return None
    what = "has no worker label" if not label or label == "unknown" else "was built from another worker.py"
    return (f"the image {name} {what}; rebuild it so it runs this coursebench's worker: "
            f"python -m coursebench.images build runtime (or make images)")


def gpu_device_requests(devices: list[str]) -> list[Any]:
    """``device_requests`` for exactly ``devices`` (none for a CPU job)."""
    if not devices:
        return []
    from docker.types import DeviceRequest

    return [DeviceRequest(device_ids=[str(d) for d in devices], capabilities=[["gpu"]])]


def container_env(job: JobDir) -> dict[str, str]:
    env = sandbox_env(job, python_bin=CONTAINER_PYTHON_BIN, home=CONTAINER_HOME)
    if job.gpu_devices:
        # Inside the container its devices are renumbered from 0: no CUDA_VISIBLE_DEVICES.
        env.pop("CUDA_VISIBLE_DEVICES", None)
        env["NVIDIA_VISIBLE_DEVICES"] = ",".join(str(d) for d in job.gpu_devices)
    else:
        env["CUDA_VISIBLE_DEVICES"] = ""
        env["NVIDIA_VISIBLE_DEVICES"] = "void"  # the NVIDIA runtime, if default, adds no GPU
    return env


def container_spec(job: JobDir, image: str, *, user: str, labels: dict[str, str]) -> dict[str, Any]:
    """The keyword arguments of ``containers.create`` for ``job`` (pure: no engine call)."""
    from docker.types import LogConfig, Mount, Ulimit

    limits = job.limits
    uid, _, gid = user.partition(":")
    hard = int(limits.timeout + HARD_KILL_GRACE + START_GRACE)
    # tmpfs pages count against the memory limit too; their size is the disk limit.
    scratch = getattr(limits, "disk", None) or 1024**3
    spec: dict[str, Any] = {
        "image": image,
        # `timeout` bounds the container's life even if the host process dies with it.
        "entrypoint": ["timeout", "-s", "KILL", f"{hard}s"],
        "command": [f"{CONTAINER_PYTHON_BIN}/python", CONTAINER_WORKER, JOB_MOUNT],
        "user": user,
        "working_dir": f"{JOB_MOUNT}/files",
        "environment": container_env(job),
        "hostname": "sandbox",
        "network_disabled": True,
        "network_mode": "none",
        "read_only": True,
        "tmpfs": {
            "/tmp": f"rw,nosuid,nodev,size={scratch},mode=1777",
            CONTAINER_HOME: f"rw,nosuid,nodev,size={scratch},mode=0700,uid={uid},gid={gid or uid}",
        },
        "mounts": [Mount(target=JOB_MOUNT, source=str(job.path), type="bind", read_only=False)],
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "init": True,
        "ulimits": [Ulimit(name="core", soft=0, hard=0)],
        "shm_size": "64m",
        "log_config": LogConfig(type=LogConfig.types.NONE),
        "labels": labels,
        "device_requests": gpu_device_requests(list(job.gpu_devices)),
        "detach": True,
        "stdin_open": False,
        "tty": False,
    }
    if limits.memory:
        spec["mem_limit"] = limits.memory
        spec["memswap_limit"] = limits.memory
    if limits.cpus:
        spec["nano_cpus"] = int(limits.cpus * 1e9)
    if limits.pids:
        spec["pids_limit"] = limits.pids
    return spec


def _owner() -> str:
    created = 0.0
    try:
        import psutil

        created = psutil.Process().create_time()
    except Exception:
        pass
    return f"{socket.gethostname()}:{os.getpid()}:{created:.2f}"


def _owner_alive(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_text, _, created = rest.partition(":")
    if host != socket.gethostname():
        return True  # not ours to judge; the deadline decides
    try:
        import psutil

        proc = psutil.Process(int(pid_text))
        return abs(proc.create_time() - float(created or 0)) < 1.0
    except Exception:
        return False


def reap_stale(engine: docker_sdk.DockerClient) -> list[str]:
    """Remove coursebench sandbox containers whose host process is gone (a crash, a kill -9)
    or, for another host's, long past their deadline.  Returns the ids removed."""
    removed = []
    now = time.time()
    for container in engine.containers.list(all=True, filters={"label": SANDBOX_LABEL}):
        labels = container.labels or {}
        owner = labels.get(OWNER_LABEL, "")
        try:
            deadline = float(labels.get(DEADLINE_LABEL, "0"))
        except ValueError:
            deadline = 0.0
        mine = owner.partition(":")[0] == socket.gethostname()
        if (mine and not _owner_alive(owner)) or (not mine and now > deadline + FOREIGN_REAP_AFTER):
            try:
                container.remove(force=True)
                removed.append(container.id)
            except Exception:
                pass
    return removed


class _StreamReader(threading.Thread):
    """Reads the demultiplexed attach stream: stdout (the answer, capped) and a tail of stderr."""

    def __init__(self, stream: Any, payload_limit: int) -> None:
        super().__init__(daemon=True)
        self.stream, self.limit = stream, payload_limit
        self.payload = bytearray()
        self.overflow = False
        self.tail: collections.deque[bytes] = collections.deque()
        self.tail_size = 0
        self.error: str | None = None

    def run(self) -> None:
        try:
            for out, err in self.stream:
                if out:
                    if len(self.payload) + len(out) > self.limit:
                        self.overflow = True
                    else:
                        self.payload += out
                if err:
                    self.tail.append(err)
                    self.tail_size += len(err)
                    while self.tail_size > LOG_TAIL_BYTES and len(self.tail) > 1:
                        self.tail_size -= len(self.tail.popleft())
        except Exception as exc:  # the stream breaks when the container is killed
            self.error = f"{type(exc).__name__}: {exc}"

    def tail_text(self) -> str:
        return b"".join(self.tail)[-LOG_TAIL_BYTES:].decode("utf-8", "replace")


def _memory_file(pid: int) -> Path | None:
    """The host's cgroup file with the container's peak memory (when the engine is local)."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            candidate = Path("/sys/fs/cgroup/memory") / path.lstrip("/") / "memory.max_usage_in_bytes"
            if candidate.exists():
                return candidate
    for line in lines:
        if line.startswith("0::"):
            for root in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified")):
                candidate = root / line[3:].lstrip("/") / "memory.peak"
                if candidate.exists():
                    return candidate
    return None


@register
class DockerBackend(Backend):
    name = "docker"
    strength = 30

    @classmethod
    def available(cls) -> tuple[bool, str]:
        try:
            import docker  # noqa: F401
        except ImportError:
            return False, "the Docker SDK for Python is not installed (pip install 'coursebench[docker]')"
        settings = DockerSettings.current()
        try:
            engine = engine_client(settings.host, timeout=5)
            version = engine.version().get("Version", "?")
        except Exception as exc:
            first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            return False, f"no Docker engine answers at {settings.where} ({first}); start dockerd or set DOCKER_HOST"
        try:
            image = engine.images.get(settings.image)
        except Exception:
            return False, (f"the image {settings.image} is not in the engine at {settings.where}; build it: "
                           "make images (or python -m coursebench.images build runtime)")
        stale = stale_image_reason(image, settings.image)
        if stale:
            return False, stale
        return True, f"Docker {version}, image {settings.image} ({image.short_id}), no network, read-only root"

    def run(self, job: JobDir, cancel: threading.Event) -> Outcome:
        import docker

        settings = DockerSettings.current()
        name = settings.gpu_image if job.gpu_devices else settings.image
        try:
            engine = engine_client(settings.host)
            if settings.host not in _reaped:
                _reaped.add(settings.host)
                reap_stale(engine)
            image = engine.images.get(name)
        except docker.errors.ImageNotFound:
            return Outcome(None, None, infrastructure_error=(
                f"the image {name} is not in the Docker engine; build it: python -m coursebench.images build "
                + ("gpu" if job.gpu_devices else "runtime")))
        except Exception as exc:
            return Outcome(None, None, infrastructure_error=f"the Docker engine at {settings.where}: {exc}")
        stale = stale_image_reason(image, name)
        if stale:
            return Outcome(None, None, infrastructure_error=stale)
        _warm_groups(job)
        job.set_scratch(("/tmp", CONTAINER_HOME, "/dev/shm", "/dev/mqueue"))  # the container's own
        if os.geteuid() == 0:
            if job.sandbox_uid is None:
                job.sandbox_uid = pick_sandbox_uid()
            chown_tree(job.path, job.sandbox_uid)
            user = f"{job.sandbox_uid}:{job.sandbox_uid}"
        else:
            user = f"{os.getuid()}:{os.getgid()}"
        limits = job.limits
        labels = {
            SANDBOX_LABEL: "1",
            OWNER_LABEL: _owner(),
            DEADLINE_LABEL: f"{time.time() + limits.timeout + HARD_KILL_GRACE + START_GRACE:.0f}",
            JOB_LABEL: job.path.name,
        }
        extra: dict[str, Any] = {"image_name": name, "repo_digests": list(image.attrs.get("RepoDigests") or [])}
        container = None
        try:
            try:
                container = engine.containers.create(**self.spec(job, image.id, user=user, labels=labels))
                stream = engine.api.attach(container.id, stdout=True, stderr=True, stream=True, logs=False,
                                           demux=True)
                reader = _StreamReader(stream, (limits.output or 0) + 64 * 1024**2)
                reader.start()
                container.start()
            except docker.errors.APIError as exc:
                return Outcome(None, None, image=image.id, extra=extra,
                               infrastructure_error=f"the container did not start: {exc.explanation or exc}")
            started = time.monotonic()
            deadline = started + limits.timeout + HARD_KILL_GRACE
            stopped: str | None = None
            peak = 0
            memory_file = None
            next_sample = started
            try:
                while reader.is_alive():
                    if cancel.is_set():
                        stopped = "cancelled"
                        break
                    now = time.monotonic()
                    if now > deadline:
                        stopped = "timeout"
                        break
                    if now >= next_sample:
                        next_sample = now + 0.25  # peak memory: the cgroup goes with the container
                        if memory_file is None:
                            memory_file = self._memory_file(engine, container.id)
                        peak = max(peak, _read_int(memory_file))
                        disk = getattr(limits, "disk", None)
                        if disk and _dir_size(job.path) > disk:
                            stopped = "disk"
                            break
                    reader.join(POLL)
            except BaseException:
                stopped = "cancelled"
                raise
            finally:
                if stopped == "cancelled":
                    # An interrupt may have cut an HTTP exchange with the engine short, leaving
                    # the cached client's connection unusable: with a fresh one, remove the
                    # container at once (force kills it) instead of waiting for it to stop.
                    engine = _fresh_client(settings.host)
                    _remove(engine, container.id)
                    status = None
                else:
                    if stopped:
                        _quietly(lambda: engine.api.kill(container.id))
                    status = _wait(engine, container.id)
                reader.join(5)
                if reader.is_alive():
                    _quietly(stream.close)
            state = _quietly(lambda: engine.api.inspect_container(container.id)["State"]) or {}
            oom = bool(state.get("OOMKilled"))
            payload = None if reader.overflow else bytes(reader.payload) or None
            extra["payload_overflow"] = reader.overflow
            if reader.error:
                extra["stream_error"] = reader.error
            return Outcome(
                payload=payload,
                returncode=state.get("ExitCode", status),
                stopped=stopped,
                oom_kills=1 if oom else 0,
                peak_memory=peak or None,
                log_tail=reader.tail_text(),
                image=image.id,
                extra=extra,
            )
        finally:
            if container is not None:
                _remove(_fresh_client(settings.host), container.id)

    def spec(self, job: JobDir, image: str, *, user: str, labels: dict[str, str]) -> dict[str, Any]:
        """The container for ``job`` (see :func:`container_spec`)."""
        return container_spec(job, image, user=user, labels=labels)

    @staticmethod
    def _memory_file(engine: Any, container_id: str) -> Path | None:
        state = _quietly(lambda: engine.api.inspect_container(container_id)["State"]) or {}
        pid = int(state.get("Pid") or 0)
        return _memory_file(pid) if pid else None


def _read_int(path: Path | None) -> int:
    if path is None:
        return 0
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return 0


def _wait(engine: Any, container_id: str) -> int | None:
    try:
        return int(engine.api.wait(container_id, timeout=15).get("StatusCode"))
    except Exception:
        _quietly(lambda: engine.api.kill(container_id))
        return None


def _fresh_client(host: str | None, timeout: int = 20) -> Any:
    """An uncached client with a short timeout, for cleaning up after an interrupt."""
    import docker

    return docker.DockerClient(base_url=host, timeout=timeout) if host else docker.from_env(timeout=timeout)


def _remove(engine: Any, container_id: str) -> None:
    for _ in range(3):
        try:
            engine.api.remove_container(container_id, force=True, v=True)
            return
        except Exception as exc:
            if "No such container" in str(exc) or "is already in progress" in str(exc):
                return
            time.sleep(0.5)


def _quietly(fn: Any) -> Any:
    try:
        return fn()
    except Exception:
        return None


def _warm_groups(job: JobDir) -> None:
    """No container is booted ahead of its job: a group's later kernels are forked from a
    template the worker starts with the container (docs/warm.md).  Written before the
    container sees the job directory."""
    path = job.path / "job.json"
    try:
        settings = json.loads(path.read_text())
        if (settings.get("warm") or {}).get("enabled"):
            settings["warm"]["in_groups"] = True
            path.write_text(json.dumps(settings))
    except (OSError, ValueError):
        pass
