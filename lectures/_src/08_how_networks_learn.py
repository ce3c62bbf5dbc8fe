# ---
# jupyter:
#   coursebench:
#     summary: "Loss, gradient descent, backpropagation from scratch with a gradient check; a NumPy MLP on digits."
# ---

# %% [markdown]
# # Lecture 08 — How neural networks learn (신경망의 학습)
#
# In lecture 07 a network with the right weights solved XOR, the moons and iris — but
# we chose the weights by hand or borrowed them from scikit-learn. This lecture opens
# the box: we write down what "good weights" means (a **loss**), how to improve weights
# step by step (**gradient descent**), and how to get the gradient of a whole network
# efficiently (**backpropagation**). Then we train a network on handwritten digits with
# nothing but NumPy — every number computed by code you can read.
#
# ## What you will learn
#
# - **loss functions** (손실 함수): mean squared error for regression, **cross-entropy**
#   (교차 엔트로피) for classification, and why cross-entropy punishes confident mistakes;
# - **gradient descent** (경사 하강법) and the role of the **learning rate** (학습률);
# - **numerical differentiation** (수치 미분) — slow but simple, our ground truth;
# - the **chain rule** (연쇄 법칙) on a **computational graph** (계산 그래프), and
#   **backpropagation** (역전파) for a multi-layer network;
# - the **gradient check** (기울기 검증): how to prove your backprop is right;
# - **mini-batch stochastic gradient descent** (미니배치 확률적 경사 하강법), epochs and
#   batches — training an MLP from scratch to ≥ 95% test accuracy on the digits.

# %%
import matplotlib.pyplot as plt
import numpy as np

from coursebench import datasets
from coursebench.notebook import save_fig, setup

setup(seed=42)

# %% tags=["parameters"]
# Parameters — papermill overrides these (CI runs with smoke=True: tiny sizes, same code).
smoke = False
epochs = 40            # passes over the digits training set
batch_size = 32        # examples per gradient step
learning_rate = 0.1    # step size of stochastic gradient descent
hidden_units = 64      # width of the hidden layer
n_moons = 600          # points in the two-moons data set

# %%
if smoke:  # keep every step, make it tiny
    epochs, n_moons = 2, 120
rng = np.random.default_rng(0)


# %% [markdown]
# ## 1. Learning is minimising a loss
#
# A network is a function $f(\mathbf{x}; \boldsymbol\theta)$ of its input and of its
# **parameters** $\boldsymbol\theta$ (all weights and biases). A **loss function**
# (손실 함수, also *cost* or *objective*) measures how wrong the predictions are on the
# training data:
#
# $$ L(\boldsymbol\theta) = \frac{1}{n}\sum_{i=1}^{n} \ell\big(f(\mathbf{x}_i;\boldsymbol\theta),\, y_i\big). $$
#
# **Training** (학습) means finding parameters that make $L$ small. Two losses cover
# most of this course:
#
# - **mean squared error** (평균 제곱 오차, MSE) for regression:
#   $\ell(\hat y, y) = (\hat y - y)^2$;
# - **cross-entropy** (교차 엔트로피) for classification: if the network gives
#   probability $p_{i,k}$ to class $k$, then $\ell = -\log p_{i,y_i}$, minus the log of
#   the probability given to the *correct* class. For two classes this is the
#   *binary* cross-entropy $-[y\log p + (1-y)\log(1-p)]$.
#
# Why not just use accuracy? Accuracy only changes when a prediction flips, so a small
# change of the weights almost never changes it — it gives no signal about which
# direction is better. The loss changes smoothly. And why not MSE on probabilities for
# classification? Look at how much each loss charges for a confident mistake:

# %%
def mse(y_pred, y_true):
    return np.mean((y_pred - y_true) ** 2)


def cross_entropy(probs, labels, eps=1e-12):
    # Mean of -log(probability of the correct class); probs is (n, K), labels (n,) ints.
    return -np.mean(np.log(np.clip(probs[np.arange(len(labels)), labels], eps, 1.0)))


p = np.linspace(0.001, 0.999, 500)          # probability given to the correct class
fig, ax = plt.subplots(figsize=(6.5, 4))
ax.plot(p, -np.log(p), label="cross-entropy  −log p")
ax.plot(p, (1 - p) ** 2, label="squared error  (1 − p)²")
ax.set_xlabel("probability the model gives to the correct class")
ax.set_ylabel("loss for this example")
ax.set_ylim(0, 5)
ax.legend()
ax.set_title("cross-entropy punishes confident mistakes")
save_fig(fig, "08_losses")
plt.show()

