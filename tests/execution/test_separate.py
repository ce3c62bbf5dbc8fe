"""A group with separate files (``JobGroup(separate_files=True)``, how the k folds of one
notebook submission run, docs/warm.md): the notebooks share the sandbox and its template,
and nothing else.

Each notebook of the group reads its own ``data.txt``, looks everywhere it can for another
notebook's data (``files/``, the job directory, ``/tmp``, ``/dev/shm``, ``HOME``) and for
what the notebook before it left, leaves things behind (files in every writable place, a
directory it cannot be read back from, a process that keeps running, a planted answer for
the next notebook's output, lines in the sandbox's identity files, SysV IPC objects, a POSIX message queue, keys in the user
keyrings), and writes its ``out.txt``.  Every notebook finds only its own
data, nothing left, and gets its own ``out.txt`` back — under the same name for all.  The
Docker twin is tests/docker/test_warm_docker.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from nbformat.v4 import new_code_cell, new_notebook

from coursebench.execution import Job, JobGroup, Limits, run_many, split_separate

from .test_warm import printed

LIMITS = Limits(timeout=120, memory="1G", pids=256)

PROBE = r'''
import json, os, subprocess
own = open("data.txt").read()
print("DATA=" + own)
places = [".", "..", "/tmp", "/dev/shm", os.path.expanduser("~")]
seen, found = {}, []
for place in places:
    for folder, dirs, names in os.walk(place):
        for name in names:
            path = os.path.join(folder, name)
            seen.setdefault(place, []).append(os.path.relpath(path, place))
            try:
                text = open(path, errors="ignore").read(4096)
            except OSError:
                continue
            if "sec" + "ret-" in text and own not in text:
                found.append(path)
for path in ("/etc/passwd", "/etc/group"):  # the sandbox's identity files (bound from the host)
    if "sec" + "ret-" in open(path).read():
        found.append(path)
print("SEEN=" + json.dumps({p: sorted(v) for p, v in seen.items()}))
print("FOUND=" + json.dumps(sorted(set(found))))
# leave everything behind that could reach the next notebook
for place in (".", "/tmp", "/dev/shm", os.path.expanduser("~")):
    open(os.path.join(place, f"leak-{k}.txt"), "w").write(own)
os.makedirs("locked/inner", exist_ok=True)
open("locked/inner/leak.txt", "w").write(own)
os.chmod("locked/inner", 0o000); os.chmod("locked", 0o500)
subprocess.Popen(["sleep", "600"])
open(os.path.join("..", f"stash-{k}.txt"), "w").write(own)  # the job directory itself
for path in ("/etc/passwd", "/etc/group", "../.etc/passwd", "../.etc/group"):
    try:  # the identity files: bound read-only at /etc, and seen in the job directory
        open(path, "a").write("stash:x:1:1:" + own + ":/:/bin/sh\n")
    except OSError:
        pass
# what outlives processes in a sandbox's kernel: SysV IPC, POSIX message queues, keyrings
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.mq_open.restype = ctypes.c_int
ipc = {"shm": libc.shmget(0x5EC0, 0, 0) >= 0, "msg": libc.msgget(0x5EC0, 0) >= 0,
       "sem": libc.semget(0x5EC0, 0, 0) >= 0, "mq": libc.mq_open(b"/cbstash", os.O_RDONLY) >= 0,
       "key": libc.syscall(250, 10, -4, b"user", b"cbstash", 0) >= 0,
       "usersession": libc.syscall(250, 10, -5, b"user", b"cbstash", 0) >= 0}
print("IPC=" + json.dumps(ipc))
libc.shmget(0x5EC0, 4096, 0o1600); libc.msgget(0x5EC0, 0o1600); libc.semget(0x5EC0, 1, 0o1600)
libc.mq_open(b"/cbstash", os.O_CREAT | os.O_RDWR, 0o600, None)
libc.syscall(248, b"user", b"cbstash", own.encode(), len(own), -4)
libc.syscall(248, b"user", b"cbstash", own.encode(), len(own), -5)
for other in range(3):  # a planted answer for the notebooks after it
    target = os.path.join("..", f"outputs-{other}")
    if other != k and os.path.isdir(target):
        open(os.path.join(target, "out.txt"), "w").write("planted")
open("out.txt", "w").write(f"out-{k}")
'''


def _notebook():
    nb = new_notebook(cells=[new_code_cell("k = 0", metadata={"tags": ["parameters"]}), new_code_cell(PROBE)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _jobs(tmp: Path, backend: str, tag: str) -> list[Job]:
    jobs = []
    for k in range(3):
        data = tmp / f"{tag}-data{k}.txt"
        data.write_text(f"secret-{tag}-{k}")
        jobs.append(Job(notebook=_notebook(), parameters={"k": k}, name=f"{tag}{k}", backend=backend,
                        limits=LIMITS, files=[(data, "data.txt")], collect=["out.txt"],
                        artifacts_dir=tmp / "out" / f"{tag}{k}", warm=True))
    return jobs


def check_separate(tmp: Path, backend: str) -> None:
    """Two submissions' folds, one group each, on one slot: the first group's sandbox is
    started for it (its runs wait for its template: none starts cold), the second's was
    booted while the first ran (bubblewrap) or is started for it too (Docker)."""
    before, fold = _jobs(tmp, backend, "a"), _jobs(tmp, backend, "b")
    results = run_many([JobGroup(before, separate_files=True), JobGroup(fold, separate_files=True)], workers=1)
    assert [r.status for r in results] == ["ok"] * 6, [r.summary() for r in results]
    assert all(r.warm for r in results), "every run of a separate group is forked from its sandbox's template"
    for k, result in enumerate(results[3:]):
        assert printed(result, "DATA") == f"secret-b-{k}"
        assert json.loads(printed(result, "FOUND")) == [], f"fold {k} found another's data"
        seen = json.loads(printed(result, "SEEN"))
        everything = [name for names in seen.values() for name in names]
        assert not [n for n in everything if "leak" in n], (k, seen)
        assert sorted(seen["."]) == ["data.txt"], seen["."]  # nothing of the fold before
        assert not any(json.loads(printed(result, "IPC")).values()), printed(result, "IPC")
        assert not [n for n in seen[".."] if n.startswith("inputs-")], seen[".."]
        assert (tmp / "out" / f"b{k}" / "out.txt").read_text() == f"out-{k}"
    for k in range(3):
        assert (tmp / "out" / f"a{k}" / "out.txt").read_text() == f"out-{k}"


def test_separate_notebooks_share_the_template_and_nothing_else(bwrap_backend, tmp_path):
    check_separate(tmp_path, bwrap_backend)


def test_split_separate_keeps_the_order_and_groups_consecutive_runs(tmp_path):
    jobs = [Job(notebook=_notebook(), name=f"fold{k}") for k in range(6)]
    parts = split_separate(jobs, 4)
    assert [len(p.jobs) if isinstance(p, JobGroup) else 1 for p in parts] == [2, 2, 1, 1]
    assert all(p.separate_files for p in parts if isinstance(p, JobGroup))
    flat = [j for p in parts for j in (p.jobs if isinstance(p, JobGroup) else [p])]
    assert flat == jobs
    assert split_separate(jobs[:2], 8) == jobs[:2]  # one run per slot: plain jobs
    assert [len(p.jobs) for p in split_separate(jobs, 1)] == [6]  # type: ignore[union-attr]
