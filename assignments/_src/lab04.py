# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Lab 04 — k-means and k-nearest neighbours (군집화 · 최근접 이웃)
#
# Follows lecture **04 — Clustering and KNN**. About 50 minutes.
#
# **In this lab you will**
#
# - choose the number of clusters (군집) with the elbow method (엘보 방법) and the silhouette score (실루엣 점수)
# - write k-nearest-neighbour classification (KNN) yourself with NumPy
# - measure how feature scaling (특성 스케일링) changes a distance-based model
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
from sklearn.cluster import KMeans
from sklearn.datasets import load_wine, make_blobs
from sklearn.metrics import silhouette_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

X_blobs, _ = make_blobs(n_samples=300, centers=4, cluster_std=0.8, random_state=42)
X_wine, y_wine = load_wine(return_X_y=True)
Xw_train, Xw_test, yw_train, yw_test = train_test_split(
    X_wine, y_wine, test_size=0.3, stratify=y_wine, random_state=0)


# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 1 — the elbow and the silhouette (3 points)
#
# 1. `inertias(X, ks)`: for every `k` in `ks` fit `KMeans(n_clusters=k, n_init=10, random_state=0)`
#    and return the list of its `inertia_` (관성: the sum of squared distances of the points to
#    their centroid, 중심점).
# 2. `best_k(X, ks)`: the `k` in `ks` with the highest **silhouette score** of the same KMeans
#    labels (`silhouette_score(X, labels)`). The silhouette needs at least 2 clusters, so
#    `ks` will not contain 1.
#
# Inertia always falls as `k` grows — look for the elbow; the silhouette has a maximum.

# %% nbgrader={"grade": false, "grade_id": "inertias", "locked": false, "schema_version": 3, "solution": true, "task": false}
def inertias(X, ks):
    ### BEGIN SOLUTION
    return [KMeans(n_clusters=k, n_init=10, random_state=0).fit(X).inertia_ for k in ks]
    ### END SOLUTION


# %% nbgrader={"grade": false, "grade_id": "best_k", "locked": false, "schema_version": 3, "solution": true, "task": false}
def best_k(X, ks):
    ### BEGIN SOLUTION
    scores = [silhouette_score(X, KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(X)) for k in ks]
    return ks[int(np.argmax(scores))]
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_inertias", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
values = inertias(X_blobs, [1, 2, 3, 4, 5, 6])
print([round(v) for v in values])
assert len(values) == 6
assert all(a > b for a, b in zip(values, values[1:])), "inertia falls as k grows"
### BEGIN HIDDEN TESTS
assert values == inertias(X_blobs, [1, 2, 3, 4, 5, 6]), "use random_state=0: the same call must give the same result"
assert np.isclose(values[3], KMeans(n_clusters=4, n_init=10, random_state=0).fit(X_blobs).inertia_)
### END HIDDEN TESTS

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_best_k", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
k = best_k(X_blobs, [2, 3, 4, 5, 6, 7])
print("best k:", k)
assert k in [2, 3, 4, 5, 6, 7]
### BEGIN HIDDEN TESTS
assert k == 4, "the data has four blobs"
X3, _ = make_blobs(n_samples=200, centers=3, cluster_std=0.5, random_state=1)
assert best_k(X3, [2, 3, 4, 5]) == 3
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task2_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 2 — KNN from scratch (3 points)
#
# Write `knn_predict(X_train, y_train, X_query, k)`: for every row of `X_query`,
#
# 1. compute its Euclidean distance to every training row (broadcasting: shapes
#    `(n_query, 1, d)` and `(1, n_train, d)`, or the identity $\lVert a-b\rVert^2 = \lVert a\rVert^2 - 2a\cdot b + \lVert b\rVert^2$),
# 2. take the `k` nearest (`np.argsort` or `np.argpartition`),
# 3. predict the most common label among them (on a tie: the smallest label — `np.bincount(...).argmax()` does that).
#
# Return an integer array of predictions. No scikit-learn here.

