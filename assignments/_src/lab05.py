# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Lab 05 — Trees, forests, SVMs and boosting (결정 트리 · 랜덤 포레스트 · SVM · 부스팅)
#
# Follows lecture **05 — Decision trees, random forests, SVM, boosting**. About 50 minutes.
#
# **In this lab you will**
#
# - compute Gini impurity (지니 불순도) and find the best split of one feature, as a tree does
# - train four classifiers and compare them on the same held-out data
# - read a random forest's feature importances (특성 중요도)
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
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

data = load_breast_cancer()
X_train, X_test, y_train, y_test = train_test_split(
    data.data, data.target, test_size=0.25, stratify=data.target, random_state=0)
feature_names = list(data.feature_names)


# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 1 — Gini impurity and the best split (3 points)
#
# A node's **Gini impurity** (지니 불순도) is $G = 1 - \sum_c p_c^2$, where $p_c$ is the fraction of
# the node's samples in class $c$: 0 for a pure node, 0.5 for a 50/50 binary node.
#
# 1. `gini(labels)`: the Gini impurity of an array of integer labels (0 for an empty array).
# 2. `best_split(x, y)`: for one feature `x`, try every threshold halfway between two
#    consecutive **distinct** sorted values of `x`; a split sends `x <= t` left and the rest right.
#    Return `(threshold, impurity)` of the split with the lowest **weighted** impurity
#    $\frac{n_L}{n} G_L + \frac{n_R}{n} G_R$ (the first one on ties). This is exactly the search
#    a decision tree runs for every feature at every node.

# %% nbgrader={"grade": false, "grade_id": "gini", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gini(labels):
    ### BEGIN SOLUTION
    labels = np.asarray(labels)
    if labels.size == 0:
        return 0.0
    p = np.bincount(labels) / labels.size
    return float(1 - np.sum(p ** 2))
    ### END SOLUTION


