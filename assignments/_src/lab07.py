# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Lab 07 — Perceptrons and the forward pass (퍼셉트론 · 순전파)
#
# Follows lecture **07 — Artificial neural networks**. About 60 minutes.
#
# **In this lab you will**
#
# - implement the activation functions (활성화 함수) sigmoid, ReLU and a numerically stable softmax
# - train a perceptron (퍼셉트론) with the perceptron learning rule
# - solve XOR — which one perceptron cannot — with a two-layer network whose weights you choose
# - write the forward pass of a multi-layer perceptron (다층 퍼셉트론) for a batch of inputs
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

X_logic = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
y_and = np.array([0, 0, 0, 1])
y_xor = np.array([0, 1, 1, 0])


def step(z):
    return (np.asarray(z) > 0).astype(int)


# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 1 — activation functions (2 points)
#
# Write, for NumPy arrays:
#
# - `sigmoid(z)` $= 1 / (1 + e^{-z})$,
# - `relu(z)` $= \max(0, z)$ element-wise,
# - `softmax(z)` for a 2-D array of scores, **row by row**: $e^{z_i} / \sum_j e^{z_j}$.
#   Subtract each row's maximum first — it does not change the result (why?) but keeps
#   `np.exp` from overflowing for scores like 1000.

# %% nbgrader={"grade": false, "grade_id": "activations", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sigmoid(z):
    ### BEGIN SOLUTION
    return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))
    ### END SOLUTION


def relu(z):
    ### BEGIN SOLUTION
    return np.maximum(0, z)
    ### END SOLUTION


