# ---
# jupyter:
#   coursebench:
#     summary: "Supervised vs unsupervised; task + data + model + metric; train/validation/test; under- and overfitting."
# ---

# %% [markdown]
# # 02 · Concepts of machine learning
# What "learning from data" means in practice: the kinds of learning, the four parts of every ML problem, honest evaluation, and the balance between under- and overfitting.
#
# **What you will learn**
#
# - supervised learning (지도학습) — classification (분류) and regression (회귀) — and unsupervised learning (비지도학습);
# - the four parts of every problem: **task, data, model, metric** (과제, 데이터, 모델, 평가 지표), and why you always compare with a baseline;
# - why we split data into training, validation and test sets (훈련/검증/테스트 데이터), and what data leakage (데이터 누수) is;
# - underfitting (과소적합) and overfitting (과적합), and how model complexity trades one for the other.

# %%
from coursebench.notebook import setup
from coursebench import datasets

info = setup()
info

# %% tags=["parameters"]
smoke = False
n_points = 60                 # noisy samples of the curve in section 4
max_degree = 15               # largest polynomial degree tried
n_repeats = 30                # random splits averaged in the validation curve

# %%
if smoke:
    n_repeats = 3

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, adjusted_rand_score, mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

# %% [markdown]
# ## 1. Kinds of learning
#
# - **Supervised learning (지도학습)**: every example comes with the right answer — a *label (레이블)* or *target (타깃)*. The model learns to predict it for new examples. If the answer is a category it is **classification (분류)** (malignant or benign? which digit?); if it is a number it is **regression (회귀)** (what price? how much disease progression?).
# - **Unsupervised learning (비지도학습)**: no answers, only data; the model finds structure — groups (**clustering, 군집화**), directions of variation, anomalies.
# - (Reinforcement learning (강화학습), where an agent learns from rewards, is outside this course.)
#
# A supervised classification problem first: 569 breast-tumour samples, 30 measurements of cell nuclei each, labelled malignant or benign.

# %%
cancer = datasets.load("breast_cancer")
print(cancer.message)
print("X:", cancer.X.shape, " y:", np.bincount(cancer.y), cancer.target_names)

# %% [markdown]
# ## 2. Task, data, model, metric
#
# Every ML problem has four parts. Name them before you write code:
#
# | part | here |
# |---|---|
# | **task (과제)** | predict whether a tumour is malignant (classification) |
# | **data (데이터)** | 569 labelled samples, 30 numeric features (특성) |
# | **model (모델)** | logistic regression — a weighted sum of the features passed through a sigmoid |
# | **metric (평가 지표)** | accuracy (정확도) on samples the model has not seen |
#
# and one more thing: a **baseline (기준 모델)**. A model that ignores the features and always predicts the most common class is the least any real model must beat.

# %%
X_train, X_test, y_train, y_test = cancer.split(test_size=0.25, seed=0)

baseline = DummyClassifier(strategy="most_frequent").fit(X_train, y_train)
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_train, y_train)

base_acc = accuracy_score(y_test, baseline.predict(X_test))
model_acc = accuracy_score(y_test, model.predict(X_test))
print(f"baseline (always '{cancer.target_names[baseline.predict(X_test[:1])[0]]}'): {base_acc:.3f}")
print(f"logistic regression:                  {model_acc:.3f}")

# %% [markdown]
# The baseline already gets about 63% "right" just because most tumours in the data are benign — a reminder that a number like "85% accuracy" means nothing until you know what doing nothing scores. The logistic regression reaches **at least 95%** on the held-out quarter of the data.

# %%
if not smoke:
    assert model_acc >= 0.95 and base_acc < 0.70, (model_acc, base_acc)
    assert 0.60 <= base_acc <= 0.66, base_acc   # "about 63%": the share of benign tumours in the test quarter

# %% [markdown]
# ### Unsupervised: the same kind of data without labels
#
# k-means (lecture 04) gets the iris measurements *without* the species and groups them into three clusters. We use the labels only afterwards, to see how well the groups it found match the species. The *adjusted Rand index (ARI)* is 1 for a perfect match and about 0 for random groups.

# %%
iris = datasets.load("iris")
clusters = KMeans(n_clusters=3, n_init=10, random_state=0).fit_predict(iris.X)
ari = adjusted_rand_score(iris.y, clusters)
print(f"ARI between k-means clusters and species: {ari:.2f}")

fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
axes[0].scatter(iris.X[:, 2], iris.X[:, 3], c=iris.y, cmap="viridis", s=15)
axes[0].set_title("the true species (labels)")
axes[1].scatter(iris.X[:, 2], iris.X[:, 3], c=clusters, cmap="plasma", s=15)
axes[1].set_title("clusters k-means found (no labels)")
for ax in axes:
    ax.set_xlabel("petal length (cm)")
axes[0].set_ylabel("petal width (cm)")
plt.show()

# %% [markdown]
# Without ever seeing a label, k-means recovers most of the species structure (ARI about 0.7): setosa perfectly, versicolor and virginica with some mix-up where they overlap.

# %%
if not smoke:
    assert 0.65 <= ari <= 0.80, ari

# %% [markdown]
# ## 3. Training, validation and test data
#
# A model is only useful on data it has **not** seen. So we hold some data back:
#
# - **training set (훈련 데이터)** — the model learns its parameters from it;
# - **validation set (검증 데이터)** — we use it to *choose* between models and settings (hyperparameters, 하이퍼파라미터);
# - **test set (테스트 데이터)** — touched once, at the very end, to report how good the final choice is.
#
# Why three? Every time we pick the best of several models by their score on some data, we fit our *choices* to that data a little. After many choices the validation score is optimistic; the untouched test set stays honest. Lecture 06 replaces the single validation set by cross-validation.

# %%
X_tmp, X_test2, y_tmp, y_test2 = train_test_split(cancer.X, cancer.y, test_size=0.2, random_state=1, stratify=cancer.y)
X_tr, X_val, y_tr, y_val = train_test_split(X_tmp, y_tmp, test_size=0.25, random_state=1, stratify=y_tmp)
print(f"train {len(X_tr)}  validation {len(X_val)}  test {len(X_test2)}  (60/20/20)")

val_scores = {}
for C in [0.001, 0.01, 0.1, 1, 10, 100]:
    m = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000)).fit(X_tr, y_tr)
    val_scores[C] = m.score(X_val, y_val)
best_C = max(val_scores, key=val_scores.get)
final = make_pipeline(StandardScaler(), LogisticRegression(C=best_C, max_iter=2000)).fit(X_tmp, y_tmp)
print("validation accuracy per C:", {c: round(s, 3) for c, s in val_scores.items()})
print(f"chosen C={best_C}; test accuracy of the final model: {final.score(X_test2, y_test2):.3f}")

# %% [markdown]
# ### Data leakage (데이터 누수)
#
# *Anything* learned from data — including the mean and standard deviation a scaler uses, or the median that fills missing values — must be learned from the training data only. If the scaler sees the test set, information about the test set leaks into the model. Putting the scaler *inside* a pipeline (`make_pipeline(StandardScaler(), model)`) makes this automatic: `fit` learns the scaling from the training data, `predict` only applies it.
#
# ## 4. Underfitting and overfitting
#
# A model that is too simple cannot follow the pattern: **underfitting (과소적합)** — high error on training *and* new data. A model that is too flexible follows the noise in the training data as well: **overfitting (과적합)** — tiny training error, large error on new data. We see both by fitting polynomials of growing degree to noisy samples of a curve.

# %%
rng = np.random.default_rng(0)


def sample(n):
    x = np.sort(rng.uniform(0, 1, n))
    return x[:, None], np.sin(2 * np.pi * x) + rng.normal(0, 0.25, n)


def poly(degree):
    return make_pipeline(PolynomialFeatures(degree), StandardScaler(), LinearRegression())


x_train, t_train = sample(n_points)
grid = np.linspace(0, 1, 300)[:, None]

fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), sharey=True)
for ax, degree, verdict in zip(axes, [1, 4, max_degree], ["underfitting", "about right", "overfitting"]):
    m = poly(degree).fit(x_train, t_train)
    ax.scatter(x_train, t_train, s=12, color="k", label="training data")
    ax.plot(grid, np.sin(2 * np.pi * grid), color="#2ca02c", lw=1, label="true curve")
    ax.plot(grid, m.predict(grid), color="#d62728", label=f"degree {degree}")
    ax.set_ylim(-2, 2); ax.set_title(f"degree {degree}: {verdict}"); ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# Now the numbers: for each degree, the error on the training data and on *fresh* validation data, averaged over several random draws.

# %%
degrees = list(range(1, max_degree + 1))
train_err = np.zeros(len(degrees))
val_err = np.zeros(len(degrees))
for _ in range(n_repeats):
    x_a, t_a = sample(n_points)
    x_b, t_b = sample(200)
    for i, degree in enumerate(degrees):
        m = poly(degree).fit(x_a, t_a)
        train_err[i] += mean_squared_error(t_a, m.predict(x_a)) / n_repeats
        val_err[i] += mean_squared_error(t_b, m.predict(x_b)) / n_repeats

