"""The root of every error coursebench raises on purpose: :class:`CoursebenchError`.

Each area derives its own family from it (``ExecutionError``, ``GradingError``,
``ConfigError``, ``SettingsError``, ``LeaderboardError``, the student client's
``CompeteError``…), so a caller — the CLI, the web app, a notebook — can catch one class
and show any of them.

Errors are structured: an error keeps the facts it is about as attributes (which file,
row, column, student, backend…), names its kind with a stable ``code`` (what the REST API
answers as ``"error"``), and :meth:`~CoursebenchError.to_dict` gives both as data.  The
message itself reads like a helpful TA: what is wrong, where, and how to fix it.

This module depends on the standard library only: the student client, which must not
pull in the host side, uses it too.
"""

from __future__ import annotations

from typing import Any, ClassVar


class CoursebenchError(Exception):
    """Root of every error coursebench raises on purpose.

    ``code`` is a short, stable, machine-readable name of the kind of error; subclasses
    set their own.  Facts go in attributes set by the subclass's ``__init__``.
    """

    code: ClassVar[str] = "coursebench_error"

    def to_dict(self) -> dict[str, Any]:
        """The error as data: ``{"error": code, "message": text}`` (subclasses add their facts)."""
        return {"error": self.code, "message": str(self)}


__all__ = ["CoursebenchError"]