labels = np.array([0, 1, 2])
cautious = np.array([[0.6, 0.2, 0.2], [0.2, 0.6, 0.2], [0.2, 0.2, 0.6]])
confident = np.array([[0.98, 0.01, 0.01], [0.01, 0.98, 0.01], [0.2, 0.2, 0.6]])
for name, probs in [("cautious", cautious), ("confident", confident)]:
    print(f"{name:>9}: accuracy {np.mean(probs.argmax(1) == labels):.0%},"
          f" cross-entropy {cross_entropy(probs, labels):.3f}")


# %% [markdown]
# Both models have 100% accuracy, but the loss prefers the confident one; and a model
# that gives the right class probability 0.001 pays $-\log 0.001 \approx 6.9$ instead of
# at most 1 under squared error. Cross-entropy is also what **maximum likelihood**
# (최대 우도) gives for a model that outputs probabilities.
#
# ## 2. Gradient descent (경사 하강법)
#
# The **gradient** (기울기) $\nabla L(\boldsymbol\theta)$ is the vector of partial
# derivatives $\partial L / \partial \theta_j$; it points in the direction in which
# $L$ increases fastest. So we take small steps the other way:
#
# $$ \boldsymbol\theta \leftarrow \boldsymbol\theta - \eta\, \nabla L(\boldsymbol\theta). $$
#
# The **learning rate** $\eta$ (학습률) is the step size, and it matters a lot. Here is
# gradient descent on the one-parameter loss $L(w) = (w-3)^2 + 1$, whose gradient is
# $2(w-3)$:

# %%
def gradient_descent_1d(grad, w0, lr, steps):
    path = [w0]
    for _ in range(steps):
        path.append(path[-1] - lr * grad(path[-1]))
    return np.array(path)


L1 = lambda w: (w - 3) ** 2 + 1
dL1 = lambda w: 2 * (w - 3)
w_axis = np.linspace(-2, 8, 300)
rates = {"η = 0.02 (too small)": 0.02, "η = 0.3 (good)": 0.3,
         "η = 0.95 (oscillates)": 0.95, "η = 1.05 (diverges)": 1.05}
fig, axes = plt.subplots(1, 4, figsize=(16, 3.6), sharey=True)
for ax, (name, lr) in zip(axes, rates.items()):
    path = gradient_descent_1d(dL1, w0=-1.0, lr=lr, steps=12)
    ax.plot(w_axis, L1(w_axis), color="0.6")
    ax.plot(path, L1(path), "o-", color="C3", markersize=4)
    ax.set_title(name)
    ax.set_xlabel("w")
    ax.set_ylim(0, 40)
axes[0].set_ylabel("L(w)")
save_fig(fig, "08_learning_rates_1d")
plt.show()

# %% [markdown]
# Too small and we crawl; too large and we overshoot, bounce, or fly off. For a
# quadratic the threshold is exact: here any $\eta > 1$ diverges. For real networks we
# find a good $\eta$ by trying a few values on a log scale (0.001, 0.01, 0.1, …).
#
# With two or more parameters a second problem appears: when the loss surface is a long
# narrow valley, the gradient points mostly *across* the valley, not along it, and
# gradient descent zig-zags. Momentum and Adam (lecture 10) are fixes for exactly this.

# %%
A_valley = np.array([[1.0, 0.0], [0.0, 12.0]])      # L(w) = ½ wᵀ A w: steep in w2, flat in w1
L2 = lambda w: 0.5 * np.einsum("...i,ij,...j->...", w, A_valley, w)
dL2 = lambda w: A_valley @ w

path = [np.array([-9.0, 2.0])]
for _ in range(40):
    path.append(path[-1] - 0.155 * dL2(path[-1]))
path = np.array(path)

g1, g2 = np.meshgrid(np.linspace(-10, 10, 200), np.linspace(-3, 3, 200))
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.contour(g1, g2, L2(np.stack([g1, g2], -1)), levels=25, cmap="viridis", linewidths=0.8)
ax.plot(path[:, 0], path[:, 1], "o-", color="C3", markersize=3)
ax.set_xlabel("w1"); ax.set_ylabel("w2")
ax.set_title(f"gradient descent zig-zags in a narrow valley (loss after 40 steps: {L2(path[-1]):.3f})")
save_fig(fig, "08_valley")
plt.show()


