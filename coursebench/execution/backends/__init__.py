"""The registry of sandbox backends.

A backend takes a prepared job directory and runs ``worker.py`` on it under the job's
limits, returning an :class:`Outcome`.  Backends register themselves by name; ``"auto"``
picks the strongest available one *that isolates* — never ``subprocess``: with no sandbox
usable it refuses (:class:`NoSandbox`, with this machine's fixes).  A backend that does
not isolate runs only trusted notebooks, asked for by name (:class:`TrustRequired`
otherwise).  An unknown name fails with the list of known names.

:class:`Outcome`, :class:`Backend` and :func:`register` are defined in
:mod:`~coursebench.execution.backends.base` (which the backends import) and re-exported here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..errors import BackendUnavailable, NoSandbox, TrustRequired, UnknownBackend
from .base import _REGISTRY, Backend, Outcome, register

__all__ = ["Backend", "Outcome", "availability", "backend_class", "create", "is_isolated", "known_backends",
           "register", "resolve"]


_AVAILABLE: dict[str, tuple[bool, str]] = {}


def known_backends() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY, key=lambda n: -_REGISTRY[n].strength)


def backend_class(name: str) -> type[Backend]:
    _load_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownBackend(name, ["auto", *known_backends()]) from None


def availability(name: str, *, refresh: bool = False) -> tuple[bool, str]:
    if refresh or name not in _AVAILABLE:
        _AVAILABLE[name] = backend_class(name).available()
    return _AVAILABLE[name]


def is_isolated(name: str) -> bool:
    """False for a registered backend that does not isolate notebooks (``subprocess``)."""
    _load_builtin()
    cls = _REGISTRY.get(name)
    return cls is None or cls.isolated


def resolve(name: str = "auto", *, trusted: bool = False) -> tuple[str, str]:
    """The backend to use for ``name`` and a sentence saying why.

    ``auto`` picks the strongest available backend that isolates, and raises
    :class:`NoSandbox` (what is missing, and the commands that fix it here) when there
    is none: it never falls back to running notebooks unisolated.  A backend that does
    not isolate (``subprocess``) must be named and ``trusted`` must be True, else
    :class:`TrustRequired`.  A named backend that is not available raises
    :class:`BackendUnavailable` with the reason.
    """
    if name != "auto":
        if not backend_class(name).isolated and not trusted:
            raise TrustRequired(name)
        ok, why = availability(name)
        if not ok:
            raise BackendUnavailable(name, why)
        return name, f"using the {name} backend ({why})"
    skipped: dict[str, str] = {}
    for candidate in known_backends():
        if not _REGISTRY[candidate].isolated:
            continue
        ok, why = availability(candidate)
        if ok:
            note = f"auto picked the {candidate} backend ({why})"
            if skipped:
                note += "; not available: " + "; ".join(f"{k}: {v}" for k, v in skipped.items())
            return candidate, note
        skipped[candidate] = why
    from .advice import sandbox_fixes

    raise NoSandbox(skipped, sandbox_fixes(skipped))


def create(name: str) -> Backend:
    return backend_class(name)()


_loaded = False
_load_lock = threading.Lock()
LOADERS: list[Callable[[], None]] = []


def _load_builtin() -> None:
    global _loaded
    if _loaded:
        return
    with _load_lock:
        if _loaded:
            return
        from . import bwrap, subprocess  # noqa: F401  (register themselves)

        try:
            from . import docker  # noqa: F401
        except ImportError:
            pass
        _loaded = True
