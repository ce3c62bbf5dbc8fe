# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Lab 06 — Cross-validation, search and fair comparison (교차 검증 · 하이퍼파라미터 튜닝)
#
# Follows lecture **06 — Model tuning and comparison**. About 60 minutes.
#
# **In this lab you will**
#
# - write k-fold cross-validation (교차 검증) yourself, then use scikit-learn's stratified version
# - tune an SVM with grid search (그리드 탐색) inside a pipeline, without data leakage (데이터 누수)
# - compare models fairly — same folds for everyone — and blend them in a weighted ensemble (가중 앙상블)
#
# **How it works**
#
# - Write your code where it says `# YOUR CODE HERE` and delete the `raise NotImplementedError()`
#   line. Answer the written questions where it says "YOUR ANSWER HERE".
# - Each task is followed by a test cell. The visible `assert`s are there to help you; the
#   grader also runs **hidden tests** that check your answer more thoroughly — passing the
#   visible tests is necessary, not sufficient.
# - Do not rename functions or variables the tests use, and do not delete or edit the locked
#   cells (they are restored before grading anyway).
# - Before you submit: **Kernel → Restart Kernel and Run All Cells**. The grader runs your
#   notebook top to bottom in a fresh kernel, without internet, with a time limit. If it only
#   works when you run cells out of order, it does not work.

# %% deletable=false editable=false nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

X, y = load_breast_cancer(return_X_y=True)


# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 1 — k-fold by hand (2 points)
#
# Write `kfold_indices(n, k, seed)`: shuffle the row numbers `0 … n-1` with
# `np.random.default_rng(seed).permutation(n)`, cut them into `k` nearly equal folds with
# `np.array_split`, and return a list of `k` pairs `(train_idx, val_idx)` — fold `i` is the
# validation set of pair `i`, all the other folds together its training set.
#
# Done when: every row is a validation row exactly once, and no pair shares a row between its
# training and validation parts.

# %% nbgrader={"grade": false, "grade_id": "kfold", "locked": false, "schema_version": 3, "solution": true, "task": false}
def kfold_indices(n, k, seed):
    ### BEGIN SOLUTION
    folds = np.array_split(np.random.default_rng(seed).permutation(n), k)
    return [(np.concatenate([f for j, f in enumerate(folds) if j != i]), folds[i]) for i in range(k)]
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_kfold", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
pairs = kfold_indices(10, 3, seed=0)
assert len(pairs) == 3
val = np.concatenate([v for _, v in pairs])
assert sorted(val.tolist()) == list(range(10)), "every row is a validation row exactly once"
### BEGIN HIDDEN TESTS
for n, k in [(10, 3), (569, 5), (7, 7)]:
    pairs = kfold_indices(n, k, seed=1)
    sizes = [len(v) for _, v in pairs]
    assert max(sizes) - min(sizes) <= 1
    for tr, va in pairs:
        assert not set(tr.tolist()) & set(va.tolist()), "training and validation rows must not overlap"
        assert len(tr) + len(va) == n
assert not np.array_equal(kfold_indices(20, 2, 0)[0][1], kfold_indices(20, 2, 1)[0][1]), "shuffle with the seed"
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task2_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 2 — grid search without leakage (2 points)
#
# Write `tune_svm(X, y)` returning a **fitted** `GridSearchCV` over the pipeline
# `StandardScaler() → SVC()` with the grid `C ∈ {0.1, 1, 10}`, `gamma ∈ {"scale", 0.01, 0.1}`
# (nine candidates) and `cv=StratifiedKFold(5, shuffle=True, random_state=0)`.
#
# Hint: with `make_pipeline` the SVC step is called `svc`, so the grid keys are `"svc__C"` and
# `"svc__gamma"`. The scaler is *inside* the pipeline so that, in each fold, it is fitted on that
# fold's training part only.

# %% nbgrader={"grade": false, "grade_id": "grid", "locked": false, "schema_version": 3, "solution": true, "task": false}
def tune_svm(X, y):
    ### BEGIN SOLUTION
    search = GridSearchCV(
        make_pipeline(StandardScaler(), SVC()),
        {"svc__C": [0.1, 1, 10], "svc__gamma": ["scale", 0.01, 0.1]},
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
    )
    return search.fit(X, y)
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": false, "grade_id": "run_grid", "locked": true, "schema_version": 3, "solution": false, "task": false}
search = tune_svm(X, y)
print("best:", search.best_params_, f"CV accuracy {search.best_score_:.3f}")

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_grid", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert len(search.cv_results_["params"]) == 9, "three values of C times three of gamma"
assert search.best_score_ > 0.95
### BEGIN HIDDEN TESTS
assert isinstance(search.best_estimator_, Pipeline) and isinstance(search.best_estimator_[0], StandardScaler), \
    "the scaler belongs inside the pipeline that is cross-validated"
