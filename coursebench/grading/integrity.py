"""``coursebench grade integrity LAB``: which students' notebooks share answer code.

For every notebook of the lab, each student's **answer code** is compared with every other
student's (:mod:`coursebench.integrity`): the code cells of ``submitted/<student>/<lab>/``
except the released locked and test cells (recognised by their nbgrader ``grade_id``) and
cells left as released (the stub, an untouched provided cell).  Cells the student added
count as answer code.  The **skeleton** left out is the released notebook
(``release/<lab>/``, or the source put through nbgrader's own ClearSolutions when the lab
was not released here).

>>> from coursebench.grading.integrity import lab_integrity
>>> result = lab_integrity("lab03")
>>> result.report.section("code").rows[:3]
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..integrity.fingerprint import Document, all_kgrams, fingerprint_cells
from ..integrity.model import IntegrityReport
from ..integrity.report import code_section
from ..integrity.similarity import CodeSettings, GroupResult, compare
from ..integrity.tokens import Tokens, normalise
from .course import CourseDir, open_course_dir
from .intake import match_notebooks

PARALLEL_FROM = 400
"""Fingerprint in worker processes from this many notebooks on."""


@dataclass(frozen=True)
class Released:
    """What students were given for one notebook."""

    name: str
    code: list[str]
    """Every code cell of the released notebook."""
    locked_ids: frozenset[str]
    """grade_ids of the cells that are not the student's to write (locked, tests)."""
    stock: frozenset[tuple[str, ...]] = frozenset()
    """The released cells' normalised tokens: a student cell equal to one is not an answer."""

    @classmethod
    def of(cls, name: str, code: list[str], locked_ids: set[str]) -> Released:
        return cls(name, code, frozenset(locked_ids), frozenset(tuple(normalise(s).symbols) for s in code))


