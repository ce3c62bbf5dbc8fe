"""The efficiency track of cnn-shapes: a .keras and a .tflite model submission run in the
real sandbox (bubblewrap) on the hidden test and get accuracy, size and median latency
on the board (web page rows and REST rows), ranked by the combined score with the Pareto
front marked; hostile or malformed model files are refused with a TA-like message and the
daily quota untouched.

The models are tiny CNNs trained for a few steps on the competition's public train data
(the point is the track, not the accuracy)."""

from __future__ import annotations

import datetime as dt
import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leaderboard.errors import SubmissionInvalid

SLUG = "cnn-shapes"
CLASSES = ["circle", "square", "triangle", "cross"]


@pytest.fixture(scope="module")
def comp(prepare_copy) -> Path:
    return prepare_copy(SLUG)


@pytest.fixture(scope="module")
def models(comp, tmp_path_factory) -> dict[str, Path]:
    """A tiny float .keras CNN (raw 0–255 pixels in, Rescaling inside) and its
    dynamic-range quantised .tflite, plus a model with the wrong number of outputs."""
    keras = pytest.importorskip("keras")
    tf = pytest.importorskip("tensorflow")
    keras.utils.set_random_seed(0)
    out = tmp_path_factory.mktemp("models")
    train = pd.read_csv(comp / "data/public/train.csv", nrows=1500)
    X = train[[f"p{i}" for i in range(784)]].to_numpy("float32").reshape(-1, 28, 28, 1)
    y = train["shape"].map({c: i for i, c in enumerate(CLASSES)}).to_numpy()

    def cnn(n_out: int):
        return keras.Sequential([
            keras.Input((28, 28, 1)), keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(8, 3, activation="relu"), keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.GlobalMaxPooling2D(),
            keras.layers.Dense(32, activation="relu"), keras.layers.Dense(n_out, activation="softmax")])

    model = cnn(4)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(X, y, epochs=2, batch_size=64, verbose=0)
    model.save(out / "float.keras")
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    (out / "quant.tflite").write_bytes(converter.convert())
    wrong = tf.lite.TFLiteConverter.from_keras_model(cnn(3))   # the wrong number of outputs
    (out / "three.tflite").write_bytes(wrong.convert())
    lam = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Lambda(lambda t: t / 255.0),
                            keras.layers.Flatten(), keras.layers.Dense(4, activation="softmax")])
    lam.save(out / "lambda.keras")
    return {p.stem: p for p in out.iterdir()}


@pytest.fixture(scope="module")
def svc(comp, tmp_path_factory, bwrap_or_skip):
    from leaderboard.clock import FrozenClock
    from leaderboard.services import Service

    db = tmp_path_factory.mktemp("db") / "lb.db"
    toml = comp / "competition.toml"  # a generous run limit: a loaded machine may take minutes to import Keras
    toml.write_text(toml.read_text(encoding="utf-8").replace("\ntimeout = 300\n", "\ntimeout = 1200\n"),
                    encoding="utf-8")
    clock = FrozenClock(dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.timezone.utc))
    service = Service(f"sqlite:///{db}", comp.parent, clock=clock, backend=bwrap_or_skip)
    service.sync(SLUG)  # registers the prepared copy (its data is made once per session)
    yield service
    service.db.dispose()


def _student(svc, name: str):
    return svc.authenticate(svc.add_participant(name))


