"""nbgrader's Autograde converter with execution swapped for the sandbox.

nbgrader's ``Autograde`` grades one submission at a time: *sanitize* (ClearOutput,
DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata), then
*autograde* (Execute, IgnorePattern, ClearMetadata, LimitOutput, SaveAutoGrades,
AssignLatePenalties, CheckCellMetadata).  :class:`SandboxedAutograde` keeps both
preprocessor lists exactly as configured, with two changes:

- ``Execute`` is taken out of the autograde list; the notebooks run instead in
  :func:`coursebench.execution.run_many` (see :mod:`.autograde`), between the two passes;
- sanitizing starts with :class:`RestoreCellMetadata` (nbgrader flags edited by the
  student are restored from the gradebook, and reported), and
  :class:`~.tampering.CheckReleasedCells` runs just before ``OverwriteCells``: a locked
  cell is reported as edited only when it differs from the version the student was
  given (nbgrader compares it with the version *with* the hidden tests).

Work happens in private directories so that nothing half-done is ever visible to
nbgrader or to a rerun: ``autograded/.coursebench/intake/<student>/<assignment>`` (a safe
copy of the submission) and ``.../staging/...`` (the notebooks being graded), which is
moved to ``autograded/<student>/<assignment>`` only when the submission is complete.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute, NbGraderPreprocessor, OverwriteCells

from .tampering import CheckReleasedCells

PRIVATE = ".coursebench"


class RestoreCellMetadata(NbGraderPreprocessor):
    """Put back the nbgrader flags (grade, solution, task, locked, points) of every cell
    the gradebook knows, whatever the student's copy says; log each change."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        from nbgrader.api import Gradebook, MissingEntry

        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            try:
                source_nb = gb.find_notebook(info["notebook"], info["assignment"])
            except MissingEntry:
                return nb, resources
            self._source = {c.name: (c.cell_type, bool(c.locked)) for c in source_nb.source_cells}
            self._grades = {c.name: float(c.max_score) for c in source_nb.grade_cells}
            self._tasks = {c.name: float(c.max_score) for c in source_nb.task_cells}
            self._solutions = {c.name for c in source_nb.solution_cells}
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict, index: int) -> tuple[NotebookNode, ResourcesDict]:
        meta = cell.metadata.get("nbgrader")
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if grade_id is None or grade_id not in self._source:
            return cell, resources
        from nbgrader.utils import is_locked

        want: dict[str, Any] = {
            "grade": grade_id in self._grades,
            "solution": grade_id in self._solutions,
        }
        if grade_id in self._tasks or meta.get("task"):
            want["task"] = grade_id in self._tasks
        if grade_id in self._grades or grade_id in self._tasks:
            want["points"] = self._grades.get(grade_id, self._tasks.get(grade_id))
        for key, value in want.items():
            have = meta.get(key, False if key != "points" else None)
            try:
                same = float(have) == float(value) if key == "points" else bool(have) == value
            except (TypeError, ValueError):
                same = False
            if not same:
                self.log.warning("Restored metadata '%s' for cell %s (should be: %s, got: %s)",
                                 key, grade_id, value, have)
                meta[key] = value
        locked = self._source[grade_id][1]
        if is_locked(cell) != locked:
            self.log.warning("Restored metadata '%s' for cell %s (should be: %s, got: %s)",
                             "locked", grade_id, locked, is_locked(cell))
            meta["locked"] = locked
        return cell, resources


def _is(pp: Any, kind: type) -> bool:
    """Whether a configured preprocessor (a class or an instance) is a ``kind``."""
    return (isinstance(pp, type) and issubclass(pp, kind)) or isinstance(pp, kind)


class SandboxedAutograde(Autograde):
    """``Autograde`` whose steps are driven one by one by :mod:`.autograde`."""

    _phase = "intake"

    def __init__(self, coursedir: Any = None, **kwargs: Any) -> None:
        super().__init__(coursedir=coursedir, **kwargs)
        self.log = logging.getLogger("coursebench.grading.nbgrader")

    # --- where things are ---------------------------------------------------------

    def private_step(self, name: str) -> str:
        return os.path.join(self.coursedir.autograded_directory, PRIVATE, name)

    @property
    def _input_directory(self) -> str:
        return self.private_step("intake" if self._sanitizing else "staging")

    @property
    def _output_directory(self) -> str:
        return self.private_step("staging")

    # --- the two passes -------------------------------------------------------------

    def _init_preprocessors(self) -> None:
        self.exporter._preprocessors = []
        if self._sanitizing:
            preprocessors = [RestoreCellMetadata, *self.sanitize_preprocessors]
            overwrite = next((i for i, pp in enumerate(preprocessors) if _is(pp, OverwriteCells)), None)
            if overwrite is not None:  # the real edits, before OverwriteCells restores them all
                preprocessors.insert(overwrite, CheckReleasedCells)
        else:
            preprocessors = [pp for pp in self.autograde_preprocessors if not _is(pp, Execute)]
        for pp in preprocessors:
            self.exporter.register_preprocessor(pp)

    def setup(self) -> None:
        """What ``BaseConverter.start`` sets up before converting."""
        from nbconvert.writers import FilesWriter

        self.writer = FilesWriter(parent=self, config=self.config)
        self.exporter = self.exporter_class(parent=self, config=self.config)

    def sanitize(self, notebook_filename: str) -> str:
        """nbgrader's sanitize pass: intake → staging.  Returns the staged path."""
        self._sanitizing = True
        self._init_preprocessors()
        super(Autograde, self).convert_single_notebook(notebook_filename)
        return os.path.join(self.writer.build_directory, os.path.basename(notebook_filename))

    def grade(self, staged_filename: str) -> None:
        """nbgrader's autograde pass on a staged notebook that already holds its outputs."""
        self._sanitizing = False
        self._init_preprocessors()
        try:
            super(Autograde, self).convert_single_notebook(staged_filename)
        finally:
            self._sanitizing = True
