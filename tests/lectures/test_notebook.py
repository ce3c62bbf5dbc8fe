"""coursebench.notebook: the one setup cell every lecture calls."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from coursebench import notebook
from coursebench.notebook import RequirementError, SetupInfo, save_fig, setup


@pytest.fixture(autouse=True)
def _restore_figures_dir(monkeypatch):
    monkeypatch.setattr(notebook, "_figures_dir", None)
    monkeypatch.delenv("COURSEBENCH_FIGURES", raising=False)
    monkeypatch.delenv("COURSEBENCH_SMOKE", raising=False)


def test_setup_reports_versions_gpu_and_directories():
    info = setup()
    assert isinstance(info, SetupInfo)
    assert info.python == ".".join(map(str, sys.version_info[:3]))
    assert info.versions["numpy"] == np.__version__
    assert {"pandas", "sklearn", "matplotlib"} <= set(info.versions)
    assert info.keras_backend is None  # keras=False does not import keras
    text = repr(info)
    assert "numpy" in text and np.__version__ in text and "GPU" in text and "data directory" in text
    html = info._repr_html_()
    assert "<table>" in html and np.__version__ in html


def test_setup_fixes_the_seeds():
    setup(seed=7)
    first = (random.random(), np.random.rand())
    setup(seed=7)
    assert (random.random(), np.random.rand()) == first
    setup(seed=8)
    assert (random.random(), np.random.rand()) != first


def test_too_old_package_fails_with_name_version_and_fix():
    with pytest.raises(RequirementError) as info:
        setup(requires={"sklearn": "99.0"})
    message = str(info.value)
    import sklearn

    assert "scikit-learn >= 99.0" in message and f"version {sklearn.__version__}" in message
    assert "pip install -U 'scikit-learn>=99.0'" in message
    assert isinstance(info.value, ImportError)
    assert info.value.found == sklearn.__version__


def test_missing_package_says_it_is_not_installed():
    with pytest.raises(RequirementError, match="no_such_package_xyz is not installed"):
        setup(requires={"no_such_package_xyz": "1.0"})


def test_requirement_accepts_a_greater_equal_prefix():
    info = setup(requires={"numpy": ">=1.0"})
    assert info.versions["numpy"] == np.__version__


def test_style_sets_clean_rcparams_and_stays_on_agg():
    matplotlib.rcParams["axes.spines.top"] = True
    setup(style=True)
    assert matplotlib.rcParams["axes.spines.top"] is False
    assert matplotlib.rcParams["axes.grid"] is True
    assert matplotlib.get_backend().lower() == "agg"  # outside a kernel nothing switches to inline


def test_no_korean_font_is_noted(monkeypatch):
    monkeypatch.setattr(notebook, "korean_font", lambda: None)
    info = setup()
    assert any("Korean font" in note for note in info.notes)
    assert "note:" in repr(info)


def test_save_fig_writes_into_the_configured_directory(tmp_path):
    import matplotlib.pyplot as plt

    setup(figures=tmp_path / "figs")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = save_fig(fig, "line", formats=("png", "svg"))
    plt.close(fig)
    assert path == tmp_path / "figs" / "line.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "figs" / "line.svg").exists()
    with pytest.raises(ValueError, match="plain file name"):
        save_fig(fig, "../escape")


def test_figures_dir_defaults_and_env(tmp_path, monkeypatch):
    assert str(notebook.figures_dir()) == os.path.join("build", "figures")
    monkeypatch.setenv("COURSEBENCH_FIGURES", str(tmp_path))
    assert notebook.figures_dir() == tmp_path


def test_is_smoke_reads_the_environment(monkeypatch):
    assert notebook.is_smoke() is False
    monkeypatch.setenv("COURSEBENCH_SMOKE", "1")
    assert notebook.is_smoke() is True
    assert setup().smoke is True


def test_gpu_devices_without_a_framework_is_a_list():
    devices = notebook.gpu_devices()
    assert isinstance(devices, list)
    if not os.path.isdir("/proc/driver/nvidia/gpus"):
        assert devices == []


@pytest.mark.slow
def test_keras_setup_sets_the_backend_and_seeds():
    """In a fresh process (KERAS_BACKEND unset): the backend defaults to tensorflow and
    keras' random numbers repeat after setup with the same seed."""
    pytest.importorskip("keras")
    code = (
        "from coursebench.notebook import setup\n"
        "import os\n"
        "info = setup(keras=True, seed=3)\n"
        "import keras\n"
        "a = keras.random.uniform((3,)).numpy().tolist()\n"
        "setup(keras=True, seed=3)\n"
        "b = keras.random.uniform((3,)).numpy().tolist()\n"
        "assert a == b, (a, b)\n"
        "print(os.environ['KERAS_BACKEND'], info.keras_backend, 'keras' in info.versions, 'tensorflow' in info.versions)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-4:] == ["tensorflow", "tensorflow", "True", "True"]
