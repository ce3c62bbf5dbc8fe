# ---
# jupyter:
#   coursebench:
#     summary: "Stratified k-fold CV, grid/random search, learning curves, fair comparisons, weighted ensembles, CV vs the public leaderboard."
# ---

# %% [markdown]
# # 06 · Model tuning and comparison
# How to choose hyperparameters and models without fooling yourself: cross-validation, grid and random search, learning curves, fair comparisons, weighted ensembles — and why a trusted CV score beats a public leaderboard.
#
# **What you will learn**
#
# - k-fold and stratified k-fold cross-validation (교차 검증) — what they estimate and how to code them;
# - hyperparameter tuning (하이퍼파라미터 튜닝) with grid search (그리드 탐색) and random search (랜덤 탐색);
# - learning curves (학습 곡선): would more data help, or a different model?
# - comparing two models fairly: same folds, paired differences, and an honest measure of uncertainty;
# - weighted ensembles (가중 앙상블) built on out-of-fold predictions;
# - why the model at the top of a public leaderboard (리더보드) is usually worse than it looks, and how CV protects you.

# %%
from coursebench.notebook import setup
from coursebench import datasets

info = setup()
info

# %% tags=["parameters"]
smoke = False
cv_folds = 5
n_repeats = 5            # repeated CV for the fair comparison
n_candidates = 60        # "submissions" in the leaderboard experiment
n_random = 12            # random-search draws

# %%
if smoke:
    cv_folds, n_repeats, n_candidates, n_random = 3, 2, 8, 3

import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.neighbors import KNeighborsClassifier
from sklearn.model_selection import (GridSearchCV, KFold, RandomizedSearchCV, RepeatedStratifiedKFold,
                                     StratifiedKFold, cross_val_predict, cross_val_score, learning_curve,
                                     train_test_split)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

# %% [markdown]
# ## 1. Cross-validation (교차 검증)
#
# One validation split gives one noisy number: a different split, a different score. **k-fold cross-validation** splits the training data into $k$ parts (folds, 폴드), trains $k$ times — each time holding out one fold for validation — and averages the $k$ scores. Every sample is used for validation exactly once, and we also see how much the score varies.
#
# **Stratified** k-fold keeps the class proportions the same in every fold — important when classes are unbalanced, and the default in scikit-learn for classifiers. A plain `KFold` on sorted labels can even leave a class out of a training fold entirely:

# %%
y_sorted = np.array([0] * 30 + [1] * 15 + [2] * 15)       # labels sorted, as files often are
fig, axes = plt.subplots(2, 1, figsize=(9, 3.2), sharex=True)
for ax, (name, splitter) in zip(axes, [("KFold(shuffle=False)", KFold(5)),
                                       ("StratifiedKFold(shuffle=True)", StratifiedKFold(5, shuffle=True, random_state=0))]):
    for fold, (_, val) in enumerate(splitter.split(np.zeros(len(y_sorted)), y_sorted)):
        ax.scatter(val, np.full(len(val), fold), c=y_sorted[val], cmap="viridis", marker="s", s=18, vmin=0, vmax=2)
    ax.set_yticks(range(5), [f"fold {i}" for i in range(5)]); ax.set_title(name, fontsize=9); ax.grid(False)
axes[1].set_xlabel("sample index (colour = class)")
plt.show()

# %% [markdown]
# Cross-validation by hand, to see there is no magic — then the one-liner:

# %%
digits = datasets.load("digits")
print(digits.message)
X_train, X_test, y_train, y_test = digits.split(test_size=0.25, seed=0)
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))

folds = StratifiedKFold(n_splits=cv_folds, shuffle=True, random_state=0)
manual = []
for train_idx, val_idx in folds.split(X_train, y_train):
    fitted = model.fit(X_train[train_idx], y_train[train_idx])
    manual.append(fitted.score(X_train[val_idx], y_train[val_idx]))
auto = cross_val_score(model, X_train, y_train, cv=folds)
print("by hand:     ", np.round(manual, 3))
print("one-liner:   ", np.round(auto, 3))
print(f"CV accuracy {auto.mean():.3f} ± {auto.std():.3f}")
assert np.allclose(manual, auto)