def softmax(z):
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_activations", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert np.isclose(sigmoid(0.0), 0.5)
assert np.array_equal(relu(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])
p = softmax(np.array([[1.0, 2.0, 3.0]]))
assert p.shape == (1, 3) and np.isclose(p.sum(), 1.0)
### BEGIN HIDDEN TESTS
assert np.allclose(sigmoid(np.array([-100.0, 2.0])), [1 / (1 + np.exp(100)), 1 / (1 + np.exp(-2))])
big = softmax(np.array([[1000.0, 1000.0], [0.0, 1000.0]]))
assert np.all(np.isfinite(big)), "subtract the row maximum before np.exp"
assert np.allclose(big, [[0.5, 0.5], [0.0, 1.0]])
z = np.random.default_rng(0).normal(size=(5, 4))
assert np.allclose(softmax(z), np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task2_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 2 — the perceptron learning rule (2 points)
#
# Write `train_perceptron(X, y, lr, epochs)`. Start with `w = zeros`, `b = 0`. For every epoch, go
# through the samples **in order**; for each, predict `step(x @ w + b)` and update
#
# $$w \leftarrow w + \text{lr}\,(y - \hat y)\,x, \qquad b \leftarrow b + \text{lr}\,(y - \hat y).$$
#
# Return `w, b`. (Nothing changes when the prediction is right.)

# %% nbgrader={"grade": false, "grade_id": "perceptron", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_perceptron(X, y, lr, epochs):
    ### BEGIN SOLUTION
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        for xi, yi in zip(X, y):
            error = yi - step(xi @ w + b)
            w = w + lr * error * xi
            b = b + lr * error
    return w, b
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_perceptron", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
w, b = train_perceptron(X_logic, y_and, lr=0.1, epochs=20)
assert list(step(X_logic @ w + b)) == [0, 0, 0, 1], "a perceptron can learn AND"
### BEGIN HIDDEN TESTS
w, b = train_perceptron(X_logic, np.array([0, 1, 1, 1]), lr=0.1, epochs=20)
assert list(step(X_logic @ w + b)) == [0, 1, 1, 1], "and OR"
w1, b1 = train_perceptron(X_logic, y_and, lr=1.0, epochs=1)
assert np.allclose(w1, [1.0, 1.0]) and np.isclose(b1, 1.0), "one epoch of the rule, in order, from zeros"
r = np.random.default_rng(0)
Xs = r.normal(size=(80, 2))
ys = (Xs @ [2.0, -1.0] + 0.3 > 0).astype(int)
w, b = train_perceptron(Xs, ys, lr=0.1, epochs=200)
assert np.array_equal(step(Xs @ w + b), ys), "separable data is learnt perfectly"
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task3_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 3 — XOR with two layers, by hand (1 point)
#
# XOR (exclusive or) is 1 when exactly one input is 1. Choose weights for a 2-2-1 network with the
# `step` activation, $\hat y = \text{step}(\text{step}(X W_1 + b_1)\, W_2 + b_2)$, that computes
# XOR: set `W1` (shape `(2, 2)`), `b1` (shape `(2,)`), `W2` (shape `(2,)`) and `b2` (a number).
#
# Hint: XOR = (x₁ OR x₂) AND NOT (x₁ AND x₂). Let one hidden unit compute OR and the other AND.

# %% nbgrader={"grade": false, "grade_id": "xor", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
W1 = np.array([[1.0, 1.0], [1.0, 1.0]])   # column 0: OR, column 1: AND
b1 = np.array([-0.5, -1.5])
W2 = np.array([1.0, -1.0])                 # OR and not AND
b2 = -0.5
### END SOLUTION
print(step(step(X_logic @ W1 + b1) @ W2 + b2))

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_xor", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
assert np.shape(W1) == (2, 2) and np.shape(b1) == (2,) and np.shape(W2) == (2,)
### BEGIN HIDDEN TESTS
assert list(step(step(X_logic @ W1 + b1) @ W2 + b2)) == [0, 1, 1, 0]
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task4_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 4 — an MLP forward pass (3 points)
#
# 1. `init_params(sizes, seed)`: for layer sizes like `[4, 16, 8, 3]`, return a list of `(W, b)`
#    pairs, one per layer: `W` of shape `(n_in, n_out)` drawn from
#    `rng.normal(0, np.sqrt(2 / n_in), ...)` (He initialisation, for ReLU) with
#    `rng = np.random.default_rng(seed)` — draw the layers in order — and `b = zeros(n_out)`.
# 2. `forward(X, params)`: ReLU after every layer **except the last**, softmax after the last.
#    Return the class probabilities, shape `(n_samples, n_classes)`.

# %% nbgrader={"grade": false, "grade_id": "mlp", "locked": false, "schema_version": 3, "solution": true, "task": false}
def init_params(sizes, seed):
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    return [(rng.normal(0, np.sqrt(2 / n_in), size=(n_in, n_out)), np.zeros(n_out))
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    ### END SOLUTION


def forward(X, params):
    ### BEGIN SOLUTION
    a = np.asarray(X, dtype=float)
    for i, (W, b) in enumerate(params):
        z = a @ W + b
        a = softmax(z) if i == len(params) - 1 else relu(z)
    return a
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_mlp", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
params = init_params([4, 16, 8, 3], seed=0)
assert [W.shape for W, _ in params] == [(4, 16), (16, 8), (8, 3)]
assert all(np.all(b == 0) for _, b in params)
probs = forward(np.ones((5, 4)), params)
assert probs.shape == (5, 3) and np.allclose(probs.sum(axis=1), 1)
### BEGIN HIDDEN TESTS
big = init_params([400, 300], seed=1)[0][0]
assert abs(big.std() - np.sqrt(2 / 400)) < 0.005, "He initialisation: std sqrt(2 / n_in)"
assert np.array_equal(init_params([4, 16, 8, 3], seed=0)[1][0], params[1][0]), "reproducible with the seed"
W1_, b1_ = np.array([[1.0, -1.0]]), np.array([0.0, 0.5])
W2_, b2_ = np.array([[2.0, 0.0], [-1.0, 1.0]]), np.array([0.0, -1.0])
x = np.array([[1.0], [-2.0]])
h = np.maximum(0, x @ W1_ + b1_)
z = h @ W2_ + b2_
expected = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
assert np.allclose(forward(x, [(W1_, b1_), (W2_, b2_)]), expected), "no ReLU on the output layer"
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "q1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Question (2 points, graded by hand)
#
# In three or four sentences: why can a single perceptron never compute XOR, whatever its weights,
# and what does the hidden layer of your Task 3 network do that makes it possible? Why would the
# network be no better than one layer if the hidden activation were the identity (linear)?

# %% [markdown] nbgrader={"grade": true, "grade_id": "q1_xor", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# A perceptron outputs 1 on one side of a straight line w·x + b = 0. XOR needs (0,1) and (1,0) on
# one side and (0,0), (1,1) on the other — no single line separates them (they are not linearly
# separable). The hidden layer maps each input to new features (OR, AND); in that new space the
# classes are separable, so the output unit's line (OR and not AND) works. Without a non-linear
# activation two layers collapse into one: W₂(W₁x + b₁) + b₂ is again a linear function of x,
# so the boundary stays a single line.

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "checklist", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit ✔
#
# 1. Restart the kernel and run all cells: no errors, every visible test passes.
# 2. No `raise NotImplementedError()` left, every "YOUR ANSWER HERE" replaced.
# 3. Nothing slow left behind (a search over a huge grid, thousands of epochs): the grader
#    stops notebooks that run too long, and a stopped notebook scores only the tests that
#    finished.
