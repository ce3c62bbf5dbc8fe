# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Lab 10 — Training deep networks (심층 신경망 학습)
#
# Follows lecture **10 — Keras: deep networks**. About 60 minutes.
#
# **In this lab you will**
#
# - build a deeper network with He initialisation, batch normalisation (배치 정규화) and dropout (드롭아웃)
# - see what dropout does in training and at inference
# - train with an optimiser (옵티마이저) you choose and callbacks (콜백): early stopping (조기 종료) and learning-rate reduction
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

keras.utils.set_random_seed(0)
X, y = load_digits(return_X_y=True)
X = X.astype("float32") / 16.0
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
X_tr, X_val, y_tr, y_val = train_test_split(X_train, y_train, test_size=0.2, stratify=y_train, random_state=0)


# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 1 — what dropout does (2 points)
#
# Write `dropout_demo(rate, training)`: apply `keras.layers.Dropout(rate, seed=0)` to a
# `np.ones((1000, 100), dtype="float32")` array, calling the layer with `training=training`, and
# return the result as a NumPy array (`keras.ops.convert_to_numpy`).
#
# Look at what comes out for `training=True` and for `training=False`: which fraction is zero, and
# what value do the surviving entries have? (Keras uses *inverted* dropout.)

# %% nbgrader={"grade": false, "grade_id": "dropout", "locked": false, "schema_version": 3, "solution": true, "task": false}
def dropout_demo(rate, training):
    ### BEGIN SOLUTION
    layer = keras.layers.Dropout(rate, seed=0)
    out = layer(np.ones((1000, 100), dtype="float32"), training=training)
    return keras.ops.convert_to_numpy(out)
    ### END SOLUTION

out = dropout_demo(0.3, training=True)
print("zeros:", np.mean(out == 0), " surviving values:", np.unique(out[out != 0]))

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_dropout", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
train_out = dropout_demo(0.3, training=True)
assert train_out.shape == (1000, 100)
assert abs(np.mean(train_out == 0) - 0.3) < 0.02, "about 30 % of the units are dropped in training"
### BEGIN HIDDEN TESTS
assert np.allclose(train_out[train_out != 0], 1 / 0.7), "survivors are scaled by 1 / (1 - rate)"
assert np.array_equal(dropout_demo(0.3, training=False), np.ones((1000, 100))), "at inference dropout does nothing"
assert abs(np.mean(dropout_demo(0.5, training=True) == 0) - 0.5) < 0.02
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task2_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 2 — a deep network (3 points)
#
# Write `build_deep(n_inputs, n_classes, hidden=(128, 64, 32), dropout=0.2, batchnorm=True)` returning
# an **uncompiled** `keras.Sequential`. After `keras.Input(shape=(n_inputs,))`, for every size in
# `hidden`:
#
# - `Dense(size, kernel_initializer="he_normal", use_bias=not batchnorm)` — no activation yet
#   (batch norm has its own shift, so the bias would be redundant);
# - `BatchNormalization()` if `batchnorm`;
# - `Activation("relu")`;
# - `Dropout(dropout)` if `dropout > 0`;
#
# and finally `Dense(n_classes, activation="softmax")`.

