# ---
# jupyter:
#   coursebench:
#     summary: "k-means with the elbow and silhouette, KNN classification, and why feature scaling matters."
# ---

# %% [markdown]
# # 04 · Clustering and KNN
# Two algorithms built on one idea — distance — for two kinds of learning: k-means finds groups without labels, k-nearest neighbours classifies by looking at labelled neighbours; both show why feature scaling matters.
#
# **What you will learn**
#
# - k-means clustering (k-평균 군집화), written from scratch and with scikit-learn;
# - choosing the number of clusters with the elbow method (엘보 방법) and the silhouette score (실루엣 점수);
# - k-nearest neighbours classification (k-최근접 이웃, KNN) and how k trades overfitting against underfitting;
# - why distance-based models need feature scaling (특성 스케일링), with a measured before/after.

# %%
from coursebench.notebook import setup
from coursebench import datasets

info = setup()
info

# %% tags=["parameters"]
smoke = False
n_points = 600             # points in the synthetic clustering data
k_range = list(range(2, 11))
knn_ks = list(range(1, 61, 2))

# %%
if smoke:
    n_points = 200
    knn_ks = [1, 5, 15, 31]

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

# %% [markdown]
# ## 1. k-means clustering (k-평균 군집화)
#
# **Clustering (군집화)** groups similar points without labels. k-means describes each of $k$ groups by its centre, the **centroid (중심점)**, and repeats two steps until nothing changes:
#
# 1. *assign* every point to its nearest centroid;
# 2. *move* every centroid to the mean of the points assigned to it.
#
# Each round can only lower the **inertia (관성)** — the sum of squared distances from points to their centroids — so the algorithm always stops, though possibly in a poor local minimum; that is why we run it from several random starts (`n_init`).

# %%
blobs = datasets.load("blobs", n_samples=n_points, seed=3, centers=4, cluster_std=1.2)
print(blobs.message)
X = blobs.X


def kmeans(X, k, n_iter=100, seed=0):
    rng = np.random.default_rng(seed)
    centroids = X[rng.choice(len(X), k, replace=False)]
    history = [centroids]
    for _ in range(n_iter):
        distances = np.linalg.norm(X[:, None, :] - centroids[None, :, :], axis=2)   # (n, k)
        labels = distances.argmin(axis=1)
        new = np.array([X[labels == j].mean(axis=0) if np.any(labels == j) else centroids[j] for j in range(k)])
        history.append(new)
        if np.allclose(new, centroids):
            break
        centroids = new
    inertia = ((X - centroids[labels]) ** 2).sum()
    return labels, centroids, inertia, history


labels, centroids, inertia, history = kmeans(X, 4)
print(f"converged after {len(history) - 1} rounds; inertia {inertia:.1f}")

fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharex=True, sharey=True)
for ax, step in zip(axes, [0, 1, len(history) - 1]):
    c = history[step]
    assign = np.linalg.norm(X[:, None] - c[None], axis=2).argmin(axis=1)
    ax.scatter(X[:, 0], X[:, 1], c=assign, s=8, cmap="tab10", alpha=0.6)
    ax.scatter(c[:, 0], c[:, 1], c="k", marker="X", s=120)
    ax.set_title(f"round {step}")
plt.show()

# %% [markdown]
# scikit-learn's `KMeans` does the same, with a smarter start (k-means++) and several restarts:

# %%
sk = KMeans(n_clusters=4, n_init=10, random_state=0).fit(X)
print(f"scikit-learn inertia {sk.inertia_:.1f}  (ours {inertia:.1f})")

# %% [markdown]
# ## 2. How many clusters?
#
# k-means needs $k$. Two common guides:
#
# - **elbow method (엘보 방법)**: inertia always falls as $k$ grows; look for the "elbow" where adding a cluster stops helping much;
# - **silhouette score (실루엣 점수)**: for each point, compare the mean distance to its own cluster ($a$) with that to the nearest other cluster ($b$): $s = (b - a)/\max(a, b)$, between −1 and 1. The mean over all points is highest when clusters are compact and well separated.

# %%
inertias, silhouettes = [], []
for k in k_range:
    km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(X)
    inertias.append(km.inertia_)
    silhouettes.append(silhouette_score(X, km.labels_))
