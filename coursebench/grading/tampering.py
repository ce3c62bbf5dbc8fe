"""Was a locked or test cell really edited?  Compared with what the student was given.

nbgrader's ``OverwriteCells`` compares a locked cell's checksum with the one the
gradebook stored at ``generate_assignment`` — *before* ``ClearHiddenTests`` (and
``ClearMarkScheme``) ran (the stored source has to keep the hidden tests, to put them
back).  The student never saw that version: every test cell with hidden tests differs
from it in every submission, blank or not, and nbgrader logs "Attribute 'checksum' for
cell … has changed!" for each (``nbgrader autograde`` does the same).  Its restoring the
source is right; its warning says nothing.

:class:`CheckReleasedCells` runs just before ``OverwriteCells`` and compares each locked
cell's source with the *released* source: the gradebook's source with the hidden-test
and mark-scheme regions cut out by nbgrader's own ``ClearHiddenTests`` /
``ClearMarkScheme`` (with the course's delimiters).  Only a difference there is logged,
as ``"Locked cell <id> differs from the released version (…)"``, which
:func:`coursebench.grading.autograde._note` turns into the tampering note.
"""

from __future__ import annotations

import difflib
import re

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

#: The log line (and the pattern ``_note`` reads it with).
EDITED = "Locked cell %s differs from the released version (%s)"
EDITED_RE = re.compile(r"Locked cell (\S+) differs from the released version \((.*)\)$", re.S)


def released_source(source: str, cell_type: str, parent: object | None = None) -> str:
    """What ``generate_assignment`` released of a gradebook cell's ``source``: hidden tests
    and mark schemes cut out, as nbgrader's preprocessors (configured like ``parent``) do."""
    from nbformat import v4
    from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme

    cell = v4.new_code_cell(source) if cell_type == "code" else v4.new_markdown_cell(source)
    hidden = ClearHiddenTests(parent=parent)
    scheme = ClearMarkScheme(parent=parent)
    hidden._remove_hidden_test_region(cell)
    scheme._remove_mark_scheme_region(cell)
    return cell.source


def describe(released: str, submitted: str) -> str:
    """A short account of an edit: how many lines were changed, added or removed."""
    old, new = released.splitlines(), submitted.splitlines()
    changed = added = removed = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "replace":
            changed += max(i2 - i1, j2 - j1)
        elif tag == "insert":
            added += j2 - j1
        elif tag == "delete":
            removed += i2 - i1
    parts = [f"{n} line{'s' if n != 1 else ''} {what}"
             for n, what in ((changed, "changed"), (added, "added"), (removed, "removed")) if n]
    return ", ".join(parts) or "whitespace changed"


class CheckReleasedCells(NbGraderPreprocessor):
    """Log the locked cells whose source differs from the released version."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        from nbgrader.api import Gradebook, MissingEntry

        info = resources["nbgrader"]
        self._released: dict[str, str] = {}
        with Gradebook(info["db_url"]) as gb:
            try:
                source_nb = gb.find_notebook(info["notebook"], info["assignment"])
            except MissingEntry:
                return nb, resources
            for cell in source_nb.source_cells:
                if cell.locked:
                    self._released[cell.name] = released_source(cell.source, cell.cell_type, self)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict, index: int) -> tuple[NotebookNode, ResourcesDict]:
        meta = cell.metadata.get("nbgrader")
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        released = self._released.get(grade_id) if grade_id else None
        if released is not None and cell.source != released:
            self.log.warning(EDITED, grade_id, describe(released, cell.source))
        return cell, resources
