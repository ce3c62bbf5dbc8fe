"""Exceptions of coursebench.execution.  All derive from :class:`ExecutionError`.

:class:`~coursebench.errors.CoursebenchError`, the root of them all, lives in
:mod:`coursebench.errors`; it is importable from here too, as it always was.
"""

from __future__ import annotations

from ..errors import CoursebenchError

__all__ = ["BackendUnavailable", "CoursebenchError", "ExecutionError", "NotebookInputError", "UnknownBackend"]


class ExecutionError(CoursebenchError):
    """Something about running notebooks went wrong before or around the sandbox."""

    code = "execution_error"


class UnknownBackend(ExecutionError, ValueError):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name, self.known = name, known
        super().__init__(f"unknown sandbox backend {name!r}; known backends: {', '.join(known)}")


class BackendUnavailable(ExecutionError):
    def __init__(self, name: str, reason: str) -> None:
        self.name, self.reason = name, reason
        super().__init__(f"the {name} backend is not available here: {reason}")


class NotebookInputError(ExecutionError, ValueError):
    """A notebook or input file that cannot be run at all (the run becomes ``invalid``)."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)