# %% [markdown]
# ## 3. Numerical differentiation (수치 미분)
#
# To do gradient descent on a network we need $\partial L/\partial\theta_j$ for every
# parameter. The definition of a derivative gives a simple recipe: wiggle one parameter
# by a tiny $h$ and see how the loss changes. The **central difference** is the accurate
# version:
#
# $$ \frac{\partial L}{\partial \theta_j} \approx \frac{L(\theta_j + h) - L(\theta_j - h)}{2h}. $$
#
# It is easy to get right, which makes it the perfect **reference** for checking faster
# code. But it costs two full forward passes *per parameter*: for a network with a
# million weights, two million forward passes for a single step. Far too slow for
# training. There is also a trade-off in $h$: too large and the approximation is
# coarse, too small and floating-point **round-off error** (반올림 오차) takes over:

# %%
def numerical_gradient(f, x, h=1e-5):
    # Central-difference gradient of a scalar function f at array x (x is restored).
    grad = np.zeros_like(x, dtype=float)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h; f_plus = f(x)
        x[i] = old - h; f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


x0 = np.array([1.0])
exact = np.cos(1.0)                                     # d/dx sin(x) at x = 1
hs = np.logspace(-15, 0, 61)
forward_err = [abs((np.sin(1 + h) - np.sin(1)) / h - exact) for h in hs]
central_err = [abs(numerical_gradient(lambda v: np.sin(v[0]), x0, h)[0] - exact) for h in hs]

fig, ax = plt.subplots(figsize=(6.5, 4))
ax.loglog(hs, forward_err, label="forward difference  (f(x+h) − f(x)) / h")
ax.loglog(hs, central_err, label="central difference  (f(x+h) − f(x−h)) / 2h")
ax.set_xlabel("step h"); ax.set_ylabel("absolute error")
ax.set_title("d/dx sin(x) at x = 1: truncation vs round-off")
ax.legend(loc="lower left", fontsize=8)
save_fig(fig, "08_numerical_derivative_error")
plt.show()
print(f"best central-difference error: {min(central_err):.1e} at h ≈ {hs[np.argmin(central_err)]:.0e}")


# %% [markdown]
# With double precision and $h \approx 10^{-5}$ the central difference is accurate to
# about ten digits — good enough to check any gradient we derive by hand.
#
# ## 4. The chain rule (연쇄 법칙) on a computational graph (계산 그래프)
#
# A network is a composition of simple functions. The chain rule says how derivatives
# of compositions combine: if $L = g(u)$ and $u = h(w)$, then
# $\frac{dL}{dw} = \frac{dL}{du}\cdot\frac{du}{dw}$.
#
# Take one sigmoid neuron with a squared-error loss and draw it as a graph of small steps.
# The **forward pass** computes each node from left to right; the **backward pass**
# (역방향 계산) starts with $\partial L/\partial L = 1$ and multiplies local derivatives
# from right to left:
#
# | forward | local derivative | backward (chain rule) |
# |---|---|---|
# | $z = wx + b$ | $\partial z/\partial w = x$, $\partial z/\partial b = 1$ | $\partial L/\partial w = \partial L/\partial z \cdot x$ |
# | $a = \sigma(z)$ | $\partial a/\partial z = \sigma(z)(1-\sigma(z))$ | $\partial L/\partial z = \partial L/\partial a \cdot a(1-a)$ |
# | $L = (a - y)^2$ | $\partial L/\partial a = 2(a-y)$ | start: $\partial L/\partial a = 2(a - y)$ |

# %%
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


x, y = 1.5, 0.0          # one training example
w, b = 0.8, 0.1          # current parameters

# forward pass, keeping every intermediate value
z = w * x + b
a = sigmoid(z)
L = (a - y) ** 2
# backward pass: one local derivative per node, multiplied right to left
dL_da = 2 * (a - y)
dL_dz = dL_da * a * (1 - a)
dL_dw = dL_dz * x
dL_db = dL_dz * 1.0
print(f"forward:  z = {z:.4f}, a = {a:.4f}, L = {L:.4f}")
print(f"backward: dL/da = {dL_da:.4f}, dL/dz = {dL_dz:.4f}, dL/dw = {dL_dw:.6f}, dL/db = {dL_db:.6f}")

