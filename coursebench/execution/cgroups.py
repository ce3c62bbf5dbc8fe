"""Per-job cgroups (v1 or v2) for memory, pids and CPU, when coursebench may make them.

Used by the process backends (bubblewrap, subprocess) when running as root or with a
delegated cgroup subtree.  Where cgroups cannot be made, the backends fall back to
watching the process tree's RSS and to ``RLIMIT_NPROC``; :func:`cgroup_support` says
which applies and why.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..settings import get_settings
from .limits import Limits

ROOT = get_settings().cgroup_root
PARENT = "coursebench"
V1_CONTROLLERS = ("memory", "pids", "cpu")


def _version() -> int | None:
    if (ROOT / "cgroup.controllers").exists():
        return 2
    if (ROOT / "memory" / "tasks").exists():
        return 1
    return None


def cgroup_support() -> tuple[bool, str]:
    """(usable, reason): whether per-job cgroups can be created here.

    ``COURSEBENCH_CGROUPS=0`` turns them off (limits then fall back to watching RSS)."""
    if not get_settings().cgroups:
        return False, "turned off by COURSEBENCH_CGROUPS=0"
    version = _version()
    if version is None:
        return False, f"no cgroup filesystem at {ROOT}"
    probe_id = f"probe-{uuid.uuid4().hex[:8]}"
    try:
        group = JobCgroup.create(Limits(), name=probe_id)
    except OSError as exc:
        return False, f"cannot create cgroups under {ROOT} ({exc.strerror})"
    group.destroy()
    reap_stale()
    return True, f"cgroup v{version}"


#: a job cgroup left empty this long is one whose host process was killed before it could
#: remove it (a live job's cgroup holds its processes; the kernel refuses to remove one that does)
STALE_AFTER = 3600.0


def reap_stale(older_than: float = STALE_AFTER) -> list[str]:
    """Remove the job cgroups that hosts killed mid-job left behind: empty (no process
    in them) and made more than ``older_than`` seconds ago.  Returns their names."""
    version = _version()
    if version is None:
        return []
    parents = [ROOT / c / PARENT for c in V1_CONTROLLERS] if version == 1 else [ROOT / PARENT]
    now = time.time()
    removed: list[str] = []
    for parent in parents:
        try:
            entries = list(os.scandir(parent))
        except OSError:
            continue
        for entry in entries:
            if not entry.name.startswith(("job-", "probe-")) or not entry.is_dir(follow_symlinks=False):
                continue
            try:
                if now - entry.stat(follow_symlinks=False).st_mtime < older_than:
                    continue
                if _read(Path(entry.path) / "cgroup.procs").strip():
                    continue
                os.rmdir(entry.path)
            except OSError:
                continue  # in use, or gone already
            removed.append(entry.name)
    return sorted(set(removed))


_SUPPORT: tuple[bool, str] | None = None


def cached_support() -> tuple[bool, str]:
    global _SUPPORT
    if _SUPPORT is None:
        _SUPPORT = cgroup_support()
    return _SUPPORT


@dataclass
class JobCgroup:
    """The cgroup(s) of one job.  ``procs_files`` are where a pid is written to join."""

    version: int
    dirs: list[Path]
    procs_files: list[Path] = field(default_factory=list)

    @classmethod
    def create(cls, limits: Limits, name: str | None = None) -> JobCgroup:
        version = _version()
        if version is None:
            raise OSError(2, "no cgroup filesystem", str(ROOT))
        name = name or f"job-{uuid.uuid4().hex[:12]}"
        if version == 1:
            return cls._create_v1(limits, name)
        return cls._create_v2(limits, name)

    @classmethod
    def _create_v1(cls, limits: Limits, name: str) -> JobCgroup:
        dirs: list[Path] = []
        try:
            for controller in V1_CONTROLLERS:
                path = ROOT / controller / PARENT / name
                path.mkdir(parents=True, exist_ok=True)
                dirs.append(path)
            mem, pids, cpu = dirs
            if limits.memory:
                _write(mem / "memory.limit_in_bytes", limits.memory)
                if (mem / "memory.memsw.limit_in_bytes").exists():
                    try:
                        _write(mem / "memory.memsw.limit_in_bytes", limits.memory)
                    except OSError:
                        pass  # swap accounting off: no swap to limit
            if limits.pids:
                _write(pids / "pids.max", limits.pids)
            if limits.cpus:
                _write(cpu / "cpu.cfs_period_us", 100_000)
                _write(cpu / "cpu.cfs_quota_us", int(limits.cpus * 100_000))
        except OSError:
            for path in dirs:
                _rmdir(path)
            raise
        return cls(1, dirs, [d / "cgroup.procs" for d in dirs])

    @classmethod
    def _create_v2(cls, limits: Limits, name: str) -> JobCgroup:
        parent = ROOT / PARENT
        parent.mkdir(exist_ok=True)
        wanted = {"memory", "pids", "cpu"}
        available = set((ROOT / "cgroup.controllers").read_text().split())
        enable = " ".join(f"+{c}" for c in sorted(wanted & available))
        if enable:
            _write(ROOT / "cgroup.subtree_control", enable)
            _write(parent / "cgroup.subtree_control", enable)
        path = parent / name
        path.mkdir(exist_ok=True)
        try:
            if limits.memory:
                _write(path / "memory.max", limits.memory)
                if (path / "memory.swap.max").exists():
                    _write(path / "memory.swap.max", 0)
            if limits.pids:
                _write(path / "pids.max", limits.pids)
            if limits.cpus:
                _write(path / "cpu.max", f"{int(limits.cpus * 100_000)} 100000")
        except OSError:
            _rmdir(path)
            raise
        return cls(2, [path], [path / "cgroup.procs"])

    # -- what happened -------------------------------------------------------------
    @property
    def memory_dir(self) -> Path:
        return self.dirs[0]

    def oom_kills(self) -> int:
        """How many processes the kernel's OOM killer killed in this group."""
        if self.version == 1:
            text = _read(self.memory_dir / "memory.oom_control")
            for line in text.splitlines():
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
            failcnt = _read(self.memory_dir / "memory.failcnt").strip()
            return 1 if failcnt and int(failcnt) > 0 and "under_oom 1" in text else 0
        for line in _read(self.memory_dir / "memory.events").splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return 0

    def pids_refused(self) -> int:
        """How many forks the pids limit refused."""
        path = self.dirs[1] / "pids.events" if self.version == 1 else self.dirs[0] / "pids.events"
        for line in _read(path).splitlines():
            if line.startswith("max "):
                return int(line.split()[1])
        return 0

    def peak_memory(self) -> int | None:
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        text = _read(self.memory_dir / name).strip()
        return int(text) if text.isdigit() else None

    def pids(self) -> list[int]:
        text = _read(self.procs_files[0])
        return [int(p) for p in text.split() if p.isdigit()]

    # -- ending --------------------------------------------------------------------
    def kill_all(self, timeout: float = 5.0) -> None:
        """SIGKILL everything in the group until it is empty (bounded by pids.max)."""
        if self.version == 2 and (self.dirs[0] / "cgroup.kill").exists():
            try:
                _write(self.dirs[0] / "cgroup.kill", 1)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def destroy(self) -> None:
        self.kill_all()
        for path in reversed(self.dirs):
            _rmdir(path)


def _write(path: Path, value: object) -> None:
    with open(path, "w") as fh:
        fh.write(str(value))


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _rmdir(path: Path) -> None:
    for _ in range(50):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)
