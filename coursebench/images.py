"""Build coursebench's Docker images: ``python -m coursebench.images build --all``.

Two ways to build (see docker/README.md):

* **online** (a normal machine): the Dockerfile's ``FROM python:3.11-slim`` / CUDA base
  come from a registry and pip installs from the package index inside the build;
* **offline** (air-gapped, or no reachable registry — e.g. CI here): the base image is
  made locally with ``debootstrap`` + ``docker import``, and wheels are downloaded *on the
  host* (``pip download``, for the image's Python) into the build context and installed
  with ``--no-index``.  Base tarballs and wheels are cached under
  ``/var/cache/coursebench`` (``$COURSEBENCH_CACHE``) so a second build is quick.

Every image carries the SHA-256 of ``coursebench/execution/worker.py`` it was built
with (label ``org.coursebench.worker-sha256``); the docker backend refuses an image
whose worker differs from the host's and says to rebuild.

Library functions report progress through an optional ``log`` callback and never print;
the command line below prints.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import io
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._version import __version__
from .execution.errors import CoursebenchError

if TYPE_CHECKING:
    import docker

Log = Callable[[str], None] | None
WORKER_LABEL = "org.coursebench.worker-sha256"
TARGET_LABEL = "org.coursebench.target"
BASE_IMAGE = "coursebench-base:bookworm"
BASE_SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "python3-pip")
DEBIAN_MIRROR = "http://deb.debian.org/debian"
OFFLINE_PIP_ARGS = "--no-index --find-links=/wheels"
#: Python of the images (Debian bookworm's python3, python:3.11-slim).
IMAGE_PYTHON = "3.11"
BASE_MAX_AGE = 30 * 24 * 3600


class ImageError(CoursebenchError):
    """An image could not be built; says which step and how to fix it."""

    def __init__(self, message: str, *, target: str | None = None, step: str | None = None) -> None:
        self.target, self.step = target, step
        where = " ".join(p for p in (f"[{target}]" if target else "", step or "") if p)
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class Target:
    name: str
    tag: str
    requirements: tuple[str, ...]
    needs_source: bool
    base_arg: str
    default_base: str


def targets() -> dict[str, Target]:
    """The Dockerfile's targets and the tags they get (runtime/gpu tags from course.toml)."""
    runtime_tag, gpu_tag = "coursebench-runtime:latest", "coursebench-gpu:latest"
    try:
        from .config import load_course

        execution = load_course().execution
        runtime_tag, gpu_tag = execution.image, execution.gpu_image
    except Exception:  # a broken course.toml must not stop image builds
        pass
    runtime_tag = os.environ.get("COURSEBENCH_DOCKER_IMAGE", runtime_tag)
    return {
        "runtime": Target("runtime", runtime_tag, ("runtime",), False, "BASE", "python:3.11-slim"),
        "lab": Target("lab", "coursebench-lab:latest", ("runtime", "lab"), True, "BASE", "python:3.11-slim"),
        "gpu": Target("gpu", gpu_tag, ("runtime", "gpu"), True, "GPU_BASE",
                      "nvidia/cuda:12.5.1-base-ubuntu22.04"),
    }


def repo_root() -> Path:
    """The source checkout holding ``docker/Dockerfile`` (images build from source)."""
    here = Path(__file__).resolve().parents[1]
    if not (here / "docker" / "Dockerfile").is_file():
        raise ImageError(
            f"no docker/Dockerfile next to the coursebench package ({here}); build images from "
            "a source checkout of coursebench (git clone …; make images)"
        )
    return here


def cache_dir() -> Path:
    path = Path(os.environ.get("COURSEBENCH_CACHE", "/var/cache/coursebench"))
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.touch()
        probe.unlink()
    except OSError:
        path = Path.home() / ".cache" / "coursebench"
        path.mkdir(parents=True, exist_ok=True)
    return path


def worker_sha256() -> str:
    from .execution.job import WORKER_PATH

    return hashlib.sha256(WORKER_PATH.read_bytes()).hexdigest()