# %% [markdown]
# ## 2. Grid search and random search
#
# Hyperparameters (하이퍼파라미터) are the settings we choose, not the model: `C` and `gamma` of an SVM, the depth of a tree. **Grid search (그리드 탐색)** tries every combination from lists of values and keeps the best by CV score. **Random search (랜덤 탐색)** draws combinations at random from distributions; for the same budget it explores more distinct values of each hyperparameter — which matters when only some of them are important.

# %%
svm = make_pipeline(StandardScaler(), SVC())
grid_values = {"svc__C": np.logspace(-1, 3, 5), "svc__gamma": np.logspace(-4, 0, 5)}
if smoke:
    grid_values = {"svc__C": [1, 10], "svc__gamma": [1e-3, 1e-2]}

start = time.perf_counter()
grid = GridSearchCV(svm, grid_values, cv=folds, n_jobs=1).fit(X_train, y_train)
grid_time = time.perf_counter() - start

start = time.perf_counter()
rand = RandomizedSearchCV(svm, {"svc__C": stats.loguniform(1e-1, 1e3), "svc__gamma": stats.loguniform(1e-4, 1)},
                          n_iter=n_random, cv=folds, random_state=0, n_jobs=1).fit(X_train, y_train)
rand_time = time.perf_counter() - start

print(f"grid search:   {len(grid.cv_results_['params']):2d} fits×{cv_folds}, best CV {grid.best_score_:.4f} "
      f"with C={grid.best_params_['svc__C']:.3g}, gamma={grid.best_params_['svc__gamma']:.3g}  ({grid_time:.1f}s)")
print(f"random search: {n_random:2d} fits×{cv_folds}, best CV {rand.best_score_:.4f} "
      f"with C={rand.best_params_['svc__C']:.3g}, gamma={rand.best_params_['svc__gamma']:.3g}  ({rand_time:.1f}s)")

# %%
scores = grid.cv_results_["mean_test_score"].reshape(len(grid_values["svc__C"]), len(grid_values["svc__gamma"]))
fig, ax = plt.subplots(figsize=(5.5, 4))
im = ax.imshow(scores, cmap="viridis", origin="lower")
ax.set_xticks(range(len(grid_values["svc__gamma"])), [f"{g:.0e}" for g in grid_values["svc__gamma"]])
ax.set_yticks(range(len(grid_values["svc__C"])), [f"{c:g}" for c in grid_values["svc__C"]])
ax.set_xlabel("gamma"); ax.set_ylabel("C"); ax.grid(False); ax.set_title("Grid search: CV accuracy")
r = pd.DataFrame(rand.cv_results_["params"])
fig.colorbar(im)
plt.show()

# %% [markdown]
# The map shows the typical picture for an RBF SVM: a diagonal ridge of good settings (a larger C pairs with a smaller gamma), and a cliff when gamma is too large — each point then only "sees" itself. Both searches find a setting near the ridge; random search needed half the fits. After the search, `grid.best_estimator_` has been refitted on all the training data; we report its score on the untouched test set **once**. In the full run the tuned SVM reaches **at least 97% test accuracy** on the digits.

# %%
test_acc = grid.best_estimator_.score(X_test, y_test)
print(f"tuned SVM: test accuracy {test_acc:.3f}")
if not smoke:
    assert test_acc >= 0.97, test_acc

# %% [markdown]
# ## 3. Learning curves (학습 곡선)
#
# A learning curve plots the training and validation score against the number of training samples. It answers a practical question — *would more data help?*
#
# - validation score still rising at the right end → more data will help;
# - a large gap between training and validation → high variance (overfitting): more data or more regularisation;
# - both low and close together → high bias (underfitting): a more flexible model, better features.

# %%
sizes = np.linspace(0.1, 1.0, 6 if not smoke else 3)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for ax, (name, est) in zip(axes, [("logistic regression", model),
                                  ("SVM (tuned)", grid.best_estimator_)]):
    n, tr, va = learning_curve(est, X_train, y_train, train_sizes=sizes, cv=folds, n_jobs=1)
    ax.plot(n, tr.mean(axis=1), marker="o", label="training")
    ax.plot(n, va.mean(axis=1), marker="o", label="validation")
    ax.fill_between(n, va.mean(axis=1) - va.std(axis=1), va.mean(axis=1) + va.std(axis=1), alpha=0.2, color="#ff7f0e")
    ax.set_title(name); ax.set_xlabel("training samples"); ax.legend()
