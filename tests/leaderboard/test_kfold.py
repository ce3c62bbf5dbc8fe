"""Notebook submissions, run for real in the bubblewrap sandbox: K fold runs + 1 full run,
CV from out-of-fold predictions, Kaggle's failure categories, labels never in the sandbox."""

from __future__ import annotations

import datetime as dt

import nbformat
import numpy as np
import pytest

from coursebench.execution import ExecutionResult
from leaderboard.kfold import classify, evaluate_notebook
from leaderboard.services import Service
from tests.helpers import must_have_or_skip

from .conftest import make_competition

pytestmark = pytest.mark.slow

PARAMS = 'train_path = "train.csv"\ntest_path = "test.csv"\noutput_path = "submission.csv"\nfold = -1'

GOOD = """
import os
import pandas as pd
train = pd.read_csv(train_path)
test = pd.read_csv(test_path)
# what the sandbox holds: the two inputs, nothing else; never the held-out labels
assert sorted(p for p in os.listdir(".") if not p.startswith(".")) == ["test.csv", "train.csv"], os.listdir(".")
assert "y" not in test.columns
assert not set(test["id"]) & set(train["id"])
if fold >= 0:
    assert len(train) + len(test) == 300
rate = (train["y"] == "yes").mean()
score = (test["x1"] + 0.5 * test["x2"]).rank(pct=True)   # a sensible model, no labels needed
pd.DataFrame({"id": test["id"], "y": score.round(6)}).to_csv(output_path, index=False)
"""


