"""Helpers shared by the test packages."""

from __future__ import annotations

import os
import time

import psutil

SANDBOX_MARKERS = ("/opt/coursebench/worker.py", "coursebench/execution/worker.py", "ipykernel_launcher")


def leftover_sandbox_processes(wait: float = 3.0) -> list[str]:
    """Processes that look like a sandbox's (worker, kernel, or any process of a sandbox
    uid) and are not this test process's ancestors.  Waits up to ``wait`` seconds for
    them to go."""
    me = os.getpid()
    deadline = time.monotonic() + wait
    while True:
        found = []
        for p in psutil.process_iter(["pid", "cmdline", "uids"]):
            if p.info["pid"] == me:
                continue
            cmd = " ".join(p.info["cmdline"] or [])
            uid = p.info["uids"].real if p.info["uids"] else 0
            if any(m in cmd for m in SANDBOX_MARKERS) or 100_000 <= uid < 160_000:
                if p.status() == psutil.STATUS_ZOMBIE:
                    continue
                found.append(f"{p.info['pid']}: {cmd[:120]}")
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)