def client(host: str | None = None, timeout: int = 600) -> docker.DockerClient:
    """A Docker client for ``host`` (default: ``$COURSEBENCH_DOCKER_HOST``, ``$DOCKER_HOST``)."""
    try:
        import docker
    except ImportError:
        raise ImageError("the Docker SDK is not installed: pip install 'coursebench[docker]'") from None
    host = host or os.environ.get("COURSEBENCH_DOCKER_HOST") or os.environ.get("DOCKER_HOST")
    try:
        engine = docker.DockerClient(base_url=host, timeout=timeout) if host else docker.from_env(timeout=timeout)
        engine.ping()
    except Exception as exc:
        raise ImageError(
            f"no Docker engine answers at {host or 'the default socket'}: {exc}. Start dockerd "
            "(or Docker Desktop), or point DOCKER_HOST at a running engine."
        ) from None
    return engine


def image_exists(engine: docker.DockerClient, name: str) -> bool:
    import docker

    try:
        engine.images.get(name)
        return True
    except docker.errors.ImageNotFound:
        return False


# ------------------------------------------------------------------- base image


def make_base_image(engine: docker.DockerClient, name: str = BASE_IMAGE, *, log: Log = None,
                    rebuild: bool = False) -> str:
    """Make a Debian base image without any registry: ``debootstrap --variant=minbase`` +
    ``docker import``.  The root filesystem tarball is cached; returns the image id."""
    if not rebuild and image_exists(engine, name):
        return engine.images.get(name).id
    tarball = cache_dir() / f"base-{BASE_SUITE}-{platform.machine()}.tar"
    fresh = tarball.is_file() and time.time() - tarball.stat().st_mtime < BASE_MAX_AGE
    if rebuild or not fresh:
        _debootstrap_tarball(tarball, log=log)
    else:
        _say(log, f"using the cached base filesystem {tarball}")
    repository, _, tag = name.partition(":")
    _say(log, f"importing {tarball.name} as {name}")
    engine.api.import_image_from_file(
        str(tarball), repository=repository, tag=tag or "latest",
        changes=['ENV LANG=C.UTF-8', 'CMD ["/bin/bash"]'],
    )
    return engine.images.get(name).id


def _debootstrap_tarball(tarball: Path, *, log: Log) -> None:
    exe = shutil.which("debootstrap")
    if exe is None:
        raise ImageError("debootstrap is not installed (apt-get install debootstrap)", step="base image")
    if os.geteuid() != 0:
        raise ImageError("making a base image with debootstrap needs root (sudo)", step="base image")
    work = Path(tempfile.mkdtemp(prefix="rootfs-", dir=tarball.parent))
    try:
        _say(log, f"debootstrap {BASE_SUITE} (minbase + {', '.join(BASE_PACKAGES)}) — about a minute")
        cmd = [exe, "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", BASE_SUITE,
               str(work / "root"), os.environ.get("COURSEBENCH_DEBIAN_MIRROR", DEBIAN_MIRROR)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise ImageError(f"debootstrap failed (exit {done.returncode}):\n{tail}", step="base image")
        root = work / "root"
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man",
                     "usr/share/info", "usr/share/locale"):
            target = root / junk
            if target.is_dir():
                for child in target.iterdir():
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child, ignore_errors=True)
                    elif child.name not in ("lock", "partial"):
                        child.unlink(missing_ok=True)
        partial = tarball.with_suffix(".tar.part")
        done = subprocess.run(["tar", "--numeric-owner", "--xattrs", "-C", str(root), "-cf", str(partial), "."],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise ImageError(f"tar failed: {done.stderr.strip()[-500:]}", step="base image")
        partial.replace(tarball)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ----------------------------------------------------------------------- wheels


# Targets that install coursebench itself from the build context, with these extras
# (as in the Dockerfile's `pip install "/src[...]"`): offline, their dependencies must
# be among the wheels too.
PROJECT_EXTRAS = {"lab": ("grading", "web", "docker"), "gpu": ("grading", "docker")}


def project_requirements(extras: Iterable[str]) -> list[str]:
    """coursebench's own dependencies and those of ``extras``, from pyproject.toml."""
    import tomllib

    project = tomllib.loads((repo_root() / "pyproject.toml").read_text())["project"]
    found = list(project["dependencies"])
    for extra in extras:
        found += [r for r in project["optional-dependencies"][extra] if r not in found]
    return found


def download_wheels(requirements: Iterable[str], dest: Path, *, log: Log = None, force: bool = False) -> Path:
    """``pip download`` binary wheels for the images' Python (3.11, Linux, this CPU) into
    ``dest``; skipped when the same requirements were downloaded there before.  For the
    targets that install coursebench itself, its own dependencies come along."""
    root = repo_root()
    requirements = list(requirements)
    files = [root / "docker" / f"requirements-{name}.txt" for name in requirements]
    extras = sorted({e for name in requirements for e in PROJECT_EXTRAS.get(name, ())})
    specs = project_requirements(extras) if extras else []
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files) + "\n".join(specs).encode()).hexdigest()[:16]
    stamp = dest / f".done-{'-'.join(requirements)}-{digest}"
    if stamp.exists() and not force:
        _say(log, f"wheels for {', '.join(requirements)} already in {dest}")
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    machine = platform.machine()
    cmd = [sys.executable, "-m", "pip", "download", "--dest", str(dest), "--only-binary=:all:",
           "--python-version", IMAGE_PYTHON, "--implementation", "cp",
           "--abi", f"cp{IMAGE_PYTHON.replace('.', '')}",
           "--progress-bar", "off"]
    # Every manylinux tag glibc 2.36 (bookworm) accepts; older pips do not expand them.
    for minor in range(36, 16, -1):
        cmd += ["--platform", f"manylinux_2_{minor}_{machine}"]
    cmd += ["--platform", f"manylinux2014_{machine}", "--platform", f"manylinux2010_{machine}",
            "--platform", f"manylinux1_{machine}"]
    for f in files:
        cmd += ["-r", str(f)]
    cmd += specs
    # The host's pip configuration (find-links, constraints for the host's own venv) is
    # not the image's business; certificates and proxies from the environment still apply.
    env = {k: v for k, v in os.environ.items()
           if k not in ("PIP_FIND_LINKS", "PIP_CONSTRAINT", "PIP_REQUIRE_VIRTUALENV", "PIP_NO_INDEX")}
    env["PIP_CONFIG_FILE"] = os.devnull
    _say(log, f"pip download ({', '.join(requirements)}) for Python {IMAGE_PYTHON} → {dest}")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise ImageError(f"pip download failed (exit {done.returncode}):\n{tail}", step="wheels")
    stamp.touch()
    return dest


