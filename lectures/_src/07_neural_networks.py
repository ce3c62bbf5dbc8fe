# ---
# jupyter:
#   coursebench:
#     summary: "Perceptron and XOR, the MLP forward pass in NumPy, activation functions."
# ---

# %% [markdown]
# # Lecture 07 — Artificial neural networks (인공 신경망)
#
# Lectures 03–06 built models whose shape we chose by hand: a line, a tree, a kernel.
# A **neural network** learns its own features by stacking many very simple units.
# This lecture builds those units from nothing but NumPy — first one artificial neuron,
# then the perceptron and its famous failure on XOR, then a multi-layer network and its
# **forward pass** (순전파). Learning the weights is the topic of lecture 08; here we
# look at what a network *computes* once it has weights.
#
# ## What you will learn
#
# - what an **artificial neuron** (인공 뉴런) computes: a weighted sum of its inputs plus a
#   bias, passed through an activation function;
# - the **perceptron** (퍼셉트론) and its learning rule — and why one perceptron cannot
#   learn XOR;
# - the **multi-layer perceptron** (다층 퍼셉트론, MLP): layers, hidden units, and the
#   forward pass written as matrix products, with the shape of every array;
# - the common **activation functions** (활성화 함수) — step, sigmoid, tanh, ReLU,
#   softmax — and why a network without a non-linear activation is just a linear model;
# - that a trained network *is* its weights: we reproduce scikit-learn's predictions
#   with our own twenty-line forward pass.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from coursebench import datasets
from coursebench.notebook import save_fig, setup

setup(seed=42)

# %% tags=["parameters"]
# Parameters — papermill overrides these (CI runs with smoke=True: tiny sizes, same code).
smoke = False
n_moons = 600           # points in the two-moons data set
perceptron_epochs = 20  # passes over the training data for the perceptron
mlp_iterations = 1500   # training iterations for scikit-learn's MLP in section 7

# %%
if smoke:  # keep every step, make it tiny
    n_moons, perceptron_epochs, mlp_iterations = 150, 5, 50
rng = np.random.default_rng(0)


# %% [markdown]
# ## 1. From a biological neuron to an artificial one
#
# A biological **neuron** (뉴런, 신경세포) receives signals from thousands of others through
# its **synapses** (시냅스); if the combined stimulation is strong enough it *fires* and
# passes a signal on. Learning, in this picture, is changing how strongly each synapse
# counts.
#
# An **artificial neuron** keeps only that skeleton. It takes inputs
# $x_1, \dots, x_d$, multiplies each by a **weight** (가중치) $w_i$, adds a **bias**
# (편향) $b$, and passes the sum through an **activation function** (활성화 함수)
# $\varphi$:
#
# $$ z = \sum_{i=1}^{d} w_i x_i + b = \mathbf{w}\cdot\mathbf{x} + b, \qquad a = \varphi(z). $$
#
# $z$ is called the **pre-activation** (or logit), $a$ the **activation** (the neuron's
# output). With the **step function** $\varphi(z) = 1$ if $z \ge 0$ else $0$, the neuron
# answers a yes/no question: *is $\mathbf{x}$ on the positive side of the line (plane)
# $\mathbf{w}\cdot\mathbf{x} + b = 0$?*
#
# Choosing the weights by hand already gives us logic gates:

# %%
def step(z):
    return (np.asarray(z) >= 0).astype(float)


def neuron(x, w, b, activation=step):
    # One artificial neuron: activation(w · x + b).
    return activation(np.dot(x, w) + b)


X_bool = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
gates = {            # weights,      bias
    "AND":  (np.array([1.0, 1.0]), -1.5),
    "OR":   (np.array([1.0, 1.0]), -0.5),
    "NAND": (np.array([-1.0, -1.0]), 1.5),
}
print("x1 x2 | " + "  ".join(f"{g:>4}" for g in gates))
for x in X_bool:
    outs = [int(neuron(x, w, b)) for w, b in gates.values()]
    print(f" {int(x[0])}  {int(x[1])} | " + "  ".join(f"{o:>4}" for o in outs))


