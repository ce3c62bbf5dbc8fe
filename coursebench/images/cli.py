"""``python -m coursebench.images build|base|wheels|status`` and ``coursebench images ...``:
parse, call the library, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .base import BASE_IMAGE, make_base_image
from .build import build
from .common import ImageError
from .engine import client, image_exists, registry_reachable
from .targets import WORKER_LABEL, targets, worker_sha256
from .wheels import download_wheels

cli = typer.Typer(
    name="images",
    help="Build coursebench's Docker images (targets: runtime, lab, lab-slim, gpu). See docker/README.md.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


@cli.command("build")
def build_cmd(
    names: Annotated[list[str] | None, typer.Argument(help="Targets: runtime, lab, lab-slim, gpu.", show_default=False)] = None,
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
        from ..execution import detect_gpus

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
