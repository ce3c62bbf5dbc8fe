"""Progress bars of the command line.

Library code never draws: long work takes a ``progress`` callback and calls it with
``(done, total, result)`` after each job (:mod:`coursebench.execution.progress`).  The
commands turn that into a Rich bar on stderr::

    with progress_bar("Running notebooks", total=len(jobs)) as bar:
        results = run_many(jobs, progress=bar)

The bar shows the label, ``done/total``, how the finished jobs went (``error:1 ok:3``)
and the time spent.  When the callback's count starts over — one run after another, as
when every pending notebook submission gets its own k-fold runs — the next run gets a
row of its own, as separate bars would.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["ProgressBar", "progress_bar"]


class ProgressBar:
    """A progress callback ``(done, total, result)`` that draws a Rich bar.

    Use it as a context manager (the bar shows while inside), or :func:`progress_bar`.
    ``total``, when known, shows the bar at 0/total before the first job finishes (the
    callback's own ``total`` wins once it comes); ``counts`` shows the finished jobs' statuses;
    ``transient`` clears the bar at the end.
    """

    def __init__(self, label: str, *, total: int | None = None, counts: bool = True,
                 transient: bool = False, console: Console | None = None) -> None:
        self.label, self.total, self.counts = label, total or None, counts
        columns: list[Any] = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn()]
        if counts:
            columns.append(TextColumn("{task.fields[status]}"))
        columns.append(TimeElapsedColumn())
        self.progress = Progress(*columns, console=console or Console(stderr=True), transient=transient)
        self._started = False
        self._task: Any = None
        self._done = 0
        self._statuses: dict[str, int] = {}

    def __enter__(self) -> ProgressBar:
        self.progress.start()
        self._started = True
        if self.total:  # the work is known to come: show 0/total now (else at the first report)
            self._task = self.progress.add_task(self.label, total=self.total, status="")
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, done: int, total: int, result: Any = None) -> None:
        if not self._started:
            raise RuntimeError("a ProgressBar draws only inside its `with` block")
        if self._task is None or done < self._done or (done == self._done and done > 0):
            # a new run (the count started over): its own row, as it had its own bar before
            self._task = self.progress.add_task(self.label, total=total or None, status="")
            self._statuses = {}
        self._done = done
        status = getattr(result, "status", None)
        if status:
            self._statuses[status] = self._statuses.get(status, 0) + 1
        text = " ".join(f"{k}:{v}" for k, v in sorted(self._statuses.items()))
        self.progress.update(self._task, completed=done, total=total or self.total or None, status=text)


@contextmanager
def progress_bar(label: str, *, total: int | None = None, enabled: bool | None = None, counts: bool = True,
                 transient: bool = False, console: Console | None = None) -> Iterator[ProgressBar | None]:
    """A :class:`ProgressBar` shown while inside, or None (no bar) when not ``enabled``
    (default: when stderr is a terminal).  Pass what it yields as ``progress=``."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield None
        return
    with ProgressBar(label, total=total, counts=counts, transient=transient, console=console) as bar:
        yield bar
