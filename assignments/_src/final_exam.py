# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Final exam — Deep learning / cloud (기말고사)
#
# Follows lecture **00–11 (the whole course)**. About 120 minutes.
#
# **In this exam you will**
#
# - clean a small table with pandas and avoid data leakage (데이터 누수)
# - evaluate a classifier honestly: stratified cross-validation (교차 검증), precision (정밀도) and recall (재현율)
# - implement Ridge regression (규제) and a softmax gradient from their formulas
# - build, train and reason about Keras networks, from parameter counts to early stopping (조기 종료)
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

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "rules", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Exam rules.** 50 points: 40 autograded (visible tests + hidden tests) and 10 for the two written
# answers. Open notes and documentation, no communication with other people. Submit before the
# deadline — late exam submissions score 0. Partial answers earn the points of the tests they pass,
# so a working function for one part is worth more than an unfinished attempt at everything.

# %% deletable=false editable=false nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler


# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "p1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Problem 1 — cleaning a table (6 points)
#
# Write `clean(train, test)` for two DataFrames with a numeric column `age` (with missing values) and a
# text column `city`. Return `(train_clean, test_clean)` where
#
# - missing `age` values are filled with the **median age of the training table** — in both tables
#   (the test table must not influence anything: that would be data leakage, 데이터 누수);
# - `city` is replaced by one-hot columns `city_<name>` (0/1 integers), one per city **seen in the
#   training table**, in sorted order; a city that only appears in the test table gets all zeros;
# - the column order is `age`, then the city columns.

# %% nbgrader={"grade": false, "grade_id": "clean", "locked": false, "schema_version": 3, "solution": true, "task": false}
def clean(train, test):
    ### BEGIN SOLUTION
    median = train["age"].median()
    cities = sorted(train["city"].dropna().unique())

    def transform(frame):
        out = pd.DataFrame({"age": frame["age"].fillna(median).to_numpy()}, index=frame.index)
        for city in cities:
            out[f"city_{city}"] = (frame["city"] == city).astype(int)
        return out

    return transform(train), transform(test)
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_clean", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
tr = pd.DataFrame({"age": [20.0, None, 40.0, 30.0], "city": ["Seoul", "Busan", "Seoul", "Daegu"]})
te = pd.DataFrame({"age": [None, 50.0], "city": ["Busan", "Seoul"]})
a, b = clean(tr, te)
print(a, b, sep="\n")
assert list(a.columns) == ["age", "city_Busan", "city_Daegu", "city_Seoul"]
assert a["age"].tolist() == [20.0, 30.0, 40.0, 30.0], "fill with the training median (30)"
assert b["age"].tolist() == [30.0, 50.0]
### BEGIN HIDDEN TESTS
te2 = pd.DataFrame({"age": [None, 1000.0, 1000.0, 1000.0], "city": ["Incheon", "Seoul", "Seoul", "Seoul"]})
a2, b2 = clean(tr, te2)
assert list(b2.columns) == list(a2.columns) == ["age", "city_Busan", "city_Daegu", "city_Seoul"], \
    "only cities seen in training get a column"
assert b2["age"].iloc[0] == 30.0, "the test rows must not change the median"
assert b2.iloc[0, 1:].tolist() == [0, 0, 0], "an unseen city is all zeros"
assert a2.equals(a), "the training output must not depend on the test table"
assert tr["age"].isna().sum() == 1, "do not modify the inputs"
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "p2_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Problem 2 — precision, recall, F1 (6 points)
#
# Write `prf(y_true, y_pred)` for binary labels (1 = positive) returning `(precision, recall, f1)`
# computed from the counts of true positives (TP), false positives (FP) and false negatives (FN):
# precision (정밀도) = TP / (TP + FP), recall (재현율) = TP / (TP + FN), F1 = their harmonic mean.
# When a denominator is 0, that quantity is 0.