# %% nbgrader={"grade": false, "grade_id": "knn", "locked": false, "schema_version": 3, "solution": true, "task": false}
def knn_predict(X_train, y_train, X_query, k):
    ### BEGIN SOLUTION
    X_train, X_query = np.asarray(X_train, float), np.asarray(X_query, float)
    d2 = ((X_query[:, None, :] - X_train[None, :, :]) ** 2).sum(axis=2)
    nearest = np.argsort(d2, axis=1, kind="stable")[:, :k]
    labels = np.asarray(y_train)[nearest]
    return np.array([np.bincount(row).argmax() for row in labels])
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_knn", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
Xt = np.array([[0.0, 0.0], [0.0, 1.0], [5.0, 5.0], [6.0, 5.0], [5.0, 6.0]])
yt = np.array([0, 0, 1, 1, 1])
pred = knn_predict(Xt, yt, np.array([[0.2, 0.4], [5.5, 5.5]]), k=1)
assert list(pred) == [0, 1], f"expected [0, 1], got {list(pred)}"
### BEGIN HIDDEN TESTS
assert list(knn_predict(Xt, yt, np.array([[0.1, 0.1], [3.5, 3.5]]), k=3)) == [0, 1]
assert list(knn_predict(Xt, yt, np.array([[0.0, 0.5]]), k=2)) == [0]
sk = KNeighborsClassifier(n_neighbors=5, algorithm="brute").fit(Xw_train, yw_train).predict(Xw_test)
mine = knn_predict(Xw_train, yw_train, Xw_test, k=5)
assert np.mean(sk == mine) >= 0.98, "should agree with scikit-learn's KNN"
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task3_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 3 — scaling (2 points)
#
# Set `acc_raw` to the test accuracy of `KNeighborsClassifier(n_neighbors=5)` fitted on the raw
# wine features, and `acc_scaled` to that of the same classifier behind a `StandardScaler`
# (a pipeline, so the scaler learns its means and standard deviations **from the training set
# only**).

# %% nbgrader={"grade": false, "grade_id": "scaling", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
acc_raw = KNeighborsClassifier(n_neighbors=5).fit(Xw_train, yw_train).score(Xw_test, yw_test)
scaled = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=5)).fit(Xw_train, yw_train)
acc_scaled = scaled.score(Xw_test, yw_test)
### END SOLUTION
print(f"raw {acc_raw:.3f}   scaled {acc_scaled:.3f}")
print("feature ranges:", np.round(X_wine.max(0) - X_wine.min(0), 1))

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_scaling", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert 0 <= acc_raw <= 1 and 0 <= acc_scaled <= 1
assert acc_scaled > acc_raw, "scaling should help KNN on wine"
### BEGIN HIDDEN TESTS
assert np.isclose(acc_raw, KNeighborsClassifier(n_neighbors=5).fit(Xw_train, yw_train).score(Xw_test, yw_test))
ref = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=5)).fit(Xw_train, yw_train)
assert np.isclose(acc_scaled, ref.score(Xw_test, yw_test))
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "q1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Question (2 points, graded by hand)
#
# Look at the feature ranges printed above. In three or four sentences: **why does scaling change
# KNN's accuracy** so much on this data, and why would it hardly change the accuracy of a decision
# tree (결정 트리)?

# %% [markdown] nbgrader={"grade": true, "grade_id": "q1_scaling", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# KNN decides by Euclidean distance, and a distance is dominated by the features with the largest
# numbers: proline ranges over about 1400 units, most other wine features over less than 5, so the
# "nearest" wines are simply those with similar proline and the other twelve measurements barely
# count. Standardising puts every feature on mean 0 / std 1, so each contributes comparably and the
# informative small-range features (flavanoids, colour intensity, hue) can be used. A decision tree
# splits one feature at a time on a threshold; rescaling a feature moves the threshold with it but
# does not change which rows go left or right, so the tree is (almost) unchanged.

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "checklist", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit ✔
#
# 1. Restart the kernel and run all cells: no errors, every visible test passes.
# 2. No `raise NotImplementedError()` left, every "YOUR ANSWER HERE" replaced.
# 3. Nothing slow left behind (a search over a huge grid, thousands of epochs): the grader
#    stops notebooks that run too long, and a stopped notebook scores only the tests that
#    finished.