@dataclass
class LabIntegrity:
    assignment: str
    results: list[GroupResult]
    report: IntegrityReport
    students: list[str]
    notes: list[str] = field(default_factory=list)


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _read(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise ValueError("not a Jupyter notebook (no list of cells)")
    return data


def released_notebooks(cd: CourseDir, assignment: str) -> dict[str, Released]:
    """The released version of each notebook: ``release/<lab>/`` where it exists, else the
    source with nbgrader's ClearSolutions applied (the same step that makes the release)."""
    import nbformat

    out: dict[str, Released] = {}
    release = cd.step_dir("release", ".", assignment)
    for name in cd.source_notebooks(assignment):
        path = release / f"{name}.ipynb"
        if path.is_file():
            nb = nbformat.read(path, as_version=4)
        else:
            from nbgrader.preprocessors import ClearSolutions

            nb = nbformat.read(cd.step_dir("source", ".", assignment) / f"{name}.ipynb", as_version=4)
            nb, _ = ClearSolutions(config=cd.config).preprocess(nb, {})
        code, locked = [], set()
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.get("cell_type") == "code":
                code.append(_source(cell))
            if meta.get("grade_id") and not meta.get("solution"):
                locked.add(str(meta["grade_id"]))
        out[name] = Released.of(name, code, locked)
    return out


def answer_cells(nb: dict[str, Any], released: Released) -> list[tuple[str, str, Tokens]]:
    """``(label, source, tokens)`` of the student's own code cells in a notebook (as JSON)."""
    cells = []
    verbatim = set(released.code)
    for index, cell in enumerate(nb.get("cells", [])):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        grade_id = str(meta.get("grade_id") or "")
        if grade_id and grade_id in released.locked_ids:
            continue
        source = _source(cell)
        if not source.strip() or source in verbatim:
            continue
        tokens = normalise(source)
        if tuple(tokens.symbols) in released.stock:
            continue
        cells.append((grade_id or f"cell {index + 1}", source, tokens))
    return cells


_RELEASED: dict[str, Released] = {}
_SETTINGS = CodeSettings()


def _init_worker(released: dict[str, Released], settings: CodeSettings) -> None:
    global _SETTINGS
    _RELEASED.clear()
    _RELEASED.update(released)
    _SETTINGS = settings


def _fingerprint_one(job: tuple[str, str, str]) -> Document | str:
    path, student, name = job
    released, settings = _RELEASED[name], _SETTINGS
    try:
        nb = _read(Path(path))
    except (OSError, ValueError) as exc:
        return f"{student}: {name}.ipynb left out: {exc}"
    return fingerprint_cells(f"{student}/{name}", student, answer_cells(nb, released),
                             k=settings.k, w=settings.w, label=name)


def _fingerprint_chunk(jobs: list[tuple[str, str, str]]) -> list[Document | str]:
    return [_fingerprint_one(job) for job in jobs]


def submitted_notebooks(cd: CourseDir, assignment: str, expected: list[str],
                        student: str = "*") -> tuple[dict[str, dict[str, Path]], list[str]]:
    """student → expected notebook name → its file in ``submitted/`` (renamed notebooks
    mapped as autograde maps them; links never followed)."""
    import fnmatch

    root = cd.step_dir("submitted")
    found: dict[str, dict[str, Path]] = {}
    notes: list[str] = []
    if not root.is_dir():
        return found, notes
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
        if not fnmatch.fnmatch(folder.name, student):
            continue
        lab = cd.step_dir("submitted", folder.name, assignment)
        if not lab.is_dir() or lab.is_symlink():
            continue
        files = {p.stem: p for p in lab.glob("*.ipynb") if p.is_file() and not p.is_symlink()}
        mapping, _ = match_notebooks(sorted(files), expected)
        if mapping:
            found[folder.name] = {want: files[stem] for stem, want in mapping.items()}
    return found, notes


def lab_integrity(assignment: str, *, course_dir: str | Path | CourseDir | None = None,
                  settings: CodeSettings | None = None, student: str = "*", workers: int | None = None,
                  progress: Callable[[int, int], None] | None = None) -> LabIntegrity:
    """Compare the answer code of every pair of students, notebook by notebook."""
    settings = settings or CodeSettings()
    cd = course_dir if isinstance(course_dir, CourseDir) else open_course_dir(course_dir)
    cd.check_assignment(assignment)
    released = released_notebooks(cd, assignment)
    found, notes = submitted_notebooks(cd, assignment, sorted(released), student)
    jobs = [(str(path), who, name) for who, files in found.items() for name, path in sorted(files.items())]
    docs = _run(jobs, released, settings, workers, progress)
    by_name: dict[str, list[Document]] = {name: [] for name in released}
    for item in docs:
        if isinstance(item, str):
            notes.append(item)
        else:
            by_name[item.label].append(item)
    results = [compare(by_name[name], all_kgrams(released[name].code, settings.k), settings, group=name)
               for name in sorted(released)]
    names = {}
    if cd.course is not None:
        names = {s.id: s.name for s in cd.course.students}
    if not found:
        notes.append(f"no submissions of {assignment} in {cd.step_dir('submitted')}: nothing to compare "
                     f"(collect them first: coursebench grade collect {assignment})")
    report = IntegrityReport(
        title=f"Integrity report — {assignment}", subject=f"{len(found)} students, "
        f"{len(released)} notebook(s): {', '.join(sorted(released))}",
        sections=[code_section(results, settings, names=names)], notes=notes,
        settings={"k": settings.k, "window": settings.w, "threshold": settings.threshold,
                  "min_shared": settings.min_shared,
                  "common": f">{settings.common_fraction:g}×students (≥{settings.common_min})"})
    return LabIntegrity(assignment, results, report, sorted(found), notes)


def _run(jobs: list[tuple[str, str, str]], released: dict[str, Released], settings: CodeSettings,
         workers: int | None, progress: Callable[[int, int], None] | None) -> list[Document | str]:
    """Fingerprint every submitted notebook: here, or in worker processes for a big class."""
    import os

    workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    if workers <= 1 or len(jobs) < PARALLEL_FROM:
        _init_worker(released, settings)
        out = []
        for done, job in enumerate(jobs, 1):
            out.append(_fingerprint_one(job))
            if progress:
                progress(done, len(jobs))
        return out
    size = max(1, len(jobs) // (workers * 4))
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    out = []
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                             initargs=(released, settings)) as pool:
        for chunk in pool.map(_fingerprint_chunk, chunks):
            out.extend(chunk)
            if progress:
                progress(len(out), len(jobs))
    return out


def default_output(cd: CourseDir, assignment: str) -> Path:
    """``<build>/reports/integrity/<lab>/`` for the course's own assignments, else
    ``<course dir>/reports/integrity/<lab>/``."""
    if cd.course is not None:
        return cd.course.root / cd.course.paths.get("build", "build") / "reports" / "integrity" / assignment
    return cd.root / "reports" / "integrity" / assignment
