# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Lab 03 — Linear regression from scratch (선형 회귀)
#
# Follows lecture **03 — Regression**. About 60 minutes.
#
# **In this lab you will**
#
# - solve linear regression exactly with the normal equation (정규 방정식)
# - solve it again with gradient descent (경사 하강법) and watch the cost (비용 함수) fall
# - implement RMSE, MAE and R² (평가 지표) and check them against scikit-learn
# - fit polynomial features (다항 특성) with Ridge regularisation (규제) in a scikit-learn pipeline
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
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

rng = np.random.default_rng(42)
x = rng.uniform(-3, 3, size=(200, 1))
y = 4.0 + 3.0 * x[:, 0] + rng.normal(scale=1.0, size=200)   # the truth: intercept 4, slope 3, noise
print(x.shape, y.shape)


# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 1 — the normal equation (2 points)
#
# Linear regression (선형 회귀) predicts $\hat y = X\theta$. With a column of ones in front of
# the features, the first entry of $\theta$ is the intercept. The $\theta$ that minimises the
# mean squared error (평균 제곱 오차) solves the **normal equation** $X^\top X\,\theta = X^\top y$.
#
# 1. `add_bias(X)`: return `X` with a column of ones added **in front** (shape `(n, d + 1)`).
# 2. `normal_equation(X, y)`: return $\theta$ (shape `(d + 1,)`, intercept first) for the
#    features `X` *without* the bias column — add it inside.
#    Use `np.linalg.solve` (more accurate than computing an inverse).
#
# Done when the fit on the data above is close to intercept 4 and slope 3.

# %% nbgrader={"grade": false, "grade_id": "normal_eq", "locked": false, "schema_version": 3, "solution": true, "task": false}
def add_bias(X):
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=float)
    return np.hstack([np.ones((X.shape[0], 1)), X])
    ### END SOLUTION


def normal_equation(X, y):
    ### BEGIN SOLUTION
    Xb = add_bias(X)
    return np.linalg.solve(Xb.T @ Xb, Xb.T @ y)
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_normal_eq", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
theta = normal_equation(x, y)
print("theta:", theta)
assert theta.shape == (2,), "one intercept + one slope"
assert add_bias(np.zeros((3, 2))).shape == (3, 3)
### BEGIN HIDDEN TESTS
assert abs(theta[0] - 4) < 0.3 and abs(theta[1] - 3) < 0.2, "intercept first, then slope"
assert np.array_equal(add_bias(np.array([[5.0], [6.0]])), [[1.0, 5.0], [1.0, 6.0]])
r = np.random.default_rng(3)
X3 = r.normal(size=(60, 3))
y3 = X3 @ [1.0, -2.0, 0.5] + 7 + r.normal(scale=0.1, size=60)
expected = np.linalg.lstsq(np.c_[np.ones(60), X3], y3, rcond=None)[0]
assert np.allclose(normal_equation(X3, y3), expected, atol=1e-8)
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task2_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 2 — gradient descent (2 points)
#
# The normal equation needs $X^\top X$ to be small and invertible; gradient descent
# (경사 하강법) only needs the gradient. For the cost $J(\theta) = \frac{1}{n}\lVert X\theta - y\rVert^2$
# the gradient is $\nabla J = \frac{2}{n} X^\top (X\theta - y)$.
#
# Write `gradient_descent(X, y, lr, n_iters)`: start from $\theta = 0$ (bias column added
# inside, as before), repeat `n_iters` times: record the current cost, then step
# $\theta \leftarrow \theta - \text{lr}\,\nabla J$. Return `theta, history` where `history` is the
# list of the `n_iters` costs.

# %% nbgrader={"grade": false, "grade_id": "gd", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gradient_descent(X, y, lr, n_iters):
    ### BEGIN SOLUTION
    Xb = add_bias(X)
    n = len(y)
    theta = np.zeros(Xb.shape[1])
    history = []
    for _ in range(n_iters):
        residual = Xb @ theta - y
        history.append(float(residual @ residual / n))
        theta = theta - lr * (2 / n) * (Xb.T @ residual)
    return theta, history
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_gd", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
theta_gd, history = gradient_descent(x, y, lr=0.05, n_iters=500)
print("theta:", theta_gd, " first/last cost:", history[0], history[-1])
assert len(history) == 500
assert history[-1] < history[0], "the cost must go down"
### BEGIN HIDDEN TESTS
assert np.all(np.diff(history) <= 1e-12), "with a small enough learning rate the cost never goes up"
assert np.allclose(theta_gd, normal_equation(x, y), atol=1e-3), "GD converges to the normal-equation solution"
t1, h1 = gradient_descent(x, y, lr=0.01, n_iters=1)
assert np.isclose(h1[0], np.mean(y ** 2)), "the first cost is at theta = 0"
assert np.allclose(t1, 0.01 * 2 * np.array([y.mean(), np.mean(x[:, 0] * y)]))
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task3_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 3 — regression metrics (2 points)
#
# Write the three metrics (평가 지표) of the lecture, for arrays `y_true`, `y_pred`:
#
# - `rmse`: $\sqrt{\frac{1}{n}\sum (y - \hat y)^2}$ — in the units of $y$, punishes large errors;
# - `mae`: $\frac{1}{n}\sum |y - \hat y|$ — in the units of $y$, robust to outliers;
# - `r2`: $1 - \frac{\sum (y - \hat y)^2}{\sum (y - \bar y)^2}$ — 1 is perfect, 0 is "predict the mean".