loss_of = lambda p: (sigmoid(p[0] * x + p[1]) - y) ** 2
num = numerical_gradient(loss_of, np.array([w, b]))
print(f"numerical:                                 dL/dw = {num[0]:.6f}, dL/db = {num[1]:.6f}")
assert np.allclose([dL_dw, dL_db], num, rtol=1e-6)


# %% [markdown]
# The backward pass reuses the values the forward pass computed ($a$, $x$) and costs
# about as much as the forward pass itself — for *all* parameters at once. That is
# **backpropagation** (역전파, "backward propagation of errors"): the chain rule applied
# layer by layer from the loss back to the input, caching the forward values.
#
# ## 5. Backpropagation for an MLP
#
# Now the real thing: an MLP with ReLU hidden layers and a softmax output trained with
# cross-entropy. For a batch $X$ ($n$ rows) and one-hot labels $Y$, the forward pass of
# layer $l$ is $Z^{(l)} = A^{(l-1)}W^{(l)} + \mathbf{b}^{(l)}$,
# $A^{(l)} = \text{ReLU}(Z^{(l)})$ (softmax for the last layer), with $A^{(0)} = X$.
# The backward pass, derived with the chain rule (exercise 1 asks you to check the first
# line):
#
# $$
# \begin{aligned}
# \frac{\partial L}{\partial Z^{(\text{last})}} &= \tfrac{1}{n}\,(P - Y) &&\text{softmax + cross-entropy combine into this simple form}\\
# \frac{\partial L}{\partial W^{(l)}} &= A^{(l-1)\top}\,\frac{\partial L}{\partial Z^{(l)}}, \qquad
# \frac{\partial L}{\partial \mathbf{b}^{(l)}} = \textstyle\sum_{\text{rows}} \frac{\partial L}{\partial Z^{(l)}}\\
# \frac{\partial L}{\partial A^{(l-1)}} &= \frac{\partial L}{\partial Z^{(l)}}\,W^{(l)\top}, \qquad
# \frac{\partial L}{\partial Z^{(l-1)}} = \frac{\partial L}{\partial A^{(l-1)}} \odot \mathbb{1}[Z^{(l-1)} > 0]
# \end{aligned}
# $$
#
# Every gradient has the same shape as the thing it is the gradient of — a quick sanity
# check when you write this code. ($\odot$ is element-wise multiplication; the ReLU
# derivative is 1 where its input was positive, 0 elsewhere.)

# %%
def relu(z):
    return np.maximum(0.0, z)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class MLP:
    # A multi-layer perceptron: ReLU hidden layers, softmax output, cross-entropy loss.

    def __init__(self, layer_sizes, seed=0):
        r = np.random.default_rng(seed)
        # He initialisation (lecture 10): std = sqrt(2 / fan_in) keeps ReLU signals stable
        self.params = [[r.normal(0, np.sqrt(2.0 / d_in), (d_in, d_out)), np.zeros(d_out)]
                       for d_in, d_out in zip(layer_sizes[:-1], layer_sizes[1:])]

    def forward(self, X):
        # Class probabilities; keeps what backward needs in self.cache.
        A, self.cache = X, []
        for i, (W, b) in enumerate(self.params):
            Z = A @ W + b
            self.cache.append((A, Z))     # the layer's input and pre-activation
            A = softmax(Z) if i == len(self.params) - 1 else relu(Z)
        return A

    def loss(self, X, y):
        return cross_entropy(self.forward(X), y)

    def backward(self, probs, y):
        # Gradients of the mean cross-entropy w.r.t. every W and b (call after forward).
        n = len(y)
        dZ = probs.copy()
        dZ[np.arange(n), y] -= 1.0        # P − Y with Y one-hot ...
        dZ /= n                           # ... divided by the batch size
        grads = [None] * len(self.params)
        for i in reversed(range(len(self.params))):
            A_prev, _ = self.cache[i]
            W, _ = self.params[i]
            grads[i] = [A_prev.T @ dZ, dZ.sum(axis=0)]
            if i > 0:
                _, Z_prev = self.cache[i - 1]
                dZ = (dZ @ W.T) * (Z_prev > 0)   # through W, then through the ReLU
        return grads

    def step(self, grads, lr):
        for (W, b), (dW, db) in zip(self.params, grads):
            W -= lr * dW                  # in place: gradient descent
            b -= lr * db

    def predict(self, X):
        return self.forward(X).argmax(axis=1)


