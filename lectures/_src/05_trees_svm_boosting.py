# ---
# jupyter:
#   coursebench:
#     summary: "Decision trees, random forests, support vector machines and gradient boosting, compared on real data."
# ---

# %% [markdown]
# # 05 · Decision trees, random forests, SVMs and boosting
# The classical models that still win most competitions on tables of data: how each one decides, how it overfits, and how they compare on the same problem.
#
# **What you will learn**
#
# - how a decision tree (결정 트리) chooses its questions (Gini impurity, 지니 불순도), and why a deep tree overfits;
# - random forests (랜덤 포레스트): many trees on resampled data (bagging, 배깅) vote, and the variance drops;
# - support vector machines (서포트 벡터 머신, SVM): the widest margin (마진), support vectors, and the kernel trick (커널 트릭);
# - boosting (부스팅): trees added one at a time, each correcting the last — built from scratch, then `HistGradientBoostingClassifier`;
# - a fair comparison of all of them on one data set, with cross-validation.

# %%
from coursebench.notebook import setup
from coursebench import datasets

info = setup()
info

# %% tags=["parameters"]
smoke = False
n_points = 500           # moons data
n_trees = 200            # trees in the forest / boosting rounds
cv_folds = 5

# %%
if smoke:
    n_points, n_trees, cv_folds = 200, 20, 3

import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor, plot_tree

moons = datasets.load("moons", n_samples=n_points, seed=0, noise=0.3)
X_train, X_test, y_train, y_test = moons.split(test_size=0.3, seed=0)
print(moons.message)

xx, yy = np.meshgrid(np.linspace(-2, 3, 250), np.linspace(-1.5, 2, 200))
grid = np.c_[xx.ravel(), yy.ravel()]


def show_boundary(ax, model, title):
    """Draw the model's predicted probability of class 1 over the plane, and the training points."""
    if hasattr(model, "predict_proba"):
        z = model.predict_proba(grid)[:, 1]
    else:
        z = model.decision_function(grid)
        z = 1 / (1 + np.exp(-z))
    ax.contourf(xx, yy, z.reshape(xx.shape), levels=20, cmap="coolwarm", alpha=0.45)
    ax.scatter(X_train[:, 0], X_train[:, 1], c=y_train, cmap="coolwarm", s=7, edgecolor="k", linewidth=0.2)
    ax.set_title(f"{title}\ntrain {model.score(X_train, y_train):.2f} · test {model.score(X_test, y_test):.2f}", fontsize=9)


# %% [markdown]
# ## 1. Decision trees (결정 트리)
#
# A tree asks a yes/no question about one feature at each node ("is $x_1 \le 0.4$?") and predicts at each leaf (잎 노드). It chooses the question that makes the two groups as *pure* as possible. A common measure of impurity is the **Gini impurity (지니 불순도)**:
#
# $$G = 1 - \sum_k p_k^2$$
#
# where $p_k$ is the share of class $k$ in a node: 0 for a pure node, 0.5 for a 50/50 mix of two classes. Let us find the best first split by hand and compare it with scikit-learn.

# %%
def gini(y):
    p = np.bincount(y, minlength=2) / len(y)
    return 1 - np.sum(p**2)


def best_split(X, y):
    best = (None, None, gini(y))
    for feature in range(X.shape[1]):
        values = np.unique(X[:, feature])
        for threshold in (values[:-1] + values[1:]) / 2:
            left = X[:, feature] <= threshold
            weighted = (left.sum() * gini(y[left]) + (~left).sum() * gini(y[~left])) / len(y)
            if weighted < best[2]:
                best = (feature, threshold, weighted)
    return best


feature, threshold, impurity = best_split(X_train, y_train)
stump = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X_train, y_train)
print(f"ours:         x{feature + 1} <= {threshold:.3f}  (weighted Gini {impurity:.3f}, before {gini(y_train):.3f})")
print(f"scikit-learn: x{stump.tree_.feature[0] + 1} <= {stump.tree_.threshold[0]:.3f}")
assert feature == stump.tree_.feature[0] and np.isclose(threshold, stump.tree_.threshold[0])

