"""The efficiency track of cnn-shapes: scoring time per model submission, and how stable
its latency figure is.

A tiny CNN is trained for a few steps on the competition's public train data and saved
as a float ``.keras`` file and a dynamic-range quantised ``.tflite``.  Each is scored by
:func:`leaderboard.efficiency_run.evaluate_model` — the sandbox (bubblewrap where it can)
on one pinned CPU thread, the test set predicted, then warm-up and timed batches — and
compared with scoring the same predictions submitted as a prediction file (validate +
score on the host): the cost of running the model instead of reading its answers.

Then the .tflite model (with ``--quick``; also the .keras one without) is scored 5 times:
the coefficient of variation (CV) of its median per-batch latency across scorings, against
the CV of single batches within one scoring (what a figure from one timed batch would wobble
by).  The board's figure is the process's CPU time per batch on pinned threads, the lowest
median of 5 rounds of timed batches; the wall-clock figure, which other load on the machine
moves more, is reported beside it.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from common import Row  # noqa: E402

CLASSES = ["circle", "square", "triangle", "cross"]


def _competition(tmp: Path) -> Path:
    from leaderboard.data import prepare

    folder = tmp / "cnn-shapes"
    shutil.copytree(REPO / "competitions/cnn-shapes", folder, ignore=shutil.ignore_patterns("data", "__pycache__"))
    prepare(folder)
    return folder


def _models(comp: Path, out: Path) -> dict[str, Path]:
    import keras
    import pandas as pd
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    train = pd.read_csv(comp / "data/public/train.csv", nrows=1500)
    X = train[[f"p{i}" for i in range(784)]].to_numpy("float32").reshape(-1, 28, 28, 1)
    y = train["shape"].map({c: i for i, c in enumerate(CLASSES)}).to_numpy()
    model = keras.Sequential([
        keras.Input((28, 28, 1)), keras.layers.Rescaling(1 / 255),
        keras.layers.Conv2D(8, 3, activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.GlobalMaxPooling2D(),
        keras.layers.Dense(32, activation="relu"), keras.layers.Dense(4, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(X, y, epochs=2, batch_size=64, verbose=0)
    model.save(out / "model.keras")
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    (out / "model.tflite").write_bytes(converter.convert())
    return {"keras": out / "model.keras", "tflite": out / "model.tflite"}


def _cv(values: list[float]) -> float:
    mean = statistics.fmean(values)
    return statistics.pstdev(values) / mean if mean else 0.0


def run(quick: bool) -> list[Row]:
    import io

    import pandas as pd

    from coursebench.execution import availability
    from leaderboard.data import load_dataset
    from leaderboard.efficiency_run import evaluate_model
    from leaderboard.scoring import score
    from leaderboard.validation import SubmissionFormat, validate

    backend = "bwrap" if availability("bwrap")[0] else "auto"
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-efficiency-") as tmp:
        comp = _competition(Path(tmp))
        ds = load_dataset(comp)
        # a generous run limit: on a loaded shared machine importing Keras alone can take minutes
        eff = ds.spec.efficiency.model_copy(update={"timeout": 1500.0})
        ds.spec = ds.spec.model_copy(update={"efficiency": eff})
        models = _models(comp, Path(tmp))
        outcomes = {}
        for fmt, path in models.items():
            start = time.perf_counter()
            outcome = evaluate_model(ds, path.read_bytes(), fmt, backend=backend)
            wall = time.perf_counter() - start
            if not outcome.ok:
                raise RuntimeError(f"{fmt}: {outcome.category}: {outcome.message}")
            outcomes[fmt] = outcome
            # the alternative: the same predictions uploaded as a prediction file
            frame = pd.DataFrame({"id": ds.ids, "shape": [ds.labels[c] for c in outcome.predictions]})
            data = frame.to_csv(index=False).encode()
            start = time.perf_counter()
            score(ds, validate(io.BytesIO(data).getvalue(), SubmissionFormat.for_dataset(ds), filename="p.csv"))
            file_wall = time.perf_counter() - start
            m = outcome.measurement
            rows.append(Row(f"efficiency: scoring a .{fmt} model submission", wall, file_wall,
                            note=f"{backend} sandbox, 1 pinned thread, {m.timed_batches} timed batches "
                                 f"of {m.batch_size} in {ds.spec.efficiency.rounds} rounds vs validating+scoring its predictions as a file; "
                                 f"{m.size_bytes / 1024:.1f} KB, median {m.latency_ms:.3f} ms/batch, "
                                 f"public accuracy {outcome.scores.public:.3f}; loaded machine"))
        repeats = 5
        for fmt in ("tflite",) if quick else ("tflite", "keras"):
            medians, cpu_medians, singles = [], [], []
            for _ in range(repeats):
                outcome = evaluate_model(ds, models[fmt].read_bytes(), fmt, backend=backend)
                if not outcome.ok:
                    raise RuntimeError(f"{fmt}: {outcome.category}: {outcome.message}")
                medians.append(outcome.measurement.wall_ms or 0.0)
                cpu_medians.append(outcome.measurement.latency_ms)  # the board's figure: CPU-time median
                singles.append(outcome.measurement.cv)
            rows.append(Row(f"efficiency: CV of the .{fmt} board latency over {repeats} scorings",
                            _cv(cpu_medians), statistics.fmean(singles), unit="",
                            note=f"the CPU-time median per batch (the board's figure: "
                                 f"{', '.join(f'{v:.3f}' for v in cpu_medians)} ms) vs the CV of single "
                                 f"wall-clock batches within one scoring; the wall-clock medians' CV "
                                 f"{_cv(medians):.3f} ({', '.join(f'{v:.3f}' for v in medians)} ms); "
                                 "loaded shared machine", target=1.0))
    return rows
