"""``coursebench serve``: the leaderboard web app and REST API with uvicorn.

    coursebench serve                          # http://127.0.0.1:8000, the course's database
    coursebench serve --host 0.0.0.0 --port 80 --db postgresql://user@host/course

Students log in with their roster token (``coursebench compete tokens`` makes them).
"""

from __future__ import annotations

import gc
import os
import secrets
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def _secret(path: Path | None) -> str:
    """The key that signs session cookies: ``COURSEBENCH_SECRET_KEY`` (see
    :mod:`coursebench.settings`), else the one kept in ``path`` (default
    CONFIG_DIR/server-secret), made on the first start (mode 600)."""
    from coursebench.settings import get_settings

    configured = get_settings().secret_key
    if configured is not None:
        return configured.get_secret_value()
    from coursebench.client.credentials import config_dir

    path = path or config_dir() / "server-secret"
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _settle_heap() -> None:
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: the course's SQLite file).")] = None,
    competitions: Annotated[Path | None, typer.Option(help="Folder of competitions (default: the course's).")] = None,
    workers: Annotated[int, typer.Option(help="Background scoring threads (0: score nothing here).")] = 2,
    lease: Annotated[float, typer.Option(help="Seconds a scorer may hold a submission before another retries it.")] = 1800,
    max_upload: Annotated[str, typer.Option(help="Largest upload, e.g. 64M.")] = "64M",
    submit_rate: Annotated[int, typer.Option(help="Submission attempts per user per minute.")] = 12,
    backend: Annotated[str, typer.Option(help="Sandbox for notebook submissions (auto, bwrap, docker, ...).")] = "auto",
    secret_file: Annotated[Path | None, typer.Option(help="Where the cookie-signing key is kept.")] = None,
    test_clock: Annotated[bool, typer.Option("--test-clock", help="Tests and demos only: instructors may move "
                                             "the server's clock (POST /api/v1/admin/clock).")] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the leaderboard: pages for students and instructors, and the REST API (/api/v1)."""
    import datetime as dt

    import uvicorn

    from coursebench.execution.limits import parse_size
    from coursebench.settings import get_settings
    from leaderboard.cli import course_defaults, read_credentials
    from leaderboard.errors import LeaderboardError
    from leaderboard.services import Service

    from .app import WebSettings, create_app
    from .testclock import MovableClock

    try:
        default_db, default_comps = course_defaults()
    except Exception:
        default_db, default_comps = None, None
    creds = read_credentials()
    env = get_settings()
    url = db or env.db or creds.get("database") or default_db
    folder = competitions or env.competitions or default_comps
    if url is None or folder is None:
        console.print("[red]error:[/] no course.toml here; give --db and --competitions")
        raise typer.Exit(2)
    try:
        limit = int(parse_size(max_upload) or 0)
    except Exception:
        console.print(f"[red]error:[/] --max-upload {max_upload!r} is not a size like 64M")
        raise typer.Exit(2) from None
    try:
        service = Service(url, folder, backend=backend, lease=dt.timedelta(seconds=lease))
    except LeaderboardError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    settings = WebSettings(secret_key=_secret(secret_file), max_upload_bytes=limit, submit_rate=submit_rate,
                           workers=workers, test_clock=MovableClock() if test_clock else None)
    app = create_app(service, settings)
    pending = len(service.pending())
    console.print(f"Serving {len(service.competitions())} competition(s) from {folder} on http://{host}:{port} "
                  f"({service.db.dialect}; {workers} scoring worker(s); {pending} submission(s) waiting to be scored)")
    if test_clock:
        console.print("[yellow]--test-clock: instructors can move this server's clock[/]")
    # Everything made so far (modules, the app, the service) lives as long as the server,
    # and so does a cached board once built: keep them out of the cyclic garbage
    # collector's full passes, which otherwise walk all of it and stall every request for
    # up to a hundred milliseconds under load.  After each rebuild (rare: a board changed)
    # one full pass frees whatever died since, old boards included, and the rest is frozen.
    _settle_heap()
    app.state.cache.rebuilt.append(_settle_heap)
    # uvicorn logs each request at level info: below that, skip the access log altogether
    # (it would only be formatted and dropped); uvloop and httptools when installed.
    access_log = log_level.lower() in ("trace", "debug", "info")
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False, server_header=False,
                access_log=access_log, loop="auto", http="auto")