# %% [markdown]
# ## 6. The gradient check (기울기 검증)
#
# Backprop code is easy to get *almost* right: a missing transpose, a forgotten ReLU
# derivative, a wrong $1/n$ — and the network still learns, only worse, and you never
# find out. So before trusting it, we compare it with the numerical gradient on a small
# network, using the **relative error**
#
# $$ \text{rel. error} = \frac{\lVert g_\text{backprop} - g_\text{numerical}\rVert}{\lVert g_\text{backprop}\rVert + \lVert g_\text{numerical}\rVert}. $$
#
# In double precision a correct implementation gives about $10^{-8}$ or less; a bug
# gives something like $10^{-2}$ or worse.

# %%
def relative_error(a, b):
    return np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b) + 1e-300)


def gradient_check(net, X, y):
    # Relative error between backprop and numerical gradients, per parameter array.
    grads = net.backward(net.forward(X), y)
    report = {}
    for l, (layer, layer_grads) in enumerate(zip(net.params, grads)):
        for name, param, g in zip(("W", "b"), layer, layer_grads):
            num = numerical_gradient(lambda _: net.loss(X, y), param)
            report[f"{name}{l + 1} {param.shape}"] = relative_error(g, num)
    return report


X_small = rng.normal(size=(6, 5))
y_small = rng.integers(0, 3, size=6)
small_net = MLP([5, 7, 4, 3], seed=1)     # two hidden layers, 3 classes
report = gradient_check(small_net, X_small, y_small)
for name, err in report.items():
    print(f"{name:>12}: relative error {err:.1e}")
worst = max(report.values())
print(f"worst: {worst:.1e}")
assert worst < 1e-6, "backprop disagrees with the numerical gradient"


# %% [markdown]
# Every array agrees to better than $10^{-6}$. To see that the check has teeth, here is
# the same network with a classic bug — the ReLU derivative forgotten in the backward
# pass:

# %%
class BuggyMLP(MLP):
    def backward(self, probs, y):
        n = len(y)
        dZ = probs.copy()
        dZ[np.arange(n), y] -= 1.0
        dZ /= n
        grads = [None] * len(self.params)
        for i in reversed(range(len(self.params))):
            A_prev, _ = self.cache[i]
            grads[i] = [A_prev.T @ dZ, dZ.sum(axis=0)]
            dZ = dZ @ self.params[i][0].T          # BUG: no "* (Z_prev > 0)"
        return grads


buggy = BuggyMLP([5, 7, 4, 3], seed=1)
buggy_worst = max(gradient_check(buggy, X_small, y_small).values())
print(f"buggy backprop, worst relative error: {buggy_worst:.1e}")
assert buggy_worst > 1e-3


# %% [markdown]
# The output layer's gradients are still right (the bug is below them), but the hidden
# layers are wrong by a large factor: the check pinpoints *where* the bug is. Always
# run a gradient check when you write backprop by hand; frameworks like Keras compute
# gradients automatically (**automatic differentiation**, 자동 미분) with the same idea.
#
# ## 7. Training: mini-batch stochastic gradient descent
#
# Computing the gradient on *all* training examples for every step is wasteful: a
# random **mini-batch** (미니배치) of, say, 32 examples gives a noisy but unbiased
# estimate at a fraction of the cost. This is **stochastic gradient descent** (확률적
# 경사 하강법, SGD). The vocabulary:
#
# - **batch size** (배치 크기): examples per gradient step;
# - **iteration** (반복): one gradient step;
# - **epoch** (에포크): one pass over the whole training set, i.e.
#   $\lceil n/\text{batch size}\rceil$ iterations, in a fresh random order each time.
#
# First on the two moons, watching the decision boundary form:

