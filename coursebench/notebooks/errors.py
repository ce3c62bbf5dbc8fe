"""The error a notebook source that cannot be built raises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import CoursebenchError


class NotebookSourceError(CoursebenchError):
    """A notebook source that cannot be built as it stands."""

    code = "notebook_source"

    def __init__(self, path: str | Path, problem: str, *, cell: int | None = None, grade_id: str | None = None) -> None:
        self.path, self.problem, self.cell, self.grade_id = str(path), problem, cell, grade_id
        where = self.path
        if cell is not None:
            where += f", cell {cell}" + (f" ({grade_id})" if grade_id else "")
        super().__init__(f"{where}: {problem}")

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "path": self.path, "cell": self.cell, "grade_id": self.grade_id}
