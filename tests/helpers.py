"""Helpers shared by the test packages."""

from __future__ import annotations

import os
import shutil
import stat
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


CHECKOUT = Path(__file__).resolve().parents[1]


@contextmanager
def checkout_reachable_by_other_users() -> Iterator[None]:
    """Tests that run the project's own commands as another uid (a student, ``nobody``)
    need the checkout and its virtual environment searchable by that uid.  A clone under a
    private folder (``mktemp -d`` makes it 0700) is not: for the test's duration each such
    folder above them gets search permission for others (``o+x``: no listing), then its
    mode back."""
    changed: list[tuple[Path, int]] = []
    try:
        for top in (CHECKOUT, Path(sys.prefix).resolve()):
            for folder in [top, *top.parents]:
                mode = stat.S_IMODE(folder.stat().st_mode)
                if not mode & 0o001 and all(folder != f for f, _ in changed):
                    os.chmod(folder, mode | 0o001)
                    changed.append((folder, mode))
        yield
    finally:
        for folder, mode in reversed(changed):
            os.chmod(folder, mode)


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@contextmanager
def chromium_browser() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright (``executable_path``).  One that is
    missing or cannot start fails the tests as root or on CI (``make sysdeps-test``
    installs it) and skips them elsewhere."""
    chromium = shutil.which("chromium")
    if not chromium:
        must_have_or_skip("Chromium", "not installed (make sysdeps-test, or apt-get install chromium)")
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        except Error as exc:
            must_have_or_skip("Chromium", f"{chromium} did not start: {str(exc).splitlines()[0]}")
        try:
            yield browser
        finally:
            browser.close()