# %%
def train(net, X, y, epochs, batch_size, lr, X_val=None, y_val=None, seed=0, snapshots=()):
    # Mini-batch SGD. Returns a history of loss/accuracy per epoch (+ boundary snapshots).
    r = np.random.default_rng(seed)
    history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": [], "snapshots": {}}
    for epoch in range(1, epochs + 1):
        order = r.permutation(len(X))
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            probs = net.forward(X[idx])
            net.step(net.backward(probs, y[idx]), lr)
        history["loss"].append(net.loss(X, y))
        history["accuracy"].append(np.mean(net.predict(X) == y))
        if X_val is not None:
            history["val_loss"].append(net.loss(X_val, y_val))
            history["val_accuracy"].append(np.mean(net.predict(X_val) == y_val))
        if epoch in snapshots:
            history["snapshots"][epoch] = [[W.copy(), b.copy()] for W, b in net.params]
    return history


moons = datasets.load("moons", n_samples=n_moons)
print(moons.message)
Xm_train, Xm_test, ym_train, ym_test = moons.split(test_size=0.3)
moon_net = MLP([2, 32, 32, 2], seed=0)
moon_epochs = 150 if not smoke else 3
snap_at = sorted({1, min(5, moon_epochs), min(30, moon_epochs), moon_epochs})
moon_history = train(moon_net, Xm_train, ym_train, moon_epochs, batch_size=16, lr=0.05,
                     X_val=Xm_test, y_val=ym_test, snapshots=snap_at)
moon_accuracy = moon_history["val_accuracy"][-1]
print(f"moons test accuracy after {moon_epochs} epochs: {moon_accuracy:.1%}")

# %%
g0, g1 = np.meshgrid(np.linspace(-2, 3, 200), np.linspace(-1.5, 2, 200))
grid = np.c_[g0.ravel(), g1.ravel()]
fig, axes = plt.subplots(1, len(snap_at), figsize=(4 * len(snap_at), 3.6))
viewer = MLP([2, 32, 32, 2])
for ax, epoch in zip(np.atleast_1d(axes), snap_at):
    viewer.params = moon_history["snapshots"][epoch]
    ax.contourf(g0, g1, viewer.forward(grid)[:, 1].reshape(g0.shape), levels=20, cmap="RdBu", alpha=0.4)
    ax.scatter(Xm_train[:, 0], Xm_train[:, 1], c=ym_train, cmap="RdBu", s=10, edgecolor="k", linewidth=0.3)
    ax.set_title(f"after epoch {epoch}")
save_fig(fig, "08_moons_training")
plt.show()

# %% [markdown]
# The boundary starts as an almost straight line and bends into the gap between the
# moons as training goes on.
#
# ### Handwritten digits from scratch
#
# Now a real data set: scikit-learn's 1,797 handwritten digits (8×8 pixels, 64
# features, 10 classes). We standardise the pixels with statistics from the *training*
# set only (lecture 02: the test set must not leak into training) and train a
# 64 → `hidden_units` → 10 network with plain mini-batch SGD.

# %%
digits = datasets.load("digits")
print(digits.message)
X_train, X_test, y_train, y_test = digits.split(test_size=0.25)
mean, std = X_train.mean(axis=0), X_train.std(axis=0) + 1e-8    # training statistics only
X_train, X_test = (X_train - mean) / std, (X_test - mean) / std

net = MLP([64, hidden_units, 10], seed=0)
print(f"initial loss {net.loss(X_train, y_train):.3f}  (random guessing among 10 classes: −log 0.1 = {np.log(10):.3f})")
history = train(net, X_train, y_train, epochs, batch_size, learning_rate, X_test, y_test)
test_accuracy = np.mean(net.predict(X_test) == y_test)
n_params = sum(W.size + b.size for W, b in net.params)
print(f"after {epochs} epochs: training loss {history['loss'][-1]:.4f}, "
      f"test accuracy {test_accuracy:.1%}  ({n_params:,} parameters, all learned by our code)")

# %%
ep = np.arange(1, epochs + 1)
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
axes[0].plot(ep, history["loss"], label="training")
axes[0].plot(ep, history["val_loss"], label="test")
axes[0].set_ylabel("cross-entropy loss"); axes[0].set_yscale("log")
axes[1].plot(ep, history["accuracy"], label="training")
axes[1].plot(ep, history["val_accuracy"], label="test")
axes[1].set_ylabel("accuracy")
for ax in axes:
    ax.set_xlabel("epoch"); ax.legend()
fig.suptitle("learning curves of our NumPy MLP on the digits")
save_fig(fig, "08_digits_learning_curves")
plt.show()

