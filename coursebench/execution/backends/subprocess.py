"""The ``subprocess`` backend: no isolation at all.

The notebook runs as the current user with full access to the host's files and network.
Limits on time and output still hold (memory too, by cgroup or by watching RSS).  It runs
only jobs marked ``trusted`` (your own lectures, on machines without bubblewrap or
Docker) and refuses any other (:class:`~coursebench.execution.errors.TrustRequired`),
whoever calls it; ``auto`` never picks it; every run warns, and its results say
``sandboxed: false``.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

from ..errors import TrustRequired
from ..job import JobDir
from .base import Outcome, register
from .process import ProcessBackend, python_for_sandbox, sandbox_env

WARNING = (
    "the subprocess backend does not isolate notebooks: their code can read and write "
    "everything your user can, and use the network. Use it only for trusted notebooks."
)


class NoIsolationWarning(UserWarning):
    """Raised (as a warning) for every run on the subprocess backend."""


@register
class SubprocessBackend(ProcessBackend):
    name = "subprocess"
    strength = 0
    isolated = False

    @classmethod
    def available(cls) -> tuple[bool, str]:
        return True, "no isolation: trusted notebooks only"

    def command(self, job: JobDir) -> tuple[list[str], dict[str, str], str]:
        exe, _ = python_for_sandbox()
        home = job.path / ".home"
        home.mkdir(exist_ok=True)
        env = sandbox_env(job, python_bin=str(Path(exe).parent), home=str(home))
        return [exe, str(job.worker), str(job.path)], env, str(job.work)

    def run(self, job: JobDir, cancel: threading.Event) -> Outcome:
        if not job.job.trusted:  # the last line of defence: nothing untrusted runs unisolated
            raise TrustRequired(self.name)
        warnings.warn(WARNING, NoIsolationWarning, stacklevel=3)
        return super().run(job, cancel)
