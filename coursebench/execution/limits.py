"""Resource limits for one notebook run."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(value: int | float | str | None) -> int | None:
    """``"2G"`` → 2147483648.  Accepts ints (bytes), ``K/M/G/T`` with optional ``iB``/``B``.

    >>> parse_size("512M")
    536870912
    """
    if value is None:
        return None
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"a size cannot be negative: {value!r}")
        return int(value)
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(
            f"cannot read {value!r} as a size; write it like 512M, 2G or 1.5GiB"
        )
    number, unit, _ = match.groups()
    return int(float(number) * _UNITS[unit.lower()])


def format_size(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


@dataclass(frozen=True)
class Limits:
    """What one notebook run may use.

    Every backend enforces what it can: the wall-clock ``timeout`` and ``cell_timeout``
    everywhere; ``memory`` and ``pids`` by cgroup (Docker, or bubblewrap/subprocess when
    coursebench may create cgroups) or else by watching the process tree's RSS and by
    ``RLIMIT_NPROC``; ``cpus`` by cgroup CPU quota; ``output`` inside the worker, which
    truncates outputs past the cap with a note; ``disk`` by watching the job directory
    (and by the size of the sandbox's private ``/tmp``).
    """

    timeout: float = 600.0
    """Seconds for the whole notebook, kernel start included."""
    cell_timeout: float | None = None
    """Seconds any one cell may run (``None``: only the whole-notebook timeout)."""
    memory: int | None = 2 * 1024**3
    """Bytes of memory (RSS) for everything in the sandbox."""
    cpus: float | None = 1.0
    """CPU cores (a quota, may be fractional)."""
    gpus: int = 0
    """GPUs the run needs; the pool gives each GPU job its own device ids."""
    pids: int | None = 256
    """Processes and threads the sandbox may have at once (fork bombs stop here)."""
    output: int | None = 10 * 1024**2
    """Bytes of cell output kept in the executed notebook; the rest is truncated."""
    disk: int | None = 1024**3
    """Bytes the notebook may write into its job directory (and its private /tmp)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "memory", parse_size(self.memory))
        object.__setattr__(self, "output", parse_size(self.output))
        object.__setattr__(self, "disk", parse_size(self.disk))
        if self.timeout is None or self.timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds")
        if self.cell_timeout is not None and self.cell_timeout <= 0:
            raise ValueError("cell_timeout must be positive (or None)")
        if self.cpus is not None and self.cpus <= 0:
            raise ValueError("cpus must be positive (or None)")
        if self.gpus < 0:
            raise ValueError("gpus cannot be negative")
        if self.pids is not None and self.pids < 16:
            raise ValueError("pids must be at least 16: a Jupyter kernel alone needs ~10 threads")

    def replace(self, **changes: Any) -> Limits:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Limits:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)
