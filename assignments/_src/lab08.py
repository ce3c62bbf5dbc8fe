# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Lab 08 — Backpropagation from scratch (역전파)
#
# Follows lecture **08 — How networks learn**. About 75 minutes.
#
# **In this lab you will**
#
# - write the cross-entropy loss (교차 엔트로피 손실) of a softmax classifier
# - derive and code the backward pass of a two-layer network with the chain rule (연쇄 법칙)
# - verify it with a numerical gradient check (기울기 검증)
# - train the network with gradient descent (경사 하강법) on the two-moons data
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
from sklearn.datasets import make_moons

X_moons, y_moons = make_moons(n_samples=200, noise=0.2, random_state=0)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def init_params(n_in, n_hidden, n_out, seed):
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(0, 1 / np.sqrt(n_in), size=(n_in, n_hidden)), "b1": np.zeros(n_hidden),
        "W2": rng.normal(0, 1 / np.sqrt(n_hidden), size=(n_hidden, n_out)), "b2": np.zeros(n_out),
    }


# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 1 — cross-entropy (1 point)
#
# Write `cross_entropy(probs, y)`: the mean over the samples of $-\log p_{i, y_i}$, where `probs`
# has shape `(n, n_classes)` and `y` holds integer labels. Use fancy indexing
# `probs[np.arange(n), y]` — no loop.

# %% nbgrader={"grade": false, "grade_id": "ce", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cross_entropy(probs, y):
    ### BEGIN SOLUTION
    n = len(y)
    return float(-np.mean(np.log(probs[np.arange(n), y])))
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_ce", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
p = np.array([[0.5, 0.5], [0.9, 0.1]])
assert np.isclose(cross_entropy(p, np.array([0, 0])), -(np.log(0.5) + np.log(0.9)) / 2)
### BEGIN HIDDEN TESTS
p3 = softmax(np.random.default_rng(2).normal(size=(6, 3)))
y3 = np.array([0, 1, 2, 2, 1, 0])
assert np.isclose(cross_entropy(p3, y3), -np.mean(np.log(p3[np.arange(6), y3])))
assert np.isclose(cross_entropy(np.eye(3), np.arange(3)), 0.0)
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task2_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 2 — a numerical gradient (1 point)
#
# Write `numerical_gradient(f, param, eps=1e-5)`: `f()` takes no arguments and returns the loss
# computed with the *current* contents of the array `param`. For every entry of `param`, nudge it by
# `+eps` and `-eps` **in place**, evaluate `f`, and use the central difference
# $\frac{f(\theta + \epsilon) - f(\theta - \epsilon)}{2\epsilon}$; put the entry back afterwards.
# Return an array of the same shape as `param`.
#
# Hint: `np.nditer(param, flags=["multi_index"])` walks over every index of an array of any shape.

