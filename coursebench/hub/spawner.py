"""The course's spawner: DockerSpawner, one container per user, on loopback only.

Networking here: **host networking, each server bound to 127.0.0.1 on its own port**. The
machines this project runs on may not create bridge networks and containers get no network
of their own, so every container shares the host's network namespace (``network_mode=host``)
and its ``jupyterhub-singleuser`` listens on ``127.0.0.1:PORT`` with a port picked free at
spawn. The hub and its proxy listen on 127.0.0.1 too. In production the same spawner runs
with a Docker network instead (docs/hub.md).

What each container gets:

- the limits of course.toml's ``[hub]``: memory (no swap beyond it), CPUs, pids;
- its user's home, a host folder ``HOMES/NAME`` (mode 700, uid 1000) at ``/home/student``;
  a student's container mounts nothing else of the course but ``student_mounts`` (the
  nbgrader exchange); only an instructor's container mounts the course (formgrader);
- ``COURSEBENCH_SERVER`` (the leaderboard, on loopback) and ``COURSEBENCH_TOKEN`` (the
  user's roster token, from the encrypted auth state), so ``compete.submit`` needs no setup;
- a GPU only for the users the instructor granted one (``gpu = true`` in the roster): the
  engine's :class:`~coursebench.execution.gpus.GPUSlots` give out explicit device ids, at
  most one server per GPU, and the container asks for exactly those (``device_requests``);
  every other container asks for none and has ``NVIDIA_VISIBLE_DEVICES=void``.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Any, ClassVar

from dockerspawner import DockerSpawner
from traitlets import Dict, Float, Int, List, Tuple, Unicode

from ..execution.gpus import GPUSlots

CONTAINER_HOME = "/home/student"
CONTAINER_COURSE = "/course"
STUDENT_UID = 1000
#: nbgrader's default exchange root: where an instructor's formgrader finds the exchange
NBGRADER_EXCHANGE = "/usr/local/share/nbgrader/exchange"


def free_port(low: int, high: int, *, taken: set[int] | frozenset[int] = frozenset()) -> int:
    """A port in [low, high] nobody listens on at 127.0.0.1 (bound and released here)."""
    import random

    for _ in range(200):
        port = random.randint(low, high)
        if port in taken:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port in {low}-{high}")


def private_home(homes: Path, name: str, *, uid: int = STUDENT_UID) -> Path:
    """``homes/name``: made when missing, mode 700, owned by ``uid`` (when we may chown)."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"not a user name: {name!r}")
    homes.mkdir(parents=True, exist_ok=True)
    os.chmod(homes, 0o711)  # others may pass through to their own home, never list them
    home = homes / name
    home.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        os.chown(home, uid, uid)
    os.chmod(home, 0o700)
    return home


class GPUGrants:
    """Which GPU each granted user's server holds: the engine's GPU slots, shared by every
    spawner of this hub process (at most one server per device)."""

    _lock = threading.Lock()
    _slots: ClassVar[dict[tuple[str, ...], GPUSlots]] = {}
    _held: ClassVar[dict[str, list[str]]] = {}

    @classmethod
    def take(cls, user: str, devices: list[str]) -> list[str] | None:
        """One free device for ``user`` (the one it already holds, if any); None when all are busy."""
        with cls._lock:
            if user in cls._held:
                return cls._held[user]
            slots = cls._slots.setdefault(tuple(devices), GPUSlots(devices))
            busy = threading.Event()
            busy.set()  # GPUSlots.acquire gives up at once instead of waiting
            try:
                got = slots.acquire(1, busy)
            except KeyboardInterrupt:
                return None
            cls._held[user] = got
            return got

    @classmethod
    def give_back(cls, user: str, devices: list[str]) -> None:
        with cls._lock:
            got = cls._held.pop(user, None)
            if got:
                cls._slots[tuple(devices)].release(got)

    @classmethod
    def holding(cls) -> dict[str, list[str]]:
        with cls._lock:
            return {k: list(v) for k, v in cls._held.items()}


