"""coursebench: a Jupyter-based course and competition workbench.

The public API::

    from coursebench import run_notebook, run_many, Job, JobGroup, Limits, ExecutionResult
    from coursebench import load_course
"""

from ._version import __version__
from .config import Course, load_course
from .execution import ExecutionResult, Job, JobGroup, Limits, run_many, run_notebook

__all__ = [
    "Course",
    "ExecutionResult",
    "Job",
    "JobGroup",
    "Limits",
    "__version__",
    "load_course",
    "run_many",
    "run_notebook",
]
