"""A student's container holds its limits: memory (allocating past it is killed by the
OOM killer), pids (a fork bomb is capped), host networking on loopback, no capabilities,
and no GPU unless the instructor granted one (no device requests in its HostConfig)."""

from __future__ import annotations

import pytest

from .conftest import Hub

pytestmark = [pytest.mark.docker, pytest.mark.slow]
STUDENT = "s02"


def test_student_container_limits(hub: Hub) -> None:
    hub.timings["spawn_api"] = hub.spawn(STUDENT)
    container = hub.container(STUDENT)
    host = container.attrs["HostConfig"]
    assert host["NetworkMode"] == "host"
    assert host["Memory"] == 512 * 1024**2 and host["MemorySwap"] == 512 * 1024**2
    assert host["NanoCpus"] in (0, None) and host["CpuQuota"] == 100_000 and host["CpuPeriod"] == 100_000
    assert host["PidsLimit"] == 128
    assert not host.get("DeviceRequests"), host.get("DeviceRequests")
    assert "no-new-privileges" in (host.get("SecurityOpt") or [])
    assert host["CapDrop"] == ["ALL"]
    env = container.attrs["Config"]["Env"]
    assert "NVIDIA_VISIBLE_DEVICES=void" in env
    binds = host.get("Binds") or []
    assert all("/course" not in b for b in binds), binds
    assert container.attrs["Config"]["User"] in ("1000:1000", "1000", "")

    # memory: 1 GiB in a 512 MiB container → the kernel kills it (exit 137, OOMKilled)
    hog = container.exec_run(["python", "-c", "x = bytearray(1024 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096])"])
    assert hog.exit_code == 137, (hog.exit_code, hog.output[-500:])

    # pids: a fork bomb stops at the limit (fork fails with EAGAIN), the container survives
    bomb = container.exec_run(["python", "-c", """
import os, time
children = 0
try:
    while True:
        pid = os.fork()
        if pid == 0:
            time.sleep(5); os._exit(0)
        children += 1
except OSError as exc:
    print('capped', children, exc.errno)
"""])
    text = bomb.output.decode()
    assert "capped" in text, text
    assert int(text.split()[1]) < 128, text
    container.reload()
    assert container.status == "running"
    hub.stop_server(STUDENT)
