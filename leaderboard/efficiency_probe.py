"""The efficiency track's measurement, run INSIDE the sandbox as a standalone script:
``python efficiency_probe.py probe.json``.  It is copied into the job directory, so it
imports nothing of coursebench or the leaderboard (only the standard library, numpy,
pandas and Keras/TensorFlow or LiteRT) and is never imported by the host.

It loads the submitted model (``.keras`` with ``safe_mode=True``: no Lambda layers, no
custom objects; ``.tflite`` with LiteRT's interpreter, else ``tf.lite``), predicts every
row of ``test.csv`` (features only: the labels never enter the sandbox) in batches of
``batch_size``, then times ``warmup + timed`` batches one by one with
``time.perf_counter`` (wall clock) and ``time.process_time`` (the process's CPU time) on
``threads`` pinned threads, in ``rounds`` rounds (each at least ``timed`` batches and a
quarter of a second).  It writes ``predictions.csv``
(id, label) and ``report.json`` (the per-batch times; ``{"ok": false, "problem": ...}``
when the model cannot be used).  The host scores the predictions and takes the median.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings


def _pin(threads: int) -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                "TF_NUM_INTEROP_THREADS"):
        os.environ[var] = str(threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


#: the shortest timed round: a fast model repeats batches until a round lasts this long, so
#: that a short burst of other work on the machine cannot cover every round
MIN_ROUND_S = 0.25


class Problem(Exception):
    """The model cannot be scored; the message is for the student."""


def _keras_runner(path: str, threads: int):
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # safe_mode refusals, unknown classes, damaged weights
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:400]
        raise Problem(f"Keras could not load the model safely: {first}") from None
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise Problem(f"the model has {len(model.inputs)} inputs and {len(model.outputs)} outputs; "
                      "it needs one image input and one output")
    call = model
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        call = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def run(batch):
        import numpy as np

        return np.asarray(call(batch))

    return run


def _tflite_runner(path: str, threads: int, shape: list[int]):
    import numpy as np

    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # the runtime image may have TensorFlow's copy only
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            interp = Interpreter(model_path=path, num_threads=threads)
        inputs, outputs = interp.get_input_details(), interp.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise Problem(f"the model has {len(inputs)} inputs and {len(outputs)} outputs; "
                          "it needs one image input and one output")
        inp, out = inputs[0], outputs[0]
        interp.resize_tensor_input(inp["index"], shape)
        interp.allocate_tensors()
    except Problem:
        raise
    except Exception as exc:  # not a model, custom/Flex ops, a shape it cannot take
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:400]
        raise Problem(f"the TFLite interpreter could not load the model for input shape {shape}: {first}") from None
    in_dtype, (in_scale, in_zero) = inp["dtype"], inp["quantization"]
    out_dtype, (out_scale, out_zero) = out["dtype"], out["quantization"]
    if in_dtype not in (np.float32, np.uint8, np.int8):
        raise Problem(f"the model's input is {np.dtype(in_dtype).name}; it must be float32, uint8 or int8")

    def run(batch):
        x = batch
        if in_dtype != np.float32:
            info = np.iinfo(in_dtype)
            q = np.round(x / in_scale + in_zero) if in_scale else x
            x = np.clip(q, info.min, info.max).astype(in_dtype)
        interp.set_tensor(inp["index"], x)
        interp.invoke()
        y = interp.get_tensor(out["index"])
        if out_dtype != np.float32 and out_scale:
            y = out_scale * (y.astype(np.float32) - out_zero)
        return np.array(y, dtype=np.float32)

    return run


def probe(cfg: dict) -> dict:
    import numpy as np
    import pandas as pd

    threads = int(cfg["threads"])
    batch = int(cfg["batch_size"])
    labels = list(cfg["labels"])
    shape = [batch, *[int(d) for d in cfg["input_shape"]]]
    test = pd.read_csv(cfg["test"], dtype={cfg["id_column"]: str})
    ids = test[cfg["id_column"]].to_numpy()
    X = test.drop(columns=[cfg["id_column"]]).to_numpy(dtype=np.float32)
    if X.shape[1] != int(np.prod(shape[1:])):
        raise Problem(f"internal: {X.shape[1]} features do not make rows of shape {shape[1:]}")
    X = X.reshape(len(X), *shape[1:])
    load_start = time.perf_counter()
    if cfg["format"] == "keras":
        run = _keras_runner(cfg["model"], threads)
    else:
        run = _tflite_runner(cfg["model"], threads, shape)
    load_s = time.perf_counter() - load_start
    n_batches = -(-len(X) // batch)
    padded = np.zeros((n_batches * batch, *shape[1:]), dtype=np.float32)
    padded[: len(X)] = X
    batches = padded.reshape(n_batches, *shape)
    scores = []
    for i, xb in enumerate(batches):
        try:
            yb = run(xb)
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:400]
            raise Problem(f"the model failed on a batch of shape {shape}: {first}") from None
        if i == 0 and tuple(yb.shape) != (batch, len(labels)):
            raise Problem(f"the model's output has shape {tuple(yb.shape)} for a batch of {batch} images; it must "
                          f"be ({batch}, {len(labels)}): one score per label, in the order {labels}")
        scores.append(yb)
    out = np.concatenate(scores)[: len(X)]
    if not np.all(np.isfinite(out)):
        raise Problem("the model's outputs contain NaN or infinite values")
    warmup, timed, rounds = int(cfg["warmup"]), int(cfg["timed"]), int(cfg.get("rounds", 1))
    for i in range(warmup):
        run(batches[i % n_batches])
    times, cpu, sizes = [], [], []
    k = 0
    for _ in range(rounds):  # each round: at least `timed` batches and at least MIN_ROUND_S seconds
        round_start, n = time.perf_counter(), 0
        while n < timed or (time.perf_counter() - round_start < MIN_ROUND_S and n < 50 * timed):
            xb = batches[k % n_batches]
            k += 1
            start, start_cpu = time.perf_counter(), time.process_time()
            run(xb)
            elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu
            times.append(elapsed * 1e3)
            cpu.append(elapsed_cpu * 1e3)
            n += 1
        sizes.append(n)
    predicted = np.asarray(labels, dtype=object)[out.argmax(axis=1)]
    pd.DataFrame({cfg["id_column"]: ids, cfg["target_column"]: predicted}).to_csv(cfg["predictions"], index=False)
    return {"ok": True, "batch_ms": times, "batch_cpu_ms": cpu, "round_sizes": sizes, "batch_size": batch, "warmup": warmup, "threads": threads,
            "load_s": load_s, "format": cfg["format"], "rows": len(X)}


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as fh:
        cfg = json.load(fh)
    _pin(int(cfg["threads"]))
    try:
        report = probe(cfg)
    except Problem as exc:
        report = {"ok": False, "problem": str(exc)}
    with open(cfg["report"], "w", encoding="utf-8") as fh:
        json.dump(report, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
