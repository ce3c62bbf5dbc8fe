"""Build the course's notebooks from their jupytext sources.

Every notebook we author — lectures, labs, the final exam, competition baselines — is a
jupytext *percent-format* ``.py`` file in a ``_src/`` folder beside what it builds::

    lectures/_src/03_regression.py          -> lectures/03_regression.ipynb
    lectures/_src/index.py                  -> lectures/index.ipynb (+ the lecture table)
    assignments/_src/lab01.py               -> assignments/source/lab01/lab01.ipynb
    competitions/wine-demo/_src/baseline.py -> competitions/wine-demo/baseline.ipynb

(assignment sources stay out of ``assignments/source/``: nbgrader would release them.)
Cell metadata — nbgrader's included — is written in the cell headers the way jupytext
writes it (``# %% deletable=false nbgrader={"grade": true, ...}``); notebook metadata such
as a lecture's summary in the YAML front matter.

A build reads each source with jupytext, gives every cell a deterministic id (its nbgrader
``grade_id``, else ``<stem>-<index>``), sets the one kernelspec, checks the nbgrader
metadata, and writes the notebook with nbformat: no outputs, nothing executed.  The lecture
table of ``lectures/index.ipynb`` and ``docs/lectures.md`` is generated from the lectures'
front matter (see :mod:`coursebench.notebooks.catalog`).  :func:`build` with ``check=True``
writes nothing and reports what differs — what CI runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .catalog import fill_docs, fill_lecture_tables, lecture_entries
from .errors import NotebookSourceError

FORMAT = "py:percent"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python"}
DOCS = Path("docs") / "lectures.md"

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
NBGRADER_KEYS = ("grade", "grade_id", "locked", "schema_version", "solution")
CELL_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Cell metadata that only records how the text looked (jupytext's blank-line bookkeeping).
LAYOUT_ONLY = ("lines_to_next_cell",)


@dataclass(frozen=True)
class Layout:
    """Where one kind of source lives and where its notebook goes (paths from the root)."""

    sources: str
    """Glob of the sources, e.g. ``lectures/_src/*.py``."""
    target: str
    """The notebook; ``{home}`` is the folder holding ``_src/``, ``{stem}`` the source's name."""
    notebooks: str
    """Glob of the committed notebooks of this kind (one without a source is reported)."""


LAYOUTS = (
    Layout("lectures/_src/*.py", "{home}/{stem}.ipynb", "lectures/*.ipynb"),
    Layout("assignments/_src/*.py", "{home}/source/{stem}/{stem}.ipynb", "assignments/source/*/*.ipynb"),
    Layout("competitions/*/_src/*.py", "{home}/{stem}.ipynb", "competitions/*/*.ipynb"),
)


@dataclass(frozen=True)
class Source:
    path: Path
    target: Path

    @property
    def stem(self) -> str:
        return self.path.stem


@dataclass
class BuildReport:
    """What a build wrote, or what a check found out of date (paths relative to the root)."""

    check: bool
    files: list[Path] = field(default_factory=list)
    """Every file the build produces."""
    changed: list[Path] = field(default_factory=list)
    """Written (build) or differing from its source (check)."""
    orphans: list[Path] = field(default_factory=list)
    """Committed notebooks that no source builds."""

    @property
    def ok(self) -> bool:
        return not self.orphans and not (self.check and self.changed)


def default_root() -> Path:
    """The checkout this module belongs to."""
    return Path(__file__).resolve().parents[2]


def discover(root: str | Path) -> list[Source]:
    """Every notebook source under ``root``, in a stable order."""
    root = Path(root)
    found = []
    for layout in LAYOUTS:
        for path in sorted(root.glob(layout.sources)):
            home = path.parent.parent.relative_to(root).as_posix()
            found.append(Source(path, root / layout.target.format(home=home, stem=path.stem)))
    return found


def read_source(path: str | Path) -> nbformat.NotebookNode:
    """The notebook a source describes, ready to write: read with jupytext, ids and
    kernelspec set, metadata checked.  Raises :class:`NotebookSourceError`."""
    import jupytext

    path = Path(path)
    try:
        nb = jupytext.read(path, fmt=FORMAT)
    except Exception as exc:  # jupytext has no error root of its own
        raise NotebookSourceError(path, f"jupytext cannot read it as {FORMAT}: {exc}") from exc
    _set_notebook_metadata(nb, path)
    seen: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        for key in LAYOUT_ONLY:
            cell.metadata.pop(key, None)
        _check_header(cell, path, index)
        grade_id = _check_nbgrader(cell, path, index)
        cell_id = grade_id or f"{path.stem}-{index:03d}"
        if cell_id in seen:
            what = "grade_id" if grade_id else "cell id"
            raise NotebookSourceError(path, f"the {what} {cell_id!r} is also used by cell {seen[cell_id]}; "
                                      "every cell needs its own", cell=index, grade_id=grade_id)
        seen[cell_id] = index
        cell.id = cell_id
    nb.nbformat, nb.nbformat_minor = 4, 5
    nbformat.validate(nb)
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    """The file text of a built notebook (sorted keys, one-space indent, a final newline)."""
    return nbformat.writes(nb) + "\n"


