"""Every ``COURSEBENCH_*`` environment variable, declared once: its type, its default and
what it is for.  ``docs/settings.md`` is generated from this model (:func:`markdown`) and
``coursebench doctor`` prints the effective values (:func:`effective`).

Read them with :func:`get_settings`: it reads the environment *now* (tests set variables
with ``monkeypatch``), and costs a few microseconds — the settings object is rebuilt only
when one of the variables declared here changed since the last call.

An empty variable counts as unset (``COURSEBENCH_DB=`` means "no database given"), except
``COURSEBENCH_GPUS``, where empty means "no GPUs" (``export COURSEBENCH_GPUS=$CUDA_VISIBLE_DEVICES``
on a node without one).

Some variables are read by code that must not import this module (nor pydantic-settings)
and reads the environment itself: the helpers lectures import **inside the sandbox**
(``coursebench.notebook``, ``coursebench.datasets``: the runtime image has no
pydantic-settings, and sandboxed code imports nothing of the host side) and the **student
client** (``coursebench.client``: the standard library and an HTTP client only).  They are
declared here all the same (``read_by``), so they are documented and shown by
``coursebench doctor`` like the others; keep their parsing there and here in step.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import AliasGenerator, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .errors import CoursebenchError

PREFIX = "COURSEBENCH_"
#: Variables whose empty value is a value, not "unset".
EMPTY_IS_A_VALUE = frozenset({"COURSEBENCH_GPUS"})
_OFF = frozenset({"0", "no", "false", "off"})
_ON = frozenset({"1", "true", "yes", "on"})


class SettingsError(CoursebenchError):
    """An environment variable has a value coursebench cannot use."""

    code: ClassVar[str] = "settings_error"

    def __init__(self, message: str, *, variable: str | None = None) -> None:
        self.variable = variable
        super().__init__(message)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "variable": self.variable}


#: Who reads a variable from the environment directly (see the module's docstring).
SANDBOX_HELPERS = "the sandbox helpers (coursebench.notebook, coursebench.datasets)"
STUDENT_CLIENT = "the student client (coursebench.client)"
NOTEBOOKS = "notebooks, inside the sandbox"


def _setting(default: Any = None, *, group: str, description: str, read_by: str | None = None,
             shown_default: str | None = None, **kwargs: Any) -> Any:
    extra: dict[str, str] = {"group": group}
    if read_by is not None:
        extra["read_by"] = read_by
    if shown_default is not None:
        extra["shown_default"] = shown_default
    if "default_factory" in kwargs:
        return Field(description=description, json_schema_extra=extra, **kwargs)
    return Field(default, description=description, json_schema_extra=extra, **kwargs)


def _on_unless_off(value: Any) -> Any:
    """``0``/``no``/``false``/``off`` (any case) is False; anything else True."""
    return value.strip().lower() not in _OFF if isinstance(value, str) else value


def _off_unless_on(value: Any) -> Any:
    """``1``/``true``/``yes``/``on`` (any case) is True; anything else False."""
    return value.strip().lower() in _ON if isinstance(value, str) else value


class Settings(BaseSettings):
    """coursebench's environment variables (``COURSEBENCH_<FIELD NAME IN CAPITALS>``)."""

    model_config = SettingsConfigDict(
        case_sensitive=True,
        extra="ignore",
        populate_by_name=True,
        frozen=True,
        alias_generator=AliasGenerator(validation_alias=lambda name: PREFIX + name.upper()),
    )

    # -- the course and where jobs run ------------------------------------------------
    course: Path | None = _setting(
        group="course", description="The course.toml to use, instead of the nearest one upwards from the "
        "current directory.", shown_default="the nearest course.toml")
    job_root: Path = _setting(
        group="course", default_factory=lambda: Path(tempfile.gettempdir()), shown_default="the system "
        "temporary directory", description="Each sandboxed job gets its own folder under "
        "JOB_ROOT/coursebench-jobs (on a cluster: on each worker's disk).")

    # -- the sandbox ------------------------------------------------------------------
    cgroups: Annotated[bool, NoDecode] = _setting(
        True, group="sandbox", description="Whether the bwrap/subprocess backends may make per-job cgroups "
        "for limits; 0/no/false/off turns them off (memory is then watched by RSS).")
    cgroup_root: Path = _setting(
        Path("/sys/fs/cgroup"), group="sandbox", description="Where the cgroup filesystem is mounted "
        "(read once, when coursebench.execution is imported).")
    warm: Annotated[bool | None, NoDecode] = _setting(
        group="sandbox", shown_default="course.toml [execution] warm (on)", description="Fork each "
        "notebook's kernel from the sandbox's pre-imported template (docs/warm.md); 0/no/false/off: "
        "start every kernel cold.")
    gpus: Annotated[list[str] | None, NoDecode] = _setting(
        group="sandbox", shown_default="ask nvidia-smi", description="GPU device ids this machine gives "
        "to jobs, comma-separated (0,1); empty: none.")
    device_root: Path = _setting(
        Path("/dev"), group="sandbox", description="Where the bwrap backend finds the NVIDIA device nodes "
        "it gives a GPU job (its own /dev/nvidiaN and the control devices); the tests point it at fake ones.")

    # -- Docker: the docker sandbox and the images ------------------------------------
    docker_host: str | None = _setting(
        group="docker", shown_default="$DOCKER_HOST, else the default socket", description="The Docker "
        "engine of the docker sandbox and of image builds (unix:///run/docker.sock, tcp://host:2375).")
    docker_env_host: str | None = _setting(
        group="docker", validation_alias="DOCKER_HOST", shown_default="unset", description="Docker's own "
        "variable: the engine "
        "when COURSEBENCH_DOCKER_HOST is not set.")
    docker_image: str | None = _setting(
        group="docker", shown_default="course.toml [execution] image", description="The image the docker "
        "sandbox runs CPU jobs in, and the tag `coursebench images build runtime` gives it (a tag or "
        "sha256:… id).")
    docker_gpu_image: str | None = _setting(
        group="docker", shown_default="course.toml [execution] gpu_image", description="The image the "
        "docker sandbox runs GPU jobs in.")
    cache: Path = _setting(
        Path("/var/cache/coursebench"), group="docker", description="Cache of image builds (base "
        "filesystems, wheels) and of the test engine's images; ~/.cache/coursebench when not writable.")
    debian_mirror: str = _setting(
        "http://deb.debian.org/debian", group="docker", description="The Debian mirror debootstrap "
        "makes the offline base image from.")

    # -- competitions and the leaderboard server ---------------------------------------
    db: str | None = _setting(
        group="leaderboard", shown_default="the saved login, else build/leaderboard.db of the course",
        description="The leaderboard database URL (sqlite:///path or postgresql://user:pw@host/db).")
    competitions: Path | None = _setting(
        group="leaderboard", shown_default="the saved login, else course.toml's competitions folder",
        description="The folder of competitions the leaderboard serves.")
    backend: str = _setting(
        "auto", group="leaderboard", description="The sandbox backend `coursebench compete` scores notebook "
        "submissions with (auto, docker, bwrap, subprocess).")
    config_dir: Path | None = _setting(
        group="leaderboard", read_by=STUDENT_CLIENT, shown_default="$XDG_CONFIG_HOME/coursebench (~/.config/coursebench)",
        description="Where the saved login (credentials) and the web server's secret live.")
    secret_key: SecretStr | None = _setting(
        group="leaderboard", shown_default="a random key kept in CONFIG_DIR/server-secret",
        description="The key that signs web sessions (give every server process the same one).")
    web_options: str | None = _setting(
        group="leaderboard", shown_default="coursebench serve's defaults", description="The options of "
        "`coursebench serve` as JSON, which `serve --processes N` hands to its web processes; set it to run "
        "`uvicorn --factory leaderboard.web.factory:create_app_from_env` yourself (keys: docs/deploy.md).")
    server: str | None = _setting(
        group="leaderboard", read_by=STUDENT_CLIENT, shown_default="the saved login, else http://127.0.0.1:8000",
        description="The course server a student's `compete` commands and notebook helpers talk to.")
    token: SecretStr | None = _setting(
        group="leaderboard", read_by=STUDENT_CLIENT, shown_default="the saved login", description="A participant's token, instead "
        "of the one `coursebench compete login` saved.")

    # -- read inside the sandbox by the helpers lectures import -------------------------
    data: Annotated[list[Path], NoDecode] = _setting(
        group="inside the sandbox", read_by=SANDBOX_HELPERS, default_factory=list, shown_default="none",
        description="Folders searched first for cached datasets (os.pathsep-separated), e.g. baked into "
        "the course image; then the Keras cache.")
    figures: Path | None = _setting(
        group="inside the sandbox", read_by=SANDBOX_HELPERS, shown_default="build/figures",
        description="Where the lecture helpers' save_fig writes figures.")
    intents_dir: Path | None = _setting(
        group="inside the sandbox", read_by=SANDBOX_HELPERS, shown_default="the package's data/intents",
        description="A folder holding the help-desk intents corpus (intents.csv, ...) that lecture 13 and "
        "lab 12 read, instead of the copy shipped in the package.")
    smoke: Annotated[bool, NoDecode] = _setting(
        False, group="inside the sandbox", read_by=SANDBOX_HELPERS, description="Notebooks run at smoke size "
        "(little data, few epochs) also outside their parameters cell: 1/true/yes/on.")
    sandbox: Annotated[bool, NoDecode] = _setting(
        False, group="inside the sandbox", read_by=NOTEBOOKS, description="Set to 1 by coursebench in the "
        "environment of the code it runs in a sandbox (a notebook can tell where it runs); not for you to set.")

    # -- the test suite ------------------------------------------------------------------
    test_docker_host: str | None = _setting(
        group="tests", shown_default="a private dockerd started by the tests (root)", description="The "
        "docker tests use this running engine instead of starting their own.")
    test_docker_image: str = _setting(
        "coursebench-runtime:latest", group="tests", description="The tag the docker tests build the runtime "
        "image as and run it from.")
    test_lab_image: Annotated[bool, NoDecode] = _setting(
        False, group="tests", description="`make test-lab-image` sets it to 1: build the 3 GB lab image and "
        "check it.")
    test_gpu_image: Annotated[bool, NoDecode] = _setting(
        False, group="tests", description="`make test-gpu-image` sets it to 1: build the gpu image (about 8 GB, "
        "CUDA from pip wheels) offline and check that TensorFlow imports in it.")

    @field_validator("cgroups", mode="before")
    @classmethod
    def _cgroups(cls, value: Any) -> Any:
        return _on_unless_off(value)

    @field_validator("warm", mode="before")
    @classmethod
    def _warm(cls, value: Any) -> Any:
        return None if value is None or str(value).strip() == "" else _on_unless_off(value)

    @field_validator("smoke", "sandbox", "test_lab_image", "test_gpu_image", mode="before")
    @classmethod
    def _switches(cls, value: Any) -> Any:
        return _off_unless_on(value)

    @field_validator("gpus", mode="before")
    @classmethod
    def _gpu_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [d.strip() for d in value.split(",") if d.strip()]
        return value

    @field_validator("data", mode="before")
    @classmethod
    def _path_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [Path(p) for p in value.split(os.pathsep) if p]
        return value

    @model_validator(mode="before")
    @classmethod
    def _empty_is_unset(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v != "" or k in EMPTY_IS_A_VALUE}
        return data

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):  # type: ignore[no-untyped-def]
        """Arguments and the environment only: no .env files, no secrets directory."""
        return init_settings, env_settings

    @property
    def engine_host(self) -> str | None:
        """The Docker engine to talk to: COURSEBENCH_DOCKER_HOST, else DOCKER_HOST, else
        ``None`` (the SDK's default socket)."""
        return self.docker_host or self.docker_env_host


