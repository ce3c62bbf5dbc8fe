# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Lab 02 — Train, validate, test (훈련 · 검증 · 테스트)
#
# Follows lecture **02 — Concepts of machine learning**. About 50 minutes.
#
# **In this lab you will**
#
# - split a dataset into training (훈련), validation (검증) and test (테스트) sets, stratified
# - measure a baseline (기준 모델) before you train anything
# - watch a decision tree go from underfitting (과소적합) to overfitting (과적합) as it gets deeper
# - pick a hyperparameter (하이퍼파라미터) on the validation set — never on the test set
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
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

X, y = load_breast_cancer(return_X_y=True)
print(X.shape, "classes:", np.bincount(y))   # 569 tumours, 30 features; 0 = malignant, 1 = benign


# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 1 — three-way split (2 points)
#
# Write `split_data(X, y, seed)` returning
# `X_train, X_val, X_test, y_train, y_val, y_test` with **60 % / 20 % / 20 %** of the rows.
# Call `train_test_split` twice: first cut off 20 % as the test set, then split what is left
# so that the validation set is 20 % of the *original* data (what fraction of the rest is
# that?). Pass `stratify=` both times so that every part keeps the class proportions, and
# `random_state=seed` so the split is reproducible.

# %% nbgrader={"grade": false, "grade_id": "split", "locked": false, "schema_version": 3, "solution": true, "task": false}
def split_data(X, y, seed):
    ### BEGIN SOLUTION
    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=seed)
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=0.25, stratify=y_rest, random_state=seed)
    return X_train, X_val, X_test, y_train, y_val, y_test
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_split", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
X_train, X_val, X_test, y_train, y_val, y_test = split_data(X, y, seed=0)
sizes = (len(X_train), len(X_val), len(X_test))
print("sizes:", sizes)
assert sum(sizes) == len(X), "every row belongs to exactly one part"
assert abs(len(X_test) - 0.2 * len(X)) <= 1 and abs(len(X_val) - 0.2 * len(X)) <= 1, "20 % / 20 % of the rows"
assert len(y_train) == len(X_train) and len(y_val) == len(X_val) and len(y_test) == len(X_test)
### BEGIN HIDDEN TESTS
overall = y.mean()
for part in (y_train, y_val, y_test):
    assert abs(part.mean() - overall) < 0.01, "stratify= keeps the class proportions in every part"
rows = {tuple(r) for r in X_train} | {tuple(r) for r in X_val} | {tuple(r) for r in X_test}
assert len(rows) == len({tuple(r) for r in X}), "the parts must not overlap"
again = split_data(X, y, seed=0)
assert np.array_equal(again[2], X_test), "the same seed must give the same split"
other = split_data(X, y, seed=1)
assert not np.array_equal(other[2], X_test), "another seed must give another split"
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task2_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 2 — the majority-class baseline (1 point)
#
# Before training a model, know what "doing nothing clever" scores. Write
# `baseline_accuracy(y_train, y_eval)`: predict the **most frequent class of `y_train`** for
# every row of `y_eval` and return the accuracy (정확도) of that prediction.
# Any model you build must beat this number to be worth anything.
#
# Hint: `np.bincount(y_train).argmax()` is the most frequent class.

# %% nbgrader={"grade": false, "grade_id": "baseline", "locked": false, "schema_version": 3, "solution": true, "task": false}
def baseline_accuracy(y_train, y_eval):
    ### BEGIN SOLUTION
    majority = np.bincount(y_train).argmax()
    return float(np.mean(np.asarray(y_eval) == majority))
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_baseline", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
assert abs(baseline_accuracy(np.array([0, 0, 1]), np.array([0, 1, 1, 1])) - 0.25) < 1e-12
### BEGIN HIDDEN TESTS
assert abs(baseline_accuracy(np.array([2, 2, 1, 0]), np.array([2, 1, 2, 2, 0])) - 0.6) < 1e-12
assert abs(baseline_accuracy(y, y) - y.mean()) < 1e-12   # class 1 is the majority
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task3_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 3 — a depth curve (2 points)
#
# Write `depth_curve(X_train, y_train, X_val, y_val, depths)`: for every `depth` in `depths`,
# fit `DecisionTreeClassifier(max_depth=depth, random_state=0)` on the training set and record
# its accuracy on the training set and on the validation set (`model.score`). Return a
# `DataFrame` with one row per depth and the columns `depth`, `train_acc`, `val_acc`.

