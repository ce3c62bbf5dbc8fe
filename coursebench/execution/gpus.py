"""GPU devices: which ones this machine has, and slots so that each job gets its own.

Used on the host by the local pool (:mod:`coursebench.execution.pool`) and on a Dask
worker by the task it runs (:mod:`coursebench.execution.remote`), which keeps its own
slots for the devices of that worker.
"""

from __future__ import annotations

import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Sequence

from ..settings import get_settings


class GPUSlots:
    """At most one job per GPU device at a time; each GPU job gets explicit device ids.

    ``devices`` are device ids as strings (``"0"``, ``"1"``, or UUIDs).  A job that
    asks for ``n`` GPUs waits until ``n`` devices are free.  CPU-only jobs never take
    a device (and the backends hide all GPUs from them).
    """

    def __init__(self, devices: Sequence[str]) -> None:
        self.devices = list(devices)
        self._free: queue.Queue[str] = queue.Queue()
        for device in self.devices:
            self._free.put(device)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.devices)

    def acquire(self, count: int, cancel: threading.Event | None = None) -> list[str]:
        if count <= 0:
            return []
        if count > len(self.devices):
            raise ValueError(
                f"the job needs {count} GPU(s) but this pool has {len(self.devices)}"
                + ("" if self.devices else " (no GPU was found; see `coursebench doctor`)")
            )
        while True:
            with self._lock:
                if self._free.qsize() >= count:
                    return [self._free.get_nowait() for _ in range(count)]
            if cancel is not None and cancel.is_set():
                raise KeyboardInterrupt
            time.sleep(0.05)

    def release(self, devices: Sequence[str]) -> None:
        for device in devices:
            self._free.put(device)


def detect_gpus() -> list[str]:
    """GPU device ids on this machine: ``COURSEBENCH_GPUS`` (comma list) wins, then
    ``nvidia-smi``.  An empty list means none."""
    forced = get_settings().gpus
    if forced is not None:
        return list(forced)
    smi = shutil.which("nvidia-smi")
    if not smi:
        return []
    try:
        out = subprocess.run([smi, "--query-gpu=index", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip().isdigit()]
