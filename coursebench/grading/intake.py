"""A safe copy of one submission, made before nbgrader touches it.

A submission directory is student-controlled.  Before grading, its files are copied
into a private *intake* directory:

- symbolic links, devices, sockets and FIFOs are left out (a link to the gradebook or
  to another student's folder would otherwise be copied — followed — into the sandbox);
- notebooks that are not valid JSON/nbformat are left out and reported (nbgrader then
  scores them as missing: 0), so one broken file never stops the batch;
- a notebook saved under another name (``problem1-Copy1.ipynb``, ``problem1 (2).ipynb``)
  is graded as the expected one when that is unambiguous, and the rename is reported.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

MAX_FILE_BYTES = 512 * 1024**2
_COPY_SUFFIX = re.compile(
    r"(?:[-_ ]copy\d*|\s*\(\d+\)|-\d+)$", re.IGNORECASE
)


def normalize_notebook_name(stem: str) -> str:
    """``'Problem1-Copy1 (2)'`` → ``'problem1'``: what LMSs and Jupyter add to a name."""
    name = stem.strip().lower()
    while True:
        new = _COPY_SUFFIX.sub("", name).strip()
        if new == name:
            return name
        name = new


@dataclass
class IntakeReport:
    notes: list[str] = field(default_factory=list)
    """Things the instructor should know (renamed, ignored, unreadable files)."""
    unreadable: dict[str, str] = field(default_factory=dict)
    """Expected notebook name → why it could not be read (it scores 0)."""
    renamed: dict[str, str] = field(default_factory=dict)
    """Submitted file name → the expected notebook name it is graded as."""


def check_notebook(path: Path) -> str | None:
    """Why ``path`` is not a readable notebook, or None when it is."""
    import json

    import nbformat

    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return "not UTF-8 text (is it really a .ipynb?)"
    except OSError as exc:
        return f"cannot be read: {exc.strerror}"
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return (f"not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); "
                "the file was probably edited by hand or truncated")
    if not isinstance(raw, dict) or "cells" not in raw:
        return "JSON but not a Jupyter notebook (no 'cells')"
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"not a valid notebook: {first[:200]}"
    return None


def match_notebooks(submitted: list[str], expected: list[str]) -> tuple[dict[str, str], list[str]]:
    """Map submitted notebook stems to expected ones.  Returns (mapping, unmatched)."""
    mapping: dict[str, str] = {s: s for s in submitted if s in expected}
    missing = [e for e in expected if e not in mapping.values()]
    rest = [s for s in submitted if s not in mapping]
    for stem in list(rest):
        hits = [e for e in missing if normalize_notebook_name(stem) == normalize_notebook_name(e)]
        if len(hits) == 1:
            mapping[stem] = hits[0]
            missing.remove(hits[0])
            rest.remove(stem)
    if len(rest) == 1 and len(missing) == 1:
        mapping[rest[0]] = missing[0]
        rest = []
    return mapping, rest


def make_intake(source: Path, dest: Path, expected: list[str], ignore: list[str]) -> IntakeReport:
    """Copy the submission ``source`` into ``dest`` (which must not exist) safely."""
    report = IntakeReport()
    dest.mkdir(parents=True)
    notebooks: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(source, followlinks=False):
        here = Path(dirpath)
        rel_dir = here.relative_to(source)
        for name in list(dirnames):
            full = here / name
            if full.is_symlink() or any(fnmatch.fnmatch(name, p) for p in ignore):
                if full.is_symlink():
                    report.notes.append(f"ignored the link {rel_dir / name} (links are never followed)")
                dirnames.remove(name)
        for name in filenames:
            full = here / name
            rel = rel_dir / name
            if any(fnmatch.fnmatch(name, p) for p in ignore):
                continue
            info = full.lstat()
            if stat.S_ISLNK(info.st_mode):
                report.notes.append(f"ignored the link {rel} (links are never followed)")
                continue
            if not stat.S_ISREG(info.st_mode):
                report.notes.append(f"ignored {rel}: not a regular file")
                continue
            if info.st_size > MAX_FILE_BYTES:
                report.notes.append(f"ignored {rel}: larger than {MAX_FILE_BYTES // 1024**2} MiB")
                continue
            if rel.parent == Path(".") and name.endswith(".ipynb"):
                notebooks[name[: -len(".ipynb")]] = full
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(full, target, follow_symlinks=False)
    mapping, unmatched = match_notebooks(sorted(notebooks), expected)
    for stem in unmatched:
        report.notes.append(f"ignored {stem}.ipynb: not a notebook of this assignment "
                            f"(expected {', '.join(e + '.ipynb' for e in expected)})")
    for stem, want in sorted(mapping.items()):
        path = notebooks[stem]
        problem = check_notebook(path)
        if problem is not None:
            report.unreadable[want] = problem
            report.notes.append(f"{stem}.ipynb scores 0: {problem}")
            continue
        if stem != want:
            report.renamed[f"{stem}.ipynb"] = f"{want}.ipynb"
            report.notes.append(f"graded {stem}.ipynb as {want}.ipynb (renamed notebook)")
        shutil.copyfile(path, dest / f"{want}.ipynb", follow_symlinks=False)
    for want in expected:
        if want not in mapping.values():
            report.notes.append(f"{want}.ipynb is missing: it scores 0")
    return report