# %% nbgrader={"grade": false, "grade_id": "prf", "locked": false, "schema_version": 3, "solution": true, "task": false}
def prf(y_true, y_pred):
    ### BEGIN SOLUTION
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    tp = int(np.sum((y_true == 1) & (y_pred == 1)))
    fp = int(np.sum((y_true == 0) & (y_pred == 1)))
    fn = int(np.sum((y_true == 1) & (y_pred == 0)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_prf", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
p, r, f = prf([1, 1, 0, 0, 1], [1, 0, 0, 1, 1])
assert np.allclose([p, r, f], [2 / 3, 2 / 3, 2 / 3])
### BEGIN HIDDEN TESTS
from sklearn.metrics import f1_score, precision_score, recall_score
rng = np.random.default_rng(4)
t, q = rng.integers(0, 2, 50), rng.integers(0, 2, 50)
q[:5] = 1
assert np.allclose(prf(t, q), [precision_score(t, q), recall_score(t, q), f1_score(t, q)])
assert prf([0, 0, 1], [0, 0, 0]) == (0.0, 0.0, 0.0)
assert np.allclose(prf([1, 1, 1, 0], [1, 0, 0, 0]), [1.0, 1 / 3, 0.5])
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "p3_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Problem 3 — honest cross-validation (6 points)
#
# Write `cv_auc(X, y)`: the mean ROC AUC of a `LogisticRegression(max_iter=2000)` **behind a
# `StandardScaler` in one pipeline**, over `StratifiedKFold(5, shuffle=True, random_state=0)`
# (`cross_val_score(..., scoring="roc_auc")`). Return a float. The scaler must be refitted inside
# every fold.

# %% nbgrader={"grade": false, "grade_id": "cv", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cv_auc(X, y):
    ### BEGIN SOLUTION
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    return float(cross_val_score(model, X, y, cv=cv, scoring="roc_auc").mean())
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_cv", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
Xb, yb = load_breast_cancer(return_X_y=True)
auc = cv_auc(Xb, yb)
print(f"CV ROC AUC {auc:.4f}")
assert 0.98 < auc <= 1.0
### BEGIN HIDDEN TESTS
ref = cross_val_score(make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)), Xb, yb,
                      cv=StratifiedKFold(5, shuffle=True, random_state=0), scoring="roc_auc").mean()
assert np.isclose(auc, ref)
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "p4_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Problem 4 — Ridge regression in closed form (6 points)
#
# Ridge regression minimises $\lVert Xw - y\rVert^2 + \alpha \lVert w\rVert^2$; its solution is
# $w = (X^\top X + \alpha I)^{-1} X^\top y$. Write `ridge_fit(X, y, alpha)` returning `w` (no
# intercept: assume the data are centred), using `np.linalg.solve`.

# %% nbgrader={"grade": false, "grade_id": "ridge", "locked": false, "schema_version": 3, "solution": true, "task": false}
def ridge_fit(X, y, alpha):
    ### BEGIN SOLUTION
    X, y = np.asarray(X, float), np.asarray(y, float)
    return np.linalg.solve(X.T @ X + alpha * np.eye(X.shape[1]), X.T @ y)
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_ridge", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
Xr = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
yr = np.array([1.0, 2.0, 3.0])
w0 = ridge_fit(Xr, yr, 0.0)
assert np.allclose(w0, np.linalg.lstsq(Xr, yr, rcond=None)[0]), "alpha = 0 is ordinary least squares"
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(1)
A, b = rng.normal(size=(40, 5)), rng.normal(size=40)
for alpha in (0.5, 10.0):
    assert np.allclose(ridge_fit(A, b, alpha), Ridge(alpha=alpha, fit_intercept=False).fit(A, b).coef_)
assert np.linalg.norm(ridge_fit(A, b, 100.0)) < np.linalg.norm(ridge_fit(A, b, 1.0)), "more alpha, smaller weights"
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "q1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Written question A (5 points, graded by hand)
#
# A classmate standardises the whole breast-cancer dataset with `StandardScaler().fit_transform(X)`,
# *then* runs 5-fold cross-validation and reports 0.995 ROC AUC. Explain in four to six sentences what
# is wrong (name the problem), why the number is optimistic, how large you would expect the effect to
# be for a scaler compared with, say, feature selection on all rows, and how Problem 3's pipeline avoids it.