# %% nbgrader={"grade": false, "grade_id": "numgrad", "locked": false, "schema_version": 3, "solution": true, "task": false}
def numerical_gradient(f, param, eps=1e-5):
    ### BEGIN SOLUTION
    grad = np.zeros_like(param, dtype=float)
    for idx in np.ndindex(param.shape):
        old = param[idx]
        param[idx] = old + eps
        plus = f()
        param[idx] = old - eps
        minus = f()
        param[idx] = old
        grad[idx] = (plus - minus) / (2 * eps)
    return grad
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_numgrad", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
v = np.array([1.0, -2.0, 3.0])
g = numerical_gradient(lambda: float(np.sum(v ** 2)), v)
assert np.allclose(g, 2 * v, atol=1e-6), f"d/dv sum(v²) = 2v, got {g}"
### BEGIN HIDDEN TESTS
assert np.array_equal(v, [1.0, -2.0, 3.0]), "put every entry back"
M = np.array([[0.5, -1.0], [2.0, 0.1]])
g = numerical_gradient(lambda: float(np.sum(np.sin(M)) + M[0, 1] ** 3), M)
expected = np.cos(M)
expected[0, 1] += 3 * M[0, 1] ** 2
assert np.allclose(g, expected, atol=1e-8), "central differences are accurate to about eps²"
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task3_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 3 — forward and backward (4 points)
#
# The network: $h = \tanh(X W_1 + b_1)$, $p = \text{softmax}(h W_2 + b_2)$,
# loss $L$ = mean cross-entropy. Write `loss_and_grads(params, X, y)` returning `(loss, grads)` with
# `grads` a dict with the same keys and shapes as `params`. Backpropagation (역전파), from the
# output back:
#
# - $\partial L / \partial z_2 = (p - \text{onehot}(y)) / n$ — softmax and cross-entropy together;
# - $\partial L / \partial W_2 = h^\top\, \partial z_2$, $\partial L / \partial b_2$ = column sums of $\partial z_2$;
# - $\partial L / \partial h = \partial z_2\, W_2^\top$, and $\tanh'(a) = 1 - \tanh^2(a)$, so
#   $\partial L / \partial z_1 = \partial L / \partial h \odot (1 - h^2)$;
# - $\partial L / \partial W_1 = X^\top\, \partial z_1$, $\partial L / \partial b_1$ = column sums of $\partial z_1$.
#
# The test compares your gradients with `numerical_gradient` — the gradient check. A relative
# error around 1e-7 or smaller means your backward pass is right; 1e-2 means a bug.

# %% nbgrader={"grade": false, "grade_id": "backprop", "locked": false, "schema_version": 3, "solution": true, "task": false}
def loss_and_grads(params, X, y):
    ### BEGIN SOLUTION
    n = len(y)
    h = np.tanh(X @ params["W1"] + params["b1"])
    p = softmax(h @ params["W2"] + params["b2"])
    loss = cross_entropy(p, y)
    dz2 = p.copy()
    dz2[np.arange(n), y] -= 1
    dz2 /= n
    dh = dz2 @ params["W2"].T
    dz1 = dh * (1 - h ** 2)
    grads = {"W2": h.T @ dz2, "b2": dz2.sum(axis=0), "W1": X.T @ dz1, "b1": dz1.sum(axis=0)}
    return loss, grads
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": false, "grade_id": "relative_error", "locked": true, "schema_version": 3, "solution": false, "task": false}
def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12)


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_shapes", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
params = init_params(2, 5, 2, seed=0)
loss, grads = loss_and_grads(params, X_moons[:10], y_moons[:10])
assert set(grads) == {"W1", "b1", "W2", "b2"}
assert all(grads[k].shape == params[k].shape for k in params), "each gradient has its parameter's shape"
assert np.isclose(loss, cross_entropy(softmax(np.tanh(X_moons[:10] @ params["W1"]) @ params["W2"]), y_moons[:10]))
### BEGIN HIDDEN TESTS
assert np.isclose(np.sum(grads["b2"]), 0.0), "the rows of p - onehot(y) sum to zero"
p10 = softmax(np.tanh(X_moons[:10] @ params["W1"]) @ params["W2"])
assert np.isclose(loss, -np.mean(np.log(p10[np.arange(10), y_moons[:10]]))), "the loss is the mean cross-entropy"
### END HIDDEN TESTS

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_gradcheck", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
params = init_params(2, 5, 3, seed=1)
Xs, ys = X_moons[:12], np.arange(12) % 3
_, grads = loss_and_grads(params, Xs, ys)
for name in params:
    num = numerical_gradient(lambda: loss_and_grads(params, Xs, ys)[0], params[name])
    err = relative_error(grads[name], num)
    print(f"{name}: relative error {err:.1e}")
    assert err < 1e-6, f"the gradient of {name} does not match the numerical gradient"
### BEGIN HIDDEN TESTS
def reference(P, X, y):
    n = len(y)
    h = np.tanh(X @ P["W1"] + P["b1"])
    p = softmax(h @ P["W2"] + P["b2"])
    onehot = np.eye(P["W2"].shape[1])[y]
    return -np.mean(np.sum(onehot * np.log(p), axis=1))

