# %% [markdown]
# # Shapes — baseline CNN (Keras)
#
# A notebook submission: the leaderboard runs this notebook 5 times on folds of the training data
# (`fold` = 0..4; `test_path` then holds the held-out fold's images, never their labels) and once
# on all of it (`fold = -1`, `test_path` = the real test set). Write a label (`circle`, `square`,
# `triangle` or `cross`) for every row of `test_path` to `output_path` in the format of
# `sample_submission.csv` (`id,shape`).
#
# Each row is one 28×28 grayscale image flattened row by row into the columns `p0` … `p783`
# (0–255). The model is deliberately small — three 3×3 convolutions, max pooling, a global max
# pool and a softmax layer, about 14k weights, 8 epochs — so that each run takes well under a
# minute on one CPU core. Room to improve: more filters, more epochs, data augmentation
# (shifts and rotations), batch normalisation, an ensemble of a few seeds.

# %% tags=["parameters"]
# Parameters (the leaderboard replaces these)
train_path = "data/public/train.csv"
test_path = "data/public/test.csv"
output_path = "submission.csv"
fold = -1

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # keep TensorFlow's start-up chatter out of the log
import keras
import numpy as np
import pandas as pd

keras.utils.set_random_seed(0)

# %%
train = pd.read_csv(train_path)
test = pd.read_csv(test_path)
pixels = [f"p{i}" for i in range(28 * 28)]
classes = sorted(train["shape"].unique())


def images(frame: pd.DataFrame) -> np.ndarray:
    return (frame[pixels].to_numpy(dtype="float32") / 255.0).reshape(-1, 28, 28, 1)


X, X_test = images(train), images(test)
y = train["shape"].map({c: i for i, c in enumerate(classes)}).to_numpy()
print(f"fold {fold}: {len(X)} training images, {len(X_test)} to predict; classes {classes}")

# %%
model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    keras.layers.Conv2D(16, 3, activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Conv2D(32, 3, activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Conv2D(32, 3, activation="relu"),
    keras.layers.GlobalMaxPooling2D(),
    keras.layers.Dense(len(classes), activation="softmax"),
])
model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(X, y, epochs=8, batch_size=64, verbose=2)

# %%
pred = model.predict(X_test, batch_size=256, verbose=0).argmax(axis=1)
pd.DataFrame({"id": test["id"], "shape": np.asarray(classes)[pred]}).to_csv(output_path, index=False)
print(f"wrote {len(test)} predictions to {output_path}")
