"""coursebench: a Jupyter-based course and competition workbench.

The public API::

    from coursebench import run_notebook, run_many, Job, JobGroup, Limits, SlotPool, ExecutionResult
    from coursebench import load_course
    from coursebench import compete          # the student client's notebook API

The names are loaded when first used (PEP 562), so importing a light part — the student
client (``coursebench.client``, ``coursebench.compete``) or the error root — does not
import the execution engine, pydantic or pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .config import Course, load_course
    from .execution import ExecutionResult, Job, JobGroup, Limits, SlotPool, run_many, run_notebook

#: Public name → the module that defines it.
_LAZY = {
    "Course": "coursebench.config",
    "load_course": "coursebench.config",
    "ExecutionResult": "coursebench.execution",
    "Job": "coursebench.execution",
    "JobGroup": "coursebench.execution",
    "Limits": "coursebench.execution",
    "SlotPool": "coursebench.execution",
    "run_many": "coursebench.execution",
    "run_notebook": "coursebench.execution",
}

__all__ = [
    "Course",
    "ExecutionResult",
    "Job",
    "JobGroup",
    "Limits",
    "SlotPool",
    "__version__",
    "load_course",
    "run_many",
    "run_notebook",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'coursebench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