def env_name(field: str, model: type[Settings] = Settings) -> str:
    """The environment variable of a field: ``job_root`` → ``COURSEBENCH_JOB_ROOT``."""
    alias = model.model_fields[field].validation_alias
    return alias if isinstance(alias, str) else PREFIX + field.upper()


ENV_NAMES: tuple[str, ...] = tuple(env_name(f) for f in Settings.model_fields)


def from_environment(environ: Mapping[str, str], model: type[Settings] = Settings) -> Settings:
    """The settings ``environ`` (an environment: variable name → value) gives.  Raises
    :class:`SettingsError` naming the variable whose value cannot be used."""
    names = {env_name(f, model): f for f in model.model_fields}
    values = {name: environ[name] for name in names if name in environ}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = str(first["loc"][0]) if first["loc"] else ""
        name = loc if loc in names else env_name(loc, model) if loc in model.model_fields else loc
        raise SettingsError(
            f"{name}={values.get(name, '')!r} cannot be used: {first['msg']}. Fix or unset it "
            "(`coursebench doctor` lists every variable and what it takes).", variable=name,
        ) from None


@functools.lru_cache(maxsize=8)
def _cached(environment: tuple[str | None, ...]) -> Settings:
    return from_environment({n: v for n, v in zip(ENV_NAMES, environment, strict=True) if v is not None})