class CourseSpawner(DockerSpawner):
    """DockerSpawner for the course (see the module docstring)."""

    homes_dir = Unicode(help="Host folder holding one home per user.").tag(config=True)
    course_dir = Unicode(help="Host path of the course: mounted in instructors' servers only.").tag(config=True)
    instructors = List(Unicode(), help="Hub users who get the instructor server.").tag(config=True)
    gpu_users = List(Unicode(), help="Hub users granted a GPU.").tag(config=True)
    gpu_devices = List(Unicode(), help="GPU device ids the hub may give out.").tag(config=True)
    lab_image = Unicode("coursebench-lab:latest", help="Image of every server without a GPU.").tag(config=True)
    gpu_image = Unicode("coursebench-gpu:latest", help="Image of a server with a GPU.").tag(config=True)
    pids_limit = Int(512, help="Processes and threads per container.").tag(config=True)
    memory_bytes = Int(0, help="Memory limit in bytes (also the memory+swap limit).").tag(config=True)
    cpus = Float(1.0, help="CPUs per container.").tag(config=True)
    leaderboard_url = Unicode(help="COURSEBENCH_SERVER for every server.").tag(config=True)
    student_mounts = Dict(help="host path → {bind, mode} for every server (the exchange).").tag(config=True)
    instructor_mounts = Dict(help="host path → {bind, mode} for instructors' servers only.").tag(config=True)
    port_range = Tuple(Int(), Int(), default_value=(20000, 29999)).tag(config=True)
    exchange_hook = Unicode(help="'module:function' giving a user's exchange mounts "
                            "(function(name, course_dir=..., exchange=...) -> docker Mounts)").tag(config=True)
    exchange_root = Unicode(help="Host folder of the nbgrader exchange.").tag(config=True)

    _gpu: list[str] | None = None

    # -- who is this ------------------------------------------------------------------------
    @property
    def is_instructor(self) -> bool:
        return self.user.name in self.instructors

    # -- the container ----------------------------------------------------------------------
    def course_volumes(self) -> dict[str, dict[str, str]]:
        """What this user's container mounts: their home, the shared mounts, and — for an
        instructor only — the course itself."""
        volumes: dict[str, dict[str, str]] = {
            str(private_home(Path(self.homes_dir), self.user.name)): {"bind": CONTAINER_HOME, "mode": "rw"},
        }
        volumes.update({k: dict(v) for k, v in self.student_mounts.items()})
        if self.is_instructor:
            if self.course_dir:
                volumes[self.course_dir] = {"bind": CONTAINER_COURSE, "mode": "rw"}
            volumes.update({k: dict(v) for k, v in self.instructor_mounts.items()})
            if self.exchange_root:  # the whole exchange, at nbgrader's default root (formgrader's)
                volumes[self.exchange_root] = {"bind": NBGRADER_EXCHANGE, "mode": "rw"}
        return volumes

    def host_config_extra(self, gpu: list[str] | None) -> dict[str, Any]:
        """The HostConfig beyond DockerSpawner's own: host network, pids, no swap, no new
        privileges, and device requests only for a granted GPU."""
        from ..execution.backends.docker import gpu_device_requests

        extra: dict[str, Any] = {
            "network_mode": "host",
            "pids_limit": self.pids_limit,
            "security_opt": ["no-new-privileges"],
            "cap_drop": ["ALL"],
        }
        if self.memory_bytes:
            extra["memswap_limit"] = self.memory_bytes
        if gpu:
            extra["device_requests"] = gpu_device_requests(gpu)
        mounts = self.exchange_mounts()
        if mounts:
            extra["mounts"] = mounts
        return extra

    def exchange_mounts(self) -> list[Any]:
        """The user's view of the nbgrader exchange, from the configured hook (the grading
        area's :func:`coursebench.grading.exchange.mounts_for`, wired by the generated
        config): a student sees the released labs, their own inbox and their own feedback."""
        if not self.exchange_hook or self.is_instructor:
            return []
        import importlib

        module, _, name = self.exchange_hook.partition(":")
        hook = getattr(importlib.import_module(module), name)
        course = f"{self.course_dir}/assignments" if self.course_dir else None
        return list(hook(self.user.name, course_dir=course, exchange=self.exchange_root or None))

    def server_environment(self, token: str | None, gpu: list[str] | None) -> dict[str, str]:
        env = dict(self.environment)
        env["HOME"] = CONTAINER_HOME
        env["NVIDIA_VISIBLE_DEVICES"] = ",".join(gpu) if gpu else "void"
        if self.leaderboard_url:
            env["COURSEBENCH_SERVER"] = self.leaderboard_url
        if token:
            env["COURSEBENCH_TOKEN"] = token
        if self.is_instructor:
            env["NBGRADER_COURSE_DIR"] = f"{CONTAINER_COURSE}/assignments"
        return env

    async def start(self):  # type: ignore[override]
        self._gpu = None
        if self.user.name in self.gpu_users:
            if not self.gpu_devices:
                raise RuntimeError(f"{self.user.name} is granted a GPU but this hub has none "
                                   "(see `coursebench doctor`)")
            self._gpu = GPUGrants.take(self.user.name, list(self.gpu_devices))
            if self._gpu is None:
                raise RuntimeError("every GPU is in use by another student's server; "
                                   "try again when one is stopped, or ask your instructor")
        try:
            auth_state = await self.user.get_auth_state() or {}
            self.ip = "127.0.0.1"
            self.port = free_port(*self.port_range)
            self.image = self.gpu_image if self._gpu else self.lab_image
            # host networking: DockerSpawner must not publish ports (docker refuses port
            # bindings with network_mode=host), which is what use_internal_ip=True turns off;
            # where the server is comes from get_ip_and_port below, not from the container.
            self.network_name = "host"
            self.use_internal_ip = True
            self.remove = True
            if self.memory_bytes:
                self.mem_limit = self.memory_bytes
            self.cpu_limit = self.cpus
            self.volumes = self.course_volumes()
            self.extra_host_config = self.host_config_extra(self._gpu)
            self.environment = self.server_environment(auth_state.get("token"), self._gpu)
            if self.is_instructor:
                # formgrader reads nbgrader_config.py from the server's working directory and
                # takes it as the course root (CourseDirectory.root defaults to the cwd), which
                # must lie under the server's root: both are the course's assignments folder
                self.notebook_dir = f"{CONTAINER_COURSE}/assignments" if self.course_dir else CONTAINER_HOME
            else:
                self.notebook_dir = CONTAINER_HOME
            self.extra_create_kwargs = {**self.extra_create_kwargs, "working_dir": self.notebook_dir}
            return await super().start()
        except BaseException:
            self._give_back_gpu()
            raise

    def get_args(self) -> list[str]:
        return [*super().get_args(), "--ip=127.0.0.1", f"--port={self.port}"]

    async def get_ip_and_port(self) -> tuple[str, int]:
        # host networking: the server is where we told it to listen
        return "127.0.0.1", self.port

    async def stop(self, now: bool = False) -> None:  # type: ignore[override]
        try:
            await super().stop(now=now)
        finally:
            self._give_back_gpu()

    def _give_back_gpu(self) -> None:
        GPUGrants.give_back(self.user.name, list(self.gpu_devices))
        self._gpu = None