# %% nbgrader={"grade": false, "grade_id": "deep", "locked": false, "schema_version": 3, "solution": true, "task": false}
def build_deep(n_inputs, n_classes, hidden=(128, 64, 32), dropout=0.2, batchnorm=True):
    ### BEGIN SOLUTION
    layers = [keras.Input(shape=(n_inputs,))]
    for size in hidden:
        layers.append(keras.layers.Dense(size, kernel_initializer="he_normal", use_bias=not batchnorm))
        if batchnorm:
            layers.append(keras.layers.BatchNormalization())
        layers.append(keras.layers.Activation("relu"))
        if dropout > 0:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(n_classes, activation="softmax"))
    return keras.Sequential(layers)
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_deep", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
deep = build_deep(64, 10)
kinds = [type(layer).__name__ for layer in deep.layers]
print(kinds)
assert kinds.count("BatchNormalization") == 3 and kinds.count("Dropout") == 3
assert deep.output_shape == (None, 10)
### BEGIN HIDDEN TESTS
assert kinds[:4] == ["Dense", "BatchNormalization", "Activation", "Dropout"], "Dense → BN → ReLU → Dropout"
assert isinstance(deep.layers[0].kernel_initializer, keras.initializers.HeNormal)
assert not deep.layers[0].use_bias
plain = build_deep(64, 10, hidden=(16,), dropout=0.0, batchnorm=False)
assert [type(layer).__name__ for layer in plain.layers] == ["Dense", "Activation", "Dense"]
assert plain.count_params() == 64 * 16 + 16 + 16 * 10 + 10
assert deep.layers[3].rate == 0.2
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task3_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 3 — optimiser and callbacks, then train (3 points)
#
# 1. `make_callbacks()`: return a list with
#    `keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)` and
#    `keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2)`.
# 2. Build `model = build_deep(64, 10)`, compile it with `keras.optimizers.Adam(learning_rate=0.003)`,
#    `"sparse_categorical_crossentropy"` and `["accuracy"]`, and train it on `X_tr, y_tr` with
#    `validation_data=(X_val, y_val)`, `epochs=25`, `batch_size=64`, your callbacks and `verbose=0`;
#    keep the result in `history`.
# 3. `test_acc`: the accuracy on `X_test, y_test`.

# %% nbgrader={"grade": false, "grade_id": "train", "locked": false, "schema_version": 3, "solution": true, "task": false}
def make_callbacks():
    ### BEGIN SOLUTION
    return [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2),
    ]
    ### END SOLUTION


### BEGIN SOLUTION
model = build_deep(64, 10)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(X_tr, y_tr, validation_data=(X_val, y_val), epochs=25, batch_size=64,
                    callbacks=make_callbacks(), verbose=0)
test_acc = model.evaluate(X_test, y_test, verbose=0)[1]
### END SOLUTION
print(f"{len(history.history['loss'])} epochs, test accuracy {test_acc:.3f}")

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_train", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
assert len(history.history["loss"]) <= 25
assert test_acc > 0.9, f"test accuracy {test_acc:.3f}"
cbs = make_callbacks()
assert any(isinstance(cb, keras.callbacks.EarlyStopping) for cb in cbs)
### BEGIN HIDDEN TESTS
stop = next(cb for cb in cbs if isinstance(cb, keras.callbacks.EarlyStopping))
assert stop.restore_best_weights and stop.patience == 3 and stop.monitor == "val_loss"
assert any(isinstance(cb, keras.callbacks.ReduceLROnPlateau) for cb in cbs)
assert isinstance(model.optimizer, keras.optimizers.Adam)
assert "val_loss" in history.history
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "q1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Question (2 points, graded by hand)
#
# In three or four sentences: why does early stopping with `restore_best_weights=True` act as a form
# of regularisation (규제)? What would go wrong if you monitored the **training** loss instead of
# the validation loss?

# %% [markdown] nbgrader={"grade": true, "grade_id": "q1_early_stopping", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# Training longer lets the network fit finer and finer details of the training set; at some point
# the validation loss stops improving and starts rising — from there on it is memorising noise
# (overfitting). Early stopping ends training there and, with restore_best_weights, returns the
# weights of the epoch with the lowest validation loss, which limits how far the weights can move
# from their initial values: an implicit limit on model capacity, like a penalty. The training loss
# keeps falling almost forever, so monitoring it would never stop early and would keep the most
# overfitted weights.

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "checklist", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit ✔
#
# 1. Restart the kernel and run all cells: no errors, every visible test passes.
# 2. No `raise NotImplementedError()` left, every "YOUR ANSWER HERE" replaced.
# 3. Nothing slow left behind (a search over a huge grid, thousands of epochs): the grader
#    stops notebooks that run too long, and a stopped notebook scores only the tests that
#    finished.