def get_settings() -> Settings:
    """The settings from the environment as it is now: read afresh on every call, built
    again only when one of the declared variables changed (a few microseconds otherwise).
    Raises :class:`SettingsError` for a value that cannot be used."""
    return _cached(tuple(os.environ.get(name) for name in ENV_NAMES))


# -- the course file ---------------------------------------------------------------------

COURSE_FILE = "course.toml"


def find_course_file(start: str | os.PathLike | None = None) -> Path | None:
    """``$COURSEBENCH_COURSE``, else the nearest ``course.toml`` upwards from ``start``."""
    env = get_settings().course
    if env:
        return env
    here = Path(start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / COURSE_FILE
        if candidate.is_file():
            return candidate
    return None


def course_table(name: str, start: str | os.PathLike | None = None) -> dict[str, Any]:
    """One table of the course file as plain TOML (``{}`` without a file, the table, or a
    readable file), for the few execution settings the engine needs below the course
    model (:mod:`coursebench.config` validates the whole file and reports its errors)."""
    import tomllib

    file = find_course_file(start)
    if file is None or not file.is_file():
        return {}
    try:
        table = tomllib.loads(file.read_text(encoding="utf-8")).get(name, {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    return table if isinstance(table, dict) else {}


# -- what `coursebench doctor` and docs/settings.md show ------------------------------


@dataclass(frozen=True)
class Effective:
    """One variable as it applies now."""

    name: str
    value: str
    source: str  # "env" or "default"
    description: str
    group: str
    read_by: str | None  # who reads it from the environment directly, if not get_settings()


_URL_PASSWORD = re.compile(r"(://[^:/@]+:)[^@]*(@)")


def shown(value: Any) -> str:
    """A value as doctor prints it: secrets and URL passwords hidden, lists comma-joined."""
    if isinstance(value, SecretStr):
        return "(set, hidden)"
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return ",".join(str(v) for v in value) if value else "(none)"
    return _URL_PASSWORD.sub(r"\1***\2", str(value))


def effective(settings: Settings | None = None, environ: dict[str, str] | None = None) -> list[Effective]:
    """Every declared variable, its value now and where that came from."""
    settings = settings or get_settings()
    environ = dict(os.environ) if environ is None else environ
    rows = []
    for field, info in Settings.model_fields.items():
        name = env_name(field)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        raw = environ.get(name)
        from_env = raw is not None and (raw != "" or name in EMPTY_IS_A_VALUE)
        value = getattr(settings, field)
        text = shown(value) if from_env or value not in (None, []) else f"({extra.get('shown_default', '')})"
        rows.append(Effective(name, text, "env" if from_env else "default", describe(field),
                              str(extra.get("group", "")), extra.get("read_by")))
    return rows


def describe(field: str) -> str:
    """The description of a field, saying who reads it directly where that is not
    :func:`get_settings`."""
    info = Settings.model_fields[field]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    read_by = f" Read from the environment by {extra['read_by']}." if extra.get("read_by") else ""
    return (info.description or "") + read_by


def _default_text(field: str) -> str:
    info = Settings.model_fields[field]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if "shown_default" in extra:
        return str(extra["shown_default"])
    return shown(info.default) if info.default is not None else ""


def markdown() -> str:
    """docs/settings.md: every variable by group (``python -m coursebench.settings`` writes
    it; tests/test_settings.py checks the committed file is this)."""
    lines = [
        "# Settings: environment variables",
        "",
        "<!-- Generated from coursebench/settings.py by `python -m coursebench.settings > "
        "docs/settings.md`; do not edit by hand (tests/test_settings.py checks it). -->",
        "",
        "Every `COURSEBENCH_*` variable coursebench reads, declared once in",
        "[`coursebench/settings.py`](../coursebench/settings.py). `coursebench doctor` prints",
        "the values in effect and whether each came from the environment or is the default.",
        "An empty variable counts as unset, except `COURSEBENCH_GPUS` (empty: no GPUs).",
        "Switches take `1`/`true`/`yes`/`on` (`COURSEBENCH_CGROUPS`: `0`/`no`/`false`/`off`",
        "turns it off). A few are read from the environment directly by code that must not",
        "import the settings module: the helpers lectures import inside the sandbox, and the",
        "student client (standard library and an HTTP client only); their rows say so.",
        "",
        "Docker Compose has its own variables for the services it starts (ports, image tags);",
        "see [docker/compose.yaml](../docker/compose.yaml).",
    ]
    groups: dict[str, list[str]] = {}
    for field, info in Settings.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        cells = (f"`{env_name(field)}`", _type_text(info.annotation), _default_text(field), describe(field))
        groups.setdefault(str(extra.get("group", "")), []).append(
            "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    for group, rows in groups.items():
        lines += ["", f"## {group[0].upper() + group[1:]}", "", "| variable | type | default | what it is for |",
                  "|---|---|---|---|", *rows]
    return "\n".join(lines) + "\n"


_KINDS = {"Path": "path", "str": "text", "bool": "switch", "SecretStr": "secret (hidden by doctor)",
          "list[str]": "comma-separated list", "list[Path]": "list of paths"}


def _type_text(annotation: Any) -> str:
    """``Annotated[list[str] | None, NoDecode]`` → ``comma-separated list``."""
    text = annotation.__name__ if isinstance(annotation, type) else repr(annotation)
    text = re.sub(r"\b(pathlib|typing|pydantic\.types)\.", "", text)
    text = re.sub(r"Annotated\[(.*), NoDecode\]", r"\1", text).replace("PosixPath", "Path")
    text = re.sub(r"\s*\|\s*None$", "", text)
    return _KINDS.get(text, text)


if __name__ == "__main__":
    import sys

    sys.stdout.write(markdown())