# %% nbgrader={"grade": false, "grade_id": "curve", "locked": false, "schema_version": 3, "solution": true, "task": false}
def depth_curve(X_train, y_train, X_val, y_val, depths):
    ### BEGIN SOLUTION
    rows = []
    for depth in depths:
        model = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(X_train, y_train)
        rows.append({"depth": depth, "train_acc": model.score(X_train, y_train),
                     "val_acc": model.score(X_val, y_val)})
    return pd.DataFrame(rows)
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": false, "grade_id": "run_curve", "locked": true, "schema_version": 3, "solution": false, "task": false}
X_train, X_val, X_test, y_train, y_val, y_test = split_data(X, y, seed=0)
curve = depth_curve(X_train, y_train, X_val, y_val, depths=[1, 2, 3, 4, 6, 8, 12])
curve

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_curve", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert list(curve.columns) == ["depth", "train_acc", "val_acc"], f"columns: {list(curve.columns)}"
assert list(curve["depth"]) == [1, 2, 3, 4, 6, 8, 12]
assert curve["train_acc"].is_monotonic_increasing, "a deeper tree fits the training set at least as well"
assert curve["train_acc"].iloc[-1] == 1.0, "a deep enough tree memorises the training set"
### BEGIN HIDDEN TESTS
for _, row in curve.iterrows():
    m = DecisionTreeClassifier(max_depth=int(row.depth), random_state=0).fit(X_train, y_train)
    assert abs(row.val_acc - m.score(X_val, y_val)) < 1e-12, "val_acc: the model fitted on the training set"
    assert abs(row.train_acc - m.score(X_train, y_train)) < 1e-12
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task4_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 4 — choose the depth, name the problem (2 points)
#
# 1. Set `best_depth` to the depth with the **highest validation accuracy** in `curve` (the
#    smallest such depth if several tie — the simpler model).
# 2. Write `diagnose(train_acc, val_acc)` returning one of three strings:
#    `"underfitting"` if `train_acc < 0.9` (the model cannot even fit the data it sees),
#    else `"overfitting"` if `train_acc - val_acc > 0.05` (it fits the training data much better
#    than new data), else `"good fit"`.

# %% nbgrader={"grade": false, "grade_id": "choose", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
best_depth = int(curve.loc[curve["val_acc"].idxmax(), "depth"])
### END SOLUTION

def diagnose(train_acc, val_acc):
    ### BEGIN SOLUTION
    if train_acc < 0.9:
        return "underfitting"
    if train_acc - val_acc > 0.05:
        return "overfitting"
    return "good fit"
    ### END SOLUTION

print("best depth:", best_depth)
print(curve.assign(diagnosis=[diagnose(a, b) for a, b in zip(curve.train_acc, curve.val_acc)]))

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_choose", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert best_depth in [1, 2, 3, 4, 6, 8, 12]
assert diagnose(0.80, 0.79) == "underfitting"
assert diagnose(1.00, 0.90) == "overfitting"
assert diagnose(0.96, 0.95) == "good fit"
### BEGIN HIDDEN TESTS
best = curve["val_acc"].max()
assert best_depth == min(d for d, v in zip(curve.depth, curve.val_acc) if v == best)
assert diagnose(0.85, 0.50) == "underfitting", "underfitting is checked first"
assert diagnose(0.95, 0.90) == "good fit", "a gap of exactly 0.05 is not overfitting"
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task5_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 5 — the test set, once (1 point)
#
# Now — and only now — use the test set: fit `final_model`, a
# `DecisionTreeClassifier(max_depth=best_depth, random_state=0)` on the **training** set, and
# store its test accuracy in `test_acc`. Compare it with the baseline.

# %% nbgrader={"grade": false, "grade_id": "final", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
final_model = DecisionTreeClassifier(max_depth=best_depth, random_state=0).fit(X_train, y_train)
test_acc = final_model.score(X_test, y_test)
### END SOLUTION
print(f"test accuracy {test_acc:.3f}   baseline {baseline_accuracy(y_train, y_test):.3f}")

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_final", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
assert final_model.get_depth() <= best_depth
assert test_acc > baseline_accuracy(y_train, y_test) + 0.2, "the tree should beat the baseline clearly"
### BEGIN HIDDEN TESTS
assert abs(test_acc - DecisionTreeClassifier(max_depth=best_depth, random_state=0)
           .fit(X_train, y_train).score(X_test, y_test)) < 1e-12
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "q1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Question (2 points, graded by hand)
#
# Suppose you had chosen `max_depth` by looking at the **test** accuracy of every depth instead
# of the validation accuracy. In three or four sentences: what would be wrong with the
# test accuracy you then report, and why does the test set have to be used only once, at the end?

# %% [markdown] nbgrader={"grade": true, "grade_id": "q1_test_once", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# Choosing the depth by test accuracy turns the test set into a validation set: the depth is
# picked *because* it happens to score well on those particular 114 rows, so the reported
# number is optimistically biased — partly real skill, partly luck on that sample. It no longer
# estimates how the model does on new data. The test set is an unbiased estimate only if
# no decision (features, model, hyperparameters) was made by looking at it, so it is used
# once, after everything is fixed; the validation set (or cross-validation) is for choosing.

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "checklist", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit ✔
#
# 1. Restart the kernel and run all cells: no errors, every visible test passes.
# 2. No `raise NotImplementedError()` left, every "YOUR ANSWER HERE" replaced.
# 3. Nothing slow left behind (a search over a huge grid, thousands of epochs): the grader
#    stops notebooks that run too long, and a stopped notebook scores only the tests that
#    finished.
