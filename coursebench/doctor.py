"""``coursebench doctor``: what this machine offers and how coursebench is set up on it —
the effective settings (every ``COURSEBENCH_*`` variable, its value and where it came
from), the sandbox backends, cgroups, GPUs, the Docker engine and the optional extras.

The checks below gather facts and never print; :func:`doctor` prints them.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass

import typer

#: The optional extras (pyproject.toml) and the modules their packages provide: found
#: with find_spec, so nothing is imported (TensorFlow alone takes seconds).
EXTRAS: dict[str, tuple[str, ...]] = {
    "grading": ("nbgrader",),
    "dl": ("tensorflow", "keras"),
    "dask": ("distributed",),
    "docker": ("docker",),
    "web": ("fastapi", "uvicorn", "jinja2", "python_multipart", "itsdangerous", "httpx", "psycopg"),
}


@dataclass(frozen=True)
class Check:
    """One thing doctor looked at: ``ok`` None means "not applicable here"."""

    name: str
    ok: bool | None
    details: str


def _version(module: str, owners: dict[str, list[str]]) -> str | None:
    """``dist version`` of the package that provides ``module``, or None when it cannot
    be imported."""
    if importlib.util.find_spec(module) is None:
        return None
    for dist in owners.get(module, []):
        try:
            return f"{dist} {importlib.metadata.version(dist)}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return module


def extras() -> list[Check]:
    """Each optional extra: installed (with versions) or what is missing and how to get it."""
    owners = importlib.metadata.packages_distributions()  # module -> distributions (tensorflow-cpu…)
    found = []
    for extra, modules in EXTRAS.items():
        versions = {module: _version(module, owners) for module in modules}
        missing = [module for module, version in versions.items() if version is None]
        if not missing:
            found.append(Check(extra, True, ", ".join(str(v) for v in versions.values())))
        else:
            found.append(Check(extra, False, f"missing {', '.join(missing)}: pip install 'coursebench[{extra}]'"))
    return found


def docker_engine() -> list[Check]:
    """The Docker engine (the one the docker sandbox would use) and the images it has."""
    from .images.common import ImageError
    from .images.engine import client, image_exists
    from .images.targets import WORKER_LABEL, targets, worker_sha256
    from .settings import get_settings

    try:
        engine = client(timeout=5)
    except ImageError as exc:
        return [Check("engine", False, str(exc))]
    try:
        info = engine.version()
        where = get_settings().engine_host or "the default socket"
        checks = [Check("engine", True, f"Docker {info.get('Version', '?')} at {where}")]
        mine = worker_sha256()
        for target in targets().values():
            if not image_exists(engine, target.tag):
                checks.append(Check(f"image {target.name}", False,
                                    f"{target.tag} missing: python -m coursebench.images build {target.name}"))
                continue
            label = (engine.images.get(target.tag).labels or {}).get(WORKER_LABEL)
            checks.append(Check(f"image {target.name}", label == mine, f"{target.tag} " + (
                "current" if label == mine else "built with another worker.py: rebuild it")))
        return checks
    except Exception as exc:  # an engine that answers ping but not the rest
        return [Check("engine", False, f"the engine answered, then failed: {exc}")]
    finally:
        engine.close()


def backends() -> list[Check]:
    """Each sandbox backend, in the order ``auto`` tries them."""
    from .execution import availability, known_backends

    return [Check(name, *availability(name)) for name in known_backends()]


# -------------------------------------------------------------------------- CLI


def doctor() -> None:
    """Show how coursebench is set up here: settings, sandbox backends, cgroups, GPUs,
    the Docker engine and the optional extras."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from .execution import detect_gpus
    from .execution.cgroups import cached_support
    from .settings import effective

    console = Console()
    table = Table(title="Settings (docs/settings.md)", title_justify="left")
    table.add_column("variable", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("from")
    table.add_column("what it is for", overflow="fold")
    group = None
    for row in effective():
        if group is not None and row.group != group:
            table.add_section()
        group = row.group
        source = "[bold]env[/]" if row.source == "env" else "[dim]default[/]"
        value = escape(row.value) if row.source == "env" else f"[dim]{escape(row.value)}[/]"
        table.add_row(row.name, value, source, escape(row.description))
    console.print(table)

    def mark(ok: bool | None) -> str:
        return "[green]yes[/]" if ok else "[dim]n/a[/]" if ok is None else "[red]no[/]"

    def checks_table(title: str, first: str, checks: list[Check]) -> Table:
        out = Table(title=title, title_justify="left")
        out.add_column(first, no_wrap=True)
        out.add_column("available")
        out.add_column("details", overflow="fold")
        for check in checks:
            out.add_row(check.name, mark(check.ok), escape(check.details))
        return out

    console.print(checks_table("Sandbox backends (auto picks the first available)", "backend", backends()))
    ok, why = cached_support()
    console.print(f"cgroups for limits: {'[green]yes[/]' if ok else '[yellow]no[/]'} ({why})")
    gpus = detect_gpus()
    console.print(f"GPUs: {', '.join(gpus) if gpus else 'none found'}")
    console.print(checks_table("Docker engine", "what", docker_engine()))
    console.print(checks_table("Optional extras (pip install 'coursebench[EXTRA]')", "extra", extras()))


def register(app: typer.Typer) -> None:
    """Plug ``coursebench doctor`` into the main CLI."""
    app.command("doctor")(doctor)
