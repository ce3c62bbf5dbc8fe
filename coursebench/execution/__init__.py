"""Run notebooks safely: papermill inside a sandbox, with limits.

>>> from coursebench.execution import run_notebook, Limits
>>> result = run_notebook("lab01.ipynb", {"n": 3}, limits=Limits(timeout=60, memory="1G"))
>>> result.status, result.failed_cell
('ok', None)
"""

from .backends import Outcome, availability, known_backends, resolve
from .errors import (
    BackendUnavailable,
    ExecutionError,
    NoSandbox,
    NotebookInputError,
    TrustRequired,
    UnknownBackend,
)
from .gpus import GPUSlots, detect_gpus
from .job import Job, JobGroup, split_separate
from .limits import Limits, format_size, parse_size
from .pool import SlotPool, run_many
from .progress import ProgressCallback
from .result import STATUSES, ExecutionResult
from .runner import run_group, run_job, run_notebook

__all__ = [
    "STATUSES",
    "BackendUnavailable",
    "ExecutionError",
    "ExecutionResult",
    "GPUSlots",
    "Job",
    "JobGroup",
    "Limits",
    "NoSandbox",
    "NotebookInputError",
    "Outcome",
    "ProgressCallback",
    "SlotPool",
    "TrustRequired",
    "UnknownBackend",
    "availability",
    "detect_gpus",
    "format_size",
    "known_backends",
    "parse_size",
    "resolve",
    "run_group",
    "run_job",
    "run_many",
    "run_notebook",
    "split_separate",
]
