# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Lab 11 — Convolutional networks (합성곱 신경망)
#
# Follows lecture **11 — Keras: convolutional networks**. About 60 minutes.
#
# **In this lab you will**
#
# - compute a convolution (합성곱) and a max pooling (최대 풀링) by hand in NumPy
# - build and train a small CNN in Keras on the digit images
# - look inside: the feature maps (특성 맵) of the first convolution layer
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
from scipy.signal import correlate2d
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(0)
digits = load_digits()
images = (digits.images / 16.0).astype("float32")[..., None]   # (1797, 8, 8, 1): height, width, channels
X_train, X_test, y_train, y_test = train_test_split(
    images, digits.target, test_size=0.25, stratify=digits.target, random_state=0)
print(X_train.shape)


# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 1 — convolution and pooling by hand (3 points)
#
# 1. `conv2d(image, kernel)`: slide a `(kh, kw)` kernel over a 2-D `image` without padding
#    ("valid") and stride 1; each output entry is the sum of the element-wise product of the
#    kernel with the patch under it. The output has shape `(H - kh + 1, W - kw + 1)`.
#    (This is cross-correlation — what deep-learning libraries call convolution: the kernel is not flipped.)
# 2. `max_pool(image, size=2)`: split a 2-D image into non-overlapping `size × size` blocks and keep the
#    maximum of each (drop leftover rows/columns). Hint: `reshape` to `(H//size, size, W//size, size)`
#    and take `max` over axes 1 and 3.

# %% nbgrader={"grade": false, "grade_id": "conv", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv2d(image, kernel):
    ### BEGIN SOLUTION
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_conv", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
img = np.arange(16, dtype=float).reshape(4, 4)
out = conv2d(img, np.ones((2, 2)))
assert out.shape == (3, 3)
assert out[0, 0] == 0 + 1 + 4 + 5
### BEGIN HIDDEN TESTS
r = np.random.default_rng(0)
a, k = r.normal(size=(7, 6)), r.normal(size=(3, 2))
assert np.allclose(conv2d(a, k), correlate2d(a, k, mode="valid")), "no kernel flip"
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "pool", "locked": false, "schema_version": 3, "solution": true, "task": false}
def max_pool(image, size=2):
    ### BEGIN SOLUTION
    image = np.asarray(image)
    h, w = image.shape[0] // size, image.shape[1] // size
    return image[:h * size, :w * size].reshape(h, size, w, size).max(axis=(1, 3))
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_pool", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
img = np.arange(16, dtype=float).reshape(4, 4)
assert np.array_equal(max_pool(img), [[5, 7], [13, 15]])
### BEGIN HIDDEN TESTS
odd = np.arange(35, dtype=float).reshape(5, 7)
assert np.array_equal(max_pool(odd), [[8, 10, 12], [22, 24, 26]])
assert np.array_equal(max_pool(np.arange(36).reshape(6, 6), size=3), [[14, 17], [32, 35]])
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task2_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 2 — a small CNN (3 points)
#
# Write `build_cnn(input_shape, n_classes)` returning a **compiled** `keras.Sequential`:
#
# `Input(input_shape)` → `Conv2D(16, 3, padding="same", activation="relu")` → `MaxPooling2D(2)` →
# `Conv2D(32, 3, padding="same", activation="relu")` → `MaxPooling2D(2)` → `Flatten()` →
# `Dense(n_classes, activation="softmax")`,
#
# compiled with `Adam(learning_rate=0.005)`, `"sparse_categorical_crossentropy"`, `["accuracy"]`.
# Then train `cnn = build_cnn((8, 8, 1), 10)` for `epochs=12`, `batch_size=32`,
# `validation_split=0.1`, `verbose=0` and set `test_acc`.

# %% nbgrader={"grade": false, "grade_id": "cnn", "locked": false, "schema_version": 3, "solution": true, "task": false}
def build_cnn(input_shape, n_classes):
    ### BEGIN SOLUTION
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(n_classes, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.005),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
    ### END SOLUTION


### BEGIN SOLUTION
cnn = build_cnn((8, 8, 1), 10)
history = cnn.fit(X_train, y_train, epochs=12, batch_size=32, validation_split=0.1, verbose=0)
test_acc = cnn.evaluate(X_test, y_test, verbose=0)[1]
### END SOLUTION
cnn.summary()
print(f"test accuracy {test_acc:.3f}")

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_cnn", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
assert cnn.output_shape == (None, 10)
assert test_acc > 0.9, f"test accuracy {test_acc:.3f}"
### BEGIN HIDDEN TESTS
kinds = [type(layer).__name__ for layer in cnn.layers]
assert kinds == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense"], kinds
assert cnn.count_params() == (3 * 3 * 1 * 16 + 16) + (3 * 3 * 16 * 32 + 32) + (2 * 2 * 32 * 10 + 10)
assert len(history.history["loss"]) == 12
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task3_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 3 — feature maps (2 points)
#
# Write `feature_maps(model, images)`: the output of the model's **first** `Conv2D` layer for a batch
# of images, as a NumPy array of shape `(n, 8, 8, 16)`. Hint: a new
# `keras.Model(inputs=model.inputs, outputs=model.layers[0].output)` shares the trained weights.

# %% nbgrader={"grade": false, "grade_id": "maps", "locked": false, "schema_version": 3, "solution": true, "task": false}
def feature_maps(model, images):
    ### BEGIN SOLUTION
    probe = keras.Model(inputs=model.inputs, outputs=model.layers[0].output)
    return np.asarray(probe.predict(images, verbose=0))
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_maps", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
maps = feature_maps(cnn, X_test[:3])
print(maps.shape)
assert maps.shape[0] == 3 and maps.shape[-1] == 16
### BEGIN HIDDEN TESTS
assert maps.shape == (3, 8, 8, 16)
assert (maps >= 0).all(), "after the ReLU"
W, b = cnn.layers[0].get_weights()
padded = np.pad(X_test[0, :, :, 0], 1)
expected = np.maximum(0, correlate2d(padded, W[:, :, 0, 5], mode="valid") + b[5])
assert np.allclose(maps[0, :, :, 5], expected, atol=1e-4)
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "q1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Question (2 points, graded by hand)
#
# Compare the first `Conv2D` layer (16 filters, 3×3, on 8×8×1 images) with a `Dense` layer that maps
# the 64 flattened pixels to 8×8×16 = 1024 outputs. Compute both parameter counts and explain, in
# three or four sentences, why the convolution needs so few — and why that is a good thing for images.

# %% [markdown] nbgrader={"grade": true, "grade_id": "q1_weight_sharing", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# The Conv2D layer has 3·3·1·16 + 16 = 160 parameters; the Dense layer would need 64·1024 + 1024 =
# 66,560. A convolution shares the same small filter across all positions (weight sharing) and each
# output only looks at a 3×3 neighbourhood (local connectivity). That matches images: a stroke or
# edge looks the same wherever it is, so a detector learnt at one position is useful everywhere
# (translation equivariance), and with 400 times fewer parameters the model needs less data and
# overfits less.

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "checklist", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit ✔
#
# 1. Restart the kernel and run all cells: no errors, every visible test passes.
# 2. No `raise NotImplementedError()` left, every "YOUR ANSWER HERE" replaced.
# 3. Nothing slow left behind (a search over a huge grid, thousands of epochs): the grader
#    stops notebooks that run too long, and a stopped notebook scores only the tests that
#    finished.
