"""What every sandbox backend is: an :class:`Outcome`, the :class:`Backend` interface, and
the registry they :func:`register` in (read by :mod:`coursebench.execution.backends`).

A module of its own so that the backends import it, not their package: the package loads
the backends, the backends never import the package.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from ..job import JobDir

__all__ = ["Backend", "Outcome", "register"]


@dataclass
class Outcome:
    """What a backend saw of one sandbox run (the host's view, never the sandbox's)."""

    payload: bytes | None
    """The worker's JSON answer from its private channel (None: none came)."""
    returncode: int | None
    stopped: str | None = None
    """Why the host stopped the sandbox: 'timeout', 'oom', 'disk', 'cancelled' or None."""
    oom_kills: int = 0
    pids_refused: int = 0
    peak_memory: int | None = None
    log_tail: str = ""
    image: str | None = None
    infrastructure_error: str | None = None
    """Set when the sandbox itself could not be started (not the student's fault)."""
    extra: dict = field(default_factory=dict)


class Backend(ABC):
    """A way to run the worker in isolation.  Subclasses register with :func:`register`."""

    name: ClassVar[str]
    strength: ClassVar[int]
    """How strong the isolation is; ``auto`` picks the strongest available."""
    isolated: ClassVar[bool] = True

    @classmethod
    @abstractmethod
    def available(cls) -> tuple[bool, str]:
        """(usable here, why or why not)."""

    @abstractmethod
    def run(self, job: JobDir, cancel: threading.Event) -> Outcome:
        """Run the worker on ``job`` to the end, enforcing ``job.limits``."""


_REGISTRY: dict[str, type[Backend]] = {}


def register(cls: type[Backend]) -> type[Backend]:
    _REGISTRY[cls.name] = cls
    return cls
