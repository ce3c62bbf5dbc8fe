"""JobGroup: several notebooks, one sandbox, one after another (how autograding runs the
notebooks of one submission).  Each notebook must behave as if it had its own sandbox
run — fresh kernel, its own limits and verdict, nothing left running from the one
before — except that they share the working directory, as in a submission folder.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from coursebench.execution import Job, JobGroup, Limits, run_group, run_many

from ..helpers import leftover_sandbox_processes

LIMITS = Limits(timeout=20, memory="400M", pids=256)


def nb(*sources: str):
    notebook = new_notebook(cells=[new_code_cell(s) for s in sources])
    if sources and sources[0].startswith("# parameters"):
        notebook.cells[0].metadata["tags"] = ["parameters"]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def stream_text(result) -> str:
    return "".join(
        out.get("text", "") for cell in result.notebook.cells for out in cell.get("outputs", [])
        if out.get("output_type") == "stream"
    )


def job(name: str, *sources: str, backend: str, limits: Limits = LIMITS, **kw) -> Job:
    """Our own test notebooks: trusted, so that they may run on the subprocess backend too."""
    return Job(notebook=nb(*sources), name=name, backend=backend, limits=limits, trusted=True, **kw)


def test_group_runs_each_notebook_fresh_and_in_order(process_backend, tmp_path):
    group = JobGroup([
        job("first", "secret = 42", "open('note.txt', 'w').write('from the first')", backend=process_backend,
            output=tmp_path / "first.ipynb"),
        job("second", "print(open('note.txt').read())", "print('secret' in globals())",
            backend=process_backend, parameters={}),
        job("third", "# parameters\nvalue = 1", "print(value * 3)", backend=process_backend, parameters={"value": 7}),
    ], name="student/ps1")
    results = run_group(group)
    assert [r.name for r in results] == ["first", "second", "third"]
    assert [r.status for r in results] == ["ok", "ok", "ok"], [r.summary() for r in results]
    # the working directory is shared (a submission folder); the kernel is not
    assert "from the first" in stream_text(results[1])
    assert "False" in stream_text(results[1])
    # parameters and outputs are per notebook
    assert "21" in stream_text(results[2])
    assert (tmp_path / "first.ipynb").exists()
    assert all(r.wall_time > 0 for r in results)
    assert leftover_sandbox_processes() == []


def test_one_bad_notebook_does_not_take_the_others_down(process_backend):
    # 8 s: the limit counts from the job's start, and on a loaded 2-core CI machine a cold
    # kernel took over 4 s to start (the loop's timeout then came before cell 1 began)
    limits = Limits(timeout=8, memory="300M", pids=256)
    group = JobGroup([
        job("loops", "while True: pass", backend=process_backend, limits=limits),
        job("fine-after-timeout", "print('still here')", backend=process_backend, limits=limits),
        job("raises", "x = 1", "1 / 0", backend=process_backend, limits=limits),
        job("exits", "import os; os._exit(3)", backend=process_backend, limits=limits),
        job("fine-at-the-end", "print('the end')", backend=process_backend, limits=limits),
    ])
    started = time.monotonic()
    results = run_group(group)
    elapsed = time.monotonic() - started
    by_name = {r.name: r for r in results}
    assert by_name["loops"].status == "timeout"
    assert "time limit of 8 s" in by_name["loops"].message and "cell 1" in by_name["loops"].message
    assert by_name["fine-after-timeout"].status == "ok"
    assert "still here" in stream_text(by_name["fine-after-timeout"])
    assert by_name["raises"].status == "error" and by_name["raises"].ename == "ZeroDivisionError"
    assert "cell 2" in by_name["raises"].message
    assert by_name["exits"].status == "killed"
    assert by_name["fine-at-the-end"].status == "ok"
    assert elapsed < 8 + 30  # the timeout applies to the looping notebook, not the group
    assert leftover_sandbox_processes() == []


def test_memory_bomb_is_oom_for_that_notebook_only(bwrap_backend):
    group = JobGroup([
        job("bomb", "x = bytearray(3 * 1024**3)", backend=bwrap_backend),
        job("modest", "y = bytearray(50 * 1024**2)", "print('fits')", backend=bwrap_backend),
    ])
    bomb, modest = run_group(group)
    assert bomb.status == "oom", bomb.summary()
    assert "memory limit of 400.0 MiB" in bomb.message
    assert modest.status == "ok", modest.summary()


def test_processes_a_notebook_leaves_behind_are_gone_before_the_next(process_backend, tmp_path):
    group = JobGroup([
        job("spawns", "import subprocess, sys\n"
                      "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'],"
                      " start_new_session=True)\n"
                      "open('pid.txt', 'w').write(str(p.pid))", backend=process_backend),
        job("looks", "import os\npid = int(open('pid.txt').read())\n"
                     "try:\n    os.kill(pid, 0)\n    print('ALIVE')\nexcept ProcessLookupError:\n    print('GONE')",
            backend=process_backend),
    ])
    spawns, looks = run_group(group)
    assert spawns.status == "ok" and looks.status == "ok", [spawns.summary(), looks.summary()]
    assert "GONE" in stream_text(looks)
    assert leftover_sandbox_processes() == []


KILL_SIBLINGS = """
import os, signal, time
mine, parent, killed = os.getpid(), os.getppid(), 0
deadline = time.monotonic() + 15  # a loaded machine may not have started the next kernel yet
while not killed and time.monotonic() < deadline:
    for entry in os.listdir('/proc'):
        if entry.isdigit() and int(entry) != mine:
            try:
                stat = open(f'/proc/{entry}/stat').read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == parent:  # another child of the worker: the next notebook's kernel
                os.kill(int(entry), signal.SIGKILL)
                killed += 1
    if not killed:
        time.sleep(0.1)
