"""``coursebench hub start|stop|status|config``: parse, wire the parts, print.

This is the CLI layer: it wires the hub to the leaderboard (its managed service) and to
grading's nbgrader exchange (each student's mounts), which the hub package itself never
imports.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

cli = typer.Typer(
    name="hub",
    help="The course hub: JupyterHub with one JupyterLab container per student (docs/hub.md).",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)

ImageOpt = Annotated[str | None, typer.Option(help="Image of the servers (default: [hub] image).")]
HostOpt = Annotated[str | None, typer.Option("--docker-host", help="Docker engine (default: DOCKER_HOST).")]
LeaderboardOpt = Annotated[bool, typer.Option("--leaderboard/--no-leaderboard",
                                              help="Run the leaderboard as a hub service (hub login).")]
ExchangeOpt = Annotated[Path | None, typer.Option(help="Host folder of the nbgrader exchange "
                                                  "(default: STATE/exchange).")]


def plan(image: str | None = None, docker_host: str | None = None, leaderboard: bool = True,
         exchange: Path | None = None):  # type: ignore[no-untyped-def]
    """Everything the generated config needs, from course.toml and this machine."""
    from coursebench.config import load_course
    from coursebench.execution.gpus import detect_gpus
    from leaderboard.db import sqlite_url

    from .config import HubPlan
    from .course import hub_settings

    course = load_course()
    hub = hub_settings(course)
    p = HubPlan(course=course, hub=hub, image=image,
                docker_host=docker_host or os.environ.get("DOCKER_HOST"), gpu_devices=detect_gpus())
    root = (exchange or p.state / "exchange").resolve()
    if (course.root / "assignments" / "nbgrader_config.py").is_file():
        p.exchange_hook, p.exchange_root = "coursebench.grading.exchange:mounts_for", str(root)
    if leaderboard:
        # the course's own leaderboard (as `coursebench serve` and `compete tokens` default to)
        db = sqlite_url(course.root / course.paths.get("build", "build") / "leaderboard.db")
        competitions = course.path("competitions")
        exe = shutil.which("coursebench", path=str(Path(sys.executable).parent)) or "coursebench"
        p.leaderboard_command = [exe, "serve", "--host", "127.0.0.1", "--port", str(hub.leaderboard_port),
                                 "--db", hub.leaderboard_db or db, "--competitions", str(competitions),
                                 "--secret-file", str(p.state / "leaderboard_secret")]
        p.leaderboard_env = {k: v for k, v in os.environ.items()
                             if k.startswith("COURSEBENCH_") or k in ("PATH", "DOCKER_HOST", "HOME")}
    return p


@cli.command("config")
def config_cmd(image: ImageOpt = None, docker_host: HostOpt = None, leaderboard: LeaderboardOpt = True,
               exchange: ExchangeOpt = None,
               show: Annotated[bool, typer.Option("--show", help="Print the file too.")] = False) -> None:
    """Write STATE/jupyterhub_config.py from course.toml; print its path."""
    from rich.console import Console

    from .config import render, write

    p = plan(image, docker_host, leaderboard, exchange)
    path = write(p)
    if show:
        typer.echo(render(p))
    Console(stderr=True).print(f"[green]✓[/] {path}")


@cli.command("start")
def start_cmd(image: ImageOpt = None, docker_host: HostOpt = None, leaderboard: LeaderboardOpt = True,
              exchange: ExchangeOpt = None,
              timeout: Annotated[float, typer.Option(help="Seconds to wait for the hub.")] = 120) -> None:
    """Start the hub (and its proxy, idle culler and leaderboard) in the background."""
    from rich.console import Console

    from coursebench.errors import CoursebenchError

    from . import process
    from .config import write

    err = Console(stderr=True)
    if shutil.which("configurable-http-proxy") is None:
        err.print("[red]error:[/] configurable-http-proxy is not installed: `make hub-deps` "
                  "(npm install -g configurable-http-proxy)")
        raise typer.Exit(1)
    try:
        p = plan(image, docker_host, leaderboard, exchange)
        state = process.start(write(p), p.url, timeout=timeout)
        if p.leaderboard_command and not process.wait_for(p.leaderboard_url + "/api/v1/competitions", timeout):
            err.print(f"[yellow]the leaderboard service does not answer at {p.leaderboard_url} yet: "
                      f"logins wait for it (see {p.state / 'hub.log'})[/]")
    except CoursebenchError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    Console().print(f"[green]✓[/] hub {state.version} at {state.url} (pid {state.pid}); "
                    f"log: {p.state / 'hub.log'}")


@cli.command("stop")
def stop_cmd() -> None:
    """Stop the hub: its proxy, services and every user's container go with it."""
    from rich.console import Console

    from . import process

    p = plan(leaderboard=False)
    stopped = process.stop(p.state)
    Console().print("[green]✓[/] hub stopped" if stopped else "the hub was not running")


@cli.command("status")
def status_cmd(docker_host: HostOpt = None) -> None:
    """Is the hub running; which user containers exist."""
    from rich.console import Console

    from . import process

    out = Console()
    p = plan(docker_host=docker_host, leaderboard=False)
    st = process.status(p.state, p.url)
    out.print(f"hub: {'running' if st.running else 'stopped'}"
              + (f" (pid {st.pid}, JupyterHub {st.version or '?'}) at {st.url}" if st.running else ""))
    try:
        import docker

        engine = docker.DockerClient(base_url=p.docker_host) if p.docker_host else docker.from_env()
        for c in engine.containers.list(filters={"name": "cbhub-"}):
            out.print(f"  {c.name}  {c.short_id}  {c.status}")
    except Exception as exc:  # no engine: say so, the hub status above still holds
        out.print(f"[yellow]containers unknown: {exc}[/]")


def register(app: typer.Typer) -> None:
    """Plug ``coursebench hub ...`` into the main CLI."""
    app.add_typer(cli, name="hub")