# %% [markdown]
# Each gate is a straight line through the unit square: AND puts only $(1,1)$ on the
# positive side, OR everything except $(0,0)$. The weights say *how much each input
# matters*, the bias says *how easily the neuron fires*.
#
# ## 2. The perceptron (퍼셉트론) and its learning rule
#
# Frank Rosenblatt's **perceptron** (1958) is that neuron plus a rule for finding the
# weights from labelled examples. For each training example $(\mathbf{x}, y)$ with
# $y \in \{0, 1\}$ it predicts $\hat y = \text{step}(\mathbf{w}\cdot\mathbf{x} + b)$ and
# nudges the weights only when it is wrong:
#
# $$ \mathbf{w} \leftarrow \mathbf{w} + \eta\,(y - \hat y)\,\mathbf{x}, \qquad b \leftarrow b + \eta\,(y - \hat y). $$
#
# $\eta$ is the **learning rate** (학습률). If the classes are **linearly separable**
# (선형 분리 가능) — some line separates them — the **perceptron convergence theorem**
# guarantees that this rule stops making mistakes after a finite number of updates.
#
# Let us train one on two iris species using two measurements.

# %%
class Perceptron:
    # Rosenblatt's perceptron for labels 0/1.

    def __init__(self, learning_rate=0.1, epochs=20, seed=0):
        self.learning_rate, self.epochs, self.seed = learning_rate, epochs, seed

    def fit(self, X, y):
        rng = np.random.default_rng(self.seed)
        self.w = rng.normal(0, 0.01, X.shape[1])
        self.b = 0.0
        self.errors_ = []  # mistakes per epoch: the learning curve
        for _ in range(self.epochs):
            errors = 0
            for i in rng.permutation(len(X)):
                update = self.learning_rate * (y[i] - self.predict(X[i]))
                self.w += update * X[i]
                self.b += update
                errors += int(update != 0)
            self.errors_.append(errors)
        return self

    def predict(self, X):
        return step(X @ self.w + self.b)


iris = datasets.load("iris")
print(iris.message)
keep = iris.y < 2                                # setosa (0) and versicolor (1)
X_iris = iris.X[keep][:, [0, 2]]                 # sepal length, petal length (cm)
y_iris = iris.y[keep]
X_iris_std = (X_iris - X_iris.mean(0)) / X_iris.std(0)   # standardise (lecture 04)

perceptron = Perceptron(learning_rate=0.1, epochs=perceptron_epochs).fit(X_iris_std, y_iris)
iris_accuracy = (perceptron.predict(X_iris_std) == y_iris).mean()
print("mistakes per epoch:", perceptron.errors_)
print(f"training accuracy: {iris_accuracy:.1%}   w = {perceptron.w}, b = {perceptron.b:.3f}")


# %%
def plot_boundary(ax, predict, X, y, title, resolution=200, pad=0.5):
    # Colour the plane by predict(points) and scatter the data on top.
    x0 = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, resolution)
    x1 = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, resolution)
    g0, g1 = np.meshgrid(x0, x1)
    Z = predict(np.c_[g0.ravel(), g1.ravel()]).reshape(g0.shape)
    ax.contourf(g0, g1, Z, levels=20, cmap="RdBu", alpha=0.35)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu", edgecolor="k", s=18)
    ax.set_title(title)


fig, axes = plt.subplots(1, 2, figsize=(11, 4))
plot_boundary(axes[0], perceptron.predict, X_iris_std, y_iris,
              "perceptron on iris (setosa vs versicolor)")
axes[0].set_xlabel("sepal length (standardised)")
axes[0].set_ylabel("petal length (standardised)")
axes[1].plot(range(1, len(perceptron.errors_) + 1), perceptron.errors_, marker="o")
axes[1].set_xlabel("epoch")
axes[1].set_ylabel("mistakes (updates) in the epoch")
axes[1].set_title("the perceptron stops changing once it is right")
save_fig(fig, "07_perceptron_iris")
plt.show()

# %%
if not smoke:  # the promise of this section: separable data → no mistakes left
    assert iris_accuracy == 1.0, iris_accuracy
    assert perceptron.errors_[-1] == 0

