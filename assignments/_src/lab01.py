# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Lab 01 — Python, NumPy and pandas (파이썬, 넘파이, 판다스)
#
# Follows lecture **01 — Python basics for data work**. About 45 minutes.
#
# **In this lab you will**
#
# - write a small function in plain Python and check it against the definition
# - replace a loop with a vectorised NumPy expression using broadcasting (브로드캐스팅)
# - answer questions about a dataset with pandas: `groupby`, boolean filtering, missing values (결측치)
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
from sklearn.datasets import load_iris


# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 1 — mean and standard deviation in plain Python (1 point)
#
# Write `mean_and_std(values)` that returns a tuple `(mean, std)` of a list of numbers,
# **without NumPy** (loops, `sum` and `len` are fine). Use the *population* standard
# deviation (표준편차): divide by `n`, not `n - 1`:
#
# $$\mu = \frac{1}{n}\sum_i x_i, \qquad \sigma = \sqrt{\frac{1}{n}\sum_i (x_i - \mu)^2}$$
#
# Done when: `mean_and_std([2, 4, 4, 4, 5, 5, 7, 9])` gives `(5.0, 2.0)`.
# An empty list should raise a `ValueError` (there is no mean of nothing).

# %% nbgrader={"grade": false, "grade_id": "mean_std", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mean_and_std(values):
    ### BEGIN SOLUTION
    if len(values) == 0:
        raise ValueError("mean_and_std needs at least one value")
    n = len(values)
    mean = sum(values) / n
    variance = sum((x - mean) ** 2 for x in values) / n
    return mean, variance ** 0.5
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_mean_std", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
m, s = mean_and_std([2, 4, 4, 4, 5, 5, 7, 9])
assert abs(m - 5.0) < 1e-12, f"mean should be 5.0, got {m}"
assert abs(s - 2.0) < 1e-12, f"population std should be 2.0, got {s} (divide by n, not n - 1)"
### BEGIN HIDDEN TESTS
import statistics
data = [0.5, -1.25, 3.0, 3.0, 10.0, 7.75]
m, s = mean_and_std(data)
assert abs(m - statistics.fmean(data)) < 1e-9
assert abs(s - statistics.pstdev(data)) < 1e-9
assert mean_and_std([3.0]) == (3.0, 0.0)
try:
    mean_and_std([])
except ValueError:
    pass
else:
    raise AssertionError("an empty list must raise ValueError")
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task2_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 2 — standardise the columns of a matrix, without a loop (2 points)
#
# Many models want every feature (특성) on the same scale. *Standardising* (표준화) a column
# means subtracting its mean and dividing by its standard deviation, so that it ends up with
# mean 0 and standard deviation 1.
#
# Write `standardize(X)` for a 2-D array `X` of shape `(n_samples, n_features)`:
# compute the column means and standard deviations with `axis=0`, and let
# **broadcasting** (브로드캐스팅) apply them to every row — no `for` loop.
# Return a new array; do not change `X`.
#
# Hint: `X.mean(axis=0)` has shape `(n_features,)`; subtracting it from an array of shape
# `(n_samples, n_features)` subtracts it from every row.

# %% nbgrader={"grade": false, "grade_id": "standardize", "locked": false, "schema_version": 3, "solution": true, "task": false}
def standardize(X):
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=float)
    return (X - X.mean(axis=0)) / X.std(axis=0)
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_standardize", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
X = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 60.0]])
Z = standardize(X)
assert Z.shape == X.shape, f"shape should stay {X.shape}, got {Z.shape}"
assert np.allclose(Z.mean(axis=0), 0), f"every column should have mean 0, got {Z.mean(axis=0)}"
assert np.allclose(Z.std(axis=0), 1), f"every column should have std 1, got {Z.std(axis=0)}"
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(7)
X = rng.normal(loc=[0, 100, -5], scale=[1, 30, 0.1], size=(50, 3))
before = X.copy()
Z = standardize(X)
assert np.array_equal(X, before), "standardize must not modify its input"
assert np.allclose(Z, (X - X.mean(0)) / X.std(0))
assert np.allclose(standardize(np.array([[1.0], [3.0]])), [[-1.0], [1.0]])
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task3_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 3 — the iris data in pandas (2 points)
#
# The cell below loads the iris flowers (붓꽃) as a `DataFrame` (데이터프레임) with one column
# per measurement and a `species` column. Compute `petal_means`: the **mean petal length per
# species**, as a `Series` indexed by species name, **sorted from largest to smallest**.
#
# Hint: `df.groupby(...)[column].mean()`, then `.sort_values(ascending=False)`.

# %% deletable=false editable=false nbgrader={"grade": false, "grade_id": "load_iris", "locked": true, "schema_version": 3, "solution": false, "task": false}
iris = load_iris(as_frame=True)
df = iris.frame.drop(columns="target")
df["species"] = pd.Categorical.from_codes(iris.target, iris.target_names).astype(str)
df.head()