axes[0].set_ylabel("accuracy"); axes[0].set_ylim(0.8, 1.01)
plt.show()

# %% [markdown]
# Both models are still improving at the right edge — more handwritten digits would help both — and the SVM is better at every size.
#
# ## 4. Comparing two models fairly
#
# "Model A scored 0.962 and model B 0.958, so A is better" is the most common mistake in applied ML. A fair comparison:
#
# 1. evaluates both on **the same folds** (so both face the same hard and easy samples);
# 2. looks at the **paired differences** fold by fold, not at two separate averages;
# 3. repeats CV with different shuffles, and accounts for the fact that CV folds overlap (they share training data), which makes the plain t-test far too confident. The *corrected* resampled t-test of Nadeau and Bengio inflates the variance by the test/train size ratio.

# %%
cancer = datasets.load("breast_cancer")
A = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
B = RandomForestClassifier(n_estimators=200 if not smoke else 30, random_state=0, n_jobs=1)
rcv = RepeatedStratifiedKFold(n_splits=cv_folds, n_repeats=n_repeats, random_state=0)
score_a = cross_val_score(A, cancer.X, cancer.y, cv=rcv)
score_b = cross_val_score(B, cancer.X, cancer.y, cv=rcv)
diff = score_a - score_b


def corrected_ttest(diff, n_train, n_test):
    """Nadeau & Bengio (2003): t-test on CV differences with the variance corrected for overlap."""
    k = len(diff)
    var = np.var(diff, ddof=1) * (1 / k + n_test / n_train)
    t = diff.mean() / np.sqrt(var)
    return t, 2 * stats.t.sf(abs(t), df=k - 1)


n_test = len(cancer.y) // cv_folds
t_naive, p_naive = stats.ttest_rel(score_a, score_b)
t_corr, p_corr = corrected_ttest(diff, len(cancer.y) - n_test, n_test)
print(f"logistic regression {score_a.mean():.4f}   random forest {score_b.mean():.4f}   "
      f"mean difference {diff.mean():+.4f} over {len(diff)} folds")
print(f"naive paired t-test:     p = {p_naive:.4f}")
print(f"corrected t-test:        p = {p_corr:.4f}")

fig, ax = plt.subplots(figsize=(6, 3))
ax.hist(diff, bins=15, color="#8e7cc3")
ax.axvline(0, color="k"); ax.axvline(diff.mean(), color="#d62728", ls="--", label="mean difference")
ax.set_xlabel("accuracy(logistic) − accuracy(forest), per fold"); ax.legend()
plt.show()

# %% [markdown]
# Per fold the difference swings both ways. The naive test, which treats the folds as independent, is overconfident; the corrected test is the one to believe. A p-value above 0.05 means "we cannot tell these apart on this data" — a perfectly good answer, which should push you to choose by other criteria (simplicity, speed, interpretability).
#
# ## 5. Weighted ensembles (가중 앙상블)
#
# Different models make different mistakes; averaging their predicted probabilities often beats each of them. The weights must be chosen on predictions for data the models did *not* train on — **out-of-fold (OOF) predictions** from `cross_val_predict` — never on the test set. We use a harder synthetic problem where the models genuinely differ.

# %%
Xc, yc = make_classification(n_samples=2000 if not smoke else 500, n_features=20, n_informative=6,
                             n_redundant=4, flip_y=0.03, class_sep=0.8, random_state=0)
Xc_train, Xc_test, yc_train, yc_test = train_test_split(Xc, yc, test_size=0.3, random_state=0, stratify=yc)
members = {
    "logistic": make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
    "knn": make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=25)),
    "boosting": HistGradientBoostingClassifier(max_iter=200 if not smoke else 30, learning_rate=0.05, random_state=0),
}
oof = {name: cross_val_predict(m, Xc_train, yc_train, cv=folds, method="predict_proba")[:, 1] for name, m in members.items()}
test_pred = {name: m.fit(Xc_train, yc_train).predict_proba(Xc_test)[:, 1] for name, m in members.items()}

