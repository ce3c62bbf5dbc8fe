"""Helpers shared by the test packages."""

from __future__ import annotations

import os
import time

import psutil

SANDBOX_MARKERS = ("/opt/coursebench/worker.py", "coursebench/execution/worker.py", "ipykernel_launcher")


def leftover_sandbox_processes(wait: float = 3.0, marker: str | None = None) -> list[str]:
    """Sandbox processes (worker, kernel, bwrap) still alive, and their descendants.

    With ``marker`` (default: ``$COURSEBENCH_JOB_ROOT``, which the test fixtures point
    at a per-test directory) only processes whose command line names it count, so other
    sessions' sandboxes on the same machine are not mistaken for ours.  Waits up to
    ``wait`` seconds for them to go.
    """
    marker = marker if marker is not None else os.environ.get("COURSEBENCH_JOB_ROOT")
    me = os.getpid()
    deadline = time.monotonic() + wait
    while True:
        found: dict[int, str] = {}
        for p in psutil.process_iter(["pid", "cmdline"]):
            if p.info["pid"] == me:
                continue
            cmd = " ".join(p.info["cmdline"] or [])
            ours = marker in cmd if marker else any(m in cmd for m in SANDBOX_MARKERS)
            if not ours:
                continue
            try:
                family = [p, *p.children(recursive=True)]
            except psutil.Error:
                family = [p]
            for q in family:
                try:
                    if q.status() != psutil.STATUS_ZOMBIE:
                        found[q.pid] = " ".join(q.cmdline())[:120]
                except psutil.Error:
                    continue
        if not found or time.monotonic() > deadline:
            return [f"{pid}: {cmd}" for pid, cmd in sorted(found.items())]
        time.sleep(0.2)


def must_have_or_skip(component: str, reason: str) -> None:
    """A real component (bubblewrap, Docker, PostgreSQL, Chromium) is not usable.

    Where the suite is expected to provide it — as root, or on CI (``CI`` set), where
    ``make test`` installs and starts everything — that is a failure of the machine's
    setup and the test FAILS with the reason; elsewhere (a developer without root) it is
    skipped with the reason and the command that would provide it.
    """
    import pytest

    if os.environ.get("CI") or os.geteuid() == 0:
        pytest.fail(f"{component} is required here (root/CI) but could not be used: {reason}", pytrace=False)
    pytest.skip(f"{component} not available: {reason}")
