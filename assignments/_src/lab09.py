# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Lab 09 — Your first Keras networks (케라스 다층 신경망)
#
# Follows lecture **09 — Keras: multi-layer networks**. About 60 minutes.
#
# **In this lab you will**
#
# - build the same multi-layer perceptron with the Sequential API (순차 API) and the functional API (함수형 API)
# - compile it with an optimiser (옵티마이저), a loss (손실 함수) and a metric, and count its parameters
# - train it with `fit`, read the history, evaluate on a test set and turn probabilities into classes
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
import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(0)                  # same weights, same shuffling, every run
X, y = load_digits(return_X_y=True)             # 1797 handwritten digits, 8×8 pixels, values 0..16
X = X.astype("float32") / 16.0                  # scale the pixels to 0..1
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
print(X_train.shape, X_test.shape)


# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 1 — Sequential (2 points)
#
# Write `build_sequential(n_inputs, n_classes)` returning a **compiled** `keras.Sequential`:
# `keras.Input(shape=(n_inputs,))` → `Dense(64, activation="relu")` → `Dense(n_classes, activation="softmax")`,
# compiled with `optimizer=keras.optimizers.Adam(learning_rate=0.005)`,
# `loss="sparse_categorical_crossentropy"` (the labels are integers 0…9, not one-hot vectors) and
# `metrics=["accuracy"]`.
#
# Before you run the test, work out by hand how many parameters (weights + biases) it has for
# 64 inputs and 10 classes.

# %% nbgrader={"grade": false, "grade_id": "sequential", "locked": false, "schema_version": 3, "solution": true, "task": false}
def build_sequential(n_inputs, n_classes):
    ### BEGIN SOLUTION
    model = keras.Sequential([
        keras.Input(shape=(n_inputs,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(n_classes, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.005),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_sequential", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
model = build_sequential(64, 10)
model.summary()
assert model.output_shape == (None, 10)
assert model.count_params() == 64 * 64 + 64 + 64 * 10 + 10, "4160 + 650 parameters"
### BEGIN HIDDEN TESTS
assert model.layers[-1].activation.__name__ == "softmax", "the output layer needs a softmax"
assert model.layers[0].activation.__name__ == "relu"
assert model.loss == "sparse_categorical_crossentropy"
assert np.isclose(float(model.optimizer.learning_rate), 0.005)
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task2_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 2 — the same network, functional (2 points)
#
# Write `build_functional(n_inputs, n_classes)`: the same architecture and compile settings, but
# written with the functional API — `inputs = keras.Input(...)`, call each layer on the previous
# tensor, and `keras.Model(inputs, outputs)`. The functional API is what you need as soon as a
# network has several inputs, outputs or branches.

# %% nbgrader={"grade": false, "grade_id": "functional", "locked": false, "schema_version": 3, "solution": true, "task": false}
def build_functional(n_inputs, n_classes):
    ### BEGIN SOLUTION
    inputs = keras.Input(shape=(n_inputs,))
    hidden = keras.layers.Dense(64, activation="relu")(inputs)
    outputs = keras.layers.Dense(n_classes, activation="softmax")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.005),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_functional", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
fmodel = build_functional(64, 10)
assert isinstance(fmodel, keras.Model) and not isinstance(fmodel, keras.Sequential), "use keras.Model(inputs, outputs)"
assert fmodel.count_params() == 4810
### BEGIN HIDDEN TESTS
assert fmodel.output_shape == (None, 10)
assert fmodel.layers[-1].activation.__name__ == "softmax"
assert fmodel.loss == "sparse_categorical_crossentropy"
assert build_functional(20, 3).count_params() == 20 * 64 + 64 + 64 * 3 + 3
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task3_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 3 — fit and evaluate (2 points)
#
# 1. Build a fresh model with `build_sequential`, and train it:
#    `history = model.fit(X_train, y_train, validation_split=0.2, epochs=15, batch_size=32, verbose=0)`.
# 2. Set `test_loss, test_acc` from `model.evaluate(X_test, y_test, verbose=0)`.

# %% nbgrader={"grade": false, "grade_id": "train", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
model = build_sequential(64, 10)
history = model.fit(X_train, y_train, validation_split=0.2, epochs=15, batch_size=32, verbose=0)
test_loss, test_acc = model.evaluate(X_test, y_test, verbose=0)
### END SOLUTION
print(f"final val_accuracy {history.history['val_accuracy'][-1]:.3f}, test accuracy {test_acc:.3f}")

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_train", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert len(history.history["loss"]) == 15 and "val_accuracy" in history.history
assert history.history["loss"][-1] < history.history["loss"][0]
assert test_acc > 0.9, f"a 64-unit MLP should reach more than 90 % on the digits, got {test_acc:.3f}"
### BEGIN HIDDEN TESTS
assert len(history.history["val_loss"]) == 15
assert np.isclose(model.evaluate(X_test, y_test, verbose=0)[1], test_acc)
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task4_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 4 — from probabilities to classes (2 points)
#
# Write `predict_classes(model, X)`: the predicted class of every row — the `argmax` of the
# predicted probabilities **along each row** — as an integer array of length `len(X)`.

# %% nbgrader={"grade": false, "grade_id": "predict", "locked": false, "schema_version": 3, "solution": true, "task": false}
def predict_classes(model, X):
    ### BEGIN SOLUTION
    return np.argmax(model.predict(X, verbose=0), axis=1)
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_predict", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
pred = predict_classes(model, X_test[:5])
print(pred, y_test[:5])
assert len(pred) == 5, "one class per row"
### BEGIN HIDDEN TESTS
pred = predict_classes(model, X_test)
assert pred.shape == (len(X_test),)
assert np.isclose(np.mean(pred == y_test), test_acc, atol=1e-6)
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "q1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Question (2 points, graded by hand)
#
# In three or four sentences: why does this network end in a 10-unit `softmax` with
# `sparse_categorical_crossentropy`? What would you change (output layer and loss) if the labels
# were one-hot vectors, and what if the task had only two classes?

# %% [markdown] nbgrader={"grade": true, "grade_id": "q1_softmax_loss", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# With 10 mutually exclusive classes we want a probability distribution over them: softmax turns the
# 10 scores into non-negative numbers that sum to 1, and cross-entropy punishes a low probability on
# the true class. The "sparse" variant takes integer labels (0…9) directly; with one-hot label
# vectors the same model uses `categorical_crossentropy`. For two classes one unit with a sigmoid
# (the probability of class 1) and `binary_crossentropy` is enough — equivalent to a 2-unit softmax.

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "checklist", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit ✔
#
# 1. Restart the kernel and run all cells: no errors, every visible test passes.
# 2. No `raise NotImplementedError()` left, every "YOUR ANSWER HERE" replaced.
# 3. Nothing slow left behind (a search over a huge grid, thousands of epochs): the grader
#    stops notebooks that run too long, and a stopped notebook scores only the tests that
#    finished.
