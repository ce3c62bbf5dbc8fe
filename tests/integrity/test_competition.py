"""``coursebench compete integrity``: a team that copies another's predictions (with a few
changes) is found, on the private rows too; teams with their own models are not flagged;
notebook submissions that share code are found."""

from __future__ import annotations

import datetime as dt
import json
import random
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coursebench.integrity.report import write_report
from leaderboard.clock import FrozenClock
from leaderboard.integrity import competition_integrity
from leaderboard.services import Service
from tests.integrity import corpus as C

START = dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc)
TARGETS = {
    "multiclass": 'y = np.array(["a", "b", "c"])[np.digitize(score, [-0.6, 0.6])]',
    "binary": 'y = np.where(score > 0, "yes", "no")',
    "regression": "y = (2 * score + 1).round(4)",
}
METRIC = {"multiclass": "accuracy", "binary": "roc_auc", "regression": "rmse"}
BASELINE = [
    "import pandas as pd\ntrain = pd.read_csv(train_path)\ntest = pd.read_csv(test_path)",
    'features = [c for c in train.columns if c.startswith("x")]',
    'from sklearn.linear_model import LogisticRegression\nmodel = LogisticRegression()\n'
    'model.fit(train[features], train["y"])',
    'pd.DataFrame({"id": test["id"], "y": model.predict(test[features])}).to_csv(output_path, index=False)',
]


def make_competition(root: Path, task: str) -> Path:
    folder = root / "demo"
    folder.mkdir(parents=True)
    (folder / "competition.toml").write_text(textwrap.dedent(f"""\
        slug = "demo"
        title = "Integrity demo"
        task = "{task}"
        metric = "{METRIC[task]}"
        id_column = "id"
        target_column = "y"
        seed = 3
        daily_limit = 5
        start = {START.isoformat()}
        deadline = 2026-03-20T23:59:00+00:00
        bootstrap = 100
        """))
    (folder / "prepare.py").write_text(textwrap.dedent("""\
        import numpy as np
        import pandas as pd


        def make_data(seed):
            rng = np.random.default_rng(seed)
            n = 1600
            X = rng.normal(size=(n, 4))
            score = X[:, 0] + 0.6 * X[:, 1] - 0.4 * X[:, 2] * X[:, 3] + rng.normal(scale=0.7, size=n)
            TARGET
            df = pd.DataFrame({"id": np.arange(n) + 1, **{f"x{i}": X[:, i].round(5) for i in range(4)}, "y": y})
            return df.iloc[:800].copy(), df.iloc[800:].copy()
        """).replace("TARGET", TARGETS[task]))
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None,
                     "id": f"b{i}"} for i, s in enumerate(BASELINE)],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    (folder / "baseline.ipynb").write_text(json.dumps(nb))
    return root


def models(task: str) -> dict:
    """Teams with their own approaches (different model families)."""
    from sklearn import ensemble, linear_model, neighbors, svm, tree

    if task == "regression":
        return {"linear": linear_model.LinearRegression(), "knn": neighbors.KNeighborsRegressor(15),
                "tree": tree.DecisionTreeRegressor(max_depth=5), "forest": ensemble.RandomForestRegressor(60, random_state=0),
                "svm": svm.SVR()}
    return {"logistic": linear_model.LogisticRegression(), "knn": neighbors.KNeighborsClassifier(15),
            "tree": tree.DecisionTreeClassifier(max_depth=4),
            "forest": ensemble.RandomForestClassifier(60, random_state=0),
            "extra": ensemble.ExtraTreesClassifier(60, min_samples_leaf=5, random_state=0)}


