"""Fixtures for the course's competitions (``competitions/midterm-tabular``,
``competitions/cnn-shapes``): copies prepared in temporary folders (the repository's
``data/`` is never touched), the real bubblewrap sandbox, and a way to run a
competition notebook's own code on the host."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.helpers import must_have_or_skip

REPO = Path(__file__).resolve().parents[2]
COMPETITIONS = REPO / "competitions"


def copy_competition(slug: str, dest: Path, **overrides: int) -> Path:
    """A copy of ``competitions/<slug>`` (without its data) under ``dest``; ``overrides``
    replace top-level integer settings of competition.toml (e.g. ``folds=2``)."""
    folder = dest / slug
    shutil.copytree(COMPETITIONS / slug, folder, ignore=shutil.ignore_patterns("data", "__pycache__", "*.csv"))
    toml = folder / "competition.toml"
    text = toml.read_text(encoding="utf-8")
    for key, value in overrides.items():
        text, n = re.subn(rf"(?m)^{key}\s*=\s*\d+\s*$", f"{key} = {value}", text)
        assert n == 1, f"competition.toml of {slug} has no top-level integer {key!r} to override"
    toml.write_text(text, encoding="utf-8")
    return folder


def prepared(slug: str, dest: Path, **overrides: int) -> Path:
    from leaderboard.data import prepare

    folder = copy_competition(slug, dest, **overrides)
    prepare(folder)
    return folder


def run_notebook_code(notebook: Path, parameters: dict[str, Any]) -> dict[str, Any]:
    """Execute a notebook's code cells in this process, with the ``parameters`` cell
    replaced by ``parameters`` (a cheap host-side run of exactly the submitted code)."""
    nb = nbformat.read(str(notebook), as_version=4)
    namespace: dict[str, Any] = {"__name__": "__competition_notebook__"}
    namespace.update(parameters)
    seen_parameters = False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if "parameters" in cell.metadata.get("tags", []):
            seen_parameters = True
            continue
        exec(compile(cell.source, f"{notebook.name}:cell", "exec"), namespace)  # our own notebooks, trusted
    assert seen_parameters, f"{notebook} has no cell tagged 'parameters'"
    return namespace


@pytest.fixture(scope="session")
def bwrap_or_skip() -> str:
    from coursebench.execution import availability

    ok, why = availability("bwrap")
    if not ok:
        must_have_or_skip("the bwrap backend", why)
    return "bwrap"


@pytest.fixture(scope="session")
def prepare_copy(tmp_path_factory) -> Callable[..., Path]:
    """``prepare_copy(slug, **overrides)``: a prepared copy, made once per session."""
    made: dict[tuple, Path] = {}

    def make(slug: str, **overrides: int) -> Path:
        key = (slug, tuple(sorted(overrides.items())))
        if key not in made:
            made[key] = prepared(slug, tmp_path_factory.mktemp(slug), **overrides)
        return made[key]

    return make
