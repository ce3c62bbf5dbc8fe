"""Warm kernels (issue 19): what the host tells the sandbox's worker about its template.

Inside every sandbox the worker starts a clean *template* process that imports ipykernel
and the course's heavy libraries once and never runs student code; each notebook's kernel
is forked from it through a jupyter_client kernel provisioner (``worker.py``: ``Template``,
``_warm_provisioner``).  This module only decides, on the host, whether that happens and
what is pre-imported; it writes nothing into the sandbox except two fields of ``job.json``.
How it works and why no state crosses between notebooks: docs/warm.md.

Which libraries: course.toml ``[execution] preimport = [...]`` (default
:data:`DEFAULT_PREIMPORT`, the lab image's); on/off: a job's ``warm`` field, else
``COURSEBENCH_WARM``, else course.toml ``[execution] warm`` (default on).
"""

from __future__ import annotations

from typing import Any

from ...settings import course_table, get_settings

__all__ = ["DEFAULT_PREIMPORT", "options"]

#: what the lab image's template imports when the course names nothing
DEFAULT_PREIMPORT = ("numpy", "pandas", "sklearn", "matplotlib", "matplotlib.pyplot")


def options(job_warm: bool | None = None) -> dict[str, Any]:
    """``{"enabled": bool, "preimport": [module, ...]}`` for ``job.json``."""
    table = course_table("execution")
    enabled = job_warm
    if enabled is None:
        enabled = get_settings().warm
    if enabled is None:
        enabled = table.get("warm", True) is not False
    preimport = table.get("preimport", list(DEFAULT_PREIMPORT))
    if not isinstance(preimport, list) or not all(isinstance(m, str) for m in preimport):
        preimport = list(DEFAULT_PREIMPORT)
    return {"enabled": bool(enabled), "preimport": [m for m in preimport if m.strip()]}
