"""``coursebench worker``: a scoring worker process (docs/workers.md).

    coursebench worker --db postgresql://lb@db/course --concurrency 2
    coursebench worker --cluster tcp://scheduler:8786          # notebooks' folds on Dask
    coursebench worker --drain                                 # score what is pending, exit

It claims pending submissions from the database with leases, renews them while scoring,
scores in the sandbox and stores the results; run as many as you like, on as many
machines as can reach the database.  It refuses to start where no sandbox can isolate
students' notebooks, unless ``--backend subprocess --trusted-notebooks``.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)


def worker(
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: the course's SQLite file).")] = None,
    competitions: Annotated[Path | None, typer.Option(help="Folder of competitions (default: the course's).")] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Submissions scored at once by this process.")] = 1,
    backend: Annotated[str, typer.Option(help="Sandbox for notebook submissions (auto, bwrap, docker; "
                                              "subprocess only with --trusted-notebooks).")] = "auto",
    trusted_notebooks: Annotated[bool, typer.Option("--trusted-notebooks", help="The notebooks are yours, not "
                                                    "students': allow --backend subprocess (no isolation).")] = False,
    cluster: Annotated[str | None, typer.Option(help="Dask scheduler address (tcp://host:8786): run notebook "
                                                     "submissions' folds on that cluster.")] = None,
    lease: Annotated[float, typer.Option(min=1, help="Seconds a claim holds without a heartbeat; another worker "
                                                     "takes the submission over after that.")] = 120,
    only: Annotated[list[str] | None, typer.Option("--only", "-c", help="Score only these competitions (slugs; "
                                                   "repeat the option).")] = None,
    drain: Annotated[bool, typer.Option("--drain", "--once", help="Score what is pending now, then exit.")] = False,
    poll: Annotated[float, typer.Option(min=0.05, help="Seconds between looks at an empty queue.")] = 2.0,
    grace: Annotated[float, typer.Option(min=0, help="On SIGTERM, seconds to finish the submissions being "
                                                     "scored before handing them back.")] = 20.0,
    nice: Annotated[int, typer.Option(min=0, max=19, help="Lower this process's CPU priority by this much (its "
                                                          "sandboxes inherit it): on a machine shared with "
                                                          "serve, answering students comes first; 0 keeps it.")] = 10,
    log_level: Annotated[str, typer.Option(help="Log level (debug, info, warning).")] = "info",
) -> None:
    """Score submissions: claim them from the database with leases, score them in the sandbox, store results."""
    import datetime as dt

    from coursebench.settings import get_settings
    from leaderboard.cli import course_defaults, read_credentials
    from leaderboard.errors import LeaderboardError
    from leaderboard.services import Service

    from .cluster import check_cluster
    from .loop import ScoringLoop
    from .preflight import WorkerRefused, check_local

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if nice:
        import os

        os.nice(nice)  # scoring is batch work; the web process answers people (docs/workers.md)
    try:
        sandbox = (check_cluster(cluster, backend, trusted_notebooks) if cluster
                   else check_local(backend, trusted_notebooks))
    except WorkerRefused as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(3) from None
    try:
        default_db, default_comps = course_defaults()
    except Exception:
        default_db, default_comps = None, None
    env = get_settings()
    url = db or env.db or read_credentials().get("database") or default_db
    folder = competitions or env.competitions or default_comps
    if url is None or folder is None:
        console.print("[red]error:[/] no course.toml here; give --db and --competitions")
        raise typer.Exit(2)
    try:
        # keep_warm: the slots and a booted sandbox each stay between submissions, so the
        # folds of the next notebook submission start warm (docs/warm.md)
        service = Service(url, folder, backend=backend, lease=dt.timedelta(seconds=lease), cluster=cluster,
                          trusted=trusted_notebooks, keep_warm=True)
    except LeaderboardError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    loop = ScoringLoop(service, concurrency, slugs=only, poll=poll)
    stop = threading.Event()

    def _terminate(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    console.print(f"coursebench worker: {service.db.dialect}, {concurrency} at a time, lease {lease:g} s; "
                  f"notebooks: {sandbox}" + (" (drain: exit when nothing is left)" if drain else ""))
    loop.start(drain=drain)
    try:
        while not stop.is_set():
            if drain and loop.join(0.2):
                break
            stop.wait(0.5 if not drain else 0.0)
    finally:
        handed = loop.stop(grace) if stop.is_set() else loop.stop(0)
        if not handed:  # else runs are still going: the os._exit below ends them with us
            service.close_scoring()
        service.db.dispose()
    note = f"; handed back {len(handed)}" if handed else ""
    console.print(f"coursebench worker: scored {loop.scored} submission(s){note}")
    if handed:  # their runs are still going in this process's threads: end now (the sandboxes die with us)
        import os
        import sys

        sys.stderr.flush()
        os._exit(0)
