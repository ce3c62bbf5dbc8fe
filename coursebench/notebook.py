"""What every lecture's setup cell calls: versions checked, seeds fixed, plot style set.

>>> from coursebench.notebook import setup
>>> info = setup(seed=42, requires={"sklearn": "1.4"})
>>> info                      # the cell shows the versions, GPU and data directory
>>> from coursebench.notebook import save_fig
>>> save_fig(fig, "loss_curve")   # → build/figures/loss_curve.png

Library code: nothing here prints.  :func:`setup` returns a :class:`SetupInfo` whose
``repr``/``_repr_html_`` is what the notebook cell displays.

This module imports nothing from the rest of coursebench: the lecture runner copies it
into the sandbox next to the notebook, where the toolkit itself is not installed.
"""

from __future__ import annotations

import html
import os
import platform
import random
import re
import shutil
from dataclasses import dataclass, field
from importlib import import_module, metadata
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_REQUIRES",
    "RequirementError",
    "SetupInfo",
    "figures_dir",
    "gpu_devices",
    "is_smoke",
    "save_fig",
    "set_figures_dir",
    "setup",
]

DEFAULT_REQUIRES: dict[str, str] = {
    "numpy": "1.26",
    "pandas": "2.1",
    "sklearn": "1.4",
    "matplotlib": "3.8",
}
KERAS_REQUIRES: dict[str, str] = {"keras": "3.0"}

# import name → distribution name (what pip installs)
DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "PIL": "pillow",
    "cv2": "opencv-python",
    "yaml": "pyyaml",
    "tensorflow": "tensorflow",
}

_figures_dir: Path | None = None


class RequirementError(ImportError):
    """A package a notebook needs is missing or too old; the message says how to fix it."""

    def __init__(self, package: str, needed: str, found: str | None) -> None:
        self.package, self.needed, self.found = package, needed, found
        dist = DISTRIBUTIONS.get(package, package)
        what = "is not installed" if found is None else f"is version {found}"
        super().__init__(
            f"This notebook needs {dist} >= {needed}, but {dist} {what}. "
            f"Fix: run  pip install -U '{dist}>={needed}'  in a terminal (or `%pip install -U "
            f"'{dist}>={needed}'` in a cell) and restart the kernel — or open the notebook in the "
            "course's Docker image, which has the right versions."
        )


@dataclass
class SetupInfo:
    """What :func:`setup` did and found; the cell displays it."""

    seed: int
    python: str
    versions: dict[str, str]
    keras_backend: str | None
    gpus: list[str]
    data_dir: str
    figures_dir: str
    smoke: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def gpu(self) -> bool:
        return bool(self.gpus)

    def rows(self) -> list[tuple[str, str]]:
        rows = [("python", self.python)]
        rows += [(name, version) for name, version in self.versions.items()]
        if self.keras_backend:
            rows.append(("keras backend", self.keras_backend))
        rows.append(("GPU", ", ".join(self.gpus) if self.gpus else "none visible (CPU only)"))
        rows.append(("random seed", str(self.seed)))
        rows.append(("data directory", self.data_dir))
        rows.append(("figures directory", self.figures_dir))
        if self.smoke:
            rows.append(("mode", "smoke (quick CI run)"))
        return rows

    def __repr__(self) -> str:
        width = max(len(k) for k, _ in self.rows())
        lines = ["coursebench setup"] + [f"  {k:<{width}}  {v}" for k, v in self.rows()]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self.rows()
        )
        notes = "".join(f"<div><i>note: {html.escape(n)}</i></div>" for n in self.notes)
        return f"<div><b>coursebench setup</b><table>{body}</table>{notes}</div>"


def setup(
    *,
    seed: int = 42,
    requires: dict[str, str] | None = None,
    style: bool = True,
    keras: bool = False,
    figures: str | os.PathLike | None = None,
) -> SetupInfo:
    """Prepare a lecture notebook: one call in the first code cell.

    * checks minimum versions (numpy, pandas, scikit-learn, matplotlib, plus keras when
      ``keras=True``, plus ``requires`` — import name → minimum version) and raises a
      :class:`RequirementError` naming the package, the version found and the fix;
    * fixes the seeds of ``random`` and NumPy's global generator, and with ``keras=True``
      of Keras and its backend (``keras.utils.set_random_seed``);
    * with ``keras=True`` sets ``KERAS_BACKEND`` to ``tensorflow`` if it is not set yet
      (before Keras is first imported) and quiets TensorFlow's start-up logging;
    * with ``style=True`` sets a clean matplotlib style (rcParams only, so it works with
      any backend, including Agg) and friendlier NumPy/pandas printing;
    * ``figures`` sets where :func:`save_fig` writes (default ``build/figures``).
    """
    needed = dict(DEFAULT_REQUIRES)
    if keras:
        needed.update(KERAS_REQUIRES)
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    needed.update(requires or {})
    versions = {name: check_version(name, minimum) for name, minimum in needed.items()}

    random.seed(seed)
    import numpy as np

    np.random.seed(seed)
    notes: list[str] = []
    backend = None
    if keras:
        import keras as _keras

        _keras.utils.set_random_seed(seed)
        backend = _keras.backend.backend()
        if backend == "tensorflow":
            versions.setdefault("tensorflow", _version_of("tensorflow") or "?")

    if style:
        font = _apply_style()
        if font is None:
            notes.append(
                "no Korean font found, so Hangul in figures shows as boxes "
                "(install one: apt-get install fonts-nanum, then restart the kernel)"
            )
    if figures is not None:
        set_figures_dir(figures)

    from . import datasets

    return SetupInfo(
        seed=seed,
        python=platform.python_version(),
        versions=versions,
        keras_backend=backend,
        gpus=gpu_devices(backend),
        data_dir=str(datasets.data_dirs()[0]),
        figures_dir=str(figures_dir()),
        smoke=is_smoke(),
        notes=notes,
    )