wrong = np.flatnonzero(net.predict(X_test) != y_test)[:10]
if len(wrong):
    fig, axes = plt.subplots(1, len(wrong), figsize=(1.3 * len(wrong), 1.8))
    for ax, i in zip(np.atleast_1d(axes), wrong):
        ax.imshow((X_test[i] * std + mean).reshape(8, 8), cmap="gray_r")
        ax.set_title(f"{y_test[i]}→{net.predict(X_test[i:i + 1])[0]}", fontsize=9)
        ax.axis("off")
    fig.suptitle("some test digits it gets wrong (true→predicted)", y=1.05)
    plt.show()

# %%
if not smoke:  # the result this lecture promises
    assert test_accuracy >= 0.95, test_accuracy
    assert moon_accuracy >= 0.88, moon_accuracy

# %% [markdown]
# On the full run our from-scratch network reaches **at least 95% test accuracy** on the
# digits (typically about 97%) and at least 88% on the noisy moons (their noise makes
# about 10% of the points look like the other class, so no model can get them all). The training loss
# keeps falling long after the test loss has flattened: the network starts to memorise
# the training set — **overfitting** (과적합), which lecture 10 will fight.
#
# ### The learning rate, once more
#
# The same network, trained for a few epochs with three learning rates:

# %%
lr_epochs = 15 if not smoke else 2
fig, ax = plt.subplots(figsize=(6.5, 4))
for lr in (0.005, 0.1, 2.0):
    h = train(MLP([64, hidden_units, 10], seed=0), X_train, y_train, lr_epochs, batch_size, lr)
    ax.plot(range(1, lr_epochs + 1), h["loss"], marker="o", markersize=3, label=f"η = {lr}")
ax.set_yscale("log"); ax.set_xlabel("epoch"); ax.set_ylabel("training loss")
ax.set_title("too small: slow; too large: unstable")
ax.legend()
save_fig(fig, "08_digits_learning_rates")
plt.show()

# %% [markdown]
# ## Summary
#
# - Training minimises a **loss**: MSE for regression, **cross-entropy** for
#   classification (it charges heavily for confident mistakes and has useful gradients).
# - **Gradient descent** steps against the gradient; the **learning rate** decides
#   between crawling, converging and diverging.
# - **Numerical gradients** are simple and slow — perfect for checking, useless for
#   training a big network.
# - **Backpropagation** applies the chain rule layer by layer, reusing the forward
#   values, and gets *all* gradients for about the cost of one forward pass.
# - A **gradient check** (relative error ≲ 10⁻⁷) is how you know backprop is right.
# - **Mini-batch SGD** with epochs and batches trains a 4,810-parameter network to
#   ~97% on the digits in seconds. Keras (lecture 09) does the same thing — with
#   automatic differentiation, better optimisers and far less code.
#
# ## Exercises
#
# 1. **Softmax + cross-entropy.** Show numerically (with `numerical_gradient`) that the
#    gradient of `cross_entropy(softmax(z), y)` with respect to the logits `z` of a
#    single example equals `softmax(z) − onehot(y)`.
# 2. **Weight decay.** Add an L2 penalty $\frac{\lambda}{2}\sum W^2$ (weights only, not
#    biases) to `MLP.loss` and the matching term $\lambda W$ to the gradients in a
#    subclass. Pass the gradient check with $\lambda = 0.1$.
# 3. **Momentum.** Write `train_momentum` where each step uses a velocity
#    $v \leftarrow \beta v - \eta \nabla L$, $\theta \leftarrow \theta + v$ with
#    $\beta = 0.9$. Compare the training loss after 5 epochs with plain SGD at the same
#    $\eta = 0.02$.
# 4. **Zero initialisation.** Initialise all weights of an `MLP([64, 16, 10])` to zero
#    and train it for a few epochs. What is the test accuracy, and why? (Look at the
#    hidden units' weights.)
# 5. **Batch size.** Train for 10 epochs with batch sizes 1, 32 and 512 (same learning
#    rate). Compare the final loss and the wall-clock time. Which would you pick?
#
# ---
#
# ## Solutions
#
# Try the exercises first — the solutions are below.

# %% [markdown]
# **Solution 1 — softmax + cross-entropy.**

# %%
z = rng.normal(size=(1, 5))
label = np.array([2])
num = numerical_gradient(lambda v: cross_entropy(softmax(v), label), z.copy())
analytic = softmax(z) - np.eye(5)[label]
print("numerical:", num.round(6), "\nanalytic: ", analytic.round(6))
assert relative_error(num, analytic) < 1e-7