# all weight triples on a 0.1 grid that sum to 1
steps = np.round(np.arange(0, 1.01, 0.1), 2)
weights = [(a, b, round(1 - a - b, 2)) for a in steps for b in steps if a + b <= 1.0001]
names = list(members)
oof_matrix = np.column_stack([oof[n] for n in names])
losses = [log_loss(yc_train, np.clip(oof_matrix @ np.array(w), 1e-6, 1 - 1e-6)) for w in weights]
best_w = np.array(weights[int(np.argmin(losses))])

rows = []
for i, n in enumerate(names):
    rows.append({"model": n, "OOF log loss": log_loss(yc_train, oof[n]),
                 "test log loss": log_loss(yc_test, np.clip(test_pred[n], 1e-6, 1 - 1e-6)),
                 "test accuracy": accuracy_score(yc_test, test_pred[n] > 0.5)})
ensemble_test = np.column_stack([test_pred[n] for n in names]) @ best_w
rows.append({"model": "weighted ensemble " + ", ".join(f"{w:.1f}·{n}" for n, w in zip(names, best_w)),
             "OOF log loss": min(losses),
             "test log loss": log_loss(yc_test, np.clip(ensemble_test, 1e-6, 1 - 1e-6)),
             "test accuracy": accuracy_score(yc_test, ensemble_test > 0.5)})
ensemble_table = pd.DataFrame(rows).set_index("model")
ensemble_table

# %% [markdown]
# The weights found on the out-of-fold predictions can never do worse than the best single member *on those predictions* (putting all weight on it is one of the options). On the test set the ensemble's probabilities are usually the best (lowest log loss), while its accuracy is within a sample or two of the best member — accuracy only counts which side of 0.5 a probability falls, log loss rewards every bit of better calibration. Lecture 09 onwards adds neural networks to such ensembles.

# %%
assert ensemble_table["OOF log loss"].iloc[-1] <= ensemble_table["OOF log loss"].iloc[:-1].min() + 1e-12
if not smoke:
    assert ensemble_table["test log loss"].iloc[-1] <= ensemble_table["test log loss"].iloc[:-1].min()

# %% [markdown]
# ## 6. Trust your CV, not the public leaderboard
#
# In a Kaggle-style competition (this course has one), your submissions are scored on a small **public** part of the hidden test set during the competition, and the final ranking uses the larger **private** part. If you submit many variations and keep the one with the best public score, you are doing model selection on a few hundred samples — and the public score of the winner is optimistic: part of its lead is luck on those particular samples, which does not carry over to the private set. This is called *overfitting the leaderboard*.
#
# A simulation: many candidate models (logistic regression with random regularisation and random feature subsets), each with a 5-fold CV score on the training data, a public score on 150 test samples, and a private score on the remaining 450.

# %%
rng = np.random.default_rng(0)
cv_scores, predictions = [], []
for _ in range(n_candidates):
    feats = rng.choice(20, size=rng.integers(5, 21), replace=False)
    C = 10 ** rng.uniform(-3, 2)
    cand = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
    cv_scores.append(cross_val_score(cand, Xc_train[:, feats], yc_train, cv=folds).mean())
    predictions.append(cand.fit(Xc_train[:, feats], yc_train).predict(Xc_test[:, feats]))
correct = np.array(predictions) == yc_test          # (candidates, test samples)


def leaderboard(public_size, seed=0):
    """Score every candidate on a random public part of the test set and on the rest."""
    public = np.random.default_rng(seed).choice(len(yc_test), public_size, replace=False)
    private = np.setdiff1d(np.arange(len(yc_test)), public)
    return pd.DataFrame({"cv": cv_scores, "public": correct[:, public].mean(axis=1),
                         "private": correct[:, private].mean(axis=1)})