# %% nbgrader={"grade": false, "grade_id": "petal_means", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
petal_means = df.groupby("species")["petal length (cm)"].mean().sort_values(ascending=False)
### END SOLUTION
petal_means

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_petal_means", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert isinstance(petal_means, pd.Series), "petal_means should be a pandas Series"
assert list(petal_means.index) == ["virginica", "versicolor", "setosa"], \
    f"sorted from largest to smallest, the species are virginica, versicolor, setosa; got {list(petal_means.index)}"
### BEGIN HIDDEN TESTS
assert np.allclose(petal_means.to_numpy(), [5.552, 4.26, 1.462])
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task4_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 4 — filter rows and add a column (2 points)
#
# Write `wide_sepals(df, min_width)` that returns the rows of `df` whose
# `"sepal width (cm)"` is **at least** `min_width`, with one new column
# `"petal ratio"` = petal length ÷ petal width. Do not change `df` itself (work on a copy:
# a boolean mask `df[mask]` followed by `.copy()` or `.assign(...)`).

# %% nbgrader={"grade": false, "grade_id": "wide_sepals", "locked": false, "schema_version": 3, "solution": true, "task": false}
def wide_sepals(df, min_width):
    ### BEGIN SOLUTION
    rows = df[df["sepal width (cm)"] >= min_width]
    return rows.assign(**{"petal ratio": rows["petal length (cm)"] / rows["petal width (cm)"]})
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_wide_sepals", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
wide = wide_sepals(df, 3.8)
assert (wide["sepal width (cm)"] >= 3.8).all(), "only rows with sepal width >= min_width"
assert "petal ratio" in wide.columns, "add a column named 'petal ratio'"
assert "petal ratio" not in df.columns, "do not add the column to the original df"
### BEGIN HIDDEN TESTS
for w in (3.0, 3.8, 4.4):
    got = wide_sepals(df, w)
    mask = df["sepal width (cm)"].to_numpy() >= w
    assert len(got) == int(mask.sum()), f"min_width={w}: expected {int(mask.sum())} rows"
    assert np.allclose(got["petal ratio"].to_numpy(),
                       df["petal length (cm)"].to_numpy()[mask] / df["petal width (cm)"].to_numpy()[mask])
assert len(wide_sepals(df, 100)) == 0
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task5_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 5 — a missing-value report (1 point)
#
# Real data has holes. Write `missing_report(frame)` that returns a `Series` with the
# **fraction** of missing values (결측치, `NaN`/`None`) in each column — only the columns that
# have at least one — sorted from most to least missing.
#
# Done when the example below gives `b 0.75, a 0.25` (and no entry for `c`).

# %% nbgrader={"grade": false, "grade_id": "missing_report", "locked": false, "schema_version": 3, "solution": true, "task": false}
def missing_report(frame):
    ### BEGIN SOLUTION
    fraction = frame.isna().mean()
    return fraction[fraction > 0].sort_values(ascending=False)
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_missing_report", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
example = pd.DataFrame({"a": [1, None, 3, 4], "b": [None, None, None, 1.0], "c": [1, 2, 3, 4]})
report = missing_report(example)
print(report)
assert list(report.index) == ["b", "a"], f"expected columns ['b', 'a'], got {list(report.index)}"
### BEGIN HIDDEN TESTS
assert np.allclose(report.to_numpy(), [0.75, 0.25]), "fractions, not counts"
assert len(missing_report(pd.DataFrame({"x": [1, 2]}))) == 0
other = pd.DataFrame({"u": ["a", None, "c", None, None], "v": [1.0, 2, None, 4, 5], "w": range(5)})
assert dict(missing_report(other).round(6)) == {"u": 0.6, "v": 0.2}
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "q1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Question (2 points, graded by hand)
#
# In Task 2 you replaced a loop by one NumPy expression. In **three or four sentences**:
# why is a vectorised (벡터화) NumPy expression usually much faster than the same computation
# written as a Python `for` loop over the rows, and what does broadcasting do with the shapes
# `(150, 4)` and `(4,)`?

# %% [markdown] nbgrader={"grade": true, "grade_id": "q1_vectorisation", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# A Python loop runs the interpreter once per element: every step looks up names, creates
# Python float objects and checks types. A NumPy expression hands the whole array to one
# compiled loop in C that works on raw contiguous numbers (and can use SIMD instructions),
# so the per-element overhead disappears. Broadcasting lines the shapes up from the right:
# `(4,)` is treated as `(1, 4)` and stretched (without copying) along the first axis to
# `(150, 4)`, so each row has the same four column means subtracted.

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "checklist", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit ✔
#
# 1. Restart the kernel and run all cells: no errors, every visible test passes.
# 2. No `raise NotImplementedError()` left, every "YOUR ANSWER HERE" replaced.
# 3. Nothing slow left behind (a search over a huge grid, thousands of epochs): the grader
#    stops notebooks that run too long, and a stopped notebook scores only the tests that
#    finished.
