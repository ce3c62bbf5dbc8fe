# ---
# jupyter:
#   coursebench:
#     summary: "Linear regression by the normal equation and by gradient descent from scratch, scikit-learn, polynomial features, Ridge/Lasso, RMSE/MAE/R²."
# ---

# %% [markdown]
# # 03 · Regression
# Linear regression built from scratch twice — by the normal equation and by gradient descent — then with scikit-learn, extended with polynomial features and tamed with Ridge and Lasso.
#
# **What you will learn**
#
# - what linear regression (선형 회귀) fits, and the cost function (비용 함수) it minimises: mean squared error;
# - solving it exactly with the normal equation (정규 방정식), and iteratively with gradient descent (경사 하강법), including the learning rate (학습률);
# - the metrics RMSE, MAE and R² (결정 계수) and what each tells you;
# - polynomial features (다항 특성) for curved relationships, and regularisation (규제) with Ridge and Lasso.

# %%
from coursebench.notebook import setup
from coursebench import datasets

info = setup()
info

# %% tags=["parameters"]
smoke = False
n_samples = 200          # points in the synthetic line
n_epochs = 1000          # gradient-descent steps
learning_rates = [0.01, 0.1, 0.4]

# %%
if smoke:
    n_epochs = 200

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Lasso, LinearRegression, Ridge
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

# %% [markdown]
# ## 1. The model and its cost
#
# Linear regression predicts a number as a weighted sum of the features plus an intercept:
#
# $$\hat y = \theta_0 + \theta_1 x_1 + \dots + \theta_n x_n = \mathbf{x}^\top\boldsymbol\theta \quad(\text{with } x_0 = 1)$$
#
# "Fitting" means choosing $\boldsymbol\theta$ to make the **mean squared error (평균 제곱 오차, MSE)** on the training data as small as possible:
#
# $$\text{MSE}(\boldsymbol\theta) = \frac1m \sum_{i=1}^m (\mathbf{x}_i^\top\boldsymbol\theta - y_i)^2$$
#
# We start with synthetic data where we *know* the answer: $y = 4 + 3x + \text{noise}$.

# %%
line = datasets.load("linear", n_samples=n_samples, seed=0)
print(line.message, "|", line.description)
X, y = line.X, line.y
fig, ax = plt.subplots()
ax.scatter(X[:, 0], y, s=12)
ax.set_xlabel("x"); ax.set_ylabel("y"); ax.set_title("y = 4 + 3x + noise")
plt.show()


# %% [markdown]
# ## 2. The normal equation (정규 방정식)
#
# Setting the gradient of the MSE to zero gives a closed-form solution:
#
# $$\hat{\boldsymbol\theta} = (\mathbf{X}^\top\mathbf{X})^{-1}\mathbf{X}^\top\mathbf{y}$$
#
# where $\mathbf{X}$ has a column of ones for the intercept. In code we solve the linear system rather than invert the matrix — it is faster and numerically safer.

# %%
def add_bias(X):
    return np.c_[np.ones(len(X)), X]


Xb = add_bias(X)
theta_normal = np.linalg.solve(Xb.T @ Xb, Xb.T @ y)
print("normal equation: intercept %.3f, slope %.3f" % tuple(theta_normal))


# %% [markdown]
# Close to the true 4 and 3; the difference is the noise. Solving the normal equation costs about $O(n^3)$ in the number of features — fine for 10 features, hopeless for a million. That is one reason for the next method.
#
# ## 3. Gradient descent (경사 하강법)
#
# Start with any $\boldsymbol\theta$, compute the **gradient (기울기)** of the cost — the direction in which it grows fastest — and take a small step the other way. Repeat.
#
# $$\nabla_{\boldsymbol\theta}\text{MSE} = \frac2m\mathbf{X}^\top(\mathbf{X}\boldsymbol\theta - \mathbf{y}), \qquad \boldsymbol\theta \leftarrow \boldsymbol\theta - \eta\,\nabla_{\boldsymbol\theta}\text{MSE}$$
#
# The step size $\eta$ is the **learning rate (학습률)**.

# %%
def gradient_descent(X, y, lr, n_epochs, theta0=None):
    """Batch gradient descent for linear regression; returns theta and the cost per epoch."""
    Xb = add_bias(X)
    m = len(y)
    theta = np.zeros(Xb.shape[1]) if theta0 is None else np.array(theta0, dtype=float)
    history = []
    for _ in range(n_epochs):
        error = Xb @ theta - y
        history.append(np.mean(error**2))
        gradient = 2 / m * Xb.T @ error
        theta = theta - lr * gradient
    return theta, np.array(history)


