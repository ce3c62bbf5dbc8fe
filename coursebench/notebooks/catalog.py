"""The lecture table, generated from the lectures themselves.

Each lecture source says once what it covers, in its front matter::

    # ---
    # jupyter:
    #   coursebench:
    #     summary: "Linear regression by the normal equation and by gradient descent ..."
    # ---

and its title is the first heading of its first cell.  The build writes the table of all
lectures between the markers ``<!-- BEGIN generated: lectures -->`` and
``<!-- END generated: lectures -->`` — in the markdown cells of a notebook source that has
them (``lectures/_src/index.py``) and in ``docs/lectures.md`` — so the list of lectures
is never written by hand.  ``coursebench lectures list`` reads the same summary from the
built notebook's metadata.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .errors import NotebookSourceError

BEGIN, END = "<!-- BEGIN generated: lectures -->", "<!-- END generated: lectures -->"
LECTURE = re.compile(r"^(\d\d)_[a-z0-9_]+$")
NUMBERED = re.compile(r"^(?:Lecture\s+)?\d+\s*[·—:.-]\s*")


@dataclass(frozen=True)
class LectureEntry:
    number: str
    """Two digits, e.g. ``03``."""
    stem: str
    """The notebook's name, e.g. ``03_regression``."""
    title: str
    """The first heading without its number, e.g. ``Regression``."""
    summary: str


def lecture_entries(notebooks: Mapping[Path, nbformat.NotebookNode]) -> list[LectureEntry]:
    """One entry per lecture (``NN_topic``) among ``notebooks`` (source path → built
    notebook), in order.  Raises :class:`NotebookSourceError` for a lecture without a
    summary or a title."""
    entries = []
    for path, nb in sorted(notebooks.items()):
        match = LECTURE.match(path.stem)
        if not match:
            continue
        summary = nb.metadata.get("coursebench", {}).get("summary")
        if not isinstance(summary, str) or not summary.strip():
            raise NotebookSourceError(
                path, "a lecture's front matter needs its one-line summary (what the lecture table "
                'shows): "# ---", "# jupyter:", "#   coursebench:", "#     summary: ...", "# ---"')  # fmt: skip
        title = _title(nb)
        if not title:
            raise NotebookSourceError(path, "a lecture opens with a markdown cell whose first line is "
                                      "its title, e.g. '# 03 · Regression'", cell=0)
        entries.append(LectureEntry(match.group(1), path.stem, title, " ".join(summary.split())))
    return entries


def index_table(entries: list[LectureEntry]) -> str:
    """The table for a notebook next to the lectures (links to each)."""
    rows = [f"| {e.number} | [{e.title}]({e.stem}.ipynb) | {e.summary} |" for e in entries]
    return "\n".join(["| # | lecture | what it covers |", "|---|---|---|", *rows])


def docs_table(entries: list[LectureEntry]) -> str:
    """The table for ``docs/lectures.md`` (links into ``lectures/``)."""
    rows = [f"| {e.number} | [`{e.stem}`](../lectures/{e.stem}.ipynb) | **{e.title}** — {e.summary} |"
            for e in entries]  # fmt: skip
    return "\n".join(["| # | notebook | topic |", "|---|---|---|", *rows])


def fill(text: str, table: str, where: str | Path) -> str:
    """``text`` with the generated region replaced by ``table`` (unchanged without one)."""
    if BEGIN not in text:
        return text
    head, rest = text.split(BEGIN, 1)
    if END not in rest:
        raise NotebookSourceError(where, f"{BEGIN} without its {END}")
    tail = rest.split(END, 1)[1]
    return f"{head}{BEGIN}\n{table}\n{END}{tail}"


def fill_lecture_tables(nb: nbformat.NotebookNode, entries: list[LectureEntry], where: str | Path) -> None:
    """Write the lecture table into every markdown cell of ``nb`` that has the markers."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and BEGIN in cell.source:
            cell.source = fill(cell.source, index_table(entries), where)


def fill_docs(text: str, entries: list[LectureEntry], where: str | Path) -> str:
    """``docs/lectures.md`` with its lecture table regenerated."""
    if BEGIN not in text:
        raise NotebookSourceError(where, f"the lecture table goes between {BEGIN} and {END}; "
                                  "the markers are missing")
    return fill(text, docs_table(entries), where)


def _title(nb: nbformat.NotebookNode) -> str:
    first = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    heading = next((line for line in first.splitlines() if line.startswith("#")), "")
    return NUMBERED.sub("", heading.lstrip("#").strip())