# %% [markdown]
# **Solution 2 — weight decay.**

# %%
class DecayMLP(MLP):
    def __init__(self, layer_sizes, lam=0.1, seed=0):
        super().__init__(layer_sizes, seed)
        self.lam = lam

    def loss(self, X, y):
        return super().loss(X, y) + 0.5 * self.lam * sum(np.sum(W ** 2) for W, _ in self.params)

    def backward(self, probs, y):
        grads = super().backward(probs, y)
        return [[dW + self.lam * W, db] for (W, _), (dW, db) in zip(self.params, grads)]


decay_report = gradient_check(DecayMLP([5, 7, 4, 3], lam=0.1, seed=1), X_small, y_small)
print(f"worst relative error with weight decay: {max(decay_report.values()):.1e}")
assert max(decay_report.values()) < 1e-6


# %% [markdown]
# **Solution 3 — momentum.**

# %%
def train_momentum(net, X, y, epochs, batch_size, lr, beta=0.9, seed=0):
    r = np.random.default_rng(seed)
    velocity = [[np.zeros_like(W), np.zeros_like(b)] for W, b in net.params]
    for _ in range(epochs):
        order = r.permutation(len(X))
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            grads = net.backward(net.forward(X[idx]), y[idx])
            for (W, b), (vW, vb), (dW, db) in zip(net.params, velocity, grads):
                vW *= beta; vW -= lr * dW; W += vW
                vb *= beta; vb -= lr * db; b += vb
    return net.loss(X, y)


n_ep = 5 if not smoke else 1
plain = train(MLP([64, hidden_units, 10], seed=0), X_train, y_train, n_ep, batch_size, 0.02)["loss"][-1]
with_momentum = train_momentum(MLP([64, hidden_units, 10], seed=0), X_train, y_train, n_ep, batch_size, 0.02)
print(f"training loss after {n_ep} epochs — SGD: {plain:.4f}, SGD + momentum: {with_momentum:.4f}")

# %% [markdown]
# Momentum accumulates steps that keep pointing the same way, so with the same small
# learning rate it gets much further (about the effect of a 10× larger step, since
# $1/(1-\beta) = 10$), while damping the zig-zag of section 2.
#
# **Solution 4 — zero initialisation.**

# %%
zero_net = MLP([64, 16, 10])
for W, b in zero_net.params:
    W[...] = 0.0
train(zero_net, X_train, y_train, 5 if not smoke else 1, batch_size, learning_rate)
W1 = zero_net.params[0][0]
print(f"test accuracy: {np.mean(zero_net.predict(X_test) == y_test):.1%}")
print("largest weight in the first layer:", np.abs(W1).max())

# %% [markdown]
# With ReLU and all-zero weights every hidden unit outputs 0, so $\partial L/\partial
# W^{(1)} = 0$ forever: the first layer never moves and the output layer only learns
# the class frequencies (accuracy ≈ 10%). More generally, units that start identical
# get identical gradients and stay identical (**symmetry**); random initialisation
# breaks the symmetry. (With a non-zero constant they would learn — but all alike.)
#
# **Solution 5 — batch size.**

# %%
import time

n_ep = 10 if not smoke else 1
for bs in (1, 32, 512):
    start = time.perf_counter()
    h = train(MLP([64, hidden_units, 10], seed=0), X_train, y_train, n_ep, bs, lr=0.02)
    print(f"batch size {bs:>3}: final training loss {h['loss'][-1]:.4f}, {time.perf_counter() - start:.2f} s")

# %% [markdown]
# (We used a smaller $\eta = 0.02$ here: with batch size 1 each gradient comes from a
# single example, is very noisy, and $\eta = 0.1$ makes it diverge — try it.)
# With the same $\eta$, batch size 1 makes 32 times more steps per epoch than batch
# size 32, so it gets furthest *per epoch* — but each step is a tiny matrix product
# with a lot of Python overhead, so it is by far the slowest *per example* in wall-clock
# time. Batch size 512 makes only three steps per epoch and learns least in 10 epochs
# (it would need a larger learning rate or more epochs). The fair comparison is loss
# reached per second of computing, and there batch sizes of 32–256 are the usual
# compromise; on a GPU, larger batches use the hardware better (lecture 12 returns to
# this trade-off).