# %% [markdown]
# Splitting continues in each part until the leaves are pure — unless we stop it. An unlimited tree memorises the training set (every training point gets its own little box): **overfitting**. Limiting the depth (`max_depth`) or the leaf size (`min_samples_leaf`) regularises the tree.

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), sharey=True)
trees = {}
for ax, depth in zip(axes, [2, 5, None]):
    trees[depth] = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(X_train, y_train)
    show_boundary(ax, trees[depth], f"tree, max_depth={depth}")
plt.show()

# %%
fig, ax = plt.subplots(figsize=(10, 4))
plot_tree(trees[2], feature_names=moons.feature_names, class_names=moons.target_names, filled=True, ax=ax, fontsize=8)
plt.show()

# %% [markdown]
# Trees are easy to read (above: the whole depth-2 model), need no feature scaling, and handle mixed feature types. Their weakness is **variance (분산)**: a small change in the data can change the first split and therefore the whole tree. The next two ideas fix that in opposite ways.
#
# ## 2. Random forests (랜덤 포레스트)
#
# Train many deep trees, each on a **bootstrap sample (부트스트랩 샘플)** of the training data (drawn with replacement) and each considering a random subset of features at every split, then let them vote. This is **bagging (배깅)** plus feature randomness. Each tree overfits in its own way; the errors partly cancel in the vote.

# %%
forest = RandomForestClassifier(n_estimators=n_trees, min_samples_leaf=3, random_state=0, n_jobs=1).fit(X_train, y_train)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
show_boundary(axes[0], trees[None], "one deep tree")
show_boundary(axes[1], forest, f"random forest, {n_trees} trees")
plt.show()

# how the test accuracy grows with the number of trees
counts = [1, 2, 5, 10, 20, 50, 100, 200][: (8 if not smoke else 5)]
per_tree = np.array([t.predict_proba(X_test)[:, 1] for t in forest.estimators_])
acc_by_count = [((per_tree[:n].mean(axis=0) > 0.5) == y_test).mean() for n in counts]
print("test accuracy by number of trees:", dict(zip(counts, np.round(acc_by_count, 3).tolist())))

# %% [markdown]
# The forest's boundary is smooth where the single tree's was jagged, and its test accuracy is higher — in the full run **the forest beats the unlimited single tree on the test set.**

# %%
tree_test, forest_test = trees[None].score(X_test, y_test), forest.score(X_test, y_test)
if not smoke:
    assert forest_test > tree_test, (tree_test, forest_test)

# %% [markdown]
# ## 3. Support vector machines (서포트 벡터 머신, SVM)
#
# A linear SVM looks for the line (in many dimensions: the hyperplane, 초평면) that separates the classes with the **widest margin (마진)**. Only the points on or inside the margin — the **support vectors (서포트 벡터)** — decide where it lies. The hyperparameter `C` sets how much a point may violate the margin: small C = wide, tolerant margin (more regularisation), large C = narrow margin (less).
#
# For curved boundaries, the **kernel trick (커널 트릭)** computes similarities as if the data had been mapped into a much higher-dimensional space, without ever building that space. The RBF (Gaussian) kernel compares points by their distance; `gamma` sets how far one point's influence reaches. SVMs are distance-based, so scale the features.

# %%
svms = {
    "linear SVM, C=1": make_pipeline(StandardScaler(), SVC(kernel="linear", C=1)),
    "RBF SVM, C=1, γ=1": make_pipeline(StandardScaler(), SVC(kernel="rbf", C=1, gamma=1)),
    "RBF SVM, C=100, γ=50": make_pipeline(StandardScaler(), SVC(kernel="rbf", C=100, gamma=50)),
}
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), sharey=True)
for ax, (name, model) in zip(axes, svms.items()):
    model.fit(X_train, y_train)
    show_boundary(ax, model, name)
    svc = model[-1]
    sv = model[0].inverse_transform(svc.support_vectors_)
    ax.scatter(sv[:, 0], sv[:, 1], s=30, facecolors="none", edgecolors="k", linewidth=0.6)
