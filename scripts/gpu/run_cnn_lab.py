#!/usr/bin/env python3
"""Run the course's Keras CNN lab (assignments/_src/lab11.py, Task 2) on a GPU and print
its timings: data load, model build + compile, each epoch (the first includes tracing /
XLA compilation), evaluation, and the devices used.

The lab's own code is executed — its ``setup`` cell (the digits data) and its
``build_cnn`` solution — not a copy, so a change to the lab changes what runs here.

    KERAS_BACKEND is chosen with --backend (jax or torch; tensorflow where installed).
    python scripts/gpu/run_cnn_lab.py --backend jax                # the lab as graded
    python scripts/gpu/run_cnn_lab.py --backend torch --repeat 40 --upsample 4 --epochs 5
    python scripts/gpu/run_cnn_lab.py --smoke                      # a few seconds on a CPU

Needs keras>=3, numpy, scikit-learn, scipy and the backend (jax[cuda12] or torch with CUDA).
See scripts/gpu/README.md.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import sys
import time
from pathlib import Path

LAB = Path(__file__).resolve().parents[2] / "assignments" / "_src" / "lab11.py"


def lab_cells(path: Path) -> dict[str, str]:
    """grade_id → source of each cell of a jupytext percent notebook, solution markers removed."""
    cells: dict[str, str] = {}
    for chunk in re.split(r"^# %%", path.read_text(), flags=re.M)[1:]:
        header, _, body = chunk.partition("\n")
        match = re.search(r'"grade_id": "([^"]+)"', header)
        if match and "[markdown]" not in header:
            lines = [ln for ln in body.splitlines() if "### BEGIN SOLUTION" not in ln and "### END SOLUTION" not in ln]
            cells[match.group(1)] = "\n".join(lines)
    return cells


def functions_only(source: str) -> str:
    """Only the function definitions of a cell (the lab's cell also trains the model)."""
    tree = ast.parse(source)
    tree.body = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    return ast.unparse(tree)


def devices(backend: str) -> list[str]:
    if backend == "jax":
        import jax

        return [f"{d.platform}:{d.id} {getattr(d, 'device_kind', '')}".strip() for d in jax.devices()]
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return [f"cuda:{i} {torch.cuda.get_device_name(i)}" for i in range(torch.cuda.device_count())]
        return ["cpu"]
    import tensorflow as tf

    return [f"{d.device_type}:{d.name}" for d in tf.config.list_physical_devices()]


def sync(backend: str) -> None:
    """Wait for the accelerator, so the times are the work's and not the queueing's."""
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            torch.cuda.synchronize()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "jax"),
                        choices=("jax", "torch", "tensorflow"))
    parser.add_argument("--epochs", type=int, default=12, help="the lab trains 12")
    parser.add_argument("--batch-size", type=int, default=32, help="the lab uses 32")
    parser.add_argument("--repeat", type=int, default=1, help="tile the training set N times (more work per epoch)")
    parser.add_argument("--upsample", type=int, default=1, help="scale the 8x8 images by N (a bigger model input)")
    parser.add_argument("--smoke", action="store_true", help="2 epochs on 256 images: checks the script, on a CPU")
    parser.add_argument("--json", action="store_true", help="print the timings as one JSON object too")
    parser.add_argument("--lab", type=Path, default=LAB, help="the lab's jupytext source")
    args = parser.parse_args(argv)
    if args.smoke:
        args.epochs, args.repeat, args.upsample = 2, 1, 1
    os.environ["KERAS_BACKEND"] = args.backend  # before keras is imported (by the lab's setup)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    timings: dict[str, float | list[float]] = {}
    cells = lab_cells(args.lab)
    ns: dict[str, object] = {"__name__": "lab11"}
    t0 = time.perf_counter()
    exec(compile(cells["setup"], f"{args.lab}:setup", "exec"), ns)  # imports keras, loads the digits
    import numpy as np

    X_train, y_train, X_test, y_test = (ns[k] for k in ("X_train", "y_train", "X_test", "y_test"))
    if args.smoke:
        X_train, y_train = X_train[:256], y_train[:256]
    if args.upsample > 1:
        block = np.ones((1, args.upsample, args.upsample, 1), dtype=X_train.dtype)
        X_train, X_test = np.kron(X_train, block), np.kron(X_test, block)
    if args.repeat > 1:
        X_train, y_train = np.tile(X_train, (args.repeat, 1, 1, 1)), np.tile(y_train, args.repeat)
    timings["data_load_s"] = time.perf_counter() - t0

    import keras

    used = devices(args.backend)
    exec(compile(functions_only(cells["cnn"]), f"{args.lab}:cnn", "exec"), ns)
    t0 = time.perf_counter()
    model = ns["build_cnn"](X_train.shape[1:], 10)  # type: ignore[operator]
    timings["build_compile_s"] = time.perf_counter() - t0

    epoch_times: list[float] = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            sync(args.backend)
            epoch_times.append(time.perf_counter() - self.start)

    t0 = time.perf_counter()
    history = model.fit(X_train, y_train, epochs=args.epochs, batch_size=args.batch_size, validation_split=0.1,
                        verbose=0, callbacks=[EpochTimer()])
    timings["fit_s"] = time.perf_counter() - t0
    timings["epoch_s"] = epoch_times
    t0 = time.perf_counter()
    loss, acc = model.evaluate(X_test, y_test, verbose=0, batch_size=max(args.batch_size, 256))
    sync(args.backend)
    timings["eval_s"] = time.perf_counter() - t0

    steady = epoch_times[1:] or epoch_times
    print(f"backend      {args.backend} (keras {keras.__version__})")
    print(f"devices      {', '.join(used)}")
    print(f"data         {len(X_train)} train / {len(X_test)} test images of {X_train.shape[1:]}")
    print(f"data load    {timings['data_load_s']:.3f} s")
    print(f"build+compile {timings['build_compile_s']:.3f} s")
    print(f"epoch 1      {epoch_times[0]:.3f} s (tracing/compilation included)")
    print(f"epochs 2..   {sum(steady) / len(steady):.3f} s each (mean of {len(steady)})")
    print(f"fit total    {timings['fit_s']:.3f} s for {args.epochs} epochs, batch {args.batch_size}")
    print(f"evaluate     {timings['eval_s']:.3f} s — test accuracy {acc:.3f}, loss {loss:.3f}")
    print(f"final train accuracy {history.history['accuracy'][-1]:.3f}")
    if args.json:
        print(json.dumps({"backend": args.backend, "devices": used, "test_accuracy": float(acc), **timings}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