# %% [markdown]
# ## 3. Where one perceptron fails: XOR
#
# **XOR** ("exclusive or") is 1 when exactly one input is 1. Plot the four points and
# try to draw one straight line that puts $(0,1)$ and $(1,0)$ on one side and
# $(0,0)$, $(1,1)$ on the other: it cannot be done. XOR is **not linearly separable**,
# so no choice of weights lets a single perceptron get all four right — at best three.
# Minsky and Papert's 1969 book made this point so forcefully that funding for neural
# networks dried up for a decade (the first "AI winter").

# %%
y_xor = np.array([0, 1, 1, 0])
xor_perceptron = Perceptron(learning_rate=0.1, epochs=100).fit(X_bool, y_xor)
xor_accuracy = (xor_perceptron.predict(X_bool) == y_xor).mean()
print("mistakes in the last 10 epochs:", xor_perceptron.errors_[-10:])
print(f"accuracy on XOR after 100 epochs: {xor_accuracy:.0%}")
assert xor_accuracy < 1.0   # always true: no line separates XOR

# %% [markdown]
# The perceptron never settles: every update that fixes one point breaks another.
#
# ## 4. The multi-layer perceptron (다층 퍼셉트론)
#
# The fix is to put neurons *in front of* the output neuron. Their outputs are new
# features, and in the new features the problem can become linearly separable.
# XOR is "OR but not AND", so:
#
# - hidden neuron $h_1$ = OR$(x_1, x_2)$,
# - hidden neuron $h_2$ = NAND$(x_1, x_2)$,
# - output = AND$(h_1, h_2)$.
#
# The neurons between input and output form a **hidden layer** (은닉층); the inputs
# are the **input layer** (입력층) and the last neuron(s) the **output layer** (출력층).
# Every neuron of one layer is connected to every neuron of the next — a **fully
# connected** or **dense layer** (완전 연결층). A network of such layers is a
# **multi-layer perceptron** (MLP).

# %%
W_hidden = np.array([[1.0, -1.0],     # column 0: OR, column 1: NAND
                     [1.0, -1.0]])
b_hidden = np.array([-0.5, 1.5])
w_out, b_out = np.array([1.0, 1.0]), -1.5   # AND

H = step(X_bool @ W_hidden + b_hidden)       # all four examples at once
xor_out = step(H @ w_out + b_out)
for x, h, o in zip(X_bool, H, xor_out):
    print(f"x = {x.astype(int)}  →  hidden h = {h.astype(int)}  →  output {int(o)}")
assert (xor_out == y_xor).all()

fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for ax, pts, labels, title in [
    (axes[0], X_bool, ("x1", "x2"), "input space: not separable"),
    (axes[1], H, ("h1 = OR", "h2 = NAND"), "hidden space: one line separates"),
]:
    ax.scatter(pts[:, 0], pts[:, 1], c=y_xor, cmap="RdBu", s=250, edgecolor="k")
    ax.set_xlim(-0.3, 1.3); ax.set_ylim(-0.3, 1.3)
    ax.set_xlabel(labels[0]); ax.set_ylabel(labels[1]); ax.set_title(title)
axes[1].plot([-0.3, 1.3], [1.8, 0.2], "k--", label="h1 + h2 = 1.5 (the AND neuron)")
axes[1].legend(loc="lower left")
save_fig(fig, "07_xor_hidden_space")
plt.show()


# %% [markdown]
# The right panel is the whole idea of deep learning in miniature: **hidden layers
# transform the data into a representation where the final decision is easy**. (In the
# hidden space $(0,1)$ and $(1,0)$ land on the same point.) Here we chose the hidden
# weights by hand; in lecture 08 the network will find such weights itself.
#
# ## 5. The forward pass (순전파) in NumPy
#
# Computing the output of a network from its input is the **forward pass**. For one
# dense layer and a whole **batch** (배치) of $n$ examples at once, everything is one
# matrix product:
#
# $$ \underbrace{Z}_{n\times d_\text{out}} = \underbrace{X}_{n\times d_\text{in}}\;\underbrace{W}_{d_\text{in}\times d_\text{out}} + \underbrace{\mathbf{b}}_{d_\text{out}}, \qquad A = \varphi(Z). $$
#
# Row $i$ of $X$ is one example, column $j$ of $W$ holds the weights of neuron $j$, and
# NumPy **broadcasting** adds $\mathbf{b}$ to every row. A layer with $d_\text{in}$
# inputs and $d_\text{out}$ neurons has $d_\text{in} \cdot d_\text{out} + d_\text{out}$
# **parameters** (파라미터). The output of one layer is the input of the next.
#
# For classification into $K$ classes the last layer has $K$ neurons and a
# **softmax** (소프트맥스) turns their values into probabilities that sum to 1:
#
# $$ \text{softmax}(\mathbf{z})_k = \frac{e^{z_k}}{\sum_{j} e^{z_j}}. $$