plt.show()
for name, model in svms.items():
    print(f"{name:22s} support vectors: {model[-1].n_support_.sum():4d}   test accuracy {model.score(X_test, y_test):.3f}")

# %% [markdown]
# The linear SVM cannot bend (about 0.82); the RBF kernel with moderate settings follows the moons (about 0.9); with a huge `C` and `gamma` it draws islands around single points — overfitting again.

# %%
if not smoke:
    lin, rbf = svms["linear SVM, C=1"].score(X_test, y_test), svms["RBF SVM, C=1, γ=1"].score(X_test, y_test)
    assert rbf >= 0.88 and rbf > lin, (lin, rbf)
    assert 0.78 <= lin <= 0.86, lin

# %% [markdown]
# ## 4. Boosting (부스팅)
#
# Bagging trains trees independently and averages them. **Boosting** trains them *one after another*, each new one focusing on what the ensemble so far gets wrong. In **gradient boosting (그래디언트 부스팅)** every new small tree is fitted to the current *residuals* (잔차) — for squared error exactly the negative gradient of the loss — and added with a small weight, the learning rate. A few lines show the idea on a 1-D regression:

# %%
rng = np.random.default_rng(0)
xr = np.sort(rng.uniform(0, 1, 200))[:, None]
yr = np.sin(6 * xr[:, 0]) + rng.normal(0, 0.2, 200)
xs = np.linspace(0, 1, 400)[:, None]

learning_rate, stages = 0.3, [1, 5, 50]
prediction, pred_grid, models = np.full_like(yr, yr.mean()), np.full(len(xs), yr.mean()), []
snapshots = {}
for m in range(1, max(stages) + 1):
    residual = yr - prediction
    tree = DecisionTreeRegressor(max_depth=2).fit(xr, residual)
    prediction += learning_rate * tree.predict(xr)
    pred_grid = pred_grid + learning_rate * tree.predict(xs)
    if m in stages:
        snapshots[m] = pred_grid.copy()

fig, axes = plt.subplots(1, 3, figsize=(13, 3.4), sharey=True)
for ax, m in zip(axes, stages):
    ax.scatter(xr, yr, s=6, color="gray")
    ax.plot(xs, snapshots[m], color="#d62728")
    ax.set_title(f"after {m} tree{'s' if m > 1 else ''} of depth 2")
plt.show()

# %% [markdown]
# One depth-2 tree is a crude staircase; fifty of them, each fixing the remaining error, follow the curve. Modern libraries (XGBoost, LightGBM, scikit-learn's `HistGradientBoostingClassifier`) add histogram tricks for speed, regularisation, and early stopping. On tables of numbers they are the models to beat.

# %%
boost = HistGradientBoostingClassifier(max_iter=n_trees, learning_rate=0.05, max_depth=3, random_state=0).fit(X_train, y_train)
fig, ax = plt.subplots(figsize=(4.5, 3.8))
show_boundary(ax, boost, "gradient boosting")
plt.show()

# %% [markdown]
# ## 5. A fair comparison
#
# Now all the models on one real problem — the 569 breast-tumour samples — each evaluated the same way: **stratified k-fold cross-validation** (lecture 06) with the same folds, reporting mean accuracy, its spread across folds, and the time to fit.

# %%
cancer = datasets.load("breast_cancer")
models = {
    "logistic regression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
    "decision tree (depth 4)": DecisionTreeClassifier(max_depth=4, random_state=0),
    "random forest": RandomForestClassifier(n_estimators=n_trees, random_state=0, n_jobs=1),
    "SVM (RBF)": make_pipeline(StandardScaler(), SVC(C=1.0)),
    "gradient boosting": HistGradientBoostingClassifier(max_iter=n_trees, learning_rate=0.1, random_state=0),
}
folds = StratifiedKFold(n_splits=cv_folds, shuffle=True, random_state=0)
rows = []
for name, model in models.items():
    start = time.perf_counter()
    cv = cross_validate(model, cancer.X, cancer.y, cv=folds, scoring="accuracy")
    rows.append({"model": name, "accuracy": cv["test_score"].mean(), "± std": cv["test_score"].std(),
                 "fit time (s)": cv["fit_time"].mean()})
