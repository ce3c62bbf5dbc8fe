"""Fixtures of the execution tests."""

from __future__ import annotations

from pathlib import Path

import pytest

#: How the fake driver numbers the fake GPUs: nvidia-smi index (PCI bus order) → minor
#: number of its /dev node, deliberately not the identity.
FAKE_MINORS = (1, 0, 3, 2)


@pytest.fixture
def fake_gpu_devices(tmp_path: Path, monkeypatch) -> Path:
    """FAKE GPU device nodes — plain files named like the NVIDIA driver's (/dev/nvidia0..3,
    nvidiactl, nvidia-uvm, nvidia-uvm-tools, nvidia-modeset, nvidia-caps/) and a fake
    driver listing (/proc/driver/nvidia/gpus) with UUIDs — that the bwrap backend reads
    instead of the host's (``COURSEBENCH_DEVICE_ROOT``).  Nothing here is a real device."""
    from coursebench.execution.backends.nvidia import FAKE_DRIVER_INFO

    root = tmp_path / "fake-dev"
    (root / "nvidia-caps").mkdir(parents=True)
    for minor in range(len(FAKE_MINORS)):
        (root / f"nvidia{minor}").write_text(f"fake GPU node, minor {minor}\n")
    for name in ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset"):
        (root / name).write_text("fake control device\n")
    (root / "nvidia-caps" / "nvidia-cap1").write_text("fake capability\n")
    info = root / FAKE_DRIVER_INFO
    for index, minor in enumerate(FAKE_MINORS):
        entry = info / f"0000:{0x10 + index:02x}:00.0"
        entry.mkdir(parents=True)
        (entry / "information").write_text(
            f"Model: \t\t Fake GPU\nIRQ:   \t\t 42\nGPU UUID: \t GPU-fake-{index}\n"
            f"Video BIOS: \t ??.??.??.??.??\nBus Type: \t PCIe\nDevice Minor: \t {minor}\n"
        )
    monkeypatch.setenv("COURSEBENCH_DEVICE_ROOT", str(root))
    return root