# ------------------------------------------------------------------------ build


def dockerfile_for(target: str, text: str | None = None) -> str:
    """The Dockerfile cut down to ``target`` and the stages it needs.

    The classic builder (what the Docker SDK uses) builds *every* stage before the target;
    with only the needed stages, ``gpu`` does not build ``lab`` first, and vice versa.
    """
    text = text if text is not None else (repo_root() / "docker" / "Dockerfile").read_text()
    prelude: list[str] = []
    stages: dict[str, list[str]] = {}
    order: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        match = re.match(r"^\s*FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.IGNORECASE)
        if match:
            name = (match.group(2) or f"stage{len(order)}").lower()
            current = stages[name] = [line]
            order.append(name)
        elif current is None:
            prelude.append(line)
        else:
            current.append(line)
    if target not in stages:
        raise ImageError(f"the Dockerfile has no target {target!r}; targets: {', '.join(order)}")
    needed: set[str] = set()

    def need(name: str) -> None:
        if name in needed or name not in stages:
            return
        needed.add(name)
        body = "\n".join(stages[name])
        first = re.match(r"^\s*FROM\s+(\S+)", stages[name][0], re.IGNORECASE)
        if first:
            need(first.group(1).lower())
        for dep in re.findall(r"--from=(\S+)", body):
            need(dep.lower())

    need(target)
    kept = [line for name in order if name in needed for line in stages[name]]
    return "\n".join(prelude + kept) + "\n"


def _context_tar(target: Target, wheels: Path | None, out: io.BufferedRandom) -> None:
    root = repo_root()
    skip = ("__pycache__", "*.pyc", "*.egg-info", ".pytest_cache")

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        name = Path(info.name).name
        return None if any(fnmatch.fnmatch(name, p) for p in skip) else info

    with tarfile.open(fileobj=out, mode="w") as tar:
        data = dockerfile_for(target.name).encode()
        info = tarfile.TarInfo("docker/Dockerfile")
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
        for req in sorted((root / "docker").glob("requirements-*.txt")):
            tar.add(req, f"docker/{req.name}")
        tar.add(root / "docker" / "wheels" / "README.md", "docker/wheels/README.md")
        if wheels is not None:
            for wheel in sorted(wheels.glob("*.whl")):
                tar.add(wheel, f"docker/wheels/{wheel.name}")
        tar.add(root / "coursebench" / "execution" / "worker.py", "coursebench/execution/worker.py")
        if target.needs_source:
            for name in ("pyproject.toml", "README.md"):
                tar.add(root / name, name)
            for package in ("coursebench", "leaderboard"):
                tar.add(root / package, package, filter=keep)
    out.seek(0)


def build(
    name: str,
    *,
    engine: docker.DockerClient | None = None,
    offline: bool = False,
    base: str | None = None,
    tag: str | None = None,
    log: Log = None,
    nocache: bool = False,
) -> str:
    """Build one target; return the image id (``sha256:…``).

    ``offline``: no registry and no package index inside the build — make the base image
    locally (unless ``base`` names one that exists) and install wheels downloaded on the
    host.  Raises :class:`ImageError` saying which step failed.
    """
    known = targets()
    if name not in known:
        raise ImageError(f"unknown image target {name!r}; targets: {', '.join(known)}")
    target = known[name]
    engine = engine or client()
    buildargs = {"WORKER_SHA256": worker_sha256(), "COURSEBENCH_VERSION": __version__}
    wheels = None
    if offline:
        if base is None:
            if target.base_arg == "GPU_BASE":
                raise ImageError(
                    "an offline gpu build needs a CUDA base image that is already loaded: "
                    "`docker load -i cuda-base.tar` on this machine, then --base IMAGE",
                    target=name,
                )
            base = BASE_IMAGE
            make_base_image(engine, base, log=log)
        wheels = download_wheels(target.requirements, cache_dir() / "wheels", log=log)
        buildargs["PIP_ARGS"] = OFFLINE_PIP_ARGS
    if base is not None:
        if offline and not image_exists(engine, base):
            raise ImageError(f"the base image {base!r} is not in the engine", target=name)
        buildargs[target.base_arg] = base
    tag = tag or target.tag
    _say(log, f"building {name} → {tag}" + (f" (base {base})" if base else ""))
    with tempfile.TemporaryFile(dir=cache_dir()) as context:
        _context_tar(target, wheels, context)  # type: ignore[arg-type]
        stream = engine.api.build(
            fileobj=context, custom_context=True, dockerfile="docker/Dockerfile", target=name,
            tag=tag, buildargs=buildargs, network_mode="host", rm=True, forcerm=True,
            nocache=nocache, decode=True, timeout=3600,
        )
        image_id = _follow(stream, name, log)
    return image_id or engine.images.get(tag).id


def _follow(stream: Iterable[dict[str, Any]], name: str, log: Log) -> str | None:
    image_id = None
    recent: list[str] = []
    for chunk in stream:
        if "error" in chunk:
            detail = "\n".join(recent[-20:])
            raise ImageError(f"docker build failed: {chunk['error'].strip()}\n{detail}", target=name,
                             step="build")
        if "aux" in chunk and isinstance(chunk["aux"], dict) and "ID" in chunk["aux"]:
            image_id = chunk["aux"]["ID"]
        text = chunk.get("stream")
        if text:
            for line in text.rstrip().splitlines():
                recent.append(line)
                recent[:] = recent[-40:]
                _say(log, line)
    return image_id


def ensure(name: str = "runtime", *, engine: docker.DockerClient | None = None, offline: bool = False,
           tag: str | None = None, log: Log = None) -> str:
    """The id of an up-to-date image for ``name``: built when missing or when its worker
    is not the host's (a cached build makes that fast)."""
    engine = engine or client()
    tag = tag or targets()[name].tag
    if image_exists(engine, tag):
        image = engine.images.get(tag)
        if (image.labels or {}).get(WORKER_LABEL) == worker_sha256():
            return image.id
        _say(log, f"{tag} was built with another worker.py; rebuilding")
    return build(name, engine=engine, offline=offline, tag=tag, log=log)


def remove_superseded(engine: docker.DockerClient) -> list[str]:
    """Remove untagged coursebench images (earlier builds of a tag, e.g. for an older
    worker.py).  Build-stage layers are kept: they are the next build's cache."""
    removed = []
    for image in engine.images.list(filters={"dangling": True, "label": TARGET_LABEL}):
        try:
            engine.images.remove(image.id, noprune=False)
            removed.append(image.id)
        except Exception:  # still used by a container, or a parent of another image
            continue
    return removed


def registry_reachable(engine: docker.DockerClient, image: str = "python:3.11-slim") -> bool:
    """Whether the engine can see ``image`` in its registry (a manifest lookup, no pull)."""
    try:
        engine.api.inspect_distribution(image)
        return True
    except Exception:
        return False


def _say(log: Log, text: str) -> None:
    if log is not None:
        log(text)


# ----------------------------------------------------------- a private engine


@contextlib.contextmanager
def private_engine(data_root: Path | None = None, *, start_timeout: float = 90.0) -> Iterator[str]:
    """Start a throwaway ``dockerd`` for CI and benchmarks on a machine with no running
    engine (root, Debian's docker.io); yield its address; stop it by pid at the end.

    It has its own socket, exec root and pid file, and never creates a network
    (``--bridge=none --iptables=false --ip-forward=false``): containers run with network
    mode ``none`` and builds with ``host``.  ``data_root`` (default: a cached one under
    :func:`cache_dir`, shared between runs, one daemon at a time by a lock; a private
    temporary one while another holds it) keeps images between runs.
    """
    import fcntl

    exe = shutil.which("dockerd")
    if exe is None:
        raise ImageError("dockerd is not installed (apt-get install docker.io)", step="engine")
    if os.geteuid() != 0:
        raise ImageError("starting a private dockerd needs root", step="engine")
    private = None
    lock = None
    if data_root is None:
        lock = open(cache_dir() / "docker.lock", "w")  # held while the engine runs
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            data_root = cache_dir() / "docker"
        except BlockingIOError:
            lock.close()
            lock = None
            data_root = private = Path(tempfile.mkdtemp(prefix="coursebench-docker-", dir="/var/tmp"))
    run_dir = Path(tempfile.mkdtemp(prefix="cb-dockerd-", dir="/run" if os.path.isdir("/run") else None))
    host = f"unix://{run_dir / 'docker.sock'}"
    log_path = run_dir / "dockerd.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [exe, "--host", host, "--data-root", str(data_root), "--exec-root", str(run_dir / "exec"),
             "--pidfile", str(run_dir / "dockerd.pid"),
             "--bridge=none", "--iptables=false", "--ip-forward=false", "--ip-masq=false"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    try:
        import docker

        deadline = time.monotonic() + start_timeout
        while True:
            try:
                docker.DockerClient(base_url=host, timeout=10).ping()
                break
            except Exception as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = log_path.read_text(errors="replace")[-3000:]
                    raise ImageError(f"dockerd did not start ({exc}); its log:\n{tail}", step="engine") from None
                time.sleep(0.3)
        yield host
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(run_dir, ignore_errors=True)
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)
        if lock is not None:
            lock.close()


