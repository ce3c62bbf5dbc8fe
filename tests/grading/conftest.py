"""Fixtures for the grading tests: nbgrader's real example course (``nbgrader quickstart
course101`` + ``generate_assignment ps1``, made once per session) and the real bubblewrap
sandbox (skipped, with the reason, where bwrap is not available)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.helpers import must_have_or_skip

sys.path.insert(0, str(Path(__file__).parent))

import factory


@pytest.fixture(scope="session")
def course101_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("nbgrader")
    return factory.make_course101(tmp_path_factory.mktemp("course101-template"))


@pytest.fixture
def course101(course101_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the released course101 (gradebook included)."""
    dest = tmp_path / "course101"
    shutil.copytree(course101_template, dest)
    return dest


@pytest.fixture(scope="session")
def sandbox() -> str:
    from coursebench.execution import availability

    ok, why = availability("bwrap")
    if not ok:
        must_have_or_skip("the bwrap backend", why)
    return "bwrap"
