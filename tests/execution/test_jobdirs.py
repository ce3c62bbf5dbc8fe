"""Job directories a killed host left behind are reaped; live and kept ones are not."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from coursebench.execution import jobdirs

MAKE_AND_WAIT = """
import sys, time
from coursebench.execution.jobdirs import new_job_dir
path = new_job_dir("killed-")
(path / "files").mkdir()
(path / "files" / "answers.ipynb").write_text("a student's work")
print(path, flush=True)
time.sleep(60)
"""


def _age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_dirs_of_a_killed_host_are_reaped_live_and_kept_ones_are_not(private_job_root):
    host = subprocess.Popen([sys.executable, "-c", MAKE_AND_WAIT], stdout=subprocess.PIPE, text=True)
    try:
        held_elsewhere = jobdirs.Path(host.stdout.readline().strip())
        _age(held_elsewhere, 2 * jobdirs.STALE_AFTER)
        ours = jobdirs.new_job_dir("live-")
        kept = jobdirs.new_job_dir("kept-")
        jobdirs.remove_job_dir(kept, keep=True)
        recent = jobdirs.new_job_dir("recent-")
        jobdirs.release(recent)  # nobody holds it, but it was made a moment ago
        for path in (ours, kept):
            _age(path, 2 * jobdirs.STALE_AFTER)

        assert jobdirs.reap_stale_dirs() == []  # the other host is alive and holds its dir
        host.send_signal(signal.SIGKILL)
        host.wait()
        assert jobdirs.reap_stale_dirs() == [held_elsewhere.name]
        assert not held_elsewhere.exists()
        assert ours.is_dir() and kept.is_dir() and recent.is_dir()
    finally:
        host.kill()
        host.wait()
    jobdirs.remove_job_dir(ours)
    assert not ours.exists()
