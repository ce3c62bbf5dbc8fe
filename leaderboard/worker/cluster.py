"""``coursebench worker --cluster ADDRESS``: notebook submissions' K+1 runs go to the Dask
cluster grading uses (:mod:`coursebench.execution.distributed`), each run a Dask task in
a sandbox on a cluster worker; the scoring worker itself only claims, sends, scores the
returned predictions and stores.  Before the first claim every cluster worker is asked
whether it can isolate notebooks (fail closed, as locally)."""

from __future__ import annotations

import time

from .preflight import WorkerRefused, sandbox_here


def check_cluster(address: str, backend: str, trusted: bool, *, timeout: float = 30.0,
                  worker_wait: float = 60.0) -> str:
    """The sentence saying how many cluster workers will run notebooks and with which
    sandbox; raises :class:`WorkerRefused` when the scheduler cannot be reached, has no
    worker within ``worker_wait`` seconds, or one of its workers cannot isolate."""
    try:
        from distributed import Client
    except ImportError:
        raise WorkerRefused("--cluster needs dask.distributed: pip install 'coursebench[cluster]'",
                            backend=backend, where=address) from None
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise WorkerRefused(f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({exc}); "
                            "is `dask scheduler` running there and is its port open from here?",
                            backend=backend, where=address) from None
    try:
        deadline = time.monotonic() + worker_wait
        while not client.scheduler_info().get("workers"):
            if time.monotonic() > deadline:
                raise WorkerRefused(f"the Dask cluster at {address} has no workers (waited {worker_wait:g} s); "
                                    "start some with `dask worker " + address + "`", backend=backend, where=address)
            time.sleep(0.5)
        answers = client.run(sandbox_here, backend, trusted)
    finally:
        client.close(timeout=10)
    bad = {worker: why for worker, (ok, why, _) in answers.items() if not ok}
    if bad:
        fixes = sorted({fix for ok, _, found in answers.values() if not ok for fix in found})
        lines = "; ".join(f"{worker}: {why.splitlines()[0]}" for worker, why in sorted(bad.items()))
        raise WorkerRefused(f"{len(bad)} of the {len(answers)} Dask workers at {address} cannot isolate "
                            f"notebooks, so this worker will not send students' notebooks there ({lines}). "
                            "Install bubblewrap (apt-get install bubblewrap) or give those workers a Docker "
                            "engine with the runtime image.", backend=backend, fixes=fixes, where=address)
    kinds = sorted({why.split(" (")[0] for _, why, _ in answers.values()})
    return f"{len(answers)} Dask worker(s) at {address}: {', '.join(kinds)}"