def outputs(root: str | Path) -> dict[Path, str]:
    """Every file the build produces under ``root`` and its text."""
    root = Path(root)
    built = {source: read_source(source.path) for source in discover(root)}
    entries = lecture_entries({s.path: nb for s, nb in built.items() if s.path.parent == root / "lectures" / "_src"})
    files: dict[Path, str] = {}
    for source, nb in built.items():
        fill_lecture_tables(nb, entries, source.path)
        files[source.target] = render(nb)
    docs = root / DOCS
    if docs.is_file():
        files[docs] = fill_docs(docs.read_text(encoding="utf-8"), entries, docs)
    return files


def build(root: str | Path | None = None, *, check: bool = False) -> BuildReport:
    """Build every notebook under ``root`` (default: this checkout) from its source.
    With ``check``, write nothing and report the files that differ from their sources."""
    root = Path(root) if root is not None else default_root()
    report = BuildReport(check=check)
    files = outputs(root)
    for path, text in files.items():
        report.files.append(path.relative_to(root))
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        report.changed.append(path.relative_to(root))
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    report.orphans = [p.relative_to(root) for p in _committed(root) if p not in files]
    return report


def _committed(root: Path) -> Iterable[Path]:
    for layout in LAYOUTS:
        yield from sorted(root.glob(layout.notebooks))


def _set_notebook_metadata(nb: nbformat.NotebookNode, path: Path) -> None:
    meta = nb.metadata
    meta.pop("jupytext", None)
    meta.pop("language_info", None)
    declared = meta.pop("kernelspec", None)
    if declared and declared.get("name") != KERNELSPEC["name"]:
        raise NotebookSourceError(
            path, f"the front matter asks for the kernel {declared.get('name')!r}; every course notebook "
            f"uses {KERNELSPEC['name']!r} — remove the kernelspec from the front matter")  # fmt: skip
    meta["kernelspec"] = dict(KERNELSPEC)
    meta["language_info"] = dict(LANGUAGE_INFO)


def _check_header(cell: nbformat.NotebookNode, path: Path, index: int) -> None:
    """jupytext keeps what it cannot parse in a header instead of failing; we fail."""
    if "incorrectly_encoded_metadata" in cell.metadata:
        raise NotebookSourceError(
            path, f"the cell header has metadata that is not key=JSON: "
            f"{cell.metadata['incorrectly_encoded_metadata']!r}", cell=index)  # fmt: skip
    bare = [key for key, value in cell.metadata.items() if value is None]
    if bare:
        raise NotebookSourceError(path, f"the cell header has words without a value: {', '.join(bare)} "
                                  '(metadata is written key=JSON, e.g. tags=["parameters"])', cell=index)


def _check_nbgrader(cell: nbformat.NotebookNode, path: Path, index: int) -> str | None:
    """The mistakes in nbgrader metadata that nbgrader only notices at release or grading
    time, or never (a test worth nothing).  Returns the cell's grade_id, if any."""
    source = cell.source
    meta = cell.metadata.get("nbgrader")
    if meta is None:
        for marker in (BEGIN_SOLUTION, BEGIN_HIDDEN):
            if marker in source:
                raise NotebookSourceError(path, f"{marker!r} in a cell without nbgrader metadata: "
                                          "nbgrader's release stops on it", cell=index)
        return None
    grade_id = meta.get("grade_id")

    def fail(problem: str) -> NotebookSourceError:
        return NotebookSourceError(path, problem, cell=index, grade_id=grade_id)

    if missing := [key for key in NBGRADER_KEYS if key not in meta]:
        raise fail(f"the nbgrader metadata lacks {', '.join(missing)}")
    if not isinstance(grade_id, str) or not CELL_ID.match(grade_id):
        raise fail("a grade_id is 1–64 letters, digits, '-' or '_' (it is also the cell's id)")
    if meta["schema_version"] != 3:
        raise fail(f"nbgrader metadata schema_version {meta['schema_version']!r}; this course writes 3")
    if meta["grade"]:
        points = meta.get("points")
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
            raise fail("a graded cell needs points > 0 in its nbgrader metadata")
    if cell.cell_type == "code":
        begins, ends = source.count(BEGIN_SOLUTION), source.count(END_SOLUTION)
        if meta["solution"] and not begins == ends >= 1:
            raise fail(f"a solution cell needs matching {BEGIN_SOLUTION!r} / {END_SOLUTION!r} lines")
        if begins and not meta["solution"]:
            raise fail(f"{BEGIN_SOLUTION!r} in a cell that is not a solution cell: nbgrader's release stops on it")
        if source.count(BEGIN_HIDDEN) != source.count(END_HIDDEN):
            raise fail(f"unbalanced {BEGIN_HIDDEN!r} / {END_HIDDEN!r}")
        if BEGIN_HIDDEN in source and not meta["grade"]:
            raise fail(f"{BEGIN_HIDDEN!r} outside a graded test cell: nbgrader's release stops on it")
    return grade_id