# %% [markdown] nbgrader={"grade": true, "grade_id": "q1_leakage", "locked": false, "points": 5, "schema_version": 3, "solution": true, "task": false}
# This is data leakage (데이터 누수): the scaler's means and standard deviations were computed on all
# rows, so every training fold has already "seen" statistics of its validation fold. The validation
# data are then no longer unseen, and the CV score estimates performance on data the preprocessing
# had access to, which is optimistic. For a StandardScaler the effect is usually small (means and
# variances of 455 vs 569 rows are close), but the same mistake with steps that use the labels —
# selecting the features most correlated with y on all rows, target encoding, oversampling — can
# inflate the score enormously. Putting the scaler inside the pipeline makes cross_val_score refit
# it on each training fold only and apply it to the held-out fold, exactly as it will be used on
# new data.

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "p5_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Problem 5 — the softmax cross-entropy gradient (4 points)
#
# For logits `z` of shape `(n, k)` and integer labels `y`, the mean cross-entropy of `softmax(z)` has the
# gradient $\partial L / \partial z = (\text{softmax}(z) - \text{onehot}(y)) / n$. Write
# `softmax_ce_grad(z, y)` returning it (compute softmax stably).

# %% nbgrader={"grade": false, "grade_id": "grad", "locked": false, "schema_version": 3, "solution": true, "task": false}
def softmax_ce_grad(z, y):
    ### BEGIN SOLUTION
    z = np.asarray(z, float)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p / len(y)
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_grad", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
g = softmax_ce_grad(np.zeros((2, 2)), np.array([0, 1]))
assert np.allclose(g, [[-0.25, 0.25], [0.25, -0.25]])
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(3)
z, yy = rng.normal(size=(4, 3)), np.array([0, 2, 1, 2])

def loss(zz):
    e = np.exp(zz - zz.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(4), yy]))

num = np.zeros_like(z)
for idx in np.ndindex(z.shape):
    d = np.zeros_like(z)
    d[idx] = 1e-6
    num[idx] = (loss(z + d) - loss(z - d)) / 2e-6
assert np.allclose(softmax_ce_grad(z, yy), num, atol=1e-7)
assert np.all(np.isfinite(softmax_ce_grad(np.array([[1000.0, 0.0]]), np.array([1]))))
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "p6_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Problem 6 — counting parameters and choosing the epoch (6 points)
#
# 1. `dense_params(n_in, n_out)` and `conv_params(kernel_size, c_in, c_out)`: the number of trainable
#    parameters (weights and biases) of a `Dense` layer and of a square `Conv2D` layer.
# 2. `restored_epoch(val_losses, patience)`: with `EarlyStopping(monitor="val_loss", patience=patience,
#    restore_best_weights=True)`, training stops once the validation loss has not improved for
#    `patience` epochs in a row. Return the **index of the epoch whose weights are restored** (the
#    lowest validation loss seen before stopping; the first one on ties). `val_losses[i]` is the
#    validation loss after epoch `i`.

# %% nbgrader={"grade": false, "grade_id": "counts", "locked": false, "schema_version": 3, "solution": true, "task": false}
def dense_params(n_in, n_out):
    ### BEGIN SOLUTION
    return n_in * n_out + n_out
    ### END SOLUTION


def conv_params(kernel_size, c_in, c_out):
    ### BEGIN SOLUTION
    return kernel_size * kernel_size * c_in * c_out + c_out
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_counts", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert dense_params(64, 10) == 650
assert conv_params(3, 1, 16) == 160
### BEGIN HIDDEN TESTS
assert conv_params(3, 16, 32) == 4640
assert conv_params(5, 3, 8) == 608
assert dense_params(1, 1) == 2
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "epoch", "locked": false, "schema_version": 3, "solution": true, "task": false}
def restored_epoch(val_losses, patience):
    ### BEGIN SOLUTION
    best, best_i, wait = np.inf, 0, 0
    for i, loss in enumerate(val_losses):
        if loss < best:
            best, best_i, wait = loss, i, 0
        else:
            wait += 1
            if wait >= patience:
                break
    return best_i
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_epoch", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
assert restored_epoch([1.0, 0.8, 0.7, 0.75, 0.9], patience=2) == 2
### BEGIN HIDDEN TESTS
assert restored_epoch([1.0, 0.8, 0.85, 0.9, 0.5], patience=2) == 1, "training stops at epoch 3, before 0.5"
assert restored_epoch([1.0, 0.8, 0.85, 0.9, 0.5], patience=3) == 4
assert restored_epoch([0.5, 0.5, 0.5], patience=5) == 0
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "p7_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Problem 7 — a Keras classifier (6 points)
#
# On the 8×8 digits (loaded below, pixels scaled to 0…1), write `build_model(n_inputs, n_classes)`:
# a compiled `keras.Sequential` with **at least one hidden layer and a `Dropout` layer**, a softmax
# output, `"sparse_categorical_crossentropy"` and `metrics=["accuracy"]` (optimiser of your choice).
# Then train `model` on `X_train, y_train` — at most 20 epochs, with an `EarlyStopping` callback on
# `val_loss` (use `validation_split=0.2`) — and set `test_acc`. Full marks need test accuracy above 0.9
# with at most 20 000 parameters; keep it small, the grader has a time limit.

