"""The course's notebooks, built from jupytext percent-format sources.

``coursebench notebooks build`` (or ``python -m coursebench.notebooks build``) writes every
lecture, lab, exam and competition notebook from its ``_src/*.py`` source; ``--check``
changes nothing and fails naming the notebooks that differ from their sources (CI runs it).
See :mod:`coursebench.notebooks.build` for the layout and the rules.
"""

from .build import KERNELSPEC, LAYOUTS, BuildReport, Source, build, discover, read_source, render
from .errors import NotebookSourceError

__all__ = [
    "KERNELSPEC",
    "LAYOUTS",
    "BuildReport",
    "NotebookSourceError",
    "Source",
    "build",
    "discover",
    "read_source",
    "render",
]
