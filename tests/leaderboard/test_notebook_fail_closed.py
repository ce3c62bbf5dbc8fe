"""A notebook submission is never run without isolation: with Docker and bubblewrap
unusable (for real: no bwrap on PATH, no Docker engine at the address), scoring refuses,
says what to install, and does not count the submission against the student."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import nbformat
import pytest

from leaderboard.kfold import evaluate_notebook
from leaderboard.services import Service
from tests.sandboxless import sandboxes_unusable

from .conftest import START, make_competition


@pytest.fixture
def no_sandbox(tmp_path, monkeypatch):
    yield from sandboxes_unusable(tmp_path, monkeypatch)


def snooping_notebook(path: Path, marker: Path) -> Path:
    """Would write ``marker`` on the host (and read the labels) if it ran unsandboxed."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('train_path = "train.csv"\ntest_path = "test.csv"\n'
                                       'output_path = "submission.csv"\nfold = -1')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(f"open({str(marker)!r}, 'w').write('ran unsandboxed')")]
    nbformat.write(nb, str(path))
    return path


def test_notebook_submission_is_refused_without_a_sandbox(tmp_path: Path, no_sandbox) -> None:
    from leaderboard.clock import FrozenClock

    make_competition(tmp_path / "comps", "demo", folds=2, extra="[notebook]\ntimeout = 60\n")
    svc = Service(f"sqlite:///{tmp_path / 'lb.db'}", tmp_path / "comps",
                  clock=FrozenClock(START + dt.timedelta(hours=1)), backend="auto", workers=1)
    try:
        svc.prepare("demo")
        marker = tmp_path / "ran.txt"
        nb = snooping_notebook(tmp_path / "sub.ipynb", marker)

        outcome = evaluate_notebook(svc.dataset("demo"), nb, workers=1)
        assert not outcome.ok and outcome.category == "infrastructure" and not outcome.student_caused
        assert "no sandbox can be used" in outcome.message and "bubblewrap" in outcome.message

        who = svc.authenticate(svc.add_participant("mallory"))
        view = svc.submit_notebook("demo", who, nb)
        assert view.status != "complete" and view.public_score is None
        assert "no sandbox can be used" in (view.error or "") and "install bubblewrap" in (view.error or "")
        assert view.failure_category in (None, "infrastructure"), view.failure_category
        assert not marker.exists(), "the notebook ran without a sandbox"
    finally:
        svc.db.dispose()