runs = {lr: gradient_descent(X, y, lr, n_epochs) for lr in learning_rates}
for lr, (theta, hist) in runs.items():
    print(f"lr={lr:<5}: intercept {theta[0]:.3f}, slope {theta[1]:.3f}, final MSE {hist[-1]:.4f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for lr, (theta, hist) in runs.items():
    axes[0].plot(hist, label=f"η = {lr}")
axes[0].set_yscale("log"); axes[0].set_xlabel("epoch"); axes[0].set_ylabel("training MSE")
axes[0].set_title("Learning curves for three learning rates"); axes[0].legend()

# the path of theta over the cost surface, for the middle learning rate
t0, t1 = np.meshgrid(np.linspace(-1, 8, 120), np.linspace(-1, 7, 120))
cost = ((Xb @ np.stack([t0.ravel(), t1.ravel()]) - y[:, None]) ** 2).mean(axis=0).reshape(t0.shape)
axes[1].contour(t0, t1, cost, levels=np.logspace(0, 2.5, 15), cmap="viridis")
path = [np.zeros(2)]
for _ in range(60):
    path.append(path[-1] - learning_rates[1] * 2 / len(y) * Xb.T @ (Xb @ path[-1] - y))
path = np.array(path)
axes[1].plot(path[:, 0], path[:, 1], "o-", ms=3, color="#d62728", label=f"η = {learning_rates[1]}, 60 steps")
axes[1].plot(*theta_normal, "k*", ms=14, label="normal equation")
axes[1].set_xlabel("θ₀ (intercept)"); axes[1].set_ylabel("θ₁ (slope)"); axes[1].legend()
axes[1].set_title("Gradient descent on the cost surface")
plt.show()

# %% [markdown]
# - Too small a learning rate: the cost falls slowly — after 1,000 steps η = 0.01 is still not at the bottom.
# - A good one: fast convergence to the same answer as the normal equation.
# - Too large (try η = 1.1 in the exercises): each step overshoots and the cost *grows* — divergence (발산).
#
# The path on the right bends because the cost surface is a long, narrow valley: the slope and the intercept are correlated. Scaling features (section 5) makes the valley rounder and gradient descent faster.
#
# Gradient descent is how *every* neural network in this course is trained (lectures 08–11), usually in the *stochastic* / *mini-batch* form that uses a few examples per step.
#
# ## 4. scikit-learn, and how to measure a regression
#
# In practice you call `LinearRegression`. It gives the same answer as our two implementations:

# %%
sk = LinearRegression().fit(X, y)
theta_gd = runs[learning_rates[-1]][0]
print("scikit-learn:    intercept %.4f, slope %.4f" % (sk.intercept_, sk.coef_[0]))
print("normal equation: intercept %.4f, slope %.4f" % tuple(theta_normal))
print("gradient descent (η=%s): intercept %.4f, slope %.4f" % (learning_rates[-1], *theta_gd))
assert np.allclose(theta_normal, [sk.intercept_, sk.coef_[0]], atol=1e-6)
if not smoke:
    assert np.allclose(theta_gd, theta_normal, atol=1e-3)
    assert abs(theta_normal[0] - 4) < 0.5 and abs(theta_normal[1] - 3) < 0.5

# %% [markdown]
# Three metrics (평가 지표) describe how good a regression is on data it did not see:
#
# | metric | formula | reads as |
# |---|---|---|
# | **RMSE** (root mean squared error) | $\sqrt{\frac1m\sum(\hat y - y)^2}$ | typical error, in the units of $y$; punishes big misses |
# | **MAE** (mean absolute error) | $\frac1m\sum\lvert\hat y - y\rvert$ | typical error, in units of $y$; robust to outliers |
# | **R²** (결정 계수) | $1 - \frac{\sum(\hat y - y)^2}{\sum(\bar y - y)^2}$ | share of the variance explained: 1 perfect, 0 = predicting the mean |
#
# A real data set: 442 diabetes patients, 10 baseline measurements, and disease progression one year later.

# %%
diabetes = datasets.load("diabetes")
print(diabetes.message)
D_train, D_test, d_train, d_test = diabetes.split(test_size=0.25, seed=0)


def report(name, model):
    pred = model.predict(D_test)
    return {
        "model": name,
        "RMSE": mean_squared_error(d_test, pred) ** 0.5,
        "MAE": mean_absolute_error(d_test, pred),
        "R2": r2_score(d_test, pred),
    }


class MeanModel:
    def fit(self, X, y):
        self.mean_ = y.mean()
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


import pandas as pd

results = pd.DataFrame([
    report("predict the mean (baseline)", MeanModel().fit(D_train, d_train)),
    report("linear regression", LinearRegression().fit(D_train, d_train)),
]).set_index("model")
results

# %% [markdown]
# Linear regression explains roughly 35–50% of the variance (R² ≈ 0.4 on this split), and its typical error is about 20% smaller than always predicting the average. Medicine is hard; that is an honest result.

# %%
if not smoke:
    r2_diabetes = results.loc["linear regression", "R2"]
    rmse_gain = 1 - results.loc["linear regression", "RMSE"] / results.loc["predict the mean (baseline)", "RMSE"]
    assert 0.30 <= r2_diabetes <= 0.50 and 0.15 <= rmse_gain <= 0.25, (r2_diabetes, rmse_gain)

# %% [markdown]
#
# ## 5. Polynomial features (다항 특성)
#
# A straight line cannot follow a curve. But linear regression is linear in its *parameters*, not necessarily in $x$: add $x^2, x^3, \dots$ as new features and the same algorithm fits curves.

# %%
rng = np.random.default_rng(1)
xq = rng.uniform(-3, 3, size=(n_samples, 1))
yq = 0.5 * xq[:, 0] ** 2 + xq[:, 0] + 2 + rng.normal(0, 1, n_samples)
xs = np.linspace(-3, 3, 200)[:, None]

straight = LinearRegression().fit(xq, yq)
quadratic = make_pipeline(PolynomialFeatures(degree=2, include_bias=False), LinearRegression()).fit(xq, yq)
r2_lin, r2_quad = straight.score(xq, yq), quadratic.score(xq, yq)

fig, ax = plt.subplots()
ax.scatter(xq, yq, s=10, alpha=0.6)
ax.plot(xs, straight.predict(xs), label=f"degree 1, R² = {r2_lin:.2f}")
ax.plot(xs, quadratic.predict(xs), label=f"degree 2, R² = {r2_quad:.2f}")
ax.set_title("y = 0.5x² + x + 2 + noise"); ax.legend()
plt.show()
print("learned coefficients (x, x²):", quadratic[-1].coef_.round(3), " intercept:", round(quadratic[-1].intercept_, 3))

# %% [markdown]
# With the $x^2$ feature the model recovers the true coefficients (1 and 0.5) and R² jumps from about 0.55 to about 0.85 — the rest is noise. Lecture 02 showed the danger on the other side: too many polynomial terms overfit.

# %%
if not smoke:
    assert r2_quad > r2_lin + 0.2, (r2_lin, r2_quad)
    assert 0.45 <= r2_lin <= 0.65 and r2_quad >= 0.80, (r2_lin, r2_quad)
    assert np.allclose(quadratic[-1].coef_, [1, 0.5], atol=0.1)   # the true coefficients, recovered

# %% [markdown]
# ## 6. Regularisation (규제): Ridge and Lasso
#
# Regularisation adds a penalty on large coefficients to the cost, so the model prefers simpler explanations:
#
# - **Ridge** (L2 규제): cost + $\alpha\sum\theta_j^2$ — shrinks all coefficients smoothly toward zero;
# - **Lasso** (L1 규제): cost + $\alpha\sum|\theta_j|$ — drives some coefficients *exactly* to zero: it selects features.
#
# The strength $\alpha$ is a hyperparameter. Features must be on the same scale, or the penalty hits them unequally — hence the `StandardScaler` in the pipeline. We watch the diabetes coefficients as $\alpha$ grows:

# %%
alphas = np.logspace(-2, 3, 30)
paths = {}
for name, cls in [("Ridge", Ridge), ("Lasso", Lasso)]:
    scale_alpha = 1.0 if name == "Ridge" else 0.05   # Lasso's penalty bites at smaller α
    paths[name] = np.array([
        make_pipeline(StandardScaler(), cls(alpha=a * scale_alpha, max_iter=10_000)).fit(D_train, d_train)[-1].coef_
        for a in alphas
    ])

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for ax, (name, coefs) in zip(axes, paths.items()):
    ax.plot(alphas * (1.0 if name == "Ridge" else 0.05), coefs)
    ax.set_xscale("log"); ax.set_xlabel("α"); ax.set_title(f"{name}: coefficients as α grows")
axes[0].set_ylabel("coefficient (standardised features)")
axes[1].legend(diabetes.feature_names, fontsize=7, ncol=2)
plt.show()

# %% [markdown]
# Ridge shrinks everything gradually; Lasso switches features off one after another until only the strongest (bmi, s5, bp) remain. Which $\alpha$ is best? The one with the best score on held-out data — choosing it properly is lecture 06's job; here we compare a few on the test split just to see the effect.

# %%
rows = [report("linear regression", make_pipeline(StandardScaler(), LinearRegression()).fit(D_train, d_train))]
for alpha in [1.0, 10.0]:
    rows.append(report(f"Ridge α={alpha}", make_pipeline(StandardScaler(), Ridge(alpha=alpha)).fit(D_train, d_train)))
lasso = make_pipeline(StandardScaler(), Lasso(alpha=1.0, max_iter=10_000)).fit(D_train, d_train)
rows.append(report("Lasso α=1", lasso))
comparison = pd.DataFrame(rows).set_index("model")
n_zero = int(np.sum(lasso[-1].coef_ == 0))
print(f"Lasso α=1 uses {10 - n_zero} of 10 features")
comparison

# %% [markdown]
# On this data set the regularised models score about the same as plain linear regression — there are 331 training patients for 10 features, so there is little overfitting to cure — while Lasso reaches that score with fewer features, which is easier to explain to a doctor. Regularisation pays off when features are many compared with samples (try the exercises).

# %%
if not smoke:
    assert comparison["R2"].max() > 0.3
    assert n_zero >= 1

# %% [markdown]
# ## Summary
#
# - Linear regression minimises the MSE; the normal equation solves it exactly, gradient descent iteratively.
# - The learning rate decides whether gradient descent crawls, converges or diverges.
# - Report RMSE / MAE in the units of the target and R² as the share of variance explained, against a baseline.
# - Polynomial features let a linear model fit curves; Ridge and Lasso penalise large coefficients, and Lasso selects features.
#
# ## Exercises
#
# 1. Run `gradient_descent` with η = 1.1 on the line data. Plot the cost for 20 epochs. What happens, and why?
# 2. Implement **stochastic gradient descent**: each step uses a random mini-batch of 16 points. Compare its learning curve with batch gradient descent at η = 0.1.
# 3. Fit a degree-10 polynomial to only 15 points of the quadratic data, with and without Ridge (α = 1, features standardised). Compare the test R² on the other points.

# %% [markdown]
# ## Solutions

# %%
# 1. Divergence: each step overshoots the minimum by more than it started from.
_, diverging = gradient_descent(X, y, lr=1.1, n_epochs=20)
fig, ax = plt.subplots()
ax.plot(diverging, marker="o"); ax.set_yscale("log"); ax.set_title("η = 1.1 diverges"); ax.set_xlabel("epoch")
plt.show()
print("cost after 20 epochs:", f"{diverging[-1]:.3g}")


# %%
# 2. Mini-batch stochastic gradient descent.
def sgd(X, y, lr, n_epochs, batch=16, seed=0):
    rng = np.random.default_rng(seed)
    Xb, theta, history = add_bias(X), np.zeros(X.shape[1] + 1), []
    for _ in range(n_epochs):
        idx = rng.choice(len(y), batch, replace=False)
        theta = theta - lr * 2 / batch * Xb[idx].T @ (Xb[idx] @ theta - y[idx])
        history.append(np.mean((Xb @ theta - y) ** 2))
    return theta, np.array(history)


theta_sgd, hist_sgd = sgd(X, y, 0.1, n_epochs)
fig, ax = plt.subplots()
ax.plot(runs[0.1][1], label="batch GD"); ax.plot(hist_sgd, label="mini-batch SGD", alpha=0.8)
ax.set_yscale("log"); ax.legend(); ax.set_xlabel("step"); ax.set_ylabel("training MSE")
plt.show()
print("SGD theta:", theta_sgd.round(3))  # noisy, but each step is 12× cheaper

# %%
# 3. Few points, many features: regularisation helps.
few, rest = slice(0, 15), slice(15, None)
for name, reg in [("no penalty", LinearRegression()), ("Ridge α=1", Ridge(alpha=1.0))]:
    m = make_pipeline(PolynomialFeatures(10, include_bias=False), StandardScaler(), reg).fit(xq[few], yq[few])
    print(f"{name:10s}: test R² = {m.score(xq[rest], yq[rest]):.2f}")
