"""Leaderboard benchmarks, as ratios measured side by side in one run.

1. Validate + score a 1,000,000-row prediction file (rows shuffled) against reading it
   with ``pandas.read_csv(engine="pyarrow")`` and computing the scikit-learn metric alone
   (no checks at all).  Target ≤ 1.5×.
2. A 5-fold notebook submission (5 fold runs + 1 full run in the bwrap sandbox) with
   the folds running concurrently on 2 slots, against the same runs one after another
   (1 slot).  Target ≤ 0.65×.
"""

from __future__ import annotations

import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from common import Row, timed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _million(tmp: Path, quick: bool, *, string_ids: bool = False) -> Row:
    from sklearn.metrics import roc_auc_score

    from leaderboard.data import Dataset
    from leaderboard.scoring import score
    from leaderboard.spec import parse_spec
    from leaderboard.validation import SubmissionFormat, validate

    n = 1_000_000
    rng = np.random.default_rng(0)
    spec = parse_spec({"slug": "bench", "title": "bench", "task": "binary", "metric": "roc_auc",
                       "id_column": "id", "target_column": "y", "deadline": "2030-01-01T00:00:00Z",
                       "max_file_size": "200M"})
    # integer ids (as Kaggle's usually are) take the direct-address fast path; string
    # ids ("id0000017") take Arrow's hash lookup
    ids = np.array([f"id{i:07d}" if string_ids else str(100_000 + i) for i in range(n)], dtype=object)
    truth = (rng.random(n) < 0.3).astype(np.int64)
    ds = Dataset(root=tmp, spec=spec, version="bench", labels=["0", "1"], ids=ids, truth=truth,
                 public=rng.random(n) < 0.3, train_ids=ids[:0], train_truth=truth[:0],
                 folds=np.zeros(0, dtype=np.int64))
    p = np.clip(0.3 * truth + rng.random(n) * 0.7, 0, 1).round(6)
    order = rng.permutation(n)
    path = tmp / "million.csv"
    pd.DataFrame({"id": ids[order], "y": p[order]}).to_csv(path, index=False)
    fmt = SubmissionFormat.for_dataset(ds)
    result = {}

    def ours() -> None:
        preds = validate(path, fmt)
        result["scores"] = score(ds, preds)

    def baseline() -> None:
        frame = pd.read_csv(path, engine="pyarrow")
        roc_auc_score(truth[order], frame["y"].to_numpy())  # the metric alone, rows in file order

    repeat = 1 if quick else 5
    ours(), baseline()  # warm the page cache and imports
    t_ours, _ = timed(ours, repeat)
    t_base, _ = timed(baseline, repeat)
    if string_ids:
        return Row("validate + score 1,000,000 rows, string ids", t_ours, t_base,
                   note=f"informational: ids hashed by pyarrow.compute.index_in; median of {repeat}")
    return Row("validate + score 1,000,000 rows (integer ids)", t_ours, t_base, target=1.5,
               note=f"pyarrow read + id lookup + all checks + public/private AUC; median of {repeat}")


NOTEBOOK = """
import pandas as pd
from sklearn.linear_model import LogisticRegression
train = pd.read_csv(train_path)
test = pd.read_csv(test_path)
model = LogisticRegression().fit(train[["x1", "x2"]], train["y"])
pd.DataFrame({"id": test["id"], "y": model.predict_proba(test[["x1", "x2"]])[:, 1].round(6)}).to_csv(output_path, index=False)
"""


def _kfold(tmp: Path) -> Row:
    import nbformat

    from leaderboard.data import load_dataset, prepare
    from leaderboard.kfold import evaluate_notebook

    folder = tmp / "kfold"
    folder.mkdir()
    (folder / "competition.toml").write_text(textwrap.dedent("""\
        slug = "kfold-bench"
        title = "k-fold bench"
        task = "binary"
        metric = "roc_auc"
        target_column = "y"
        folds = 5
        deadline = 2030-01-01T00:00:00Z
        """))
    (folder / "prepare.py").write_text(textwrap.dedent("""\
        import numpy as np, pandas as pd
        def make_data(seed):
            rng = np.random.default_rng(seed)
            n = 3000
            x1, x2 = rng.normal(size=n), rng.normal(size=n)
            y = np.where(x1 + x2 + rng.normal(size=n) > 0, "yes", "no")
            f = pd.DataFrame({"id": np.arange(n), "x1": x1.round(5), "x2": x2.round(5), "y": y})
            return f.iloc[:2000].copy(), f.iloc[2000:].copy()
        """))
    prepare(folder)
    ds = load_dataset(folder)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell('train_path = "train.csv"\ntest_path = "test.csv"\n'
                                       'output_path = "submission.csv"\nfold = -1')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(NOTEBOOK)]
    path = tmp / "model.ipynb"
    nbformat.write(nb, str(path))
    outcomes = {}

    def run(workers: int) -> None:
        outcomes[workers] = evaluate_notebook(ds, path, backend="bwrap", workers=workers)

    t_par, _ = timed(lambda: run(2))
    t_seq, _ = timed(lambda: run(1))
    for workers, outcome in outcomes.items():
        if not outcome.ok:
            raise RuntimeError(f"the notebook failed with {workers} slot(s): {outcome.category}: {outcome.message}")
    return Row("5-fold notebook submission, 2 slots vs 1", t_par, t_seq, target=0.65,
               note="6 sandboxed runs (5 folds + full); same notebook, same sandbox")


def run(quick: bool) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench-leaderboard-") as tmp:
        rows = [_million(Path(tmp), quick), _million(Path(tmp), quick, string_ids=True)]
        from coursebench.execution import availability

        ok, why = availability("bwrap")
        if ok:
            rows.append(_kfold(Path(tmp)))
        else:
            print(f"   (k-fold benchmark skipped: bwrap not available: {why})")
    return rows
