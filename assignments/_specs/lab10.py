"""Lab 10 — Keras: deep networks (initialisation, batch norm, dropout, optimisers, callbacks)."""

from _build import code, md, prose, solution, test
from _common import checklist, header

CELLS = [
    header(
        "Lab 10 — Training deep networks (심층 신경망 학습)",
        [
            "build a deeper network with He initialisation, batch normalisation (배치 정규화) and dropout (드롭아웃)",
            "see what dropout does in training and at inference",
            "train with an optimiser (옵티마이저) you choose and callbacks (콜백): early stopping (조기 종료) and learning-rate reduction",
        ],
        "10 — Keras: deep networks",
        60,
    ),
    code("setup", """
        import numpy as np
        import keras
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        keras.utils.set_random_seed(0)
        X, y = load_digits(return_X_y=True)
        X = X.astype("float32") / 16.0
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
        X_tr, X_val, y_tr, y_val = train_test_split(X_train, y_train, test_size=0.2, stratify=y_train, random_state=0)
        """),
    md("task1_md", """
        ## Task 1 — what dropout does (2 points)

        Write `dropout_demo(rate, training)`: apply `keras.layers.Dropout(rate, seed=0)` to a
        `np.ones((1000, 100), dtype="float32")` array, calling the layer with `training=training`, and
        return the result as a NumPy array (`keras.ops.convert_to_numpy`).

        Look at what comes out for `training=True` and for `training=False`: which fraction is zero, and
        what value do the surviving entries have? (Keras uses *inverted* dropout.)
        """),
    solution("dropout", """
        def dropout_demo(rate, training):
            ### BEGIN SOLUTION
            layer = keras.layers.Dropout(rate, seed=0)
            out = layer(np.ones((1000, 100), dtype="float32"), training=training)
            return keras.ops.convert_to_numpy(out)
            ### END SOLUTION

        out = dropout_demo(0.3, training=True)
        print("zeros:", np.mean(out == 0), " surviving values:", np.unique(out[out != 0]))
        """, wrong="""
        def dropout_demo(rate, training):
            layer = keras.layers.Dropout(rate, seed=0)
            return keras.ops.convert_to_numpy(layer(np.ones((1000, 100), dtype="float32")))   # training flag ignored
        """),
    test("test_dropout", 2, """
        train_out = dropout_demo(0.3, training=True)
        assert train_out.shape == (1000, 100)
        assert abs(np.mean(train_out == 0) - 0.3) < 0.02, "about 30 % of the units are dropped in training"
        ### BEGIN HIDDEN TESTS
        assert np.allclose(train_out[train_out != 0], 1 / 0.7), "survivors are scaled by 1 / (1 - rate)"
        assert np.array_equal(dropout_demo(0.3, training=False), np.ones((1000, 100))), "at inference dropout does nothing"
        assert abs(np.mean(dropout_demo(0.5, training=True) == 0) - 0.5) < 0.02
        ### END HIDDEN TESTS
        """, needs=["dropout"]),
    md("task2_md", """
        ## Task 2 — a deep network (3 points)

        Write `build_deep(n_inputs, n_classes, hidden=(128, 64, 32), dropout=0.2, batchnorm=True)` returning
        an **uncompiled** `keras.Sequential`. After `keras.Input(shape=(n_inputs,))`, for every size in
        `hidden`:

        - `Dense(size, kernel_initializer="he_normal", use_bias=not batchnorm)` — no activation yet
          (batch norm has its own shift, so the bias would be redundant);
        - `BatchNormalization()` if `batchnorm`;
        - `Activation("relu")`;
        - `Dropout(dropout)` if `dropout > 0`;

        and finally `Dense(n_classes, activation="softmax")`.
        """),
    solution("deep", """
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
        """, wrong="""
        def build_deep(n_inputs, n_classes, hidden=(128, 64, 32), dropout=0.2, batchnorm=True):
            layers = [keras.Input(shape=(n_inputs,))]
            for size in hidden:
                layers.append(keras.layers.Dense(size, activation="relu", kernel_initializer="he_normal"))
                layers.append(keras.layers.BatchNormalization())   # always, and after the activation
                layers.append(keras.layers.Dropout(dropout))
            layers.append(keras.layers.Dense(n_classes, activation="softmax"))
            return keras.Sequential(layers)
        """),
    test("test_deep", 3, """
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
        """, needs=["deep"]),
    md("task3_md", """
        ## Task 3 — optimiser and callbacks, then train (3 points)

        1. `make_callbacks()`: return a list with
           `keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)` and
           `keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2)`.
        2. Build `model = build_deep(64, 10)`, compile it with `keras.optimizers.Adam(learning_rate=0.003)`,
           `"sparse_categorical_crossentropy"` and `["accuracy"]`, and train it on `X_tr, y_tr` with
           `validation_data=(X_val, y_val)`, `epochs=25`, `batch_size=64`, your callbacks and `verbose=0`;
           keep the result in `history`.
        3. `test_acc`: the accuracy on `X_test, y_test`.
        """),
    solution("train", """
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
        """, wrong="""
        def make_callbacks():
            return [keras.callbacks.EarlyStopping(monitor="val_loss", patience=3)]   # keeps the last weights, not the best


        model = build_deep(64, 10)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(X_tr, y_tr, validation_data=(X_val, y_val), epochs=25, batch_size=64,
                            callbacks=make_callbacks(), verbose=0)
        test_acc = model.evaluate(X_test, y_test, verbose=0)[1]
        """),
    test("test_train", 3, """
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
        """, needs=["deep", "train"], checks=["train"]),
    md("q1_md", """
        ## Question (2 points, graded by hand)

        In three or four sentences: why does early stopping with `restore_best_weights=True` act as a form
        of regularisation (규제)? What would go wrong if you monitored the **training** loss instead of
        the validation loss?
        """),
    prose("q1_early_stopping", 2, """
        Training longer lets the network fit finer and finer details of the training set; at some point
        the validation loss stops improving and starts rising — from there on it is memorising noise
        (overfitting). Early stopping ends training there and, with restore_best_weights, returns the
        weights of the epoch with the lowest validation loss, which limits how far the weights can move
        from their initial values: an implicit limit on model capacity, like a penalty. The training loss
        keeps falling almost forever, so monitoring it would never stop early and would keep the most
        overfitted weights.
        """),
    checklist(),
]

HALF = {"fill": ["dropout", "deep"], "wrong": ["deep"]}