def notebook(path, code: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(PARAMS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, str(path))
    return path


@pytest.fixture(scope="module")
def nb_service(tmp_path_factory, bwrap_backend_module):
    from leaderboard.clock import FrozenClock

    from .conftest import START

    root = tmp_path_factory.mktemp("nb")
    make_competition(root / "comps", "demo", folds=2, extra="[notebook]\ntimeout = 120\n")
    svc = Service(f"sqlite:///{root / 'lb.db'}", root / "comps", clock=FrozenClock(START + dt.timedelta(hours=1)),
                  backend=bwrap_backend_module, workers=2)
    svc.prepare("demo")
    yield svc, root
    svc.db.dispose()


@pytest.fixture(scope="module")
def bwrap_backend_module() -> str:
    from coursebench.execution import availability

    ok, why = availability("bwrap")
    if not ok:
        must_have_or_skip("the bwrap backend", why)
    return "bwrap"


def test_good_notebook_gets_cv_and_test_scores(nb_service):
    svc, root = nb_service
    who = svc.authenticate(svc.add_participant("nina"))
    view = svc.submit_notebook("demo", who, notebook(root / "good.ipynb", GOOD), message="rank model")
    assert view.status == "complete", (view.error, view.runs)
    assert len(view.cv_folds) == 2 and view.cv_mean == pytest.approx(np.mean(view.cv_folds))
    assert view.cv_std == pytest.approx(np.std(view.cv_folds, ddof=1))
    assert 0.6 < view.cv_mean <= 1 and 0.6 < view.public_score <= 1
    assert [r["fold"] for r in view.runs] == [0, 1, -1] and all(r["status"] == "ok" for r in view.runs)
    assert view.versions.get("pandas") and view.image
    row = svc.leaderboard("demo").row_of("nina")
    assert row.cv_mean == pytest.approx(view.cv_mean)


FAILURES = {
    "exception": ("import pandas as pd\nrows = len(pd.read_csv(train_path))\nrows / 0", "ZeroDivisionError"),
    "output_not_found": ("x = 1", "wrote no submission.csv"),
    "scoring_error": ("import pandas as pd\npd.DataFrame({'id': [1, 2], 'y': [0.5, 2.0]}).to_csv(output_path, index=False)",
                      "column 'y'"),
}


@pytest.mark.parametrize("category", sorted(FAILURES))
def test_failures_are_reported_in_kaggles_categories_and_count(nb_service, category):
    svc, root = nb_service
    who = svc.authenticate(svc.add_participant(f"p-{category}"))
    code, expected = FAILURES[category]
    view = svc.submit_notebook("demo", who, notebook(root / f"{category}.ipynb", code))
    assert view.status == "failed" and view.failure_category == category
    assert view.counted and svc.quota("demo", who).used == 1
    assert expected in (view.error or "") + "".join(r["traceback"] for r in view.runs)
    if category == "exception":
        assert "rows / 0" in "".join(r["traceback"] for r in view.runs)  # the student's own traceback


def test_timeout_and_invalid_notebook(nb_service):
    svc, root = nb_service
    ds = svc.dataset("demo")
    from coursebench.execution import Limits

    slow = notebook(root / "slow.ipynb", "import time\ntime.sleep(120)")
    outcome = evaluate_notebook(ds, slow, limits=Limits(timeout=8), backend="bwrap", workers=2)
    assert not outcome.ok and outcome.category == "timeout" and outcome.student_caused
    who = svc.authenticate(svc.add_participant("ivan"))
    broken = root / "broken.ipynb"
    broken.write_text("{not json")
    from leaderboard.errors import SubmissionInvalid

    with pytest.raises(SubmissionInvalid, match="not valid JSON"):
        svc.submit_notebook("demo", who, broken)
    assert svc.quota("demo", who).used == 0


def test_classify_infrastructure_failures_do_not_count():
    infra = ExecutionResult(name="fold0", status="killed", infrastructure_failure=True, message="bwrap died")
    assert classify(infra, has_output=False) == ("infrastructure", "bwrap died")
    oom = ExecutionResult(name="fold0", status="oom", message="memory")
    assert classify(oom, has_output=False)[0] == "memory"
    from leaderboard.kfold import CATEGORIES

    assert CATEGORIES["infrastructure"][1] is False and CATEGORIES["timeout"][1] is True


def test_infrastructure_failure_is_retried_then_refunded(nb_service, monkeypatch, tmp_path):
    """A real infrastructure failure: the job directory cannot be created."""
    svc, root = nb_service
    who = svc.authenticate(svc.add_participant("olga"))
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("COURSEBENCH_JOB_ROOT", str(blocker))
    first = svc.submit_notebook("demo", who, notebook(root / "good2.ipynb", GOOD))
    assert first.status == "pending" and first.counted  # retried later, still reserved
    svc.score_pending("demo")
    svc.score_pending("demo")
    final = svc.submission(first.id)
    assert final.status == "failed" and final.failure_category == "infrastructure"
    assert not final.counted and svc.quota("demo", who).used == 0


def test_a_worker_keeps_its_slots_warm_between_submissions(tmp_path, bwrap_backend_module):
    """``Service(keep_warm=True)`` (``coursebench worker``): the slots outlive each
    submission, holding a booted sandbox between them; the next student's folds run in
    those and find only their own two inputs (GOOD asserts it); closing ends them."""
    from leaderboard.clock import FrozenClock
    from tests.helpers import leftover_sandbox_processes

    from .conftest import START

    make_competition(tmp_path / "comps", "demo", folds=2, extra="[notebook]\ntimeout = 120\n")
    svc = Service(f"sqlite:///{tmp_path / 'lb.db'}", tmp_path / "comps", backend=bwrap_backend_module, workers=2,
                  clock=FrozenClock(START + dt.timedelta(hours=1)), keep_warm=True)
    try:
        svc.prepare("demo")
        views = []
        for name in ("first", "second"):
            who = svc.authenticate(svc.add_participant(name))
            views.append(svc.submit_notebook("demo", who, notebook(tmp_path / f"{name}.ipynb", GOOD)))
            assert views[-1].status == "complete", (views[-1].error, views[-1].runs)
            assert leftover_sandbox_processes(wait=0), "the slots keep their booted sandboxes"
        assert views[0].cv_folds == views[1].cv_folds and views[0].public_score == views[1].public_score
    finally:
        svc.close_scoring()
        svc.db.dispose()
    assert leftover_sandbox_processes() == []