lb = leaderboard(min(150, len(yc_test) // 4))
by_public, by_cv = lb.loc[lb["public"].idxmax()], lb.loc[lb["cv"].idxmax()]

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for ax, col, pick in [(axes[0], "public", by_public), (axes[1], "cv", by_cv)]:
    ax.scatter(lb[col], lb["private"], s=14, alpha=0.7)
    ax.scatter(pick[col], pick["private"], s=120, facecolors="none", edgecolors="#d62728", linewidth=2, label="chosen")
    r = np.corrcoef(lb[col], lb["private"])[0, 1]
    ax.set_xlabel(f"{col} score"); ax.set_title(f"{col} vs private (r = {r:.2f})"); ax.legend()
axes[0].set_ylabel("private score")
plt.show()
print(f"chosen by public LB: public {by_public['public']:.3f} → private {by_public['private']:.3f}")
print(f"chosen by CV:        cv     {by_cv['cv']:.3f} → private {by_cv['private']:.3f}")

# %% [markdown]
# The model with the best public score looks better than it is: its private score drops noticeably (a "shake-up" on the final leaderboard). The CV score is computed on more data and changes much less from estimate to private score, and it tracks the private score more closely (the right panel's points lie closer to a line). The rule competition winners follow: **choose by a CV you trust; use the public leaderboard only as a sanity check.** In the full run the leaderboard winner's public score overstates its private score by more than the CV winner's CV score does.

# %%
if not smoke:
    optimism_public = by_public["public"] - by_public["private"]
    optimism_cv = by_cv["cv"] - by_cv["private"]
    assert optimism_public > optimism_cv, (optimism_public, optimism_cv)

# %% [markdown]
# ## Summary
#
# - Use (stratified) k-fold CV for every choice; keep the test set for one final report.
# - Grid search is thorough, random search covers more values per fit; both choose by CV and refit on all training data.
# - Learning curves tell you whether to get more data or a better model.
# - Compare models on the same folds, look at paired differences, and use a corrected test.
# - Ensemble weights come from out-of-fold predictions.
# - The public leaderboard is a small, noisy validation set; selecting on it overfits it.
#
# ## Exercises
#
# 1. Tune a `RandomForestClassifier` on the digits (`max_features` ∈ {sqrt, 0.3, 0.6}, `min_samples_leaf` ∈ {1, 3, 10}) with grid search. Does it beat the tuned SVM on the test set?
# 2. In the leaderboard simulation, change the public set to 50 and to 400 samples. How does the gap between public and private score of the public winner change? Why?
# 3. Compute the corrected t-test for the tuned SVM against logistic regression on the digits.

# %% [markdown]
# ## Solutions

# %%
# 1.
rf_grid = GridSearchCV(RandomForestClassifier(n_estimators=100 if not smoke else 20, random_state=0, n_jobs=1),
                       {"max_features": ["sqrt", 0.3, 0.6], "min_samples_leaf": [1, 3, 10]} if not smoke
                       else {"max_features": ["sqrt"], "min_samples_leaf": [1, 3]},
                       cv=folds, n_jobs=1).fit(X_train, y_train)
print(f"forest: {rf_grid.best_params_}, test {rf_grid.best_estimator_.score(X_test, y_test):.3f} "
      f"(SVM {test_acc:.3f})")

# %%
# 2. A smaller public set gives noisier public scores, so the best of many is luckier: a bigger gap.
for size in [n for n in (50, 150, 400) if n < len(yc_test) - 50]:
    gaps = []
    for seed in range(50):   # average over many random public/private splits
        board = leaderboard(size, seed)
        winner = board.loc[board["public"].idxmax()]
        gaps.append(winner["public"] - winner["private"])
    print(f"public set of {size:3d}: the public winner's public − private score = {np.mean(gaps):+.3f} on average")

# %%
# 3.
svm_scores = cross_val_score(grid.best_estimator_, digits.X, digits.y, cv=rcv)
lr_scores = cross_val_score(model, digits.X, digits.y, cv=rcv)
n_te = len(digits.y) // cv_folds
t, p = corrected_ttest(svm_scores - lr_scores, len(digits.y) - n_te, n_te)
print(f"SVM − logistic: {np.mean(svm_scores - lr_scores):+.4f}, corrected p = {p:.2g}")
