"""Where job directories live, and what happens to the ones a killed host leaves.

Every job directory (a job's, a group's, a booted warm sandbox's) is made under
:func:`job_root` by :func:`new_job_dir`, which also takes an exclusive ``flock`` on the
directory and holds it until :func:`remove_job_dir`.  A host killed mid-job (a scoring
worker SIGKILLed, a grader's terminal closed) cannot remove what it made: its sandboxes
die with it (``--die-with-parent``), but its job directories — students' notebooks and
files — stay.  The kernel releases a dead process's locks, so the next process that makes
a job directory (:func:`reap_stale_dirs`, once per process) removes the directories
nobody holds any more that are older than :data:`STALE_AFTER`.  A directory kept on
purpose (``Job(keep=True)``) is marked and left alone.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from ..settings import get_settings

#: a directory nobody holds is left this long before it is reaped: the moment between
#: ``mkdtemp`` and the ``flock`` of a host making one
STALE_AFTER = 600.0
#: written into a directory that :func:`remove_job_dir` keeps (``Job(keep=True)``)
KEPT_MARK = ".coursebench-kept"

_held: dict[str, int] = {}
_lock = threading.Lock()
_reaped: list[bool] = []


def job_root() -> Path:
    root = get_settings().job_root / "coursebench-jobs"
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o711)  # others may traverse to their own job dir, not list them
    return root


def new_job_dir(prefix: str) -> Path:
    """A new, empty job directory under :func:`job_root`, held by this process."""
    root = job_root()
    if not _reaped:
        _reaped.append(True)
        reap_stale_dirs(root)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    _hold(path)
    return path


def _hold(path: Path) -> None:
    """Take the lock that says the new directory ``path`` is in use."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return
    with _lock:
        _held[str(path)] = fd


def release(path: Path) -> None:
    with _lock:
        fd = _held.pop(str(path), None)
    if fd is not None:
        os.close(fd)


def remove_job_dir(path: Path, keep: bool = False) -> None:
    """Remove ``path`` (or, with ``keep``, mark it kept) and let go of its lock."""
    try:
        if keep:
            (path / KEPT_MARK).touch()
        else:
            shutil.rmtree(path, ignore_errors=True)
    except OSError:
        pass
    finally:
        release(path)


def reap_stale_dirs(root: Path | None = None, older_than: float = STALE_AFTER) -> list[str]:
    """Remove the job directories under ``root`` that no live process holds, last changed
    more than ``older_than`` seconds ago and not kept on purpose.  Returns their names."""
    root = root or job_root()
    now = time.time()
    removed: list[str] = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
            continue
        with _lock:
            if entry.path in _held:
                continue
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime < older_than:
                continue
            if os.path.lexists(os.path.join(entry.path, KEPT_MARK)):
                continue
            fd = os.open(entry.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live host holds it
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.name)
        finally:
            os.close(fd)
    return removed