P = init_params(2, 4, 2, seed=5)
P["b1"] = np.random.default_rng(9).normal(size=4)
_, g = loss_and_grads(P, X_moons[20:40], y_moons[20:40])
eps = 1e-6
for name in P:
    for idx in np.ndindex(P[name].shape):
        old = P[name][idx]
        P[name][idx] = old + eps
        up = reference(P, X_moons[20:40], y_moons[20:40])
        P[name][idx] = old - eps
        down = reference(P, X_moons[20:40], y_moons[20:40])
        P[name][idx] = old
        assert abs((up - down) / (2 * eps) - g[name][idx]) < 1e-6, (name, idx)
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task4_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 4 — train it (2 points)
#
# Write `train(X, y, n_hidden, lr, epochs, seed)`: `params = init_params(2, n_hidden, 2, seed)`,
# then `epochs` steps of full-batch gradient descent — compute the loss and gradients, record the
# loss, subtract `lr * gradient` from every parameter. Return `params, losses`.

# %% nbgrader={"grade": false, "grade_id": "train", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train(X, y, n_hidden, lr, epochs, seed):
    ### BEGIN SOLUTION
    params = init_params(X.shape[1], n_hidden, 2, seed)
    losses = []
    for _ in range(epochs):
        loss, grads = loss_and_grads(params, X, y)
        losses.append(loss)
        for name in params:
            params[name] -= lr * grads[name]
    return params, losses
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": false, "grade_id": "run_train", "locked": true, "schema_version": 3, "solution": false, "task": false}
params, losses = train(X_moons, y_moons, n_hidden=16, lr=0.5, epochs=2000, seed=0)
p = softmax(np.tanh(X_moons @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"])
train_acc = np.mean(p.argmax(axis=1) == y_moons)
print(f"loss {losses[0]:.3f} → {losses[-1]:.3f}, training accuracy {train_acc:.3f}")

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_train", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert len(losses) == 2000
assert losses[-1] < 0.5 * losses[0], "the loss should at least halve"
assert train_acc > 0.9
### BEGIN HIDDEN TESTS
ref = init_params(2, 16, 2, 0)
loss0, g0 = loss_and_grads(ref, X_moons, y_moons)
assert np.isclose(losses[0], loss0), "record the loss before the first step"
p1, l1 = train(X_moons, y_moons, n_hidden=16, lr=0.5, epochs=2, seed=0)
assert np.isclose(l1[1], loss_and_grads({k: ref[k] - 0.5 * g0[k] for k in ref}, X_moons, y_moons)[0]), \
    "one step subtracts lr * gradient from every parameter, biases included"
assert train_acc > 0.95
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "q1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Question (2 points, graded by hand)
#
# In three or four sentences: what kind of mistakes does the gradient check catch that a falling
# training loss would not reveal? Why do we use the **central** difference with a small `eps`, and
# why do we run the check on a few samples only, and never in the training loop?

# %% [markdown] nbgrader={"grade": true, "grade_id": "q1_gradcheck", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# A backward pass with a bug (a wrong derivative, a missing term, a transposed matrix) often still
# points roughly downhill, so the loss falls — just slower or to a worse point — and nothing looks
# wrong. Comparing with a numerical gradient checks every entry against the definition of the
# derivative. The central difference has error O(eps²) instead of O(eps) for the one-sided one, so
# the two agree to ~1e-7 or better when the code is right. But it costs two forward passes per
# parameter, so it is only affordable on a tiny network and batch, as a one-off test, never in
# training.

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "checklist", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit ✔
#
# 1. Restart the kernel and run all cells: no errors, every visible test passes.
# 2. No `raise NotImplementedError()` left, every "YOUR ANSWER HERE" replaced.
# 3. Nothing slow left behind (a search over a huge grid, thousands of epochs): the grader
#    stops notebooks that run too long, and a stopped notebook scores only the tests that
#    finished.