# -------------------------------------------------------------------------- CLI

cli = typer.Typer(
    name="images",
    help="Build coursebench's Docker images (targets: runtime, lab, gpu). See docker/README.md.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


@cli.command("build")
def build_cmd(
    names: Annotated[list[str] | None, typer.Argument(help="Targets: runtime, lab, gpu.", show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help="runtime and lab, and gpu when this machine has a GPU.")] = False,
    offline: Annotated[bool | None, typer.Option(
        "--offline/--online",
        help="Offline: local debootstrap base + host-downloaded wheels, no registry or index in the build. "
             "Default: offline when the engine cannot reach a registry.")] = None,
    base: Annotated[str | None, typer.Option(help="Base image to build FROM (a tag or id in the engine).")] = None,
    tag: Annotated[str | None, typer.Option(help="Tag for the image (one target only).")] = None,
    host: Annotated[str | None, typer.Option(help="Docker engine, e.g. unix:///run/docker.sock (default: DOCKER_HOST).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not reuse cached layers.")] = False,
) -> None:
    """Build images; print their ids.  Exit status 1 when a build failed."""
    from rich.console import Console

    out, err = Console(), Console(stderr=True)
    chosen = list(names or [])
    if all_:
        from .execution.pool import detect_gpus

        chosen = ["runtime", "lab"] + (["gpu"] if detect_gpus() else [])
        if "gpu" not in chosen:
            err.print("[dim]no GPU found: skipping the gpu image (build it with `build gpu`)[/]")
    if not chosen:
        err.print("[red]error:[/] name targets (runtime, lab, gpu) or pass --all")
        raise typer.Exit(2)
    unknown = [n for n in chosen if n not in targets()]
    if unknown:
        err.print(f"[red]error:[/] unknown target(s) {', '.join(unknown)}; targets: {', '.join(targets())}")
        raise typer.Exit(2)
    if tag and len(chosen) > 1:
        err.print("[red]error:[/] --tag needs exactly one target")
        raise typer.Exit(2)
    try:
        engine = client(host)
        if offline is None:
            offline = base is None and not registry_reachable(engine)
            if offline:
                err.print("[yellow]no registry reachable from the engine: building offline[/]")
        failed = False
        for name in chosen:
            try:
                image_id = build(name, engine=engine, offline=offline, base=base, tag=tag,
                                 nocache=no_cache, log=lambda line: err.print(f"[dim]{line}[/]", highlight=False))
                out.print(f"[green]✓[/] {name}: {tag or targets()[name].tag} {image_id}")
            except ImageError as exc:
                failed = True
                err.print(f"[red]✗ {name}:[/] {exc}")
    except ImageError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    raise typer.Exit(1 if failed else 0)


@cli.command("base")
def base_cmd(
    name: Annotated[str, typer.Option(help="Tag for the base image.")] = BASE_IMAGE,
    rebuild: Annotated[bool, typer.Option(help="Run debootstrap again even when cached.")] = False,
    host: Annotated[str | None, typer.Option(help="Docker engine (default: DOCKER_HOST).")] = None,
) -> None:
    """Make a Debian bookworm base image with Python 3.11 without any registry (root, debootstrap)."""
    from rich.console import Console

    out, err = Console(), Console(stderr=True)
    try:
        image_id = make_base_image(client(host), name, rebuild=rebuild, log=lambda s: err.print(f"[dim]{s}[/]"))
    except ImageError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    out.print(f"[green]✓[/] {name} {image_id}")


@cli.command("wheels")
def wheels_cmd(
    names: Annotated[list[str], typer.Argument(help="Targets whose wheels to fetch: runtime, lab, gpu.")],
    dest: Annotated[Path, typer.Option(help="Where the wheels go.")] = Path("docker/wheels"),
) -> None:
    """Download the wheels a target needs, for the images' Python, to build it offline."""
    from rich.console import Console

    err = Console(stderr=True)
    known = targets()
    try:
        reqs: list[str] = []
        for n in names:
            if n not in known:
                raise ImageError(f"unknown target {n!r}; targets: {', '.join(known)}")
            reqs += [r for r in known[n].requirements if r not in reqs]
        download_wheels(reqs, dest, log=lambda s: err.print(f"[dim]{s}[/]"))
    except ImageError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    Console().print(f"[green]✓[/] {len(list(dest.glob('*.whl')))} wheels in {dest}")


@cli.command("status")
def status_cmd(
    host: Annotated[str | None, typer.Option(help="Docker engine (default: DOCKER_HOST).")] = None,
) -> None:
    """Show which images exist and whether their worker matches this checkout."""
    from rich.console import Console
    from rich.table import Table

    err = Console(stderr=True)
    try:
        engine = client(host, timeout=30)
    except ImageError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    table = Table(title="coursebench images", title_justify="left")
    for column in ("target", "tag", "id", "size", "worker"):
        table.add_column(column)
    mine = worker_sha256()
    for target in targets().values():
        if not image_exists(engine, target.tag):
            table.add_row(target.name, target.tag, "[yellow]missing[/]", "", "")
            continue
        image = engine.images.get(target.tag)
        label = (image.labels or {}).get(WORKER_LABEL)
        state = "[green]current[/]" if label == mine else "[red]stale: rebuild[/]"
        size = f"{image.attrs.get('Size', 0) / 1024**2:.0f} MiB"
        table.add_row(target.name, target.tag, image.short_id, size, state)
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Plug ``coursebench images ...`` into the main CLI."""
    app.add_typer(cli, name="images")


if __name__ == "__main__":
    cli(prog_name="python -m coursebench.images")
