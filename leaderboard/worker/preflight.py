"""Fail closed before the first claim: a scoring worker starts only where students'
notebooks can be isolated — here (bubblewrap, or a reachable Docker engine with the
runtime image), or, with ``--cluster``, on every worker of that Dask cluster.  The one
exception is asked for by name: ``--backend subprocess --trusted-notebooks`` (notebooks
you wrote yourself).  The refusal says what is missing and what to install."""

from __future__ import annotations

from typing import Any

from coursebench.execution import backends
from coursebench.execution.errors import BackendUnavailable, TrustRequired, UnknownBackend

from ..errors import LeaderboardError


class WorkerRefused(LeaderboardError):
    """The worker will not start: nothing here (or on the cluster) can isolate notebooks."""

    code = "worker_refused"

    def __init__(self, message: str, *, backend: str, fixes: list[str] | None = None,
                 where: str = "this machine") -> None:
        self.backend, self.fixes, self.where = backend, list(fixes or []), where
        super().__init__(message)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "backend": self.backend, "fixes": self.fixes, "where": self.where}


class ScoringUnavailable(LeaderboardError):
    """A notebook submission cannot be scored by this server (no sandbox here): it is
    refused before anything is stored or counted."""

    code = "scoring_unavailable"

    def __init__(self, reason: str, fixes: list[str] | None = None) -> None:
        self.reason, self.fixes = reason, list(fixes or [])
        super().__init__("this server cannot run notebook submissions right now, so yours was not accepted "
                         "and does not count against your daily limit; please tell your instructor "
                         f"(the server says: {reason.splitlines()[0]})")

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "fixes": self.fixes}


def sandbox_here(backend: str = "auto", trusted: bool = False, *, fresh: bool = True) -> tuple[bool, str, list[str]]:
    """(usable, the sentence saying why, the fixes) for ``backend`` on this machine.
    Runs on cluster workers too (``Client.run``), so it answers plain data.  ``fresh``
    probes again rather than trusting what was found earlier in this process."""
    if fresh:
        backends._AVAILABLE.clear()  # what was usable a while ago may not be now
    try:
        name, why = backends.resolve(backend, trusted=trusted)
    except (BackendUnavailable, TrustRequired, UnknownBackend) as exc:
        return False, str(exc), list(getattr(exc, "fixes", []) or [])
    return True, f"{why}" + ("" if backends.is_isolated(name) else " — NOT isolated: trusted notebooks only"), []


def check_local(backend: str, trusted: bool) -> str:
    """The sentence saying which sandbox scores here; raises :class:`WorkerRefused`."""
    if backend == "subprocess" and not trusted:
        raise WorkerRefused(str(TrustRequired("subprocess")), backend=backend)
    ok, why, fixes = sandbox_here(backend, trusted)
    if ok:
        return why
    advice = "" if fixes else (" Install bubblewrap (apt-get install bubblewrap) or give this worker a "
                               "reachable Docker engine (DOCKER_HOST) with the runtime image "
                               "(coursebench images build runtime).")
    raise WorkerRefused(f"coursebench worker will not score students' notebooks here: {why}{advice}",
                        backend=backend, fixes=fixes)
