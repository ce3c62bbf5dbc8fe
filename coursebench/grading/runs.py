"""Between nbgrader and the sandbox: what a sanitized notebook becomes when it runs, and
how the run's outputs come back into it.

nbgrader executes every cell even after one fails (``allow_errors``), with
``NBGRADER_EXECUTION=autograde`` in the kernel's environment.  The sandbox runs the
notebook with papermill, so the notebook sent there gets

- a first cell that sets ``NBGRADER_EXECUTION`` (removed again afterwards), and
- the ``raises-exception`` tag on every code cell, so execution goes on past errors.

Only *outputs* and *execution counts* come back: sources and metadata always stay the
host's sanitized copy, whatever the sandbox returns.  Cells that did not finish (the
notebook ran out of time or memory, or the kernel died) get an error output saying why,
so nbgrader's own grading rule (an error output scores 0) gives them no credit.

With the forging defence (the default), the notebook asks the sandbox to run its test
cells through the test guard, and a test cell passes only by the guard's verdict
(:mod:`.verdicts`), never by what the student's kernel printed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from . import verdicts

SETUP_TAG = "coursebench-autograde-setup"
CONTINUE_TAG = "raises-exception"
SETUP_SOURCE = (
    "import os as _coursebench_os\n"
    "_coursebench_os.environ['NBGRADER_EXECUTION'] = 'autograde'\n"
    "del _coursebench_os"
)
#: ename of the error output put into grade cells that did not run to the end.
NOT_RUN_ENAME = "NotRunError"


@dataclass
class Merged:
    """The outcome of one notebook's sandbox run, in nbgrader's terms."""

    notebook: Any
    """The sanitized notebook with the run's outputs (sources/metadata untouched)."""
    status: str
    """graded | timeout | oom | killed | invalid | error (a host-side failure)."""
    message: str = ""
    unfinished_grade_cells: list[str] = field(default_factory=list)
    wall_time: float = 0.0
    review: list[str] = field(default_factory=list)
    """"needs review: …" notes: what the submission did to the kernel's execution."""
    affected: dict[str, str] = field(default_factory=dict)
    """grade_id → note, for the tests scored 0 because of it."""


def needs_kernel(nb: Any) -> bool:
    """False when the notebook has no code to run (nbgrader would still start a kernel
    for it; the outputs are the same without one)."""
    return any(c.cell_type == "code" and c.source.strip() for c in nb.cells)


def for_sandbox(sanitized: Any, *, guard: bool = True) -> Any:
    """The notebook the sandbox runs: the sanitized one, plus the setup cell, with every
    code cell allowed to raise; with ``guard``, its tests run through the test guard."""
    from nbformat import v4

    nb = copy.deepcopy(sanitized)
    if guard:
        verdicts.request(nb)
    setup = v4.new_code_cell(SETUP_SOURCE, metadata={"tags": [SETUP_TAG, CONTINUE_TAG]})
    if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) < (4, 5):
        setup.pop("id", None)  # cell ids exist from nbformat 4.5 on
    nb.cells.insert(0, setup)
    for cell in nb.cells:
        if cell.cell_type == "code":
            tags = list(cell.metadata.get("tags", []))
            if CONTINUE_TAG not in tags:
                tags.append(CONTINUE_TAG)
            cell.metadata["tags"] = tags
    return nb


def _is_code_grade(cell: Any) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _cutoff(executed: Any, result: Any) -> int:
    """Index (in the sandbox notebook) of the first cell that did not finish normally."""
    cells = executed.cells
    candidates = [len(cells)]
    if result.failed_cell is not None:
        candidates.append(result.failed_cell)
    if result.status == "timeout":
        # The watchdog interrupts the kernel at the deadline (KeyboardInterrupt in the
        # running cell); cells that started after that are past the limit.
        for index, cell in enumerate(cells):
            if any(o.get("output_type") == "error" and o.get("ename") == "KeyboardInterrupt"
                   for o in cell.get("outputs", [])):
                candidates.append(index)
                break
    for index, cell in enumerate(cells):
        if cell.cell_type == "code" and cell.execution_count is None and cell.source.strip():
            candidates.append(index)
            break
    return min(candidates)