@pytest.mark.timeout(1800)  # a loaded shared machine can take minutes to import Keras in the sandbox
def test_keras_and_tflite_models_get_accuracy_size_and_latency_on_the_board(svc, models):
    import time

    from leaderboard.web.schemas import LeaderboardOut

    alice, bob = _student(svc, "alice"), _student(svc, "bob")
    timings = {}
    for who, name in ((alice, "float.keras"), (bob, "quant.tflite")):
        start = time.perf_counter()
        view = svc.submit_model(SLUG, who, models[name.split(".")[0]], filename=name)
        timings[name] = time.perf_counter() - start
        assert view.status == "complete", (view.error, view.runs)
        assert view.kind == "model" and view.public_score is not None and view.public_score > 0.3
        assert "median" in view.runs[0]["message"]
    board = svc.leaderboard(SLUG)
    assert board.efficiency is not None and len(board.efficiency) == 2
    sizes = {"keras": models["float"].stat().st_size, "tflite": models["quant"].stat().st_size}
    for row in board.efficiency:
        assert row.size_bytes == sizes[row.format]          # the stored file's bytes, measured on the host
        assert 0 < row.latency_ms < 5_000 and 0.3 < row.accuracy <= 1
    by_format = {r.format: r for r in board.efficiency}
    assert by_format["tflite"].size_bytes < by_format["keras"].size_bytes / 2
    # the smaller (and on this CPU faster) quantised model is on the front, and ranks first unless
    # the float model's accuracy makes up for its size and latency under the combined score
    assert by_format["tflite"].pareto
    assert [r.rank for r in board.efficiency] == [1, 2]
    assert board.efficiency[0].combined >= board.efficiency[1].combined
    # the normal rows of both teams carry the model's numbers too; the REST rows show them
    rest = LeaderboardOut.model_validate(board).model_dump(mode="json")
    rows = {r["team"]: r for r in rest["rows"]}
    assert rows["bob"]["model_size_bytes"] == sizes["tflite"] and rows["bob"]["latency_ms"] > 0
    assert rows["alice"]["model_format"] == "keras"
    assert {r["team"] for r in rest["efficiency"]} == {"alice", "bob"}
    # the web page: the efficiency section with both models, sizes, latencies and the front marked
    from fastapi.testclient import TestClient

    from leaderboard.web import WebSettings, create_app

    with TestClient(create_app(svc, WebSettings(secret_key="test-secret", workers=0))) as web:
        page = web.get(f"/c/{SLUG}/leaderboard")
    assert page.status_code == 200 and "Efficiency track" in page.text and "★" in page.text
    assert f"{sizes['tflite'] / 1024:.1f} KB" in page.text and ".keras" in page.text
    print("\nscoring time per model submission (loaded machine): "
          + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))


def _keras_bytes(path: Path, **members: bytes) -> bytes:
    """The zip at ``path`` with some members replaced or added."""
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename not in members:
                dst.writestr(info, src.read(info))
        for name, data in members.items():
            dst.writestr(name, data)
    return buf.getvalue()


def _bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("config.json", b"{}")
        z.writestr("model.weights.h5", b"\0" * (200 << 20))
    return buf.getvalue()


def test_hostile_and_malformed_model_files_are_refused_before_counting(svc, models):
    carol = _student(svc, "carol")
    keras_file = models["float"].read_bytes()
    config = json.loads(zipfile.ZipFile(models["float"]).read("config.json"))
    custom = json.loads(json.dumps(config))
    custom["config"]["layers"][1].update(module="evil_package", registered_name="evil>Layer")
    cases = {
        "truncated.keras": (keras_file[: len(keras_file) // 2], "damaged zip"),
        "lambda.keras": (models["lambda"].read_bytes(), "Lambda layer"),
        "custom.keras": (_keras_bytes(models["float"], **{"config.json": json.dumps(custom).encode()}),
                         "evil_package"),
        "bomb.keras": (_bomb(), "zip bomb"),
        "pickle.keras": (pickle.dumps({"weights": np.zeros(3)}), "pickle"),
        "bad_magic.tflite": (b"\x1c\0\0\0NOPE" + bytes(200), "TFL3"),
        "model.onnx": (b"\x08\x07" + bytes(100), ".keras or .tflite"),
        "huge.tflite": (bytes(4) + b"TFL3" + bytes(21 << 20), "MiB"),
    }
    before = svc.quota(SLUG, carol).used
    for name, (data, says) in cases.items():
        with pytest.raises(SubmissionInvalid) as info:
            svc.submit_model(SLUG, carol, data, filename=name)
        text = str(info.value) + " ".join(f"{p.message} {p.fix}" for p in info.value.problems)
        assert says in text, (name, text)
        assert info.value.problems[0].fix, name                 # says how to fix it
    assert svc.quota(SLUG, carol).used == before
    assert svc.submissions(SLUG, carol) == []


@pytest.mark.timeout(1200)
def test_a_model_with_the_wrong_output_is_failed_in_the_sandbox_and_not_counted(svc, models):
    dave = _student(svc, "dave")
    view = svc.submit_model(SLUG, dave, models["three"], filename="three.tflite")
    assert view.status == "failed" and view.failure_category == "invalid_model" and not view.counted
    assert "(64, 3)" in (view.error or "") and "(64, 4)" in (view.error or "")
    assert svc.quota(SLUG, dave).used == 0
    assert svc.leaderboard(SLUG).row_of("dave") is None