# %%
def relu(z):
    return np.maximum(0.0, z)


def softmax(z):
    z = z - z.max(axis=-1, keepdims=True)   # same result, no overflow (exercise 3)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def init_params(layer_sizes, rng):
    # Random weights scaled by 1/sqrt(fan-in) (lecture 10 explains why), zero biases.
    return [(rng.normal(0.0, 1.0 / np.sqrt(d_in), size=(d_in, d_out)), np.zeros(d_out))
            for d_in, d_out in zip(layer_sizes[:-1], layer_sizes[1:])]


def forward(X, params, activation=relu, verbose=False):
    # Forward pass of an MLP: hidden layers use `activation`, the output layer softmax.
    A = X
    for i, (W, b) in enumerate(params):
        last = i == len(params) - 1
        A_in = A
        A = softmax(A_in @ W + b) if last else activation(A_in @ W + b)
        if verbose:
            name = "softmax" if last else activation.__name__
            print(f"layer {i + 1}: A{A_in.shape} @ W{W.shape} + b{b.shape} → {name} → A{A.shape}")
    return A


params = init_params([4, 8, 8, 3], rng)        # iris: 4 features → 8 → 8 → 3 species
batch = iris.X[[0, 60, 120, 10, 70]]
probs = forward(batch, params, verbose=True)
print("\nclass probabilities of an untrained network (rows sum to 1):\n", probs)
print("row sums:", probs.sum(axis=1))

n_params = sum(W.size + b.size for W, b in params)
print(f"\nparameters: {n_params} = (4·8+8) + (8·8+8) + (8·3+3)")
assert n_params == (4 * 8 + 8) + (8 * 8 + 8) + (8 * 3 + 3)

# %% [markdown]
# The untrained network's probabilities are close to uniform and mean nothing yet —
# the weights are random. Notice that nothing in `forward` depends on how many
# examples the batch has. That is why we never loop over examples: a matrix product
# runs in optimised, compiled code (and on a GPU, in parallel). How much faster is it?

# %%
X_many = rng.normal(size=(20_000 if not smoke else 2_000, 4))

start = time.perf_counter()
looped = np.array([forward(x[None, :], params)[0] for x in X_many])
t_loop = time.perf_counter() - start

start = time.perf_counter()
batched = forward(X_many, params)
t_batch = time.perf_counter() - start

assert np.allclose(looped, batched)
print(f"one example at a time: {t_loop * 1e3:8.1f} ms")
print(f"one batched pass:      {t_batch * 1e3:8.1f} ms   ({t_loop / t_batch:.0f}× faster, same numbers)")


# %% [markdown]
# ## 6. Activation functions (활성화 함수)
#
# The step function is fine for a hand-built gate, but its slope is zero everywhere
# (and undefined at 0), which gives a learning algorithm no hint about which way to
# move the weights (lecture 08). Smooth or piecewise-linear functions are used instead:
#
# | activation | formula | range | typical use |
# |---|---|---|---|
# | step | $1$ if $z\ge0$ else $0$ | $\{0,1\}$ | the historical perceptron |
# | **sigmoid** (시그모이드) | $\sigma(z)=1/(1+e^{-z})$ | $(0,1)$ | output for yes/no (binary) problems |
# | **tanh** (쌍곡탄젠트) | $\tanh z$ | $(-1,1)$ | hidden layers of older / recurrent networks |
# | **ReLU** (렐루) | $\max(0,z)$ | $[0,\infty)$ | the default for hidden layers |
# | leaky ReLU | $\max(\alpha z, z)$ | $\mathbb{R}$ | ReLU that never goes completely "dead" |
# | softmax | $e^{z_k}/\sum_j e^{z_j}$ | probabilities | output for $K$ classes |
#
# The lower row of the figure shows their **derivatives** (도함수) — what learning will
# use. Sigmoid and tanh are flat (slope ≈ 0) for large $|z|$: a neuron there learns
# slowly (*saturation*, 포화). ReLU's slope is exactly 1 for every positive input,
# which is a big part of why deep networks became trainable (lecture 10).

