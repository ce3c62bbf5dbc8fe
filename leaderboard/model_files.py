"""Cheap checks of a saved-model submission (``.keras`` or ``.tflite``), done on the host
before anything is stored or counted: the file's kind from its bytes (never its name
alone), its size, and for ``.keras`` the zip's structure and ``config.json``.

Nothing here imports TensorFlow or Keras or loads a model: that happens only in the
sandbox (:mod:`leaderboard.efficiency_probe`).  These checks catch the common mistakes
and the obvious hostile files early, with a message a student can act on; the sandbox
(``safe_mode=True``, no network, limits) is what makes a missed one harmless.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Problem, SubmissionInvalid

#: the members of a Keras 3 ``.keras`` zip (``model.weights.h5`` for models with weights)
KERAS_MEMBERS = {"metadata.json", "config.json", "model.weights.h5", "assets/"}
#: the largest ``config.json`` / ``metadata.json`` read (a real one is a few KB)
MAX_CONFIG = 4 << 20
#: a compression ratio no Keras weights file reaches (h5 floats barely compress)
MAX_RATIO = 50
TFLITE_MAGIC = b"TFL3"
#: layers whose config carries Python code or names code to import
CODE_LAYERS = {"Lambda", "TFOpLambda", "TorchModuleWrapper", "JaxLayer", "FlaxLayer"}
SAVE_HINT = "save it with model.save('model.keras') (Keras 3) and submit that file"


@dataclass(frozen=True)
class ModelFile:
    format: str          # keras | tflite
    size: int            # bytes of the file
    data: bytes


def _refuse(name: str, message: str, fix: str) -> SubmissionInvalid:
    return SubmissionInvalid([Problem(message, fix)], filename=name)


def _sniff(data: bytes) -> str:
    if data[4:8] == TFLITE_MAGIC:
        return "tflite"
    if data[:4] == b"PK\x03\x04":
        return "zip"
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "pickle"
    if data[:8] == b"\x89HDF\r\n\x1a\n":
        return "hdf5"
    return "unknown"


def check_model_file(source: str | Path | bytes, *, filename: str | None = None, formats: list[str],
                     max_bytes: int) -> ModelFile:
    """Read and check a model submission; raise :class:`SubmissionInvalid` (nothing stored,
    nothing counted) with what is wrong and how to fix it."""
    name = filename or (Path(source).name if not isinstance(source, bytes) else "model")
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        if not path.is_file():
            raise _refuse(name, "no such file", "check the path of your model file")
        if path.stat().st_size > max_bytes:
            raise _too_big(name, path.stat().st_size, max_bytes)
        data = path.read_bytes()
    if len(data) > max_bytes:
        raise _too_big(name, len(data), max_bytes)
    suffix = Path(name).suffix.lower().lstrip(".")
    kind = _sniff(data)
    accepted = " or ".join(f".{f}" for f in formats)
    if suffix not in ("keras", "tflite"):
        raise _refuse(name, f"a model submission is a .keras or .tflite file, not {name!r}",
                      f"this competition takes {accepted} files; rename or re-save your model")
    if suffix not in formats:
        raise _refuse(name, f"this competition does not take .{suffix} models", f"submit a {accepted} file")
    if kind == "pickle":
        raise _refuse(name, "this file is a Python pickle renamed, not a saved model; pickles run code when "
                      "they are loaded, so the leaderboard never opens them", SAVE_HINT)
    if suffix == "tflite":
        if kind != "tflite":
            raise _refuse(name, "this is not a TensorFlow Lite model: its bytes 4–8 are not the FlatBuffer "
                          f"identifier 'TFL3' (found {data[4:8]!r})",
                          "write the converter's output as it is: open(path, 'wb').write(converter.convert())")
        if len(data) < 64:
            raise _refuse(name, f"this .tflite file is only {len(data)} bytes: it is truncated",
                          "convert the model again and submit the whole file")
        return ModelFile("tflite", len(data), data)
    if kind == "hdf5":
        raise _refuse(name, "this is a legacy HDF5 (.h5) model renamed .keras; Keras 3 reads .keras zips",
                      SAVE_HINT)
    if kind != "zip":
        raise _refuse(name, "this is not a Keras model file: a .keras file is a zip archive "
                      "(config.json + model.weights.h5) and this one is not", SAVE_HINT)
    check_keras_zip(data, name)
    return ModelFile("keras", len(data), data)


def _too_big(name: str, size: int, limit: int) -> SubmissionInvalid:
    return _refuse(name, f"the model file is {size / 1024**2:.1f} MiB; this track takes models up to "
                   f"{limit / 1024**2:.0f} MiB", "make the model smaller (fewer filters or units), or quantise it "
                   "to a .tflite (about 4× smaller)")


def check_keras_zip(data: bytes, name: str) -> dict[str, Any]:
    """The zip's structure (no bombs, no stray members, intact CRCs) and its
    ``config.json`` (no layer that carries code); returns the config."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _refuse(name, f"this .keras file is a damaged zip archive ({exc}); it was probably cut off "
                      "while uploading or saving", "save the model again and submit the whole file") from None
    names = [i.filename for i in infos]
    unexpected = [n for n in names if n not in KERAS_MEMBERS and not n.startswith("assets/")]
    if unexpected or "config.json" not in names:
        what = f"unexpected members {unexpected[:3]}" if unexpected else "no config.json"
        raise _refuse(name, f"this zip is not a Keras 3 model ({what})", SAVE_HINT)
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if total > MAX_RATIO * len(data) + MAX_CONFIG or total / packed > MAX_RATIO:
        raise _refuse(name, f"this zip unpacks to {total / 1024**2:.0f} MiB from {len(data) / 1024**2:.1f} MiB "
                      "(a zip bomb?); a saved model's weights barely compress", SAVE_HINT)
    for info in infos:
        if info.filename in ("config.json", "metadata.json") and info.file_size > MAX_CONFIG:
            raise _refuse(name, f"{info.filename} is {info.file_size / 1024**2:.0f} MiB; a model's is a few KB",
                          SAVE_HINT)
    try:
        bad = archive.testzip()
        config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError) as exc:
        raise _refuse(name, f"this .keras file is damaged ({exc})", "save the model again and submit the whole "
                      "file") from None
    if bad is not None:
        raise _refuse(name, f"this .keras file is damaged ({bad} fails its checksum)",
                      "save the model again and submit the whole file")
    for problem in code_in_config(config):
        raise _refuse(name, problem, "build the model from Keras's own layers only (for preprocessing, use "
                      "layers such as Rescaling inside the model), save it and submit again")
    return config


def code_in_config(config: Any, path: str = "model") -> list[str]:
    """What in a Keras config would run code of the student's when loaded: Lambda layers
    and objects registered outside Keras (custom layers, losses, activations)."""
    found: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            cls = node.get("class_name")
            if isinstance(cls, str):
                module = node.get("module")
                registered = node.get("registered_name")
                label = (node.get("config") or {}).get("name") if isinstance(node.get("config"), dict) else None
                here = f"{where} → {label or cls}"
                if cls in CODE_LAYERS:
                    found.append(f"the model has a {cls} layer ({here}); it holds Python code, which the "
                                 "leaderboard does not run")
                elif isinstance(module, str) and not (module == "keras" or module.startswith("keras.")):
                    found.append(f"the model uses {cls!r} from module {module!r} ({here}); only Keras's own "
                                 "layers and objects can be loaded safely")
                elif isinstance(registered, str) and ">" in registered:
                    found.append(f"the model uses the custom object {registered!r} ({here}); only Keras's own "
                                 "layers and objects can be loaded safely")
                where = here
            for value in node.values():
                walk(value, where)
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    walk(config, path)
    return found