# %% nbgrader={"grade": false, "grade_id": "best_split", "locked": false, "schema_version": 3, "solution": true, "task": false}
def best_split(x, y):
    ### BEGIN SOLUTION
    x, y = np.asarray(x, float), np.asarray(y)
    values = np.unique(x)
    best = (None, np.inf)
    for t in (values[:-1] + values[1:]) / 2:
        left = x <= t
        impurity = (left.sum() * gini(y[left]) + (~left).sum() * gini(y[~left])) / len(y)
        if impurity < best[1]:
            best = (float(t), float(impurity))
    return best
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_gini", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
assert np.isclose(gini([0, 0, 1, 1]), 0.5)
assert np.isclose(gini([1, 1, 1]), 0.0)
### BEGIN HIDDEN TESTS
assert np.isclose(gini([0, 1, 2]), 2 / 3)
assert np.isclose(gini([0, 0, 0, 2]), 1 - (0.75 ** 2 + 0.25 ** 2))
assert gini(np.array([], dtype=int)) == 0.0
### END HIDDEN TESTS

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_best_split", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
t, g = best_split([1.0, 2.0, 3.0, 10.0, 11.0, 12.0], [0, 0, 0, 1, 1, 1])
assert np.isclose(t, 6.5) and np.isclose(g, 0.0), f"expected (6.5, 0.0), got {(t, g)}"
### BEGIN HIDDEN TESTS
t, g = best_split([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [0, 0, 0, 0, 0, 0, 0, 0, 1, 0])
assert np.isclose(t, 8.5) and np.isclose(g, 0.2 * 0.5 * 1 + 0), (t, g)
stump = DecisionTreeClassifier(max_depth=1).fit(X_train[:, [7]], y_train)
t, g = best_split(X_train[:, 7], y_train)
assert np.isclose(t, stump.tree_.threshold[0]), "the same threshold a depth-1 tree picks"
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task2_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 2 — four classifiers (3 points)
#
# Write `fit_models(X, y)` that returns a dict of **fitted** models:
#
# | key | model |
# |---|---|
# | `"tree"` | `DecisionTreeClassifier(max_depth=4, random_state=0)` |
# | `"forest"` | `RandomForestClassifier(n_estimators=100, random_state=0)` — bagging (배깅) of trees |
# | `"svm"` | `SVC(C=1.0)` (RBF kernel, 커널) **behind a `StandardScaler`** in a pipeline |
# | `"boosting"` | `GradientBoostingClassifier(random_state=0)` — trees fitted one after another on the errors |

# %% nbgrader={"grade": false, "grade_id": "models", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fit_models(X, y):
    ### BEGIN SOLUTION
    models = {
        "tree": DecisionTreeClassifier(max_depth=4, random_state=0),
        "forest": RandomForestClassifier(n_estimators=100, random_state=0),
        "svm": make_pipeline(StandardScaler(), SVC(C=1.0)),
        "boosting": GradientBoostingClassifier(random_state=0),
    }
    return {name: model.fit(X, y) for name, model in models.items()}
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": false, "grade_id": "run_models", "locked": true, "schema_version": 3, "solution": false, "task": false}
models = fit_models(X_train, y_train)
scores = {name: model.score(X_test, y_test) for name, model in models.items()}
for name, score in scores.items():
    print(f"{name:9s} test accuracy {score:.3f}")

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_models", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
assert set(models) == {"tree", "forest", "svm", "boosting"}
assert scores["tree"] > 0.85 and scores["forest"] > 0.9
### BEGIN HIDDEN TESTS
assert isinstance(models["svm"], Pipeline) and isinstance(models["svm"][0], StandardScaler), \
    "the SVM needs a StandardScaler in front"
assert scores["svm"] > 0.95 and scores["boosting"] > 0.9
assert len(models["forest"].estimators_) == 100
assert models["tree"].get_depth() <= 4
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task3_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 3 — what the forest looks at (2 points)
#
# Write `top_features(forest, names, n)`: the names of the `n` features with the largest
# `feature_importances_`, most important first.

# %% nbgrader={"grade": false, "grade_id": "importances", "locked": false, "schema_version": 3, "solution": true, "task": false}
def top_features(forest, names, n):
    ### BEGIN SOLUTION
    order = np.argsort(forest.feature_importances_)[::-1][:n]
    return [names[i] for i in order]
    ### END SOLUTION

print(top_features(models["forest"], feature_names, 5))

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_importances", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
top = top_features(models["forest"], feature_names, 5)
assert len(top) == 5 and all(name in feature_names for name in top)
### BEGIN HIDDEN TESTS
imp = models["forest"].feature_importances_
assert [feature_names[i] for i in sorted(range(30), key=lambda i: -imp[i])[:5]] == top
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "q1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Question (2 points, graded by hand)
#
# In three or four sentences: why does the SVM need the `StandardScaler` while the random forest
# does not — and what is the difference between how a random forest (bagging, 배깅) and gradient
# boosting (부스팅) combine their trees?

# %% [markdown] nbgrader={"grade": true, "grade_id": "q1_svm_forest", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# An RBF SVM measures similarity by distances between samples, so features with large ranges
# (area ≈ 1000s) would swamp those with small ones (smoothness ≈ 0.1) — the same reason KNN needs
# scaling. Trees only compare one feature at a time against a threshold, which does not care about
# the unit. A random forest trains many deep trees independently on bootstrap samples (and random
# feature subsets) and averages them, which reduces variance; gradient boosting trains shallow
# trees one after another, each fitted to the errors (gradients) of the ensemble so far, which
# reduces bias.

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "checklist", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit ✔
#
# 1. Restart the kernel and run all cells: no errors, every visible test passes.
# 2. No `raise NotImplementedError()` left, every "YOUR ANSWER HERE" replaced.
# 3. Nothing slow left behind (a search over a huge grid, thousands of epochs): the grader
#    stops notebooks that run too long, and a stopped notebook scores only the tests that
#    finished.