def check_version(package: str, minimum: str) -> str:
    """The installed version of ``package`` (an import name); raises
    :class:`RequirementError` when it is missing or older than ``minimum``."""
    minimum = minimum.lstrip(">= ")
    found = _version_of(package)
    if found is None:
        raise RequirementError(package, minimum, None)
    if _parse(found) < _parse(minimum):
        raise RequirementError(package, minimum, found)
    return found


def _version_of(package: str) -> str | None:
    try:
        return metadata.version(DISTRIBUTIONS.get(package, package))
    except metadata.PackageNotFoundError:
        pass
    try:
        module = import_module(package)
    except ImportError:
        return None
    return str(getattr(module, "__version__", "0"))


def _parse(version: str) -> tuple[Any, ...]:
    try:
        from packaging.version import Version

        return (Version(version),)
    except Exception:  # packaging missing or an odd version string
        return tuple(int(p) for p in re.findall(r"\d+", version)[:3])


def gpu_devices(backend: str | None = None) -> list[str]:
    """Names of the GPUs this process can see.  Asks the Keras backend when one is
    loaded (so it reflects what training will use); otherwise looks for NVIDIA devices
    without importing a deep-learning framework."""
    if backend == "tensorflow":
        import tensorflow as tf

        return [d.name for d in tf.config.list_physical_devices("GPU")]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    if backend == "jax":
        import jax

        return [str(d) for d in jax.devices() if d.platform == "gpu"]
    found = []
    proc = Path("/proc/driver/nvidia/gpus")
    if proc.is_dir():
        for info in sorted(proc.glob("*/information")):
            model = next((line.split(":", 1)[1].strip() for line in info.read_text().splitlines() if line.startswith("Model")), info.parent.name)
            found.append(model)
    if not found and shutil.which("nvidia-smi") and any(Path("/dev").glob("nvidia[0-9]*")):
        found.append("NVIDIA GPU (nvidia-smi present)")
    return found


KOREAN_FONTS = ("NanumGothic", "NanumBarunGothic", "Noto Sans CJK KR", "Noto Sans KR", "Malgun Gothic", "AppleGothic", "UnDotum")


def korean_font() -> str | None:
    """The first installed font that has Hangul, from :data:`KOREAN_FONTS`."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in KOREAN_FONTS if name in installed), None)


def _apply_style() -> str | None:
    """Set rcParams; returns the Korean font put in front, or ``None`` when there is none
    (then the "Glyph ... missing" warnings are silenced: the boxes say it already)."""
    import warnings

    import matplotlib as mpl
    import numpy as np

    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 4.0),
            "figure.dpi": 100,
            "savefig.dpi": 120,
            "savefig.bbox": "tight",
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titleweight": "bold",
            "axes.prop_cycle": mpl.cycler(
                color=["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
            ),
            "image.cmap": "viridis",
            "legend.frameon": False,
            "font.size": 10,
        }
    )
    font = korean_font()
    if font:
        mpl.rcParams["font.family"] = [font, "DejaVu Sans"]
        mpl.rcParams["axes.unicode_minus"] = False  # Korean fonts often lack the minus glyph
    else:
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from (current )?font", category=UserWarning)
    np.set_printoptions(precision=4, suppress=True, linewidth=100)
    _inline_in_kernel()
    try:
        import pandas as pd

        pd.set_option("display.precision", 4)
        pd.set_option("display.max_columns", 30)
        pd.set_option("display.width", 120)
    except ImportError:
        pass
    return font


def _inline_in_kernel() -> None:
    """In a Jupyter kernel whose matplotlib backend is Agg (e.g. ``MPLBACKEND=Agg`` in a
    sandbox), switch to the inline backend so figures land in the notebook's outputs.
    Outside a kernel nothing changes, so scripts and tests stay on Agg."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or type(shell).__name__ != "ZMQInteractiveShell":
        return
    import matplotlib

    if matplotlib.get_backend().lower() == "agg":
        shell.run_line_magic("matplotlib", "inline")


def is_smoke() -> bool:
    """True when ``COURSEBENCH_SMOKE`` is set to a true value.  Notebooks take their
    ``smoke`` parameter from papermill; this is for code outside a parameters cell."""
    return os.environ.get("COURSEBENCH_SMOKE", "").strip().lower() in {"1", "true", "yes", "on"}


def figures_dir() -> Path:
    """Where :func:`save_fig` writes: set by ``setup(figures=...)``, else
    ``$COURSEBENCH_FIGURES``, else ``build/figures`` under the working directory."""
    if _figures_dir is not None:
        return _figures_dir
    return Path(os.environ.get("COURSEBENCH_FIGURES") or Path("build") / "figures")


def set_figures_dir(path: str | os.PathLike) -> Path:
    global _figures_dir
    _figures_dir = Path(path)
    return _figures_dir


def save_fig(fig: Any, name: str, *, formats: tuple[str, ...] = ("png",), dpi: int | None = None) -> Path:
    """Save a matplotlib figure as ``<figures_dir>/<name>.png`` (and other ``formats``);
    returns the path of the first file written."""
    if not name or Path(name).name != name:
        raise ValueError(f"figure name must be a plain file name without folders, got {name!r}")
    stem = name.rsplit(".", 1)[0] if name.endswith(tuple(f".{f}" for f in formats)) else name
    target = figures_dir()
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = target / f"{stem}.{fmt}"
        fig.savefig(path, dpi=dpi) if dpi else fig.savefig(path)
        paths.append(path)
    return paths[0]