# %% deletable=false editable=false nbgrader={"grade": false, "grade_id": "keras_setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import keras

keras.utils.set_random_seed(0)
Xd, yd = load_digits(return_X_y=True)
Xd = Xd.astype("float32") / 16.0
X_train, X_test, y_train, y_test = train_test_split(Xd, yd, test_size=0.25, stratify=yd, random_state=0)


# %% nbgrader={"grade": false, "grade_id": "keras", "locked": false, "schema_version": 3, "solution": true, "task": false}
def build_model(n_inputs, n_classes):
    ### BEGIN SOLUTION
    model = keras.Sequential([
        keras.Input(shape=(n_inputs,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(n_classes, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.005),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
    ### END SOLUTION


### BEGIN SOLUTION
model = build_model(64, 10)
stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
history = model.fit(X_train, y_train, validation_split=0.2, epochs=20, batch_size=32,
                    callbacks=[stop], verbose=0)
test_acc = model.evaluate(X_test, y_test, verbose=0)[1]
### END SOLUTION
print(f"{len(history.history['loss'])} epochs, {model.count_params()} parameters, test accuracy {test_acc:.3f}")

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_keras", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
assert model.output_shape == (None, 10)
assert any(isinstance(layer, keras.layers.Dropout) for layer in model.layers), "add a Dropout layer"
assert test_acc > 0.9, f"test accuracy {test_acc:.3f}"
### BEGIN HIDDEN TESTS
assert model.count_params() <= 20000
assert len(history.history["loss"]) <= 20 and "val_loss" in history.history
assert np.isclose(model.evaluate(X_test, y_test, verbose=0)[1], test_acc)
assert model.loss == "sparse_categorical_crossentropy"
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "q2_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Written question B (5 points, graded by hand)
#
# Your MLP in Problem 7 treats the 64 pixels as an unordered list. In four to six sentences: what
# would a convolutional network (합성곱 신경망) do differently with the same images, why does it
# usually reach higher accuracy with fewer parameters, and what would you expect to happen to the
# MLP's accuracy if the pixels of every image were shuffled by the same fixed permutation (and the
# CNN's)?

# %% [markdown] nbgrader={"grade": true, "grade_id": "q2_cnn_vs_mlp", "locked": false, "points": 5, "schema_version": 3, "solution": true, "task": false}
# A CNN keeps the 8×8 grid and learns small filters that look at neighbouring pixels, applying each
# filter at every position (local connectivity and weight sharing); pooling then makes the result
# tolerant to small shifts. Strokes and edges are local patterns that can appear anywhere, so this
# prior fits images: the CNN needs far fewer parameters per useful feature and generalises better
# from the same data. The MLP gives every pixel its own weight and has no notion of which pixels are
# neighbours, so a fixed permutation of the pixels changes nothing for it — after retraining it
# reaches the same accuracy. The CNN, whose advantage comes from the spatial layout, loses that
# advantage on shuffled pixels and would do about as well as, or worse than, the MLP.

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "end", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## End of the exam
#
# Restart the kernel and run all cells once more, check that no `raise NotImplementedError()` is left,
# save, and submit. Good luck! 수고하셨습니다.