assert search.n_splits_ == 5
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task3_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 3 — a fair comparison (2 points)
#
# Write `compare(models, X, y)` for a dict `name → unfitted model`: cross-validate every model with
# `cross_val_score(..., cv=StratifiedKFold(5, shuffle=True, random_state=0))` — **the same folds for
# every model** — and return a `DataFrame` indexed by name with columns `mean` and `std` of the
# fold accuracies, sorted by `mean`, best first.

# %% nbgrader={"grade": false, "grade_id": "compare", "locked": false, "schema_version": 3, "solution": true, "task": false}
def compare(models, X, y):
    ### BEGIN SOLUTION
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    rows = {}
    for name, model in models.items():
        scores = cross_val_score(model, X, y, cv=cv)
        rows[name] = {"mean": scores.mean(), "std": scores.std()}
    return pd.DataFrame.from_dict(rows, orient="index").sort_values("mean", ascending=False)
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": false, "grade_id": "run_compare", "locked": true, "schema_version": 3, "solution": false, "task": false}
candidates = {
    "tree": DecisionTreeClassifier(max_depth=4, random_state=0),
    "logreg": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
    "svm": search.best_estimator_,
}
table = compare(candidates, X, y)
table

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_compare", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert list(table.columns) == ["mean", "std"]
assert set(table.index) == {"tree", "logreg", "svm"}
assert table["mean"].is_monotonic_decreasing, "best first"
### BEGIN HIDDEN TESTS
cv = StratifiedKFold(5, shuffle=True, random_state=0)
for name, model in candidates.items():
    s = cross_val_score(model, X, y, cv=cv)
    assert np.isclose(table.loc[name, "mean"], s.mean()) and np.isclose(table.loc[name, "std"], s.std()), name
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task4_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 4 — a weighted ensemble (2 points)
#
# Write `weighted_average(probas, weights)`: given a list of predicted-probability arrays (all of
# the same shape) and one non-negative weight per array, return their weighted average — divide by
# the sum of the weights so that each row still sums to 1.

# %% nbgrader={"grade": false, "grade_id": "ensemble", "locked": false, "schema_version": 3, "solution": true, "task": false}
def weighted_average(probas, weights):
    ### BEGIN SOLUTION
    weights = np.asarray(weights, dtype=float)
    return np.tensordot(weights, np.stack(probas), axes=1) / weights.sum()
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_ensemble", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
a = np.array([[0.9, 0.1], [0.2, 0.8]])
b = np.array([[0.5, 0.5], [0.6, 0.4]])
assert np.allclose(weighted_average([a, b], [1, 1]), (a + b) / 2)
### BEGIN HIDDEN TESTS
assert np.allclose(weighted_average([a, b], [3, 1]), (3 * a + b) / 4)
assert np.allclose(weighted_average([a, b], [0, 2]), b)
assert np.allclose(weighted_average([a, b, a], [0.2, 0.3, 0.5]).sum(axis=1), 1)
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "q1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Question (2 points, graded by hand)
#
# In the midterm competition you will see a public leaderboard computed on part of the test set.
# In three or four sentences: why should you choose your final submission by a **trustworthy
# cross-validation score** rather than by the public leaderboard? Use the `std` column of your
# comparison table in the argument.

# %% [markdown] nbgrader={"grade": true, "grade_id": "q1_cv_vs_lb", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# The public leaderboard scores a few thousand rows at most; a score on one small sample varies by
# about the fold-to-fold standard deviation we measured (roughly 0.01–0.03 here), so differences
# between submissions of that size are noise. Submitting many variants and keeping the best public
# score is selection on noise: it overfits the public part, and the private leaderboard, on other
# rows, falls back. A k-fold CV score averages over every training row and k models, its spread is
# known, and it is computed the same way for every candidate, so it ranks models far more reliably;
# the public score is one more (small) check, not the target.

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "checklist", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit ✔
#
# 1. Restart the kernel and run all cells: no errors, every visible test passes.
# 2. No `raise NotImplementedError()` left, every "YOUR ANSWER HERE" replaced.
# 3. Nothing slow left behind (a search over a huge grid, thousands of epochs): the grader
#    stops notebooks that run too long, and a stopped notebook scores only the tests that
#    finished.