def run_competition(tmp_path: Path, task: str) -> tuple[Service, dict[str, np.ndarray]]:
    comps = make_competition(tmp_path / "competitions", task)
    svc = Service(f"sqlite:///{tmp_path / 'lb.db'}", comps, clock=FrozenClock(START + dt.timedelta(hours=1)))
    svc.prepare("demo")
    train = pd.read_csv(comps / "demo/data/public/train.csv")
    test = pd.read_csv(comps / "demo/data/public/test.csv")
    features = ["x0", "x1", "x2", "x3"]
    preds = {}
    for name, model in models(task).items():
        model.fit(train[features], train["y"])
        if task == "binary":
            preds[name] = model.predict_proba(test[features])[:, list(model.classes_).index("yes")]
        else:
            preds[name] = model.predict(test[features])
    # the copier: the forest's predictions, 5 % of the rows changed (labels), or every value
    # nudged a little (numbers), to hide it
    rng = np.random.default_rng(1)
    copied = preds["forest"].copy()
    if task == "multiclass":
        rows = rng.choice(len(copied), size=len(copied) // 20, replace=False)
        copied[rows] = rng.choice(["a", "b", "c"], size=len(rows))
    elif task == "binary":
        copied = np.clip(copied + rng.normal(scale=0.02, size=len(copied)), 0, 1)
    else:
        copied = copied + rng.normal(scale=0.05, size=len(copied))
    preds["copier"] = copied
    for name, values in preds.items():
        who = svc.authenticate(svc.add_participant(name))
        frame = pd.DataFrame({"id": test["id"], "y": values})
        view = svc.submit_file("demo", who, frame.to_csv(index=False).encode(), filename="submission.csv")
        assert view.status == "complete", view.error
    return svc, preds


@pytest.mark.parametrize("task", ["multiclass", "binary", "regression"])
def test_copied_predictions_are_found_and_own_models_are_not(tmp_path: Path, task: str) -> None:
    svc, _ = run_competition(tmp_path, task)
    result = competition_integrity(svc, "demo")
    rows = result.predictions.rows
    top = rows[0]
    assert {top["a"], top["b"]} == {"copier", "forest"}, rows[:3]
    assert top["flagged"] and top["excess_private"] >= 0.8 and top["excess_public"] >= 0.8
    others = [r for r in rows[1:] if r["flagged"]]
    assert others == [], others
    assert top["score"] - rows[1]["score"] > 0.1  # well apart from the closest honest pair
    if task == "multiclass":  # copies share the wrong answers far beyond what two good models do
        assert top["same_wrong"] > 1.5 * top["expected_same_wrong"]
    print(f"\n{task}: copy scored {top['score']:.2f}; best honest pair {rows[1]['a']}–{rows[1]['b']} "
          f"{rows[1]['score']:.2f}")


def test_notebook_submissions_that_share_code(tmp_path: Path) -> None:
    comps = make_competition(tmp_path / "competitions", "multiclass")
    svc = Service(f"sqlite:///{tmp_path / 'lb.db'}", comps, clock=FrozenClock(START + dt.timedelta(hours=1)))
    svc.prepare("demo")
    rng = random.Random(4)
    own = {name: C.independent(i) for i, name in enumerate(["ana", "ben", "cho", "dan"])}
    own["eve"] = C.copy_of(C.copy_of(own["ana"], "renamed", rng), "reordered", rng)  # eve copies ana
    for name, student in own.items():
        cells = [*BASELINE[:2], *(student.answers[t] for t in student.order), *BASELINE[2:]]
        nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None,
                         "id": f"c{i}"} for i, s in enumerate(cells)],
              "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
              "nbformat": 4, "nbformat_minor": 5}
        path = tmp_path / f"{name}.ipynb"
        path.write_text(json.dumps(nb))
        who = svc.authenticate(svc.add_participant(name))
        svc.submit_notebook("demo", who, path, score_now=False)  # stored; the code is what is compared
    result = competition_integrity(svc, "demo")
    assert result.code is not None
    rows = result.report.section("code").rows
    assert {rows[0]["a"], rows[0]["b"]} == {"ana", "eve"} and rows[0]["flagged"]
    assert not any(r["flagged"] for r in rows[1:])
    assert rows[0]["a_doc"].startswith("submission #")
    # the baseline everybody started from is the skeleton: it is not what makes them similar
    assert len(result.code.ignored) > 0


def test_report_files_and_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from coursebench import cli

    svc, _ = run_competition(tmp_path, "multiclass")
    files = write_report(competition_integrity(svc, "demo").report, tmp_path / "out")
    page = files.html.read_text()
    assert "Not a verdict" in page and "the same wrong answers" in page and "copier" in page
    assert [p.name for p in files.csv] == ["pairs-predictions.csv"]
    cli._register_subcommands()
    monkeypatch.setenv("COURSEBENCH_CONFIG_DIR", str(tmp_path / "config"))
    out = tmp_path / "cli-out"
    run = CliRunner().invoke(cli.app, ["compete", "integrity", "demo", "--db", svc.db.url, "--competitions",
                                       str(tmp_path / "competitions"), "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert "copier" in run.output and "not a verdict" in run.output
    assert (out / "integrity.html").is_file() and (out / "pairs-predictions.csv").is_file()