best_degree = degrees[int(np.argmin(val_err))]
fig, ax = plt.subplots()
ax.plot(degrees, train_err, marker="o", label="training error")
ax.plot(degrees, val_err, marker="o", label="validation error")
ax.axvline(best_degree, color="gray", ls=":", label=f"best degree = {best_degree}")
ax.axhline(0.25**2, color="k", lw=0.8, ls="--", label="noise level (σ²)")
ax.set_yscale("log"); ax.set_xlabel("polynomial degree (model complexity)"); ax.set_ylabel("mean squared error")
ax.set_title("Training error keeps falling; validation error turns up")
ax.legend()
plt.show()
print(f"best degree by validation error: {best_degree}")

# %% [markdown]
# The picture every ML practitioner carries in their head:
#
# - on the left both errors are high — underfitting: the model is too simple;
# - the training error keeps falling as the model gets more flexible, eventually *below* the noise level — it is memorising noise;
# - the validation error falls, bottoms out around degree 3–8, and rises again — overfitting.
#
# The best model sits where the validation error is lowest, and its error there is close to the noise level σ² — the part no model can predict. In the full run, **the best degree lies between 3 and 9, and the degree-15 model has lower training error but higher validation error than the best one.**

# %%
if not smoke:
    best = degrees.index(best_degree)
    assert 3 <= best_degree <= 9, best_degree
    assert train_err[-1] < train_err[best] and val_err[-1] > val_err[best]

# %% [markdown]
# Cures for overfitting, all coming in later lectures: more data, a simpler model, **regularisation (규제)** (lecture 03), averaging many models (lecture 05), early stopping and dropout (lecture 10).
#
# ## Summary
#
# - Supervised = learn from labelled examples (classification, regression); unsupervised = find structure without labels.
# - Name the task, data, model and metric; always compare with a baseline.
# - Train on the training set, choose on the validation set, report once on the test set; fit every preprocessing step on training data only.
# - Too simple → underfitting; too flexible → overfitting; validation error shows where the balance is.
#
# ## Exercises
#
# 1. For the cancer data, which metric would a doctor care about more than accuracy? Compute the **recall (재현율)** of the malignant class for `model` (hint: `sklearn.metrics.recall_score` with `pos_label=0`, since 0 = malignant here).
# 2. Repeat the polynomial experiment with `n_points = 200`. What happens to the best degree and to the gap between training and validation error? Why?
# 3. Show data leakage in action: standardise the *whole* cancer data set before splitting and compare the test accuracy with the pipeline's. Why is the difference small here, and when would it be large?

# %% [markdown]
# ## Solutions

# %%
# 1. Recall of "malignant": of all malignant tumours, how many did the model catch?
from sklearn.metrics import recall_score

print(f"recall (malignant): {recall_score(y_test, model.predict(X_test), pos_label=0):.3f}")
# A missed cancer (false negative) costs far more than a false alarm, so recall on the
# malignant class matters more than overall accuracy.

# %%
# 2. More data: overfitting needs a more flexible model before it shows.
x_big, t_big = sample(200)
x_val, t_val = sample(400)
big_val = [mean_squared_error(t_val, poly(d).fit(x_big, t_big).predict(x_val)) for d in degrees]
big_train = [mean_squared_error(t_big, poly(d).fit(x_big, t_big).predict(x_big)) for d in degrees]
print("best degree with 200 points:", degrees[int(np.argmin(big_val))])
print("train/validation gap at degree 15:", round(big_val[-1] - big_train[-1], 4))
# With more points the high-degree fit has less freedom to chase noise: the gap shrinks and
# complex models do less harm.

# %%
# 3. Leakage: the scaler saw the test rows.
scaled_all = StandardScaler().fit_transform(cancer.X)
Xa, Xb, ya, yb = train_test_split(scaled_all, cancer.y, test_size=0.25, random_state=0, stratify=cancer.y)
leaky = LogisticRegression(max_iter=1000).fit(Xa, ya).score(Xb, yb)
print(f"leaky: {leaky:.3f}  pipeline: {model_acc:.3f}")
# Means and standard deviations barely change with 25% more rows, so the effect is small
# here; it is large when the "preprocessing" learns a lot from the data — e.g. selecting the
# features most correlated with the label using all rows, or target encoding.