# %%
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def leaky_relu(z, alpha=0.1):
    return np.where(z > 0, z, alpha * z)


activations = {"step": step, "sigmoid": sigmoid, "tanh": np.tanh, "ReLU": relu, "leaky ReLU": leaky_relu}
z = np.linspace(-5, 5, 1001)
fig, axes = plt.subplots(2, len(activations), figsize=(15, 5.5), sharex=True)
for col, (name, f) in enumerate(activations.items()):
    a = f(z)
    slope = np.gradient(a, z)            # numerical derivative (lecture 08)
    if name == "step":
        slope[np.abs(z) < 0.02] = np.nan   # the jump at 0 has no slope
    axes[0, col].plot(z, a, color="C0")
    axes[0, col].set_title(name)
    axes[1, col].plot(z, slope, color="C1")
    axes[1, col].set_xlabel("z")
axes[0, 0].set_ylabel("activation φ(z)")
axes[1, 0].set_ylabel("derivative φ'(z)")
save_fig(fig, "07_activations")
plt.show()

# %% [markdown]
# ### Why the activation must be non-linear
#
# Without an activation (or with a linear one) two layers collapse into one:
# $(XW_1 + b_1)W_2 + b_2 = X(W_1W_2) + (b_1W_2 + b_2)$ — again a single linear layer.
# However many layers you stack, a network of linear layers can only draw straight
# lines. Let us check this numerically, then look at what random networks with
# different activations can draw.

# %%
W1, b1 = rng.normal(size=(2, 16)), rng.normal(size=16)
W2, b2 = rng.normal(size=(16, 1)), rng.normal(size=1)
X_test_points = rng.normal(size=(5, 2))
two_layers = (X_test_points @ W1 + b1) @ W2 + b2
one_layer = X_test_points @ (W1 @ W2) + (b1 @ W2 + b2)
print("two linear layers == one linear layer:", np.allclose(two_layers, one_layer))


def identity(z):
    return z


def random_net_output(points, activation, seed=3, width=32, depth=3):
    # Output of a random 2 → width → … → 1 network (no training).
    r = np.random.default_rng(seed)
    A, d_in = points, 2
    for _ in range(depth):
        W = r.normal(0, 2.0 / np.sqrt(d_in), size=(d_in, width))
        A, d_in = activation(A @ W + r.normal(0, 1.0, width)), width
    return A @ r.normal(size=(width, 1))


grid = np.linspace(-3, 3, 250)
g0, g1 = np.meshgrid(grid, grid)
pts = np.c_[g0.ravel(), g1.ravel()]
fig, axes = plt.subplots(1, 3, figsize=(13, 4))
for ax, (name, f) in zip(axes, {"no activation (linear)": identity, "tanh": np.tanh, "ReLU": relu}.items()):
    out = random_net_output(pts, f).reshape(g0.shape)
    ax.contourf(g0, g1, out > np.median(out), cmap="RdBu", alpha=0.6)
    ax.contour(g0, g1, out, levels=12, colors="k", linewidths=0.4, alpha=0.5)
    ax.set_title(f"random net: {name}")
    ax.set_aspect("equal")
save_fig(fig, "07_random_networks")
plt.show()

# %% [markdown]
# Same architecture, same kind of random weights: the linear network can only split the
# plane with a straight line, the tanh network draws smooth curves and the ReLU network
# draws shapes made of straight pieces (each ReLU adds a "kink"). The **universal
# approximation theorem** (보편 근사 정리) says that with enough hidden units a single
# hidden layer with a non-linear activation can approximate any continuous function as
# closely as we like — the hard part is *finding* the weights, which is learning.
#
# ## 7. A trained network is just its weights
#
# To close the loop, we let scikit-learn train an MLP on the two-moons data (no straight
# line separates the moons) and then make predictions with **our own** `forward` using
# scikit-learn's learned weights (`coefs_`, `intercepts_`). If our forward pass is
# right, the two must agree exactly. We also compare with our perceptron, which can
# only draw a line.

