"""Exceptions of coursebench.execution.  All derive from :class:`ExecutionError`.

:class:`~coursebench.errors.CoursebenchError`, the root of them all, lives in
:mod:`coursebench.errors`; it is importable from here too, as it always was.
"""

from __future__ import annotations

from typing import Any

from ..errors import CoursebenchError

__all__ = ["BackendUnavailable", "CoursebenchError", "ExecutionError", "NoSandbox", "NotebookInputError",
           "TrustRequired", "UnknownBackend"]


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


class NoSandbox(BackendUnavailable):
    """Neither Docker nor bubblewrap can isolate notebooks here, so none is run (fail closed).

    ``tried`` maps each sandbox backend to why it cannot be used; ``fixes`` are the
    commands that would make one usable on this machine, best first."""

    code = "no_sandbox"

    def __init__(self, tried: dict[str, str], fixes: list[str]) -> None:
        self.tried, self.fixes = dict(tried), list(fixes)
        order = sorted(self.tried, key=lambda name: (name != "bwrap", name))
        ExecutionError.__init__(self, "\n".join([
            "no sandbox can be used on this machine, so coursebench will not run these notebooks "
            "(unsandboxed, a student's notebook could read the solutions and the gradebook, and write "
            "anywhere you can).",
            *(f"  {name}: {self.tried[name]}" for name in order),
            "Either of these fixes it:" if len(self.fixes) > 1 else "To fix it:",
            *(f"  {i}. {fix}" for i, fix in enumerate(self.fixes, start=1)),
            "Then run the command again. (Only for notebooks you wrote yourself: --backend subprocess "
            "--trusted-notebooks runs them without isolation.)",
        ]))
        self.name, self.reason = "auto", "; ".join(f"{k}: {v}" for k, v in self.tried.items())

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "tried": self.tried, "fixes": self.fixes}


class TrustRequired(ExecutionError):
    """A backend without isolation was asked for without saying the notebooks are trusted."""

    code = "trust_required"

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"the {name} backend does not isolate notebooks (they run as you, with your files and your "
            "network), so it only runs notebooks you say you trust: --trusted-notebooks on the command line, "
            "trusted=True in Python (run_notebook, Job, autograde), or trusted_notebooks = true under "
            "[execution] in course.toml. Never use it for students' work: install bubblewrap or Docker "
            "(coursebench doctor says what this machine has).")

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "backend": self.name}


class NotebookInputError(ExecutionError, ValueError):
    """A notebook or input file that cannot be run at all (the run becomes ``invalid``)."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)
