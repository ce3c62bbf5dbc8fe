"""``coursebench serve``: the leaderboard web app and REST API with uvicorn.

    coursebench serve                          # http://127.0.0.1:8000, the course's database
    coursebench serve --host 0.0.0.0 --port 80 --db postgresql://user@host/course
    coursebench serve --processes 4 --workers 0 --db postgresql://...   # 4 web processes; `coursebench worker` scores

Students log in with their roster token (``coursebench compete tokens`` makes them).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def make_secret(path: Path | None) -> Path | None:
    """Where the cookie-signing key is kept, made now (mode 600) when missing — before any
    web process starts, so that all of them sign with the same key.  None when
    ``COURSEBENCH_SECRET_KEY`` gives it (see :mod:`coursebench.settings`)."""
    import secrets

    from coursebench.client.credentials import config_dir
    from coursebench.settings import get_settings

    if path is None and get_settings().secret_key is not None:
        return None
    path = path or config_dir() / "server-secret"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: the course's SQLite file).")] = None,
    competitions: Annotated[Path | None, typer.Option(help="Folder of competitions (default: the course's).")] = None,
    processes: Annotated[int, typer.Option(help="Web processes behind the one port (more than 1 needs "
                                            "PostgreSQL).")] = 1,
    workers: Annotated[int, typer.Option(help="Background scoring threads in each web process (0: score "
                                         "nothing here; run `coursebench worker`).")] = 2,
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
    import uvicorn

    from coursebench.execution.limits import parse_size
    from coursebench.settings import get_settings
    from leaderboard.cli import course_defaults, read_credentials
    from leaderboard.errors import LeaderboardError
    from leaderboard.services import Service

    from .factory import ServeOptions, build_app, check_processes

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
    key_file = make_secret(secret_file)
    options = ServeOptions(db=str(url), competitions=str(folder), workers=workers, lease=lease,
                           max_upload_bytes=limit, submit_rate=submit_rate, backend=backend,
                           secret_file=str(key_file) if key_file else None, test_clock=test_clock,
                           processes=processes)
    try:
        check_processes(options)
        service = Service(url, folder, backend=backend)  # migrates the database, once
        if test_clock:  # every process of this server shares the offset, kept in the database
            from .testclock import MovableClock

            MovableClock(db=service.db).reset()
        count, pending, dialect = len(service.competitions()), len(service.pending()), service.db.dialect
    except LeaderboardError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    scoring = f"{workers} scoring thread(s)" + (f" in each of {processes} processes" if processes > 1 else "")
    console.print(f"Serving {count} competition(s) from {folder} on http://{host}:{port} "
                  f"({dialect}; {scoring}; {pending} submission(s) waiting to be scored)")
    if test_clock:
        console.print("[yellow]--test-clock: instructors can move this server's clock (it starts at real time)[/]")
    # uvicorn logs each request at level info: below that, skip the access log altogether
    # (it would only be formatted and dropped); uvloop and httptools when installed.
    access_log = log_level.lower() in ("trace", "debug", "info")
    common = dict(host=host, port=port, log_level=log_level, proxy_headers=False, server_header=False,
                  access_log=access_log, loop="auto", http="auto")
    if processes == 1:
        service.db.dispose()
        uvicorn.run(build_app(options, migrate=False), **common)  # type: ignore[arg-type]
        return
    # N processes: uvicorn binds the port here and starts N interpreters that each make
    # the app with the factory, from the options handed down in the environment
    service.db.dispose()
    os.environ["COURSEBENCH_WEB_OPTIONS"] = options.to_json()
    uvicorn.run("leaderboard.web.factory:create_app_from_env", factory=True, workers=processes,
                **common)  # type: ignore[arg-type]