table = pd.DataFrame(rows).set_index("model").sort_values("accuracy", ascending=False)
table

# %%
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.barh(table.index[::-1], table["accuracy"][::-1], xerr=table["± std"][::-1], color="#6fa8dc")
ax.set_xlim(0.85, 1.0); ax.set_xlabel(f"{cv_folds}-fold CV accuracy")
ax.set_title("Five models, same folds")
plt.show()

# %% [markdown]
# All five models land between about 92% and 98%; the differences between the best few are about the size of their fold-to-fold spread, so on this data set they are practically tied — lecture 06 shows how to tell a real difference from noise. The single tree is the weakest; the scaled linear model and the SVM are strong because the classes are nearly linearly separable after scaling. In the full run **every model scores at least 0.90 and the best at least 0.96.**

# %%
if not smoke:
    assert table["accuracy"].min() >= 0.90 and table["accuracy"].max() >= 0.96, table

# %% [markdown]
# ## Summary
#
# | model | how it decides | strengths | watch out for |
# |---|---|---|---|
# | decision tree | nested yes/no questions | readable, no scaling | high variance, overfits when deep |
# | random forest | vote of many randomised deep trees | strong default, little tuning | large, slower to predict |
# | SVM | widest margin, kernels for curves | strong on small/medium data | needs scaling; C and γ need tuning; slow on >100k rows |
# | gradient boosting | small trees added to fix residuals | usually best on tables | more hyperparameters; can overfit without early stopping |
#
# ## Exercises
#
# 1. Plot the training and test accuracy of a decision tree on the moons data for `max_depth` = 1…15. Where does overfitting start?
# 2. A random forest gives each feature an importance. Fit one on the cancer data and show the ten most important features in a bar chart.
# 3. For the RBF SVM on the moons data, compute the 5-fold CV accuracy on a grid of `C` ∈ {0.1, 1, 10, 100} and `gamma` ∈ {0.1, 1, 10} and show it as a heat map.

# %% [markdown]
# ## Solutions

# %%
# 1.
depths = range(1, 16)
tr = [DecisionTreeClassifier(max_depth=d, random_state=0).fit(X_train, y_train).score(X_train, y_train) for d in depths]
te = [DecisionTreeClassifier(max_depth=d, random_state=0).fit(X_train, y_train).score(X_test, y_test) for d in depths]
fig, ax = plt.subplots()
ax.plot(depths, tr, marker=".", label="train"); ax.plot(depths, te, marker=".", label="test")
ax.set_xlabel("max_depth"); ax.legend(); ax.set_title("Tree depth vs accuracy")
plt.show()
print("best test depth:", list(depths)[int(np.argmax(te))])

# %%
# 2.
rf = RandomForestClassifier(n_estimators=n_trees, random_state=0, n_jobs=1).fit(cancer.X, cancer.y)
importance = pd.Series(rf.feature_importances_, index=cancer.feature_names).nlargest(10)
ax = importance[::-1].plot.barh(figsize=(6, 3.5), color="#93c47d")
ax.set_title("Random forest: most important features")
plt.show()

# %%
# 3.
from sklearn.model_selection import cross_val_score

Cs, gammas = [0.1, 1, 10, 100], [0.1, 1, 10]
scores = np.array([[cross_val_score(make_pipeline(StandardScaler(), SVC(C=C, gamma=g)), X_train, y_train, cv=5).mean()
                    for g in gammas] for C in Cs])
fig, ax = plt.subplots(figsize=(4.5, 3.8))
im = ax.imshow(scores, cmap="viridis")
ax.set_xticks(range(len(gammas)), gammas); ax.set_yticks(range(len(Cs)), Cs)
ax.set_xlabel("gamma"); ax.set_ylabel("C"); ax.grid(False)
for i in range(len(Cs)):
    for j in range(len(gammas)):
        ax.text(j, i, f"{scores[i, j]:.2f}", ha="center", va="center", color="w")
fig.colorbar(im)
plt.show()