# %% nbgrader={"grade": false, "grade_id": "metrics", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rmse(y_true, y_pred):
    ### BEGIN SOLUTION
    return float(np.sqrt(np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2)))
    ### END SOLUTION


def mae(y_true, y_pred):
    ### BEGIN SOLUTION
    return float(np.mean(np.abs(np.asarray(y_true) - np.asarray(y_pred))))
    ### END SOLUTION


def r2(y_true, y_pred):
    ### BEGIN SOLUTION
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return float(1 - np.sum((y_true - y_pred) ** 2) / np.sum((y_true - y_true.mean()) ** 2))
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_metrics", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
a, b = np.array([3.0, -0.5, 2.0, 7.0]), np.array([2.5, 0.0, 2.0, 8.0])
assert np.isclose(rmse(a, b), np.sqrt(mean_squared_error(a, b)))
assert np.isclose(mae(a, b), mean_absolute_error(a, b))
assert np.isclose(r2(a, b), r2_score(a, b))
### BEGIN HIDDEN TESTS
r = np.random.default_rng(5)
t, p = r.normal(size=40), r.normal(size=40) + 2.0
assert np.isclose(r2(t, p), r2_score(t, p)), "R² can be negative for a bad model"
assert np.isclose(rmse(t, p), np.sqrt(mean_squared_error(t, p)))
assert np.isclose(mae(t, p), mean_absolute_error(t, p))
assert r2(t, t) == 1.0
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task4_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 4 — polynomial features + Ridge in a pipeline (2 points)
#
# On the diabetes data (당뇨병, 10 features, 442 patients) build
# `make_model(degree, alpha)`: a scikit-learn `Pipeline` of
# `PolynomialFeatures(degree, include_bias=False)` → `StandardScaler()` → `Ridge(alpha=alpha)`,
# *not yet fitted*. The test fits it on the training split below and compares degrees and alphas.

# %% deletable=false editable=false nbgrader={"grade": false, "grade_id": "diabetes", "locked": true, "schema_version": 3, "solution": false, "task": false}
Xd, yd = load_diabetes(return_X_y=True)
Xd_train, Xd_test, yd_train, yd_test = train_test_split(Xd, yd, test_size=0.25, random_state=0)

# %% nbgrader={"grade": false, "grade_id": "pipeline", "locked": false, "schema_version": 3, "solution": true, "task": false}
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler


def make_model(degree, alpha):
    ### BEGIN SOLUTION
    return make_pipeline(PolynomialFeatures(degree, include_bias=False), StandardScaler(), Ridge(alpha=alpha))
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_pipeline", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
scores = {}
for degree, alpha in [(1, 1.0), (3, 0.01), (3, 300.0)]:
    model = make_model(degree, alpha).fit(Xd_train, yd_train)
    scores[(degree, alpha)] = r2(yd_test, model.predict(Xd_test))
print("test R² by (degree, alpha):", {k: round(v, 3) for k, v in scores.items()})
assert scores[(1, 1.0)] > 0.3, "a linear model explains a good part of the variance"
### BEGIN HIDDEN TESTS
assert scores[(3, 0.01)] < scores[(1, 1.0)], "degree 3 with almost no regularisation overfits"
assert scores[(3, 300.0)] > scores[(3, 0.01)] + 0.1, "strong Ridge regularisation rescues degree 3"
m = make_model(2, 5.0)
assert not hasattr(m.steps[-1][1], "coef_"), "return the pipeline unfitted"
m.fit(Xd_train, yd_train)
assert m.steps[-1][1].alpha == 5.0
assert m.steps[-1][1].coef_.shape == (65,), "10 features, degree 2, no bias column: 65 terms"
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "q1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Question (2 points, graded by hand)
#
# Look at the three scores the last test printed. In three or four sentences: why does degree 3
# with `alpha=0.01` do worse on the test set than a plain linear model, and what does a large
# Ridge `alpha` (규제 강도) do to the coefficients that fixes it? Why is the `StandardScaler`
# needed *before* Ridge?

# %% [markdown] nbgrader={"grade": true, "grade_id": "q1_ridge", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# Degree 3 on 10 features gives 285 terms for 331 training patients: with almost no penalty the
# model has enough freedom to fit the noise of the training set (overfitting, 과적합), so its
# test error is large. Ridge adds alpha·‖w‖² to the cost, which shrinks all coefficients towards
# zero; a large alpha keeps only the directions that really reduce the error, trading a little
# bias for much less variance. The penalty treats every coefficient alike, so the features must
# be on the same scale first — otherwise a feature measured in large units needs only a tiny
# coefficient and is hardly penalised, while one in small units is penalised heavily.

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "checklist", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit ✔
#
# 1. Restart the kernel and run all cells: no errors, every visible test passes.
# 2. No `raise NotImplementedError()` left, every "YOUR ANSWER HERE" replaced.
# 3. Nothing slow left behind (a search over a huge grid, thousands of epochs): the grader
#    stops notebooks that run too long, and a stopped notebook scores only the tests that
#    finished.
