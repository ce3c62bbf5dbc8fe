"""Which NVIDIA device nodes a GPU job may see in a process sandbox (bubblewrap).

The pool hands each GPU job its own device ids (``"0"``, ``"2"``: nvidia-smi indexes, or
``GPU-…`` UUIDs).  Docker's NVIDIA runtime turns them into exactly those devices; here
they become bind mounts of exactly:

* the job's own ``/dev/nvidiaN`` nodes — ``N`` is the driver's *minor number*, which
  ``/proc/driver/nvidia/gpus/<bus>/information`` gives per GPU (nvidia-smi numbers GPUs
  in PCI bus order; the minor number usually agrees, and is used as-is when the driver
  says nothing);
* the control devices every CUDA process needs (``nvidiactl``, ``nvidia-uvm``,
  ``nvidia-uvm-tools``, ``nvidia-modeset`` and ``nvidia-caps/``), those that exist.

CUDA and NVML skip the GPUs whose node they cannot open and number the rest from 0, as
in a container.  Without a devices cgroup the limit rests on the node being absent: the
sandbox has no capabilities (no ``mknod``) and no-new-privs (a setuid
``nvidia-modprobe`` cannot create it).

The nodes are read from ``COURSEBENCH_DEVICE_ROOT`` (default ``/dev``), the driver's GPU
list from ``/proc/driver/nvidia/gpus`` — or, under another device root, from its
``.driver-gpus`` folder when there is one: the tests point the root at a folder of fake
device files.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ExecutionError

HOST_DEVICES = Path("/dev")
DRIVER_INFO = Path("/proc/driver/nvidia/gpus")
FAKE_DRIVER_INFO = ".driver-gpus"
CONTROL_DEVICES = ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset", "nvidia-caps")
_FIELD = re.compile(r"^\s*([^:]+?)\s*:\s*(.*?)\s*$")


class GPUDeviceMissing(ExecutionError):
    """A GPU job's device id matches no device node on this machine."""

    def __init__(self, device: str, reason: str) -> None:
        self.device, self.reason = device, reason
        super().__init__(f"GPU {device!r} was given to the job but {reason}; check COURSEBENCH_GPUS "
                         "against `nvidia-smi -L`")


@dataclass(frozen=True)
class DriverGPU:
    bus: str
    minor: int
    uuid: str | None


@dataclass
class GPUView:
    """What a GPU job sees: ``(host path, path inside the sandbox)`` pairs to bind."""

    binds: list[tuple[Path, str]] = field(default_factory=list)
    uuids: list[str] = field(default_factory=list)
    """The UUIDs of the job's GPUs, when the driver names them all (else empty)."""


def device_root() -> Path:
    from ...settings import get_settings

    return get_settings().device_root


def driver_info(root: Path) -> Path:
    """Where the driver's GPU list is for the device nodes under ``root``."""
    return DRIVER_INFO if root == HOST_DEVICES else root / FAKE_DRIVER_INFO


def driver_gpus(info: Path) -> list[DriverGPU]:
    """The driver's GPUs in nvidia-smi's order (PCI bus order); empty without a driver."""
    found: list[DriverGPU] = []
    try:
        entries = sorted(p for p in info.iterdir() if (p / "information").is_file())
    except OSError:
        return []
    for entry in entries:
        fields: dict[str, str] = {}
        try:
            text = (entry / "information").read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            if m := _FIELD.match(line):
                fields[m.group(1).lower()] = m.group(2)
        try:
            minor = int(fields.get("device minor", ""))
        except ValueError:
            continue
        found.append(DriverGPU(bus=entry.name.lower(), minor=minor, uuid=fields.get("gpu uuid")))
    return found


def _minor(device: str, gpus: list[DriverGPU]) -> tuple[int, str | None]:
    if device.isdigit():
        index = int(device)
        if gpus:
            if index >= len(gpus):
                raise GPUDeviceMissing(device, f"the driver lists {len(gpus)} GPU(s)")
            return gpus[index].minor, gpus[index].uuid
        return index, None
    for gpu in gpus:
        if gpu.uuid and gpu.uuid.lower() == device.lower():
            return gpu.minor, gpu.uuid
    raise GPUDeviceMissing(device, "no GPU of the driver has that UUID (MIG devices are not supported on bwrap)")


def gpu_view(devices: Sequence[str], *, root: Path | None = None) -> GPUView:
    """The device nodes to bind for a job given ``devices``; none for a CPU job.

    Raises :class:`GPUDeviceMissing` when a device's node does not exist."""
    view = GPUView()
    if not devices:
        return view
    root = device_root() if root is None else root
    gpus = driver_gpus(driver_info(root))
    uuids: list[str | None] = []
    for device in devices:
        minor, uuid = _minor(str(device), gpus)
        node = root / f"nvidia{minor}"
        if not node.exists():
            raise GPUDeviceMissing(str(device), f"{node} does not exist")
        view.binds.append((node, f"/dev/nvidia{minor}"))
        uuids.append(uuid)
    for name in CONTROL_DEVICES:
        node = root / name
        if node.exists():
            view.binds.append((node, f"/dev/{name}"))
    if all(uuids):
        view.uuids = [u for u in uuids if u]
    return view