def merge(sanitized: Any, result: Any | None, *, skipped: bool = False, guarded: bool = False) -> Merged:
    """Put the run's outputs into a copy of ``sanitized``; zero what did not finish.

    ``result`` is the :class:`coursebench.execution.ExecutionResult` of running
    :func:`for_sandbox` (``sanitized``); ``skipped=True`` means nothing needed running;
    ``guarded``: it ran with the test guard, whose verdicts decide the test cells.
    """
    nb = copy.deepcopy(sanitized)
    if skipped:
        return Merged(nb, "graded")
    assert result is not None
    status = {"ok": "graded", "error": "graded"}.get(result.status, result.status)
    message = "" if status == "graded" else (result.message or result.status)
    executed = result.notebook
    trusted = bool(getattr(result, "notebook_trusted", True))
    usable = (
        executed is not None
        and len(executed.cells) == len(nb.cells) + 1
        and SETUP_TAG in executed.cells[0].metadata.get("tags", [])
        and all(a.cell_type == b.cell_type and a.source == b.source
                for a, b in zip(executed.cells[1:], nb.cells, strict=False))
    )
    if result.status == "invalid":
        usable = False
    if executed is not None and not usable and result.status != "invalid":
        status = "error"
        message = (message + "; " if message else "") + (
            "the sandbox returned a notebook that does not match the one sent; its outputs were not used"
        )
    if usable and not trusted:
        usable = False
        message += ("; its outputs came from the sandbox's autosave after a hard kill and cannot be "
                    "verified, so its tests score 0 (regrade with more time or memory, or grade by hand)")
    cutoff = _cutoff(executed, result) if usable and status != "graded" else (len(nb.cells) + 1)
    why = _why(result, status, message)
    unfinished: list[str] = []
    finished: set[int] = set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        done = usable and index + 1 < cutoff
        if usable:
            ran = executed.cells[index + 1]
            cell.outputs = copy.deepcopy(ran.get("outputs", []))
            count = ran.get("execution_count")
            cell.execution_count = count - 1 if isinstance(count, int) and count > 1 else count
        else:
            cell.outputs, cell.execution_count = [], None
        if done:
            finished.add(index)
        elif _is_code_grade(cell):
            unfinished.append(cell.metadata["nbgrader"].get("grade_id", f"cell {index + 1}"))
            cell.outputs = [o for o in cell.outputs if o.get("output_type") != "error"]
            cell.outputs.append(_not_run_output(why))
    merged = Merged(nb, status, message.strip("; "), unfinished, float(getattr(result, "wall_time", 0.0)))
    if guarded and usable:
        enforced = verdicts.enforce(nb, executed, finished)
        merged.review, merged.affected = enforced.review, enforced.affected
    elif guarded and executed is not None and not trusted and result.status == "killed":
        merged.review = [f"{verdicts.REVIEW} the sandbox's runner ended without sending its answer "
                         "(it was stopped from inside the sandbox?); no test could be checked"]
    return merged


def _why(result: Any, status: str, message: str) -> str:
    if status == "invalid":
        return f"this notebook could not be run: {result.message}"
    if status == "timeout":
        return f"this cell did not finish: {result.message}"
    if status == "oom":
        return f"this cell did not finish: {result.message}"
    if status == "killed":
        return f"this cell did not finish: {result.message or 'the kernel died'}"
    return f"this cell's result could not be used: {message}"


def _not_run_output(why: str) -> Any:
    from nbformat import v4

    return v4.new_output(
        "error",
        ename=NOT_RUN_ENAME,
        evalue=why,
        traceback=[f"{NOT_RUN_ENAME}: {why}"],
    )
