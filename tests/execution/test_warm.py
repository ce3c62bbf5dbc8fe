"""Warm kernels (docs/warm.md): each notebook's kernel is forked from a pre-imported
template in its sandbox, and nothing one notebook does reaches the next.

Notebooks that try to leave something behind (monkeypatched numpy / scikit-learn,
builtins, globals, environment, random state, sys.modules / sys.path entries, atexit
handlers, threads, signal handlers, umask, numpy's error and print settings, the template
itself) run between notebooks that fingerprint the kernel they start in: the fingerprints
are equal, the random streams are not, and every kernel was forked.  Files are the
submission's own within a group (as in nbgrader); between students (two sandboxes)
nothing is left either.  A kernel that kills or stops the template, exits or times out
costs only itself.  The Docker twin is tests/docker/test_warm_docker.py.
"""

from __future__ import annotations

import json

from nbformat.v4 import new_code_cell, new_notebook

from coursebench.execution import Job, JobGroup, Limits, SlotPool, run_many

from ..helpers import leftover_sandbox_processes

LIMITS = Limits(timeout=120, memory="1G", pids=256)

#: what a kernel looks like when it starts: printed as FP=..., its random draws as RND=...
FINGERPRINT = r'''
import atexit, builtins, hashlib, json, os, random, signal, sys, threading, warnings
import numpy as np
import sklearn.linear_model as lm
umask = os.umask(0o022); os.umask(umask)
fp = {
    "np.mean": [np.mean.__module__, np.mean.__qualname__, float(np.mean([1, 2, 3]))],
    "lr.fit": [lm.LinearRegression.fit.__module__, lm.LinearRegression.fit.__qualname__],
    "builtins": hashlib.sha256(repr(sorted(  # names; and which object, for the interpreter's own
        (k, id(v) if type(v).__name__ in ("builtin_function_or_method", "type") else None)
        for k, v in vars(builtins).items() if not k.startswith("__coursebench"))).encode()).hexdigest(),
    "abs(-2)": abs(-2),
    "globals": sorted(k for k in globals() if not k.startswith("_")),
    "modules": sorted(sys.modules),
    "path": sys.path,
    "env": {k: v for k, v in os.environ.items() if not k.startswith("JPY_")},
    "threads": sorted(t.name for t in threading.enumerate()),
    "atexit": atexit._ncallbacks(),
    "signals": {int(s): str(signal.getsignal(s)) for s in (signal.SIGUSR1, signal.SIGTERM, signal.SIGALRM)},
    "umask": umask,
    "np.err": np.geterr(),
    "np.print": str(np.get_printoptions()),
    "warnings": len(warnings.filters),
    "recursion": sys.getrecursionlimit(),
}
print("FP=" + json.dumps(fp, sort_keys=True, default=str))
print("RND=" + json.dumps([random.random(), float(np.random.rand()), os.urandom(8).hex()]))
'''

#: a notebook that leaves everything it can behind (and tries to poison the template)
LEAKER = [
    r'''
import atexit, builtins, os, random, signal, sys, threading, time, types, warnings
import numpy as np
import sklearn.linear_model as lm
np.mean = lambda *a, **k: 42.0
lm.LinearRegression.fit = lambda self, *a, **k: self
builtins.LEAKED = True
secret = 42
os.environ["LEAKED"] = "1"
random.seed(0); np.random.seed(0)
sys.modules["leaked_module"] = types.ModuleType("leaked_module")
sys.path.insert(0, "/tmp/leaked")
atexit.register(print, "leaked atexit")
threading.Thread(target=time.sleep, args=(3600,), name="leaked-thread", daemon=False).start()
signal.signal(signal.SIGUSR1, lambda *a: None)
os.umask(0o077)
np.seterr(all="ignore"); np.set_printoptions(precision=1)
warnings.simplefilter("ignore")
sys.setrecursionlimit(2345)
open("/tmp/leaked.txt", "w").write("x"); open("leaked.txt", "w").write("x")
''',
    r'''
import os
template = [p for p in os.listdir("/proc") if p.isdigit()
            and open(f"/proc/{p}/comm").read().strip() == "cb-template"]
try:  # the template is not dumpable: its memory is out of reach
    open(f"/proc/{template[0]}/mem", "r+b")
    print("POISON=opened")
except OSError as exc:
    print("POISON=" + type(exc).__name__)
''',
    "import builtins; builtins.abs = lambda x: 0",
]


def nb(*sources: str):
    notebook = new_notebook(cells=[new_code_cell(s) for s in sources])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def job(name: str, *sources: str, backend: str, limits: Limits = LIMITS) -> Job:
    return Job(notebook=nb(*sources), name=name, backend=backend, limits=limits, warm=True)


def printed(result, key: str) -> str:
    text = "".join(out.get("text", "") for cell in result.notebook.cells for out in cell.get("outputs", [])
                   if out.get("output_type") == "stream")
    lines = [line for line in text.splitlines() if line.startswith(key + "=")]
    assert lines, (result.summary(), text[-2000:], result.log_tail[-2000:])
    return lines[-1].split("=", 1)[1]


def run_warm(group: JobGroup, imports: str) -> list:
    """``group`` in a warm sandbox: the pool slot boots it while a first group of the same
    shape (notebooks with the same ``imports`` — what the template pre-imports —, the same
    limits) runs."""
    filler = JobGroup([Job(notebook=nb(imports), name=f"filler-{i}", backend=j.backend, limits=j.limits, warm=True)
                       for i, j in enumerate(group.jobs)], name="student/filler")
    return run_many([filler, group], workers=1)[len(group.jobs):]