print('killed', killed)
"""


def test_the_next_kernel_boots_early_and_a_notebook_cannot_break_it(process_backend):
    """While a notebook runs, the next notebook's kernel is already starting.  It is a
    fresh kernel all the same, and when the running notebook kills it, the next
    notebook gets another one instead of failing."""
    group = JobGroup([
        job("first", "secret = 1", KILL_SIBLINGS, backend=process_backend),
        job("second", "print('secret' in globals())", backend=process_backend),
        job("third", "print('third ran')", backend=process_backend),
    ])
    first, second, third = run_group(group)
    assert [first.status, second.status, third.status] == ["ok", "ok", "ok"], \
        [r.summary() for r in (first, second, third)]
    assert "killed 1" in stream_text(first)  # there was a spare kernel, and it was killed
    assert "False" in stream_text(second)
    assert "third ran" in stream_text(third)
    assert leftover_sandbox_processes() == []


def test_invalid_member_is_reported_and_the_rest_run(process_backend):
    group = JobGroup([
        Job(notebook={"not": "a notebook"}, name="broken", backend=process_backend, limits=LIMITS, trusted=True),
        job("fine", "print('ok')", backend=process_backend),
    ])
    broken, fine = run_group(group)
    assert broken.status == "invalid" and "not a Jupyter notebook" in broken.message
    assert fine.status == "ok"
    everything_bad = JobGroup([Job(notebook={"x": 1}, name="a", backend=process_backend, trusted=True),
                               Job(notebook=tmp_missing(), name="b", backend=process_backend, trusted=True)])
    a, b = run_group(everything_bad)
    assert a.status == b.status == "invalid"
    assert "no such notebook file" in b.message


def tmp_missing():
    return "/nonexistent/coursebench/missing.ipynb"


def test_a_notebook_cannot_forge_the_answers_of_its_group(process_backend):
    fake = {"index": 1, "result": {"version": 1, "status": "ok", "failed_cell": None, "cell_durations": [],
                                   "versions": {}}, "notebook": None}
    forger = job("forger", "import json, sys, os\n"
                           f"line = {json.dumps(json.dumps(fake))}\n"
                           "print(line); sys.stdout.flush()\n"
                           "for fd in range(3, 20):\n"
                           "    try:\n        os.write(fd, (line + '\\n').encode())\n"
                           "    except OSError:\n        pass\n"
                           "raise SystemExit('forged')", backend=process_backend)
    victim = job("victim", "1 / 0", backend=process_backend)
    first, second = run_group(JobGroup([forger, victim]))
    # the forged "ok" is never taken: the forger ends in its own SystemExit -- or, when one of
    # the descriptors it wrote to was its kernel's own ZMQ socket (which numbers they get
    # varies from run to run), its kernel stops answering and it times out
    assert first.status in ("error", "timeout"), first.summary()
    assert second.status == "error" and second.ename == "ZeroDivisionError"


def test_cancel_stops_the_running_notebook_and_skips_the_rest(bwrap_backend, private_job_root):
    cancel = threading.Event()
    group = JobGroup([
        job("quick", "print(1)", backend=bwrap_backend),
        job("slow", "open('slow-started', 'w').close()\nimport time\ntime.sleep(60)", backend=bwrap_backend),
        job("never", "print(2)", backend=bwrap_backend),
    ])
    done = threading.Event()

    def cancel_once_slow_runs() -> None:  # not a fixed delay: a busy machine starts kernels slowly
        deadline = time.monotonic() + 120
        while not done.is_set() and time.monotonic() < deadline:
            if any(private_job_root.rglob("slow-started")):
                cancel.set()
                return
            time.sleep(0.1)

    watcher = threading.Thread(target=cancel_once_slow_runs, daemon=True)
    watcher.start()
    try:
        quick, slow, never = run_group(group, cancel=cancel)
    finally:
        done.set()
        watcher.join()
    assert quick.status == "ok"
    assert slow.status == "killed" and "cancelled" in slow.message
    assert never.status == "killed" and "not run" in never.message and "slow" in never.message
    assert leftover_sandbox_processes() == []


def test_run_many_mixes_groups_and_jobs_lazily(process_backend):
    produced: list[str] = []
    seen: list[tuple[int, int, str]] = []

    def items():
        for i in range(3):
            produced.append(f"g{i}")
            yield JobGroup([job(f"g{i}/a", f"print({i})", backend=process_backend),
                            job(f"g{i}/b", f"print({i} * 10)", backend=process_backend)])
            yield job(f"solo{i}", "print('solo')", backend=process_backend)

    results = run_many(items(), workers=2, total=9,
                       progress=lambda done, total, r: seen.append((done, total, r.name)))
    assert [r.name for r in results] == ["g0/a", "g0/b", "solo0", "g1/a", "g1/b", "solo1",
                                         "g2/a", "g2/b", "solo2"]
    assert all(r.status == "ok" for r in results), [r.summary() for r in results]
    assert "10" in stream_text(results[4])
    assert sorted(d for d, _, _ in seen) == list(range(1, 10))
    assert {t for _, t, _ in seen} == {9}
    assert produced == ["g0", "g1", "g2"]


def test_group_needs_jobs():
    with pytest.raises(ValueError):
        JobGroup([])