best_k = k_range[int(np.argmax(silhouettes))]

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
axes[0].plot(k_range, inertias, marker="o"); axes[0].set_title("elbow: inertia vs k")
axes[1].plot(k_range, silhouettes, marker="o", color="#ff7f0e"); axes[1].set_title("silhouette score vs k")
for ax in axes:
    ax.axvline(best_k, color="gray", ls=":"); ax.set_xlabel("k")
plt.show()
print("best k by silhouette:", best_k)

# %% [markdown]
# The data was generated with 4 clusters, and both views agree: the elbow is at $k = 4$ and the silhouette score is highest there.

# %%
if not smoke:
    assert best_k == 4, best_k

# %% [markdown]
# k-means assumes round, similar-sized clusters. On two interleaved half-moons it cuts straight across them — a reminder that every algorithm has a shape it "sees". (Density-based methods such as DBSCAN handle such shapes.)

# %%
moons = datasets.load("moons", n_samples=400, seed=0, noise=0.08)
moon_clusters = KMeans(n_clusters=2, n_init=10, random_state=0).fit_predict(moons.X)
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.scatter(moons.X[:, 0], moons.X[:, 1], c=moon_clusters, s=10, cmap="coolwarm")
ax.set_title("k-means with k=2 on two moons")
plt.show()

# %% [markdown]
# ## 3. k-nearest neighbours (k-최근접 이웃, KNN)
#
# KNN is the simplest supervised model: to classify a new point, find the $k$ closest training points and take a majority vote. "Training" only stores the data. The single hyperparameter $k$ controls the flexibility:
#
# - $k = 1$: the boundary follows every training point, noise included — overfitting;
# - large $k$: the vote averages over a wide area, the boundary becomes too smooth — underfitting.

# %%
moons = datasets.load("moons", n_samples=n_points, seed=1, noise=0.3)
M_train, M_test, m_train, m_test = moons.split(test_size=0.3, seed=0)
xx, yy = np.meshgrid(np.linspace(-2, 3, 250), np.linspace(-1.5, 2, 200))
grid = np.c_[xx.ravel(), yy.ravel()]

fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), sharey=True)
for ax, k in zip(axes, [1, 15, min(150, len(M_train) // 2)]):
    knn = KNeighborsClassifier(n_neighbors=k).fit(M_train, m_train)
    ax.contourf(xx, yy, knn.predict_proba(grid)[:, 1].reshape(xx.shape), levels=20, cmap="coolwarm", alpha=0.5)
    ax.scatter(M_train[:, 0], M_train[:, 1], c=m_train, cmap="coolwarm", s=8, edgecolor="k", linewidth=0.2)
    ax.set_title(f"k={k}: train {knn.score(M_train, m_train):.2f}, test {knn.score(M_test, m_test):.2f}")
plt.show()

# %% [markdown]
# Choosing $k$: the training accuracy is 1.0 at $k=1$ (each point is its own nearest neighbour) and tells us nothing. Cross-validated accuracy (lecture 06 explains `cross_val_score`) peaks at a moderate $k$.

# %%
train_acc, cv_acc = [], []
for k in knn_ks:
    knn = KNeighborsClassifier(n_neighbors=k)
    train_acc.append(knn.fit(M_train, m_train).score(M_train, m_train))
    cv_acc.append(cross_val_score(knn, M_train, m_train, cv=5).mean())
best_knn_k = knn_ks[int(np.argmax(cv_acc))]

fig, ax = plt.subplots()
ax.plot(knn_ks, train_acc, marker=".", label="training accuracy")
ax.plot(knn_ks, cv_acc, marker=".", label="cross-validated accuracy")
ax.axvline(best_knn_k, color="gray", ls=":", label=f"best k = {best_knn_k}")
ax.set_xlabel("k (small k = more flexible)"); ax.set_ylabel("accuracy"); ax.legend()
ax.set_title("KNN: choosing k")
plt.show()
final_knn = KNeighborsClassifier(n_neighbors=best_knn_k).fit(M_train, m_train)
print(f"best k = {best_knn_k}; test accuracy {final_knn.score(M_test, m_test):.3f}")

# %% [markdown]
# ## 4. Why scaling matters (특성 스케일링)
#
# KNN and k-means measure Euclidean distance, so a feature measured in large numbers dominates one measured in small numbers — regardless of which one matters. In the wine data, *proline* ranges from about 300 to 1,700 while *hue* ranges from 0.5 to 1.7:

# %%
wine = datasets.load("wine")
spread = dict(zip(wine.feature_names, wine.X.std(axis=0)))
for name in ["proline", "magnesium", "alcohol", "hue"]:
    print(f"{name:12s} std {spread[name]:8.2f}")

W_train, W_test, w_train, w_test = wine.split(test_size=0.3, seed=0)
raw = KNeighborsClassifier(n_neighbors=5).fit(W_train, w_train)
scaled = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=5)).fit(W_train, w_train)
raw_acc, scaled_acc = raw.score(W_test, w_test), scaled.score(W_test, w_test)
print(f"\nKNN without scaling: {raw_acc:.3f}")
print(f"KNN with scaling:    {scaled_acc:.3f}")

# %% [markdown]
# Without scaling, the "nearest" wines are simply those with similar proline; the other 12 measurements barely count. **Standardising (표준화)** every feature to mean 0 and standard deviation 1 lets all of them contribute, and accuracy jumps from about 0.7 to **at least 0.93**. The scaler sits inside the pipeline so it learns its means and standard deviations from the training data only.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
i, j = wine.feature_names.index("proline"), wine.feature_names.index("hue")
axes[0].scatter(wine.X[:, i], wine.X[:, j], c=wine.y, s=12, cmap="viridis")
axes[0].set_title("raw units: distance ≈ proline difference"); axes[0].set_xlabel("proline"); axes[0].set_ylabel("hue")
Z = StandardScaler().fit_transform(wine.X)
axes[1].scatter(Z[:, i], Z[:, j], c=wine.y, s=12, cmap="viridis")
axes[1].set_title("standardised: both count"); axes[1].set_xlabel("proline (z)"); axes[1].set_ylabel("hue (z)")
axes[0].set_aspect("auto")
plt.show()

# %%
if not smoke:
    assert scaled_acc >= 0.93 and scaled_acc - raw_acc >= 0.1, (raw_acc, scaled_acc)
    assert 0.65 <= raw_acc <= 0.78, raw_acc   # "from about 0.7"

# %% [markdown]
# ## Summary
#
# - k-means alternates assigning points to the nearest centroid and moving centroids to the mean; restart it several times.
# - Choose $k$ with the elbow and the silhouette score, and look at the clusters — k-means sees round blobs.
# - KNN votes among the $k$ nearest training points; small $k$ overfits, large $k$ underfits; choose $k$ by cross-validation.
# - Distance-based models need scaled features; put the scaler in a pipeline.
#
# ## Exercises
#
# 1. Cluster the *standardised* wine data with k-means for k = 2…8. Which k has the best silhouette score? Compare the clusters for k = 3 with the cultivars (adjusted Rand index).
# 2. Add a *distance-weighted* vote to KNN (`weights="distance"`). Does it change the best k on the moons data?
# 3. Our `kmeans` uses a random start. Run it with 10 different seeds on `X` and plot the inertia each one reaches. Why does `KMeans(n_init=10)` exist?

# %% [markdown]
# ## Solutions

# %%
# 1.
from sklearn.metrics import adjusted_rand_score

Zw = StandardScaler().fit_transform(wine.X)
sil = {k: silhouette_score(Zw, KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(Zw)) for k in range(2, 9)}
print({k: round(s, 3) for k, s in sil.items()}, "→ best", max(sil, key=sil.get))
k3 = KMeans(n_clusters=3, n_init=10, random_state=0).fit_predict(Zw)
print(f"ARI(k=3 clusters, cultivars) = {adjusted_rand_score(wine.y, k3):.2f}")

# %%
# 2.
weighted = [cross_val_score(KNeighborsClassifier(n_neighbors=k, weights="distance"), M_train, m_train, cv=5).mean() for k in knn_ks]
print("best k, uniform vote:", best_knn_k, " distance-weighted:", knn_ks[int(np.argmax(weighted))])

# %%
# 3.
inertia_by_seed = [kmeans(X, 4, seed=s)[2] for s in range(10)]
fig, ax = plt.subplots()
ax.bar(range(10), inertia_by_seed); ax.set_xlabel("seed"); ax.set_ylabel("final inertia")
ax.set_title("k-means from different random starts")
plt.show()
# Some starts put two centroids in one blob and end in a worse local minimum; running
# several starts and keeping the lowest inertia (n_init) protects against that.