def check_nothing_crosses(backend: str, lead: int = 0) -> None:
    """``lead``: notebooks first that wait for the template to be ready (a container is not
    booted ahead: its group's first kernels start cold while the template imports)."""
    wait = ("import os, time\nfor _ in range(600):\n    if any(open(f'/proc/{p}/comm').read().strip() == "
            "'cb-template' for p in os.listdir('/proc') if p.isdigit()):\n        break\n    time.sleep(0.2)")
    group = JobGroup([
        *(job(f"lead-{i}", wait if i == 0 else "pass", backend=backend) for i in range(lead)),
        job("control", FINGERPRINT, backend=backend),
        job("leaker", *LEAKER, backend=backend),
        job("seeker", FINGERPRINT, backend=backend),
        job("seeker-again", FINGERPRINT, backend=backend),
    ], name="student/warm")
    results = run_warm(group, "import numpy, sklearn.linear_model")[lead:]
    assert [r.status for r in results] == ["ok"] * 4, [r.summary() for r in results]
    assert all(r.warm for r in results), "every kernel is forked from the template"
    control, leaker, seeker, again = results
    assert printed(leaker, "POISON") == "PermissionError"
    fingerprints = [json.loads(printed(r, "FP")) for r in (control, seeker, again)]
    assert fingerprints[0]["np.mean"][2] == 2.0 and fingerprints[0]["abs(-2)"] == 2
    for after in fingerprints[1:]:
        for key, value in fingerprints[0].items():
            assert after[key] == value, f"{key} crossed from one notebook to the next"
    draws = [tuple(json.loads(printed(r, "RND"))) for r in (control, seeker, again)]
    for position in range(3):  # random.random, numpy.random, os.urandom: a new stream per fork
        assert len({d[position] for d in draws}) == 3, draws
    # the leaker seeded both generators with 0: nobody after it draws those numbers
    import random

    import numpy as np

    random.seed(0)
    np.random.seed(0)
    assert all(d[0] != random.random() for d in draws[1:])


def check_students_share_nothing(backend: str) -> None:
    leaker = job("student-a", *LEAKER[:1], backend=backend)
    seeker = job("student-b", "import os\nprint('FILES=' + repr(sorted(os.listdir('/tmp')) + sorted(os.listdir('.'))"
                 " + sorted(os.listdir('/dev/shm'))))", FINGERPRINT, backend=backend)
    first, second = run_many([leaker, seeker], workers=1)
    assert (first.status, second.status) == ("ok", "ok"), (first.summary(), second.summary())
    assert "leaked" not in printed(second, "FILES")
    fp = json.loads(printed(second, "FP"))
    assert "LEAKED" not in fp["env"] and "leaked_module" not in fp["modules"] and second.warm


def check_a_bad_kernel_costs_only_itself(backend: str) -> None:
    short = Limits(timeout=6, memory="1G", pids=256)
    find = ("import os, signal\nt = [int(p) for p in os.listdir('/proc') if p.isdigit() and "
            "open(f'/proc/{p}/comm').read().strip() == 'cb-template']\n")
    group = JobGroup([
        job("kills-template", find + "os.kill(t[0], signal.SIGKILL)", backend=backend),
        job("after-kill", "print('OK=1')", backend=backend),
        job("stops-template", find + "os.kill(t[0], signal.SIGSTOP)", backend=backend),
        job("after-stop", "print('OK=2')", backend=backend),
        job("loops", "while True: pass", backend=backend, limits=short),
        job("exits", "import os; os._exit(3)", backend=backend),
        job("warm-again", "import numpy\nprint('OK=3')", backend=backend),
    ], name="student/hostile")
    results = {r.name: r for r in run_warm(group, "import numpy")}
    assert results["loops"].status == "timeout" and results["exits"].status == "killed"
    for name, mark in (("after-kill", "1"), ("after-stop", "2"), ("warm-again", "3")):
        assert results[name].status == "ok" and printed(results[name], "OK") == mark, results[name].summary()
    assert results["warm-again"].warm, "a new template replaced the killed and the stopped one"


def test_nothing_crosses_between_forked_kernels(bwrap_backend):
    check_nothing_crosses(bwrap_backend)


def test_students_share_nothing_and_bad_kernels_cost_only_themselves(bwrap_backend):
    check_students_share_nothing(bwrap_backend)
    check_a_bad_kernel_costs_only_itself(bwrap_backend)


def test_a_slot_pool_keeps_a_booted_sandbox_for_the_next_call(bwrap_backend):
    """A scoring worker scores one submission after another, each a ``run_many`` of its
    folds, on one :class:`SlotPool`: the next submission's first fold starts in the sandbox
    the slot booted during the previous one (its kernel forked), with nothing of the
    previous student's in it; closing the pool ends the booted sandbox."""
    leaker = job("student-a", *LEAKER[:1], backend=bwrap_backend)
    seeker = job("student-b", "import os\nprint('FILES=' + repr(sorted(os.listdir('/tmp')) + sorted(os.listdir('.'))"
                 " + sorted(os.listdir('/dev/shm'))))", FINGERPRINT, backend=bwrap_backend)
    with SlotPool(1) as pool:
        [first] = run_many([leaker], pool=pool)
        assert first.status == "ok", first.summary()
        assert leftover_sandbox_processes(wait=0), "the slot keeps its next sandbox booted between calls"
        [second] = run_many([seeker], pool=pool)
    assert second.status == "ok" and second.warm, second.summary()
    assert "leaked" not in printed(second, "FILES")
    fp = json.loads(printed(second, "FP"))
    assert "LEAKED" not in fp["env"] and "leaked_module" not in fp["modules"]
    assert leftover_sandbox_processes() == [], "close() ends the booted sandboxes"
    try:
        pool.submit(print)
    except RuntimeError as exc:
        assert "closed" in str(exc)
    else:
        raise AssertionError("a closed pool takes no jobs")
