"""coursebench.settings: every COURSEBENCH_* variable declared once, typed, with a default;
read afresh from the environment; documented in docs/settings.md; shown by doctor."""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

import pytest
import typer
from pydantic import ValidationError
from typer.testing import CliRunner

from coursebench import settings as settings_module
from coursebench.settings import ENV_NAMES, Settings, SettingsError, from_environment, get_settings

REPO = Path(__file__).resolve().parents[1]
#: COURSEBENCH_* names in the code that are not settings coursebench reads.
NOT_SETTINGS = {
    "COURSEBENCH_VERSION": "a docker build argument (the image's version label)",
    "COURSEBENCH_TEST_SECRET": "a canary the isolation tests put in the host's environment",
    "COURSEBENCH_WEB_PROCESSES": "a docker/compose.yaml variable (web processes), set in tests/test_compose.py",
    "COURSEBENCH_WORKERS": "a docker/compose.yaml variable (worker containers), set in tests/test_compose.py",
    "COURSEBENCH_STUDENT_TOKEN": "a docker/compose.yaml variable (the student lab's token), set in tests/test_compose.py",
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults(clean_env):
    s = get_settings()
    assert s.job_root == Path(tempfile.gettempdir()) and isinstance(s.job_root, Path)
    assert s.cache == Path("/var/cache/coursebench")
    assert s.cgroup_root == Path("/sys/fs/cgroup")
    assert s.cgroups is True and s.smoke is False and s.sandbox is False and s.test_lab_image is False
    assert s.gpus is None  # unset: ask nvidia-smi
    assert s.backend == "auto"
    assert s.debian_mirror == "http://deb.debian.org/debian"
    assert s.test_docker_image == "coursebench-runtime:latest"
    assert s.data == []
    for field in ("course", "db", "competitions", "config_dir", "secret_key", "server", "token", "docker_host",
                  "docker_env_host", "docker_image", "docker_gpu_image", "figures", "test_docker_host"):
        assert getattr(s, field) is None, field
    assert s.engine_host is None


def test_environment_overrides_and_types(clean_env):
    clean_env.setenv("COURSEBENCH_JOB_ROOT", "/srv/jobs")
    clean_env.setenv("COURSEBENCH_COMPETITIONS", "comps")
    clean_env.setenv("COURSEBENCH_GPUS", " 0, 1,,")
    clean_env.setenv("COURSEBENCH_CGROUPS", "Off")
    clean_env.setenv("COURSEBENCH_SMOKE", " yes ")
    clean_env.setenv("COURSEBENCH_DATA", os.pathsep.join(["/a", "", "b"]))
    clean_env.setenv("COURSEBENCH_DB", "postgresql://u:pw@h/db")
    clean_env.setenv("COURSEBENCH_TOKEN", "tok-123")
    clean_env.setenv("COURSEBENCH_BACKEND", "bwrap")
    s = get_settings()
    assert s.job_root == Path("/srv/jobs") and s.competitions == Path("comps")
    assert s.gpus == ["0", "1"]
    assert s.cgroups is False and s.smoke is True
    assert s.data == [Path("/a"), Path("b")]
    assert s.db == "postgresql://u:pw@h/db" and s.backend == "bwrap"
    assert s.token is not None and s.token.get_secret_value() == "tok-123"
    assert "tok-123" not in repr(s) and "tok-123" not in str(s)


def test_switches_read_as_before(clean_env):
    """The values the ad hoc reads accepted mean the same: COURSEBENCH_CGROUPS is on unless
    0/no/false/off; COURSEBENCH_SMOKE is off unless 1/true/yes/on."""
    for raw, on in (("0", False), ("no", False), ("FALSE", False), ("off", False), ("1", True), ("x", True)):
        clean_env.setenv("COURSEBENCH_CGROUPS", raw)
        assert get_settings().cgroups is on, raw
    for raw, on in (("1", True), ("true", True), ("On", True), ("0", False), ("nah", False)):
        clean_env.setenv("COURSEBENCH_SMOKE", raw)
        assert get_settings().smoke is on, raw


def test_empty_means_unset_except_gpus(clean_env):
    for name in ("COURSEBENCH_DB", "COURSEBENCH_BACKEND", "COURSEBENCH_JOB_ROOT", "COURSEBENCH_COURSE"):
        clean_env.setenv(name, "")
    clean_env.setenv("COURSEBENCH_GPUS", "")  # export COURSEBENCH_GPUS=$CUDA_VISIBLE_DEVICES on a CPU node
    s = get_settings()
    assert s.db is None and s.backend == "auto" and s.course is None
    assert s.job_root == Path(tempfile.gettempdir())
    assert s.gpus == []  # empty: no GPUs (not "ask nvidia-smi")


def test_docker_host_falls_back_to_dockers_own_variable(clean_env):
    clean_env.setenv("DOCKER_HOST", "unix:///run/other.sock")
    assert get_settings().engine_host == "unix:///run/other.sock"
    clean_env.setenv("COURSEBENCH_DOCKER_HOST", "tcp://127.0.0.1:2375")
    assert get_settings().engine_host == "tcp://127.0.0.1:2375"


def test_read_afresh_and_cheap(clean_env):
    first = get_settings()
    assert get_settings() is first  # unchanged environment: the same (frozen) object
    clean_env.setenv("COURSEBENCH_BACKEND", "subprocess")
    assert get_settings().backend == "subprocess"  # no cache to clear
    clean_env.delenv("COURSEBENCH_BACKEND")
    assert get_settings().backend == "auto"
    with pytest.raises(ValidationError, match="frozen"):
        first.backend = "docker"  # type: ignore[misc]  # shared between callers: frozen
    calls = 2000
    started = time.perf_counter()
    for _ in range(calls):
        get_settings()
    per_call = (time.perf_counter() - started) / calls
    assert per_call < 1e-3, f"get_settings() took {per_call * 1e6:.0f} µs a call"


def test_a_value_that_cannot_be_used_names_the_variable():
    class Stricter(Settings):
        workers: int = 1

    assert from_environment({"COURSEBENCH_WORKERS": "4"}, Stricter).workers == 4  # type: ignore[attr-defined]
    with pytest.raises(SettingsError, match="COURSEBENCH_WORKERS='many' cannot be used") as caught:
        from_environment({"COURSEBENCH_WORKERS": "many"}, Stricter)
    assert caught.value.variable == "COURSEBENCH_WORKERS"
    assert caught.value.to_dict()["error"] == "settings_error"


def test_every_field_is_described_with_a_group():
    for field, info in Settings.model_fields.items():
        assert info.description and info.description.endswith("."), field
        extra = info.json_schema_extra
        assert isinstance(extra, dict) and extra.get("group"), field


def test_code_that_reads_the_environment_itself_parses_as_declared(clean_env):
    """The sandbox helpers cannot import coursebench.settings: their own reads must agree
    with the declaration (and they must really not import it)."""
    from coursebench import datasets, notebook

    for raw in ("1", "TRUE", " on ", "yes", "0", "off", "", "maybe"):
        clean_env.setenv("COURSEBENCH_SMOKE", raw)
        assert notebook.is_smoke() is get_settings().smoke, raw
    clean_env.setenv("COURSEBENCH_DATA", os.pathsep.join(["/x", "", "rel"]))
    assert datasets.data_dirs()[:-1] == get_settings().data
    clean_env.setenv("COURSEBENCH_FIGURES", "/figs")
    assert notebook.figures_dir() == get_settings().figures == Path("/figs")
    for module in ("coursebench/notebook.py", "coursebench/datasets.py", "coursebench/execution/worker.py",
                   *(str(p.relative_to(REPO)) for p in (REPO / "coursebench" / "client").glob("*.py"))):
        text = (REPO / module).read_text()
        assert "settings import" not in text and "pydantic_settings" not in text, module


def _names_in_code() -> set[str]:
    found: set[str] = set()
    for folder in ("coursebench", "leaderboard", "benchmarks", "tests", "lectures/_src", "assignments",
                   "competitions"):
        for path in (REPO / folder).rglob("*.py"):
            if path == Path(__file__).resolve():
                continue
            found |= set(re.findall(r"\bCOURSEBENCH_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(errors="replace")))
    return found


def test_every_variable_in_the_code_is_declared():
    undeclared = _names_in_code() - set(ENV_NAMES) - set(NOT_SETTINGS)
    assert not undeclared, f"declare these in coursebench/settings.py: {sorted(undeclared)}"


def test_docs_match_the_settings_model():
    committed = (REPO / "docs" / "settings.md").read_text()
    assert committed == settings_module.markdown(), (
        "docs/settings.md is out of date: python -m coursebench.settings > docs/settings.md")
    for name in ENV_NAMES:
        assert f"`{name}`" in committed


def test_doctor_prints_every_setting_and_where_it_came_from(clean_env):
    from coursebench.cli import SUBCOMMANDS
    from coursebench.doctor import register

    assert "coursebench.doctor" in SUBCOMMANDS
    clean_env.setenv("COURSEBENCH_DB", "postgresql://prof:hunter2@127.0.0.1/course")
    clean_env.setenv("COURSEBENCH_SECRET_KEY", "s3cr3t-key")
    clean_env.setenv("COURSEBENCH_DOCKER_HOST", "unix:///nonexistent/docker.sock")
    app = typer.Typer()
    register(app)
    app.command("other")(lambda: None)  # two commands: `doctor` stays a named subcommand
    done = CliRunner().invoke(app, ["doctor"], env={"COLUMNS": "220"})
    assert done.exit_code == 0, done.output
    out = done.output
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") >= 4}
    for name in ENV_NAMES:
        assert name in lines, f"{name} missing from doctor's table"
    assert "env" in lines["COURSEBENCH_DB"].split("│")[3]
    assert "prof:***@127.0.0.1" in lines["COURSEBENCH_DB"]
    assert "default" in lines["COURSEBENCH_JOB_ROOT"].split("│")[3]
    assert "hunter2" not in out and "s3cr3t-key" not in out
    for section in ("Sandbox backends", "bwrap", "subprocess", "cgroups for limits", "GPUs:", "Docker engine",
                    "Optional extras", "grading", "web", "dask", "dl"):
        assert section in out, section
    assert "/nonexistent/docker.sock" in out  # the engine it tried, and why it is not there
