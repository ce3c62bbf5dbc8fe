"""Competition notebooks, forged: the k-fold scorer reads the predictions the run really
produced (not a file something the notebook left behind rewrote later), and a fold's
sandbox holds no label of that fold's validation rows — run for real in bubblewrap."""

from __future__ import annotations

import datetime as dt
import hashlib

import nbformat
import pytest

from coursebench.execution import ExecutionResult
from leaderboard.kfold import evaluate_notebook, produced
from tests.helpers import must_have_or_skip
from tests.leaderboard.conftest import START, make_competition
from tests.leaderboard.test_kfold import notebook

pytestmark = pytest.mark.slow


HONEST = """
import pandas as pd
test = pd.read_csv(test_path)
score = (test["x1"] + 0.5 * test["x2"]).rank(pct=True)
pd.DataFrame({"id": test["id"], "y": score.round(6)}).to_csv(output_path, index=False)
"""

#: the same predictions, plus two tricks: look everywhere for the held-out labels (and
#: use them if found), and leave a process that rewrites the predictions once the
#: notebook is over, with ones that would score perfectly if the labels had been found
#: (and the reverse ranking otherwise: a different score either way)
FORGER = '''
import glob, os, subprocess, sys
import pandas as pd
ids = set(pd.read_csv(test_path)["id"].astype(str))
found = {}
roots = ["/job", "/tmp", "/opt", "/home", "/root", "/srv", "/mnt", "/var", os.getcwd(), os.path.expanduser("~")]
for path in sorted({p for r in roots for p in glob.glob(f"{r}/**/*", recursive=True) if os.path.isfile(p)}):
    try:
        other = pd.read_csv(path, dtype={"id": str})
    except Exception:
        continue
    if {"id", "y"} <= set(other.columns):
        found.update({i: y for i, y in zip(other["id"], other["y"]) if i in ids})
print("labels found for", len(found), "of", len(ids), "rows")
''' + HONEST + '''
later = pd.DataFrame({"id": test["id"], "y": [1.0 - s for s in score.round(6)]})
if found:
    later["y"] = [1.0 if found.get(str(i)) in ("yes", 1, "1") else 0.0 for i in test["id"]]
later.to_csv("later.csv", index=False)
DAEMON = f"""
import os, shutil, time
parent = {os.getpid()}
while True:
    try:
        os.kill(parent, 0)
    except OSError:
        break
    time.sleep(0.01)
time.sleep(0.3)
shutil.copyfile("later.csv", {output_path!r})
"""
subprocess.Popen([sys.executable, "-c", DAEMON], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
'''


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from coursebench.execution import availability
    from leaderboard.clock import FrozenClock
    from leaderboard.services import Service

    ok, why = availability("bwrap")
    if not ok:
        must_have_or_skip("the bwrap backend", why)
    root = tmp_path_factory.mktemp("kfold-forgery")
    make_competition(root / "comps", "demo", folds=2, extra="[notebook]\ntimeout = 120\n")
    svc = Service(f"sqlite:///{root / 'lb.db'}", root / "comps", clock=FrozenClock(START + dt.timedelta(hours=1)),
                  backend="bwrap", workers=2)
    svc.prepare("demo")
    yield svc.dataset("demo"), root
    svc.db.dispose()


def test_a_forging_notebook_scores_what_it_produced_and_never_sees_the_labels(dataset):
    ds, root = dataset
    honest = evaluate_notebook(ds, notebook(root / "honest.ipynb", HONEST), backend="bwrap", workers=2)
    forged = evaluate_notebook(ds, notebook(root / "forger.ipynb", FORGER), backend="bwrap", workers=2,
                               keep_dir=root / "forger-runs")
    assert honest.ok and forged.ok, (honest.message, forged.message, forged.runs)
    # the rewrite after the run never counts: the same predictions, the same scores
    assert forged.cv.folds == honest.cv.folds
    assert forged.scores.public == honest.scores.public
    assert (forged.predictions == honest.predictions).all()
    # and no fold's sandbox held a label of its own validation rows
    for fold in ("fold0", "fold1"):
        run = nbformat.read(root / "forger-runs" / f"{fold}.ipynb", as_version=4)
        text = "".join(o.get("text", "") for o in run.cells[-1].outputs)
        assert "labels found for 0 of" in text, text


def test_a_prediction_file_that_changed_after_the_run_is_not_scored(tmp_path):
    out = tmp_path / "submission.csv"
    out.write_text("id,y\n1,0.5\n")
    nb = nbformat.v4.new_notebook()
    nb.metadata["coursebench"] = {"artifacts": {"submission.csv": hashlib.sha256(out.read_bytes()).hexdigest()}}
    result = ExecutionResult(name="fold0", status="ok", notebook=nb, artifacts={"submission.csv": out})
    assert produced(result, "submission.csv") == (out, "")
    out.write_text("id,y\n1,1.0\n")
    path, why = produced(result, "submission.csv")
    assert path is None and "changed after the notebook's run ended" in why
    # no hash from the worker (an autosaved notebook after a hard kill, or none at all): not scored
    out.write_text("id,y\n1,0.5\n")
    result.notebook_trusted = False
    assert produced(result, "submission.csv")[0] is None
    result.notebook_trusted, nb.metadata["coursebench"] = True, {}
    assert "was not there when the notebook's run ended" in produced(result, "submission.csv")[1]
