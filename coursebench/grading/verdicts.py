"""Trusted test verdicts: what decides an nbgrader test cell, and where "needs review" goes.

nbgrader scores a test cell by its outputs (an error output or anything on stderr: 0;
otherwise full marks, or the number it displays).  Those outputs come from the student's
kernel, which the student's code controls.  So a submission is run with the *test guard*
(``coursebench/execution/guard.py``): the sandbox's worker sends every test cell through
it, and records the guard's signed verdict in the executed notebook it returns over its
private channel — ``cell.metadata.coursebench``: ``verdict`` (pass / fail / missing) and
``review`` (what the guard found), plus the notebook's ``metadata.coursebench.review``.

:func:`enforce` makes those verdicts authoritative in the graded notebook: a test that
did not pass gets an error output (so nbgrader gives it 0) whatever the kernel printed; a
test cell without a verdict fails; once tampering was found, that test and every later
one fail.  :func:`annotate_gradebook` puts the notes where an instructor sees them:
the affected grades are flagged for manual grading (formgrader lists them) and the
notes go into the comment of the answer cell each test checks.  ``grade report`` reads
them back from there (:func:`review_notes`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

META = "coursebench"
REVIEW = "needs review:"
REVIEW_ENAME = "NeedsReview"
NO_VERDICT_ENAME = "NoVerdict"


@dataclass
class Enforced:
    review: list[str] = field(default_factory=list)
    """Notes for the instructor, in order, each once."""
    affected: dict[str, str] = field(default_factory=dict)
    """grade_id of a test scored 0 because of tampering → the note that explains it."""


def request(nb: Any) -> None:
    """Ask the sandbox to run ``nb``'s test cells through the guard; whatever the notebook
    brought under our metadata key is dropped (a submission may carry anything)."""
    nb.metadata[META] = {"guard": "tests"}
    for cell in nb.cells:
        cell.get("metadata", {}).pop(META, None)


def is_test(cell: Any) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _error(ename: str, why: str) -> Any:
    from nbformat import v4

    return v4.new_output("error", ename=ename, evalue=why, traceback=[f"{ename}: {why}"])


def enforce(graded: Any, executed: Any, finished: set[int]) -> Enforced:
    """Apply the verdicts of ``executed`` (the worker's notebook: one harness cell first,
    then the cells of ``graded``) to the test cells of ``graded`` whose index is in
    ``finished`` (the others already carry a did-not-finish error)."""
    out = Enforced()
    meta = executed.metadata.get(META) if isinstance(executed.metadata.get(META), dict) else {}
    guarded = meta.get("guard") == "tests"
    for note in meta.get("review") or []:
        if isinstance(note, str) and note not in out.review:
            out.review.append(note[:500])
    if not guarded:
        note = f"{REVIEW} the notebook did not run through coursebench's test guard, so no test could be checked"
        out.review.append(note)
    tampered: str | None = None
    for index, cell in enumerate(graded.cells):
        if not is_test(cell) or index not in finished:
            continue
        ran = executed.cells[index + 1]
        verdict = ran.get("metadata", {}).get(META) if guarded else None
        verdict = verdict if isinstance(verdict, dict) else {}
        notes = [n for n in verdict.get("review") or [] if isinstance(n, str) and n.startswith(REVIEW)]
        gid = cell.metadata["nbgrader"].get("grade_id", f"cell {index + 1}")
        if notes and tampered is None:
            tampered = notes[0]
        if not cell.source.strip() and verdict.get("verdict") == "pass":
            continue
        if tampered is not None:
            out.affected[gid] = notes[0] if notes else tampered
        passed = verdict.get("verdict") == "pass" and tampered is None
        if passed:
            pass  # the worker's outputs: the kernel's printout and the guard's value
        elif not any(o.get("output_type") == "error" for o in cell.outputs) or tampered is not None:
            cell.outputs = [o for o in cell.outputs if o.get("output_type") not in ("error", "execute_result")]
            if tampered is not None:
                cell.outputs.append(_error(REVIEW_ENAME, f"this test scores 0 until an instructor reviews it: "
                                                         f"{out.affected[gid]}"))
            else:
                cell.outputs.append(_error(NO_VERDICT_ENAME, "the grader has no trusted result for this test"))
    if not guarded and not out.affected:
        out.affected = {c.metadata["nbgrader"].get("grade_id", f"cell {i + 1}"): out.review[-1]
                        for i, c in enumerate(graded.cells) if is_test(c) and i in finished}
    return out


def annotate_gradebook(gb: Any, assignment: str, student: str, notebook: str, nb: Any,
                       affected: dict[str, str]) -> None:
    """Flag each affected test's grade for manual grading, and put its note into the
    comment of the answer cell before it (nbgrader keeps comments for answer cells only)."""
    from nbgrader.api import MissingEntry

    answers: list[str] = []
    comments: dict[str, list[str]] = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id")
        if meta.get("solution") or meta.get("task"):
            answers.append(gid)
        elif gid in affected:
            target = answers[-1] if answers else None
            comments.setdefault(target or "", []).append(affected[gid])
            try:
                grade = gb.find_grade(gid, notebook, assignment, student)
            except MissingEntry:
                continue
            grade.needs_manual_grade = True
    first = answers[0] if answers else None
    for target, notes in comments.items():
        target = target or first
        if target is None:
            continue
        try:
            comment = gb.find_comment(target, notebook, assignment, student)
        except MissingEntry:
            continue
        text = "\n".join(dict.fromkeys(notes))
        comment.auto_comment = f"{comment.auto_comment}\n{text}" if comment.auto_comment else text
    gb.db.commit()


def review_notes(gb: Any, assignment: str) -> dict[str, list[str]]:
    """student → the needs-review notes autograding left in the gradebook's comments."""
    out: dict[str, list[str]] = {}
    for sub in gb.assignment_submissions(assignment):
        for nb in sub.notebooks:
            for comment in nb.comments:
                for line in (comment.auto_comment or "").splitlines():
                    if line.startswith(REVIEW) and line not in out.get(sub.student.id, []):
                        out.setdefault(sub.student.id, []).append(f"{nb.name}: {line}")
    return out
