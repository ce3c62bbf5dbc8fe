"""How long-running work reports its progress: through a callback, never by drawing.

Library code (the pool, the Dask client, grading, scoring) takes
``progress: ProgressCallback | None`` and calls it with ``(done, total, result)`` after
each job: ``done`` jobs have finished out of ``total`` (0 when not known yet) and
``result`` is the one that just finished (its ``status`` says how it went).  What to show
is the caller's business: the command line draws a Rich bar
(:mod:`coursebench.cli_progress`), a notebook may print, a web worker may log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .result import ExecutionResult

__all__ = ["ProgressCallback", "check_progress"]

ProgressCallback = Callable[[int, int, ExecutionResult], None]
"""``progress(done, total, result)``, called after each finished job."""


def check_progress(progress: Any) -> ProgressCallback | None:
    """The callback to call, or None for no reporting (``None``/``False``).

    ``progress=True`` used to draw a bar from inside the library; drawing is the command
    line's business now, so it is refused loudly rather than silently drawing nothing.
    """
    if progress is None or progress is False:
        return None
    if progress is True or not callable(progress):
        raise TypeError(
            f"progress must be a callable taking (done, total, result), or None; got {progress!r}. "
            "Library code draws nothing: for a bar, pass coursebench.cli_progress.progress_bar(...)'s callback."
        )
    return progress