# %%
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

moons = datasets.load("moons", n_samples=n_moons)
print(moons.message)
Xm_train, Xm_test, ym_train, ym_test = moons.split(test_size=0.3)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)   # smoke mode stops early on purpose
    mlp = MLPClassifier(hidden_layer_sizes=(16, 16), activation="relu", max_iter=mlp_iterations,
                        random_state=0).fit(Xm_train, ym_train)

# scikit-learn stores W (d_in × d_out) and b per layer — exactly our `params` format.
sk_params = list(zip(mlp.coefs_, mlp.intercepts_))
print("layer shapes:", [W.shape for W, _ in sk_params])


def our_predict_proba(X):
    # sklearn uses one logistic output unit for 2 classes: p(class 1) = sigmoid(z).
    A = X
    for W, b in sk_params[:-1]:
        A = relu(A @ W + b)
    W, b = sk_params[-1]
    p1 = sigmoid(A @ W + b)[:, 0]
    return np.c_[1 - p1, p1]


ours = our_predict_proba(Xm_test)
print("our forward pass == scikit-learn's predict_proba:", np.allclose(ours, mlp.predict_proba(Xm_test)))
assert np.allclose(ours, mlp.predict_proba(Xm_test))

moon_perceptron = Perceptron(epochs=perceptron_epochs).fit(Xm_train, ym_train)
acc_perceptron = (moon_perceptron.predict(Xm_test) == ym_test).mean()
acc_mlp = (ours.argmax(1) == ym_test).mean()
print(f"test accuracy — perceptron: {acc_perceptron:.1%}   MLP (2 hidden layers of 16): {acc_mlp:.1%}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
plot_boundary(axes[0], moon_perceptron.predict, Xm_test, ym_test,
              f"perceptron: a line ({acc_perceptron:.0%} test accuracy)")
plot_boundary(axes[1], lambda P: our_predict_proba(P)[:, 1], Xm_test, ym_test,
              f"MLP, our forward pass ({acc_mlp:.0%} test accuracy)")
save_fig(fig, "07_moons_perceptron_vs_mlp")
plt.show()

# %%
if not smoke:  # what this section promises, checked in the full run
    assert acc_mlp >= 0.90, acc_mlp
    assert acc_mlp >= acc_perceptron + 0.03, (acc_mlp, acc_perceptron)

# %% [markdown]
# On the full run the MLP reaches at least 90% test accuracy on the (noisy) moons and
# clearly beats the perceptron, which is stuck with a straight line.
#
# ## Summary
#
# - An artificial neuron computes $\varphi(\mathbf{w}\cdot\mathbf{x}+b)$; weights say how
#   much each input matters, the bias how easily the neuron fires.
# - The perceptron learns a line by nudging weights after each mistake; it cannot
#   solve problems that are not linearly separable, such as XOR.
# - A hidden layer transforms the inputs into new features in which the problem becomes
#   separable. A dense layer on a batch is `A = φ(X @ W + b)`, with
#   $d_\text{in}d_\text{out}+d_\text{out}$ parameters.
# - Without non-linear activations, stacked layers collapse into one linear model.
#   ReLU is the default for hidden layers; sigmoid/softmax turn the output into
#   probabilities.
# - Prediction with a trained network is only the forward pass. **Next lecture:** how
#   the weights are learned — loss functions, gradient descent and backpropagation.
#
# ## Exercises
#
# 1. **OR and NAND by learning.** Train the `Perceptron` class on the OR and the NAND
#    truth tables (`X_bool`). After how many epochs does it stop making mistakes? Print
#    the learned weights and compare them with the hand-chosen ones in section 1.
# 2. **Counting parameters.** An MLP for 28×28 images has layers 784 → 128 → 64 → 10.
#    Compute its number of parameters with the formula, then check with `init_params`.
#    Which layer holds most of them?
# 3. **A softmax that overflows.** Compute softmax of `[1000, 1001, 1002]` *without*
#    subtracting the maximum. What goes wrong and why? Show that subtracting any
#    constant from all logits leaves the softmax unchanged.
# 4. **XNOR by hand.** XNOR is 1 when both inputs are equal. Choose weights for a
#    2 → 2 → 1 network with step activations that computes it, and check all four rows.
# 5. **Depth versus width.** Use `random_net_output` with ReLU and `depth` 1, 2, 4, 8
#    (same `width`). Plot the four decision regions. What changes as the network gets
#    deeper?
#
# ---
#
# ## Solutions
#
# Try the exercises first — the solutions are below.

# %% [markdown]
# **Solution 1 — OR and NAND by learning.**

# %%
for name, target in {"OR": np.array([0, 1, 1, 1]), "NAND": np.array([1, 1, 1, 0])}.items():
    p = Perceptron(learning_rate=0.1, epochs=30).fit(X_bool, target)
    first_clean = next((i + 1 for i, e in enumerate(p.errors_) if e == 0), None)
    print(f"{name:>4}: first epoch without mistakes = {first_clean}, w = {p.w}, b = {p.b:.2f},"
          f" predictions = {p.predict(X_bool).astype(int)}")

# %% [markdown]
# Both converge within a few epochs (they are linearly separable). The learned weights
# differ from ours — any line that separates the points is a solution — but they have
# the same signs: positive weights with a negative bias for OR, negative weights with a
# positive bias for NAND.
#
# **Solution 2 — counting parameters.**

# %%
sizes = [784, 128, 64, 10]
by_formula = [d_in * d_out + d_out for d_in, d_out in zip(sizes[:-1], sizes[1:])]
by_code = [W.size + b.size for W, b in init_params(sizes, rng)]
print("per layer:", by_formula, " total:", sum(by_formula))
assert by_formula == by_code

# %% [markdown]
# 100,480 of the 109,386 parameters (92%) sit in the first layer: every pixel is wired
# to every hidden unit. Lecture 11's convolutions exist largely to avoid this.
#
# **Solution 3 — a softmax that overflows.**

# %%
logits = np.array([1000.0, 1001.0, 1002.0])
with np.errstate(over="ignore", invalid="ignore"):
    naive = np.exp(logits) / np.exp(logits).sum()
print("naive :", naive, "  (exp(1000) overflows to inf, and inf/inf = nan)")
print("stable:", softmax(logits))
print("shift-invariant:", np.allclose(softmax(logits), softmax(logits - 7.3)))

# %% [markdown]
# $e^{z_k - c} / \sum_j e^{z_j - c} = e^{-c}e^{z_k} / (e^{-c}\sum_j e^{z_j})$, so the
# constant cancels; choosing $c = \max_j z_j$ makes the largest exponent $e^0 = 1$.
#
# **Solution 4 — XNOR by hand.** XNOR = OR(AND, NOR): one hidden unit detects (1,1),
# the other (0,0).

# %%
W_h = np.array([[1.0, -1.0], [1.0, -1.0]])   # AND, NOR
b_h = np.array([-1.5, 0.5])
w_o, b_o = np.array([1.0, 1.0]), -0.5        # OR
xnor = step(step(X_bool @ W_h + b_h) @ w_o + b_o)
print("XNOR:", xnor.astype(int))
assert (xnor == np.array([1, 0, 0, 1])).all()

# %% [markdown]
# **Solution 5 — depth versus width.**

# %%
fig, axes = plt.subplots(1, 4, figsize=(16, 4))
for ax, depth in zip(axes, [1, 2, 4, 8]):
    out = random_net_output(pts, relu, depth=depth).reshape(g0.shape)
    ax.contourf(g0, g1, out > np.median(out), cmap="RdBu", alpha=0.6)
    ax.set_title(f"ReLU, depth {depth}")
    ax.set_aspect("equal")
plt.show()

# %% [markdown]
# Each extra layer folds the regions of the previous one again, so the number of
# linear pieces — and the complexity of the boundary — grows quickly with depth, much
# faster than by adding the same number of units to one wide layer. That is one reason
# *deep* networks (lecture 10) are so expressive.
